"""A real Dask cluster on 127.0.0.1 for the tests: ``dask scheduler`` and two
``dask worker --resources trial=1`` subprocesses, started and stopped by the test."""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from conftest import kill_processes, require, wait_for_no_leftovers

DEADLINE = 120.0
need = require


class Cluster:
    """``dask scheduler`` and two ``dask worker --resources trial=1`` subprocesses, each worker
    with its own bisect-leak cache; stopped (and waited for) at the end."""

    def __init__(self, root: Path, env: dict[str, str]):
        dask = Path(sys.executable).parent / "dask"
        need(dask.exists() or shutil.which("dask") is not None, "the dask CLI (distributed)")
        self.exe = str(dask if dask.exists() else shutil.which("dask"))
        self.root, self.env = root, env
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.procs: dict[str, subprocess.Popen] = {}

    def _start(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        with open(self.root / f"{name}.log", "wb") as log:
            self.procs[name] = subprocess.Popen(
                [self.exe, *argv], cwd=self.root, env=env, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def cache(self, worker: str) -> Path:
        return self.root / f"{worker}-cache"

    def start(self) -> Cluster:
        self._start("scheduler", ["scheduler", "--host", "127.0.0.1", "--port",
                                  str(self.port), "--no-dashboard"], self.env)
        for name in ("wa", "wb"):
            env = {**self.env, "BISECT_LEAK_CACHE_DIR": str(self.cache(name))}
            self._start(name, ["worker", self.address, "--host", "127.0.0.1", "--name", name,
                               "--nthreads", "1", "--no-nanny", "--resources", "trial=1",
                               "--no-dashboard"], env)
        from distributed import Client

        with Client(self.address, timeout=DEADLINE) as client:
            client.wait_for_workers(2, timeout=DEADLINE)
        return self

    def kill_tree(self, name: str) -> None:
        """As if the machine died: the worker and everything it started, SIGKILL."""
        proc = psutil.Process(self.procs[name].pid)
        family = [proc, *proc.children(recursive=True)]
        for p in family:
            with contextlib.suppress(psutil.Error):
                p.send_signal(signal.SIGKILL)
        psutil.wait_procs(family, timeout=10)

    def stop(self) -> None:
        for name in ("wa", "wb", "scheduler"):
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)

    def log(self, name: str) -> str:
        return (self.root / f"{name}.log").read_text(errors="replace")[-3000:]


@contextlib.contextmanager
def cluster(env: dict[str, str], mark: str, root: Path) -> Iterator[Cluster]:
    """A started cluster; afterwards nothing it or its workers started is left running."""
    c = Cluster(root, env)
    try:
        yield c.start()
    finally:
        c.stop()
        left = wait_for_no_leftovers(mark, grace=10.0)
        if left:
            kill_processes(left)
            pytest.fail(f"left running after the cluster stopped: {[p.pid for p in left]}")
