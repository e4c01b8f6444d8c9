"""Where map cells run: here (one at a time, or ``--jobs N``), or on a Dask cluster.

An executor takes jobs (a cell and its ``--check`` arguments) and hands back each one's
result as it finishes, in any order. The cell and its JSON are the contract: every executor
runs :func:`bisect_leak.run.cellrun.run_check`, a ``bisect-leak --check ... --json`` subprocess.
"""

from __future__ import annotations

import concurrent.futures as cf
import socket
import urllib.parse
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bisect_leak.errors import BadInput, InfrastructureError
from bisect_leak.run import cellrun

CONNECT_TIMEOUT = 10.0  # seconds to reach a Dask scheduler
WORKER_WAIT = 30.0  # seconds to wait for a first worker
DASK_RETRIES = 2  # a cell whose task raised is tried again this many times


@dataclass(frozen=True)
class Job:
    key: Hashable  # the caller's name for it (a Cell)
    args: tuple[str, ...]  # the --check arguments, without --python, --cache-dir, --json
    python: tuple[str, ...]  # an interpreter path, and its version where the path is missing
    name: str  # a short unique text key (a Dask task key)


class Executor(Protocol):
    slots: int  # how many jobs may usefully run at once
    where: str  # for the output: "here, one at a time", "Dask tcp://..."

    def submit(self, job: Job) -> None: ...
    def next_done(self) -> tuple[Job, dict]: ...
    def cancel(self) -> int: ...
    def close(self) -> None: ...


class LocalExecutor:
    """Cells as subprocesses on this machine, sharing this run's cache."""

    def __init__(self, cache_dir: Path, timeout: float, jobs: int = 1):
        self.cache_dir, self.timeout = str(Path(cache_dir).resolve()), timeout
        self.slots = max(1, jobs)
        self.where = "here, one trial at a time" if jobs <= 1 else f"here, {jobs} at a time"
        self._queue: deque[Job] = deque()
        self._pool = cf.ThreadPoolExecutor(jobs) if jobs > 1 else None
        self._running: dict[cf.Future, Job] = {}

    def submit(self, job: Job) -> None:
        if self._pool is None:
            self._queue.append(job)
            return
        future = self._pool.submit(cellrun.run_check, list(job.args), list(job.python),
                                   self.cache_dir, self.timeout)
        self._running[future] = job

    def next_done(self) -> tuple[Job, dict]:
        if self._pool is None:
            job = self._queue.popleft()
            return job, cellrun.run_check(list(job.args), list(job.python), self.cache_dir,
                                        self.timeout)
        while True:  # short waits: a Ctrl-C is seen at once
            done, _ = cf.wait(list(self._running), timeout=0.2,
                              return_when=cf.FIRST_COMPLETED)
            if done:
                future = done.pop()
                return self._running.pop(future), future.result()

    def cancel(self) -> int:
        pending = len(self._queue) + sum(f.cancel() for f in self._running)
        self._queue.clear()
        return pending

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


def require_dask() -> None:
    """BadInput unless ``distributed`` (the ``dask`` extra) can be imported."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise BadInput("--dask needs the dask extra: pip install 'bisect-leak[dask]'"
                       ) from None


def _refused(address: str) -> str:
    """Why a ``tcp://HOST:PORT`` scheduler refused a plain connection ("" if it did not)."""
    parts = urllib.parse.urlsplit(address)
    if parts.scheme != "tcp" or not parts.hostname or not parts.port:
        return ""
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=CONNECT_TIMEOUT):
            return ""
    except ConnectionRefusedError as exc:
        return f"connection refused ({exc})"
    except OSError:  # unreachable, timed out: Dask's client says it in its own words
        return ""


class DaskExecutor:
    """Each cell a Dask task needing one ``trial`` resource: one trial per worker at a time.
    A worker that dies mid-cell has its task rerun elsewhere by the scheduler."""

    def __init__(self, address: str, timeout: float):
        require_dask()
        from distributed import Client, as_completed

        refused = _refused(address)
        if refused:  # a definite answer: Dask's client would retry it until its timeout
            raise InfrastructureError(f"cannot reach the Dask scheduler at {address}: {refused}")
        try:
            self.client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise InfrastructureError(
                f"cannot reach the Dask scheduler at {address}: {exc}") from None
        self.timeout = timeout
        self.where = f"Dask scheduler {address}"
        self._completed = as_completed(loop=self.client.loop, with_results=False)
        self._jobs: dict = {}
        self.slots = self._trial_slots(address)

    def _trial_slots(self, address: str) -> int:
        try:
            self.client.wait_for_workers(1, timeout=WORKER_WAIT)
        except TimeoutError:
            self.client.close()
            raise InfrastructureError(
                f"the Dask scheduler at {address} has no worker after {WORKER_WAIT:.0f} s"
            ) from None
        try:
            info = self.client.scheduler_info(n_workers=-1)
        except TypeError:  # distributed before 2025 lists every worker by default
            info = self.client.scheduler_info()
        workers = info["workers"].values()
        slots = sum(int(w.get("resources", {}).get("trial", 0)) for w in workers)
        if not slots:
            self.client.close()
            raise BadInput(f"no worker of {address} offers the 'trial' resource: "
                           "start workers with `dask worker ADDRESS --resources trial=1`")
        return slots

    def submit(self, job: Job) -> None:
        future = self.client.submit(
            cellrun.run_check, list(job.args), list(job.python), None, self.timeout,
            key=job.name,
            resources={"trial": 1}, retries=DASK_RETRIES, pure=False)
        self._jobs[future.key] = job
        self._completed.add(future)

    def next_done(self) -> tuple[Job, dict]:
        future = next(self._completed)
        job = self._jobs.pop(future.key)
        try:
            return job, future.result()
        except Exception as exc:  # the cluster could not run it (e.g. KilledWorker)
            return job, {"exit_code": None, "json": None, "host": None, "seconds": 0.0,
                         "stderr": f"the cluster could not run this cell: "
                                   f"{type(exc).__name__}: {exc}"}

    def cancel(self) -> int:
        futures = [f for f in self._completed.futures if not f.done()]
        if futures:
            self.client.cancel(futures)
        return len(futures)

    def close(self) -> None:
        self.client.close()
