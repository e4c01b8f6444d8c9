"""Sync hello world: a plain ``def`` endpoint, run in the threadpool for every request."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/")
def root():
    return {"message": "Hello World"}
