"""Shared fixtures for the end-to-end tests that run the real ``bisect-leak`` CLI.

Every CLI run is a subprocess (``python -m bisect_leak``) on the toy wheelhouse built by
``tests/toy.py``, fully offline (``--no-index``); the only network use is the one-time
``pip download`` of uvicorn's wheels in ``fill_wheelhouse``.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import psutil
import pytest
import toy

#: verdict strings of the JSON contract
VERDICTS = {"leaking", "stable", "inconclusive", "error"}

#: one finished trial on stdout: "       1.0.0  py3.11.7   stable (+0.0 ± 0.0 KiB/1k ...)"
TRIAL_LINE = re.compile(
    r"^\s*(?P<version>\S+)\s+py(?P<python>\d+\.\d+\S*)\s+"
    r"(?P<verdict>leaking|stable|inconclusive|error)\b.*$"
)

CLI_TIMEOUT = 300.0


def trial_lines(stdout: str) -> list[re.Match]:
    """The trial lines a run printed, in order."""
    return [m for m in map(TRIAL_LINE.match, stdout.splitlines()) if m]


def cli_env(uv_cache_dir: Path) -> dict[str, str]:
    """The environment of every CLI subprocess: our own uv cache, nothing else changed."""
    env = dict(os.environ)
    env["UV_CACHE_DIR"] = str(uv_cache_dir)
    return env


def cli_argv(args: Sequence[str]) -> list[str]:
    return [sys.executable, "-m", "bisect_leak", *[str(a) for a in args]]


def run_cli(
    args: Sequence[str],
    cache_dir: Path,
    timeout: float = CLI_TIMEOUT,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess:
    """Run the real CLI to completion; ``cache_dir`` is the uv cache (``UV_CACHE_DIR``)."""
    if cwd is None:
        cwd = Path(os.environ.get("TMPDIR", "/tmp"))
    return subprocess.run(
        cli_argv(args),
        cwd=str(cwd),
        env=cli_env(cache_dir),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def describe_run(proc: subprocess.CompletedProcess) -> str:
    """For assertion messages."""
    return f"exit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"


def leftover_processes(mark: str) -> list[psutil.Process]:
    """Live processes (not zombies) whose command line or cwd mentions ``mark``.

    ``mark`` is this pytest session's base temp dir: every cache, env, wheelhouse and scenario
    of these tests lives under it, so anything matching is a server, installer or CLI started
    by a test. The pytest process and its ancestors never match (their cmdline and cwd do not
    point there).
    """
    found = []
    me = os.getpid()
    for proc in psutil.process_iter(["pid", "cmdline", "status"]):
        try:
            if proc.pid == me or proc.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            cmdline = " ".join(proc.info["cmdline"] or ())
            try:
                cwd = proc.cwd()
            except (psutil.AccessDenied, psutil.ZombieProcess):
                cwd = ""
            if mark in cmdline or os.path.join(cwd, "").startswith(mark):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def wait_for_no_leftovers(mark: str, grace: float = 3.0) -> list[psutil.Process]:
    """Leftovers still there after a short, bounded grace period (exit paths take a moment)."""
    deadline = time.monotonic() + grace
    while True:
        left = leftover_processes(mark)
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.1)


def kill_processes(procs: Sequence[psutil.Process]) -> None:
    """Clean up after a failed test: only processes this test session started, by pid."""
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(list(procs), timeout=5)


class CLI:
    """Runs the real CLI with this session's uv cache and toy arguments."""

    def __init__(self, uv_cache: Path, wheelhouse: Path, scenario: Path, python: Path,
                 mark: str):
        self.uv_cache = uv_cache
        self.wheelhouse = wheelhouse
        self.scenario = scenario
        self.python = python
        self.mark = mark

    @property
    def env(self) -> dict[str, str]:
        return cli_env(self.uv_cache)

    def toy_args(self, cache_dir: Path, scenario: Path | None = None) -> list[str]:
        """``--package leakytoy --scenario S --find-links WH --no-index --cache-dir C``."""
        return [
            "--package", toy.TOY_NAME,
            "--scenario", str(scenario or self.scenario),
            "--find-links", str(self.wheelhouse),
            "--no-index",
            "--python", str(self.python),
            "--cache-dir", str(cache_dir),
        ]

    def run(self, args: Sequence[str], *, cwd: Path, timeout: float = CLI_TIMEOUT
            ) -> subprocess.CompletedProcess:
        return run_cli(args, self.uv_cache, timeout=timeout, cwd=cwd)

    def popen(self, args: Sequence[str], *, cwd: Path, stdout: Path, stderr: Path
              ) -> subprocess.Popen:
        """Start the CLI with stdout and stderr going to files (read them while it runs)."""
        with open(stdout, "wb") as out, open(stderr, "wb") as err:
            return subprocess.Popen(
                cli_argv(args), cwd=str(cwd), env=self.env, stdin=subprocess.DEVNULL,
                stdout=out, stderr=err,
            )


@pytest.fixture(scope="session")
def base_python() -> Path:
    return toy.base_python()


@pytest.fixture(scope="session")
def toy_wheelhouse(tmp_path_factory: pytest.TempPathFactory, base_python: Path) -> Path:
    """The toy wheels plus uvicorn's wheels for ``base_python`` (downloaded once)."""
    dest = tmp_path_factory.mktemp("wheelhouse")
    try:
        return toy.fill_wheelhouse(dest, str(base_python))
    except RuntimeError as exc:  # no network for the one pip download
        if os.environ.get("CI"):  # CI must not go green on what it did not run
            pytest.fail(f"cannot build the toy wheelhouse: {exc}")
        pytest.skip(f"cannot build the toy wheelhouse: {exc}")


@pytest.fixture(scope="session")
def toy_scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return toy.write_toy_scenario(tmp_path_factory.mktemp("scenarios") / "toy")


@pytest.fixture(scope="session")
def uv_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This session's own UV_CACHE_DIR: uv trusts cached --find-links wheels by file name."""
    return tmp_path_factory.mktemp("uv-cache")


@pytest.fixture(scope="session")
def session_mark(tmp_path_factory: pytest.TempPathFactory) -> str:
    # with the trailing separator: .../pytest-2/ must not match another session's .../pytest-26
    return os.path.join(str(tmp_path_factory.getbasetemp().resolve()), "")


@pytest.fixture(scope="session")
def cli_runner(uv_cache: Path, toy_wheelhouse: Path, toy_scenario: Path, base_python: Path,
               session_mark: str) -> CLI:
    """Session-wide runner (for module-scoped fixtures); tests use ``cli``."""
    return CLI(uv_cache, toy_wheelhouse, toy_scenario, base_python, session_mark)


@pytest.fixture
def cli(cli_runner: CLI) -> Iterator[CLI]:
    """The CLI runner; after the test, no server, installer or CLI it started is left."""
    yield cli_runner
    left = wait_for_no_leftovers(cli_runner.mark)
    if left:
        described = []
        for proc in left:
            try:
                described.append(f"{proc.pid} ppid={proc.ppid()} {' '.join(proc.cmdline())}")
            except psutil.Error:
                described.append(str(proc.pid))
        kill_processes(left)
        pytest.fail("processes left behind after the CLI exited:\n" + "\n".join(described))
