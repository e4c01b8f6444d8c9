"""A pass-through ``@app.middleware("http")`` (a BaseHTTPMiddleware) in front of hello world."""

from fastapi import FastAPI, Request

app = FastAPI()


@app.middleware("http")
async def pass_through(request: Request, call_next):
    response = await call_next(request)
    return response


@app.get("/")
async def root():
    return {"message": "Hello World"}
