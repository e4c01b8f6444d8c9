"""An endpoint that adds a BackgroundTasks task, run after the response is sent."""

from fastapi import BackgroundTasks, FastAPI

app = FastAPI()


def checksum(payload):
    return sum(payload) & 0xFFFF  # a little work; nothing kept


@app.get("/")
async def root(background_tasks: BackgroundTasks):
    background_tasks.add_task(checksum, bytes(range(256)))
    return {"message": "Hello World"}
