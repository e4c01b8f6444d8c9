"""Server faults give verdict `error` with the reason, never a leak (real servers, offline)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

import pytest
from toy import base_python, fill_wheelhouse

pytestmark = pytest.mark.index  # fills the wheelhouse's uvicorn wheels once

APP = '''
import asyncio, os, signal
served = [0]
kept = []
FAULT = {fault!r}
AFTER = 4000

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            m = await receive()
            if m["type"] == "lifespan.startup":
                await send({{"type": "lifespan.startup.complete"}})
            elif m["type"] == "lifespan.shutdown":
                await send({{"type": "lifespan.shutdown.complete"}})
                return
    await receive()
    served[0] += 1
    status = 200
    if served[0] > AFTER:
        if FAULT == "exit":
            os._exit(3)
        if FAULT == "hang":
            await asyncio.sleep(3600)
        if FAULT == "500":
            status = 500
        if FAULT == "fatal":  # a CPython fatal error: its thread dump outgrows any tail
            import ctypes, threading, time
            for _ in range(4):
                threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
            ctypes.pythonapi.Py_FatalError(b"bisect-leak test")
    if FAULT == "oom":
        kept.append(bytearray(64 * 1024))
        if served[0] > AFTER:
            os.kill(os.getpid(), signal.SIGKILL)
    await send({{"type": "http.response.start", "status": status,
                "headers": [(b"content-length", b"2")]}})
    await send({{"type": "http.response.body", "body": b"ok"}})
'''

TOML = """\
description = "fault injection"
requirements = []

[load]
warmup = 1000
requests = 8000
max_requests = 16000
concurrency = 4
sample_every = 500
request_timeout = 1.0
"""


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory):
    return fill_wheelhouse(tmp_path_factory.mktemp("wh-faults"), str(base_python()))


@pytest.mark.parametrize(("fault", "expected"), [
    ("exit", "exited with code 3 during the load"),
    ("hang", "connection failures"),
    ("500", "unexpected answers"),
    ("oom", "killed by SIGKILL"),
    ("fatal", "exited"),
])
def test_fault_is_an_error_with_its_reason(fault, expected, wheelhouse, tmp_path):
    scenario = tmp_path / "faulty"
    scenario.mkdir()
    (scenario / "app.py").write_text(textwrap.dedent(APP.format(fault=fault)))
    (scenario / "scenario.toml").write_text(TOML)
    out = tmp_path / "out.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bisect_leak", "--package", "leakytoy", "--check", "1.0.0",
         "--python", str(base_python()), "--scenario", str(scenario),
         "--find-links", str(wheelhouse), "--no-index", "--cache-dir", str(tmp_path / "c"),
         "--json", str(out)],
        capture_output=True, text=True, timeout=180, cwd=tmp_path,
        env=dict(os.environ, UV_CACHE_DIR=str(tmp_path / "uv")),
    )
    assert proc.returncode == 3, proc.stdout + proc.stderr
    trial = json.loads(out.read_text())["trials"][0]
    assert trial["verdict"] == "error"
    assert expected in trial["reason"]
    assert trial["requests"] >= 3000  # the samples before the fault are kept as evidence
    if fault == "hang":  # the round stops once it failed more than it tolerates (5 of 500):
        # the 4 connections' requests in flight then, not one 1 s timeout per request
        failures, sent = map(int, re.search(r"(\d+) connection failures .* in (\d+) requests",
                                            trial["reason"]).groups())
        assert 5 < failures <= sent <= 5 + 4, trial["reason"]
    if fault == "oom":
        assert "grown" in trial["reason"] and "not a verdict" in trial["reason"]
    if fault == "fatal":  # the line that says why is kept, and so is the end
        tail = trial["stderr_tail"].splitlines()
        assert tail[0] == "Fatal Python error: bisect-leak test", tail
        assert "lines) ..." in trial["stderr_tail"] and tail[-1].strip(), tail
