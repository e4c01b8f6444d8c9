"""A deliberate leak: every request keeps 1 KiB forever (for choosing the threshold)."""

from fastapi import FastAPI

app = FastAPI()
_kept = []


@app.get("/")
async def root():
    _kept.append(bytearray(1024))
    return {"message": "Hello World"}
