"""A yield dependency that swallows the endpoint's exception (fastapi#11191, fixed in 0.110.0).

The dependency holds ~1 MB in its generator frame and its ``except Exception: pass`` swallows
the endpoint's RuntimeError. Before 0.110.0, FastAPI re-raised that exception from a frame
that also holds it (``exception_to_reraise``): a reference cycle through the traceback that
keeps the dependency's frame, and its megabyte, until the cyclic collector gets round to it.
0.110.0 raises FastAPIError instead. Both answer 500 (Starlette's ServerErrorMiddleware).
"""

from fastapi import Depends, FastAPI

api = FastAPI()


async def held_resource():
    payload = bytearray(1000000)  # held by this generator's frame
    try:  # noqa: SIM105 (the pattern of the report, spelled as users write it)
        yield payload
    except Exception:
        pass  # swallowed, not re-raised: the pattern of the report


@api.get("/")
async def root():
    return {"message": "Hello World"}


@api.get("/fail")
async def fail(payload: bytearray = Depends(held_resource)):  # noqa: B008
    raise RuntimeError("the endpoint fails on purpose")


class ServedErrors:
    """Swallow an exception once the app has answered it (its 500 is already sent).

    Starlette's ServerErrorMiddleware sends the 500 and then re-raises; left to uvicorn, the
    exception is logged and the connection closed without a ``connection: close`` header, so
    a keep-alive client's next request on it fails. Here the connection stays usable.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        started = []

        async def tracked(message):
            if message["type"] == "http.response.start":
                started.append(True)
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception:
            if scope["type"] != "http":
                raise
            if not started:
                await send({"type": "http.response.start", "status": 500,
                            "headers": [(b"content-type", b"text/plain"),
                                        (b"content-length", b"21")]})
                await send({"type": "http.response.body", "body": b"Internal Server Error"})


app = ServedErrors(api)
