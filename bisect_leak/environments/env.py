"""Isolated envs for one package version: uv when present, virtualenv + pip otherwise."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from bisect_leak import processes

BUILD_TIMEOUT = 600.0
NO_LIMIT = "2999-01-01T00:00:00Z"


class EnvBuildError(Exception):
    """The installer failed: the version gets verdict ``error`` with this tail."""

    def __init__(self, message: str, tail: str = ""):
        super().__init__(message)
        self.tail = tail


@dataclass(frozen=True)
class EnvSpec:
    """Everything that decides an env's contents; its digest is the cache key."""

    python: str  # interpreter path
    python_version: str
    requirements: tuple[str, ...]  # the package under test pinned, scenario reqs, --with pins
    overrides: tuple[str, ...] = ()  # forced over other packages' pins (uv --override)
    index_url: str | None = None
    find_links: str | None = None
    no_index: bool = False
    exclude_newer: str | None = None  # RFC 3339: resolve as the index stood then
    exempt: tuple[str, ...] = ()  # names pinned by the user: not held to exclude_newer

    @property
    def key(self) -> str:
        blob = json.dumps(asdict(self), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:20]


@dataclass(frozen=True)
class Env:
    key: str
    path: Path
    freeze: tuple[str, ...]
    installer: str
    build_seconds: float = 0.0

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"


_UV_LOCK = threading.Lock()
_UV: list[str | None] = []


def uv_binary() -> str | None:
    """uv from the ``uv`` package beside us, or on PATH; looked up once, under a lock
    (``uv.find_uv_bin`` reads sysconfig, whose lazy set-up is not thread-safe)."""
    with _UV_LOCK:
        if not _UV:
            try:
                from uv import find_uv_bin

                _UV.append(find_uv_bin())
            except (ImportError, FileNotFoundError, TypeError):
                _UV.append(shutil.which("uv"))
        return _UV[0]


def _installer_env() -> dict[str, str]:
    env = dict(os.environ)
    for var in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "UV_PYTHON"):
        env.pop(var, None)
    env.setdefault("UV_NO_PROGRESS", "1")
    return env


def build(
    spec: EnvSpec, dest: Path, uv: str | None = None, nice: int = 0
) -> tuple[tuple[str, ...], str]:
    """Create the env at ``dest`` (a path that does not exist yet); returns (freeze, installer)."""
    uv = uv if uv is not None else uv_binary()
    env = _installer_env()
    python = dest / "bin" / "python"
    if uv:
        steps = [[uv, "venv", "--quiet", "--relocatable", "--python", spec.python, str(dest)]]
        install = [uv, "pip", "install", "--python", str(python)]
        if spec.exclude_newer:
            install += ["--exclude-newer", spec.exclude_newer]
            for name in spec.exempt:
                install += ["--exclude-newer-package", f"{name}={NO_LIMIT}"]
        if spec.overrides:
            override_file = dest.parent / f"{dest.name}.overrides.txt"
            override_file.write_text("\n".join(spec.overrides) + "\n")
            install += ["--override", str(override_file)]
        freeze_cmd = [uv, "pip", "freeze", "--python", str(python)]
        installer = "uv"
    else:
        _create_without_uv(spec, dest, env)
        steps = []
        install = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        freeze_cmd = [str(python), "-m", "pip", "freeze", "--all"]
        installer = "venv+pip"
    if spec.no_index:
        install.append("--no-index")
    if spec.index_url:
        install += ["--index-url", spec.index_url]
    if spec.find_links:
        install += ["--find-links", spec.find_links]
    steps.append(install + list(spec.requirements))
    for argv in steps:
        done = processes.run(argv, timeout=BUILD_TIMEOUT, env=env, nice=nice)
        if not done.ok:
            raise EnvBuildError(
                f"installing {' '.join(spec.requirements)} on Python {spec.python_version} failed",
                done.tail(),
            )
    done = processes.run(freeze_cmd, timeout=120, env=env)
    if not done.ok:
        raise EnvBuildError("could not list the env's packages", done.tail())
    freeze = tuple(
        line.strip()
        for line in done.stdout.splitlines()
        if line.strip() and not line.startswith(("#", "-e "))
        and not line.lower().startswith(("pip==", "setuptools==", "wheel=="))
    )
    return freeze, installer




def _create_without_uv(spec: EnvSpec, dest: Path, env: dict[str, str]) -> None:
    """The target's own ``venv`` (pip from ensurepip: works back to 3.7, which current
    virtualenv no longer seeds); virtualenv where the target lacks venv or ensurepip."""
    done = processes.run([spec.python, "-m", "venv", str(dest)], timeout=BUILD_TIMEOUT, env=env)
    if done.ok:
        return
    shutil.rmtree(dest, ignore_errors=True)
    fallback = [sys.executable, "-m", "virtualenv", "--quiet", "-p", spec.python, str(dest)]
    done = processes.run(fallback, timeout=BUILD_TIMEOUT, env=env)
    if not done.ok:
        raise EnvBuildError(f"cannot create a venv for Python {spec.python_version}", done.tail())
