"""A middleware puts a ~100 KB object on ``request.state`` (uvicorn#1564).

``request.state`` lives in the ASGI scope. uvicorn's HTTP protocol objects sat in reference
cycles (with httptools, through the parser), so a closed connection kept its last scope, and
the object with it, until the cyclic collector's oldest generation ran. Each request comes on
its own connection to make that visible. The middleware is plain ASGI: a BaseHTTPMiddleware
(see the ``middleware`` scenario) makes garbage cycles of its own that would blur the signal.
"""

from fastapi import FastAPI, Request
from starlette.requests import Request as ScopeRequest

app = FastAPI()


class AttachState:
    """Pure ASGI middleware: a fresh 100 KiB object on request.state for every request."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            ScopeRequest(scope).state.blob = bytearray(100 * 1024)
        await self.app(scope, receive, send)


app.add_middleware(AttachState)


@app.get("/")
async def root(request: Request):
    return {"message": "Hello World", "blob": len(request.state.blob)}
