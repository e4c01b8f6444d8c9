"""A raw ASGI hello world, no framework: the load never reaches it (uvicorn#1226).

The clients only connect, half-close and close, like a TCP health check; what is measured
is uvicorn's handling of connections that carry no request. Bisect uvicorn itself:
``--package 'uvicorn[standard]' --with uvloop==0.15.2``.
"""


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = b"Hello World"
    await send({
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"content-type", b"text/plain"),
                    (b"content-length", str(len(body)).encode())],
    })
    await send({"type": "http.response.body", "body": body})
