"""The one module that starts subprocesses.

Short commands run through :func:`run` with a timeout. Long-lived ones (servers) run in a
:class:`ProcessGroup` of their own and are stopped with INT, then TERM, then KILL, all
against one deadline (as nox's ``popen`` does on Ctrl-C), on every path.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# Every group this process started and has not yet reaped: stopped again at exit, so an
# interrupt anywhere leaves none behind.
_LIVE: dict[int, ProcessGroup] = {}
# Set on an interrupt: a thread that starts a process after it stops that process at once.
stopping = threading.Event()


class Stopping(Exception):
    """A process was started while the run was being interrupted; it has been stopped."""


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM while a child starts and is registered, then deliver them:
    a Ctrl-C inside ``Popen`` would otherwise leave a started child nobody knows of."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    held = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, lambda signum, frame: received.append(signum))
                for sig in held}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for sig in received:
            signal.raise_signal(sig)


@dataclass(frozen=True)
class Completed:
    """A finished short command."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def tail(self, lines: int = 15) -> str:
        """The last lines of what it printed, stderr first: for error reasons."""
        text = (self.stderr.strip() + "\n" + self.stdout.strip()).strip()
        return "\n".join(text.splitlines()[-lines:])


def run(
    argv: Sequence[str],
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    nice: int = 0,
) -> Completed:
    """Run a short command to completion in its own process group, killed at ``timeout``.

    ``nice`` lowers its CPU priority (background work that must not slow a measurement).
    """
    start = time.monotonic()
    if nice and shutil.which("nice"):
        argv = ["nice", "-n", str(nice), *argv]
    group = ProcessGroup.start(argv, env=env, cwd=cwd, capture=True)
    try:
        out, err = group.popen.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        group.stop(deadline=5.0)
        out, err = group.popen.communicate()
        err = (err or "") + f"\n[bisect-leak: killed after {timeout:.0f} s]"
        rc = -signal.SIGKILL
    except BaseException:
        group.stop(deadline=5.0)
        raise
    else:
        rc = group.popen.returncode
        group.forget()
    return Completed(tuple(argv), rc, out or "", err or "", time.monotonic() - start)


class ProcessGroup:
    """A child started as the leader of a new process group."""

    def __init__(self, popen: subprocess.Popen):
        self.popen = popen
        self.pgid = popen.pid  # start_new_session makes the child its group's leader

    @classmethod
    def start(
        cls,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        capture: bool = False,
        stdout=None,
        stderr=None,
    ) -> ProcessGroup:
        with _signals_held():
            popen = subprocess.Popen(
                list(argv),
                env=dict(env) if env is not None else None,
                cwd=str(cwd) if cwd else None,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE if capture else stdout,
                stderr=subprocess.PIPE if capture else stderr,
                text=True if capture else None,
                start_new_session=True,
            )
            group = cls(popen)
            _LIVE[group.pgid] = group
        if stopping.is_set():
            group.stop(deadline=2.0)
            raise Stopping(f"not starting {argv[0]}: the run is being interrupted")
        return group

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def forget(self) -> None:
        _LIVE.pop(self.pgid, None)

    def stop(self, deadline: float = 10.0) -> int | None:
        """INT, then TERM, then KILL the whole group, within ``deadline`` seconds in all."""
        end = time.monotonic() + deadline
        steps = ((signal.SIGINT, 0.5), (signal.SIGTERM, 0.8), (signal.SIGKILL, 1.0))
        for sig, share in steps:
            if not self._group_alive():
                break
            self._signal(sig)
            wait_until = time.monotonic() + max(0.05, (end - time.monotonic()) * share)
            if sig == signal.SIGKILL:
                wait_until = max(wait_until, time.monotonic() + 1.0)
            while time.monotonic() < wait_until:
                if not self._group_alive():
                    break
                time.sleep(0.02)
        with contextlib.suppress(subprocess.TimeoutExpired):  # an unkillable child
            self.popen.wait(timeout=1.0)
        self.forget()
        return self.popen.returncode

    def _signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pgid, sig)

    def _group_alive(self) -> bool:
        """True while any member of our group remains (the leader is reaped first)."""
        self.popen.poll()
        try:
            os.killpg(self.pgid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # pragma: no cover
            return True
        return True


def interrupt(deadline: float = 5.0) -> int:
    """The run is being interrupted: no new process survives, every one running stops."""
    stopping.set()
    return stop_all(deadline)


def stop_all(deadline: float = 5.0) -> int:
    """Stop every group still running (interrupt and exit paths). Returns how many."""
    groups = list(_LIVE.values())
    for group in groups:
        group.stop(deadline=deadline)
    return len(groups)


def git(repo: Path, *args: str, timeout: float = 120.0,
        env: Mapping[str, str] | None = None) -> Completed:
    """``git -C repo ARGS`` with a stable, non-interactive environment (no pager, no prompt,
    no locale-dependent output, paths unquoted)."""
    base = dict(os.environ if env is None else env)
    base.update({"GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat", "LC_ALL": "C",
                 "GIT_OPTIONAL_LOCKS": "0"})
    argv = ["git", "-c", "core.quotepath=off", "-C", str(repo), *args]
    return run(argv, timeout=timeout, env=base)
