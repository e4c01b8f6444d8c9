"""Multipart upload: the endpoint reads the whole UploadFile and returns its size."""

from fastapi import FastAPI, File, UploadFile

app = FastAPI()


@app.get("/")
async def root():
    return {"message": "Hello World"}


@app.post("/upload")
async def upload(file: UploadFile = File(...)):  # noqa: B008
    data = await file.read()
    await file.close()
    return {"filename": file.filename, "size": len(data)}
