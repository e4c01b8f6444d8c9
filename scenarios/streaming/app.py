"""StreamingResponse of a plain generator (iterated in the threadpool) yielding a few chunks."""

from fastapi import FastAPI
from starlette.responses import StreamingResponse

app = FastAPI()

CHUNK = b"x" * 1024


def chunks(count):
    for index in range(count):
        yield b"chunk %d: " % index + CHUNK + b"\n"


@app.get("/")
async def root():
    return StreamingResponse(chunks(4), media_type="text/plain")
