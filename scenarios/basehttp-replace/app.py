"""A BaseHTTPMiddleware whose dispatch discards call_next's response (starlette#1022).

Starlette 0.13.7 bounded the queue between the app and ``call_next`` (``maxsize=1``): when
``dispatch`` returns a response of its own, nothing reads the app's response, so the task
running the app stays blocked on ``queue.put`` ("Task was destroyed but it is pending!").
The cyclic collector reclaims those tasks, so the growth shows only where it falls behind.
0.13.8 reverted the bound.
"""

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route


class Replace(BaseHTTPMiddleware):
    async def dispatch(self, request, call_next):
        await call_next(request)  # the app's response is dropped unread
        return PlainTextResponse("replaced by the middleware")


async def homepage(request):
    return JSONResponse({"message": "Hello World"})


app = Starlette(routes=[Route("/", homepage)], middleware=[Middleware(Replace)])
