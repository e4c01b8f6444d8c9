"""Memory, threads and descriptors of the server's process tree (psutil)."""

from __future__ import annotations

import time

import psutil

from bisect_leak.judge.verdict import Sample


class ServerGone(Exception):
    """The process being sampled has exited."""


class Sampler:
    """Reads the tree rooted at ``pid``; ``requests`` is supplied by the caller."""

    def __init__(self, pid: int, *, uss: bool = True):
        try:
            self.root = psutil.Process(pid)
        except psutil.NoSuchProcess:
            raise ServerGone(f"process {pid} has exited") from None
        self.uss = uss
        self.start = time.monotonic()

    def sample(self, requests: int) -> Sample:
        try:
            if self.root.status() == psutil.STATUS_ZOMBIE:  # dead, not yet reaped: reads as 0
                raise psutil.NoSuchProcess(self.root.pid)
            procs = [self.root, *self.root.children(recursive=True)]
        except psutil.NoSuchProcess:
            raise ServerGone(f"process {self.root.pid} has exited") from None
        rss = threads = fds = 0
        anon: int | None = 0
        uss: int | None = 0 if self.uss else None
        for proc in procs:
            try:
                with proc.oneshot():
                    info = proc.memory_info()
                    rss += info.rss
                    shared = getattr(info, "shared", None)  # Linux: file-backed + shmem
                    if anon is not None:
                        anon = None if shared is None else anon + info.rss - shared
                    if uss is not None:
                        uss += proc.memory_full_info().uss
                    threads += proc.num_threads()
                    fds += proc.num_fds()
            except psutil.AccessDenied:
                uss = None
            except psutil.NoSuchProcess:
                if proc is self.root:
                    raise ServerGone(f"process {self.root.pid} has exited") from None
        return Sample(
            requests=requests,
            seconds=time.monotonic() - self.start,
            rss=rss,
            uss=uss,
            threads=threads,
            fds=fds,
            anon=anon,
        )
