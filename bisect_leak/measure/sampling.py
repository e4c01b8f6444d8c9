"""Memory, threads and descriptors of the server's process tree (psutil).

Anonymous memory is ``Anonymous`` + ``Swap`` from ``/proc/PID/smaps_rollup`` (leaked pages that
get swapped out do not vanish); where that file cannot be read, RSS less file-backed pages
from ``statm`` (which its man page calls inaccurate), named by ``Sampler.anon_source``."""

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
        self.anon_source = "smaps_rollup Anonymous+Swap"

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
                        rolled = smaps_anon(proc.pid)
                        if rolled is None:
                            self.anon_source = "statm RSS less shared (smaps_rollup unreadable)"
                            rolled = None if shared is None else info.rss - shared
                        anon = None if rolled is None else anon + rolled
                    if uss is not None:
                        uss += proc.memory_full_info().uss
                    threads += proc.num_threads()
                    fds += proc.num_fds()
            except psutil.AccessDenied:
                uss = None
            except psutil.NoSuchProcess:
                if proc is self.root:
                    raise ServerGone(f"process {self.root.pid} has exited") from None
        self._still_alive()
        return Sample(
            requests=requests,
            seconds=time.monotonic() - self.start,
            rss=rss,
            uss=uss,
            threads=threads,
            fds=fds,
            anon=anon,
        )

    def _still_alive(self) -> None:
        """A process killed while it was read (its memory torn down before it turns zombie)
        reads as zero: such a sample is not evidence, the server is gone."""
        try:
            gone = self.root.status() in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)
            empty = self.root.memory_info().rss == 0
        except psutil.NoSuchProcess:
            gone, empty = True, True
        if gone or empty:
            raise ServerGone(f"process {self.root.pid} has exited")


def smaps_anon(pid: int) -> int | None:
    """Bytes of ``Anonymous`` + ``Swap`` in ``/proc/PID/smaps_rollup`` (None: unreadable)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
        return sum(int(fields[k].split()[0]) for k in ("Anonymous", "Swap")) * 1024
    except (OSError, KeyError, ValueError):
        return None
