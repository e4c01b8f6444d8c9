"""The server under test: the env's uvicorn serving the scenario's app on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import tempfile
import time
from pathlib import Path

from bisect_leak.processes import ProcessGroup

HOST = "127.0.0.1"


class ServerError(Exception):
    """The server failed to start, exited, or stopped answering."""

    def __init__(self, message: str, stderr_tail: str = ""):
        super().__init__(message)
        self.stderr_tail = stderr_tail


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def server_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """A minimal environment: nothing of ours (no PYTHONPATH) leaks into the target."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra or {})
    return env


class Server:
    """``python -m uvicorn app:app`` in its own process group; a context manager."""

    def __init__(
        self,
        python: Path,
        app_dir: Path,
        *,
        app: str = "app:app",
        launcher: Path | None = None,
        launcher_args: tuple[str, ...] = (),
        extra_env: dict[str, str] | None = None,
    ):
        self.python = python
        self.app_dir = app_dir
        self.app = app
        self.launcher = launcher
        self.launcher_args = launcher_args
        self.extra_env = extra_env
        self.port = 0
        self.group: ProcessGroup | None = None
        self._log_dir = tempfile.TemporaryDirectory(prefix="bisect-leak-server-")
        self.stderr_path = Path(self._log_dir.name) / "stderr.log"

    def argv(self) -> list[str]:
        opts = ["--host", HOST, "--port", str(self.port), "--log-level", "warning"]
        if self.launcher is not None:
            return [str(self.python), str(self.launcher), *self.launcher_args, self.app, *opts]
        return [str(self.python), "-m", "uvicorn", self.app, *opts]

    def start(self, timeout: float = 60.0) -> None:
        """Start and wait until it answers HTTP; ServerError with its stderr otherwise."""
        self.port = free_port()
        with open(self.stderr_path, "wb") as err:
            try:
                self.group = ProcessGroup.start(
                    self.argv(),
                    env=server_env(self.extra_env),
                    cwd=self.app_dir,
                    stdout=err,
                    stderr=err,
                )
            except OSError as exc:
                raise ServerError(f"cannot start {self.python}: {exc.strerror}") from None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.group.alive():
                raise ServerError(
                    f"server exited with code {self.group.popen.returncode} before answering",
                    self.stderr_tail(),
                )
            if self._answers():
                return
            time.sleep(0.05)
        raise ServerError(f"server did not answer HTTP within {timeout:.0f} s", self.stderr_tail())

    def _answers(self) -> bool:
        try:
            with socket.create_connection((HOST, self.port), timeout=2.0) as sock:
                probe = f"GET / HTTP/1.1\r\nhost: {HOST}\r\nconnection: close\r\n\r\n"
                sock.sendall(probe.encode())
                return sock.recv(12).startswith(b"HTTP/")
        except OSError:
            return False

    @property
    def pid(self) -> int:
        assert self.group is not None
        return self.group.pid

    def check_alive(self) -> None:
        if self.group is not None and not self.group.alive():
            raise ServerError(
                f"server exited with code {self.group.popen.returncode} during the load",
                self.stderr_tail(),
            )

    def exit_code(self) -> int | None:
        return None if self.group is None else self.group.popen.poll()

    def stderr_tail(self, lines: int = 15) -> str:
        try:
            text = self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""
        return tail_keeping_fatal(text.strip().splitlines(), lines)

    def stop(self, deadline: float = 10.0) -> None:
        if self.group is not None:
            self.group.stop(deadline=deadline)

    def close(self) -> None:
        self.stop()
        self._log_dir.cleanup()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


FATAL = "Fatal Python error"
FATAL_HEAD = 6  # lines kept from where a fatal error starts: what failed, and in which thread


def tail_keeping_fatal(lines: list[str], keep: int = 15) -> str:
    """The last ``keep`` lines, and the first lines of a CPython fatal error when it starts
    earlier (its thread dumps push the line that says why out of the tail)."""
    start = next((i for i, line in enumerate(lines) if line.startswith(FATAL)), None)
    if start is None or start >= len(lines) - keep:
        return "\n".join(lines[-keep:])
    head = lines[start:start + FATAL_HEAD]
    rest = lines[max(start + FATAL_HEAD, len(lines) - keep):]
    skipped = len(lines) - len(rest) - start - len(head)
    return "\n".join(head + ([f"... ({skipped} lines) ..."] if skipped else []) + rest)
