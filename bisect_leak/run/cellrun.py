"""One map cell, run where it lands: ``bisect-leak --check VERSION ... --json`` as a subprocess.

This is the function a Dask worker runs. Importing it costs only the standard library and
:mod:`bisect_leak.processes`; the measuring happens in the subprocess, in the worker's own
bisect-leak with the worker's own cache (``BISECT_LEAK_CACHE_DIR``, else
``~/.cache/bisect-leak``), so its envs are built once per worker machine.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

from bisect_leak import processes

CACHE_ENV = "BISECT_LEAK_CACHE_DIR"


def worker_cache_dir() -> str:
    return os.environ.get(CACHE_ENV) or str(Path.home() / ".cache" / "bisect-leak")


def run_check(args: list[str], python: list[str], cache_dir: str | None,
              timeout: float) -> dict:
    """Run one ``--check`` here. ``args`` name the candidate, scenario and options, without
    ``--python``, ``--cache-dir`` and ``--json``; ``python`` is an interpreter path, then
    its version: the path where it exists here (no search), else the version. Returns the
    exit code, the run's JSON (None when it wrote none), the last lines of stderr, where and
    how long it ran."""
    cache = cache_dir or worker_cache_dir()
    began = time.monotonic()
    chosen = next((p for p in python[:-1] if os.path.exists(p)), python[-1])
    with tempfile.TemporaryDirectory(prefix="bisect-leak-cell-") as tmp:
        out = Path(tmp) / "cell.json"
        argv = [sys.executable, "-m", "bisect_leak", *args, "--python", chosen,
                "--cache-dir", cache, "--json", str(out)]
        done = processes.run(argv, timeout=timeout)
        try:
            data = json.loads(out.read_text())
        except (OSError, ValueError):
            data = None
    return {"exit_code": done.returncode, "json": data, "stderr": done.tail(5),
            "host": socket.gethostname(), "worker": _worker_name(),
            "seconds": round(time.monotonic() - began, 2)}


def _worker_name() -> str | None:
    """The Dask worker's name when run as a task (``distributed`` is loaded there already)."""
    if "distributed" not in sys.modules:
        return None
    try:
        return str(sys.modules["distributed"].get_worker().name)
    except (ValueError, AttributeError):  # not inside a task
        return None
