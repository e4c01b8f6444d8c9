"""Build the envs the search may need next while the current version is under load.

One background worker at lower CPU priority (nice 10). The memory samples are taken against
requests served, not time, so the competition for CPU slows the load but does not move the
samples. A prefetch that fails is forgotten: the real probe builds again and reports.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

from bisect_leak import processes
from bisect_leak.environments.env import EnvBuildError, EnvSpec
from bisect_leak.environments.store import Store

NICE = 10


class Prefetcher:
    def __init__(self, store: Store):
        self.store = store
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bisect-leak-prefetch")
        self.submitted: dict[str, Future] = {}

    def submit(self, spec: EnvSpec) -> None:
        if spec.key not in self.submitted:
            self.submitted[spec.key] = self.pool.submit(self._build, spec)

    def _build(self, spec: EnvSpec) -> bool:
        try:
            self.store.env(spec, nice=NICE)
        except (EnvBuildError, OSError, processes.Stopping):
            return False
        return True

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Prefetcher:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:  # interrupted or failed: stop the build we may be waiting on
            processes.interrupt()
        self.close()
