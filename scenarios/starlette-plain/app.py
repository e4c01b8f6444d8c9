"""A pure Starlette hello world, for bisecting Starlette itself (``--package starlette``)."""

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def homepage(request):
    return JSONResponse({"message": "Hello World"})


app = Starlette(routes=[Route("/", homepage)])
