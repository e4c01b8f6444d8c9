"""Finding Python interpreters: on PATH, under pyenv, and among uv's managed Pythons."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from bisect_leak import processes
from bisect_leak.errors import BadInput

OLDEST = (3, 7)  # what the in-env scripts promise to run on
_NAME = re.compile(r"^python3(\.\d+)?$")
_QUERY = "import sys; print('%d.%d.%d' % sys.version_info[:3]); print(sys.implementation.name)"


@dataclass(frozen=True)
class Interpreter:
    path: Path
    version: str  # "3.7.16"
    implementation: str = "cpython"

    @property
    def minor(self) -> str:
        return ".".join(self.version.split(".")[:2])

    @property
    def version_tuple(self) -> tuple[int, ...]:
        return tuple(int(p) for p in self.version.split("."))


def candidates(environ: dict[str, str] | None = None) -> list[Path]:
    """Interpreter paths to try, PATH first, then pyenv, then uv's managed Pythons."""
    environ = dict(os.environ if environ is None else environ)
    found: list[Path] = []
    for folder in environ.get("PATH", "").split(os.pathsep):
        if not folder or "shims" in Path(folder).parts:  # pyenv shims fail outside a version
            continue
        try:
            found += sorted(p for p in Path(folder).iterdir() if _NAME.match(p.name))
        except OSError:
            continue
    pyenv_root = Path(environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    found += sorted((pyenv_root / "versions").glob("*/bin/python3"))
    uv_dir = environ.get("UV_PYTHON_INSTALL_DIR") or str(
        Path(environ.get("XDG_DATA_HOME", Path.home() / ".local/share")) / "uv/python"
    )
    found += sorted(Path(uv_dir).glob("*/bin/python3"))
    return found


def query(path: Path) -> Interpreter | None:
    """Ask an interpreter for its version; None when it does not run."""
    try:
        done = processes.run([str(path), "-c", _QUERY], timeout=20)
    except OSError:
        return None
    if not done.ok:
        return None
    lines = done.stdout.split()
    if len(lines) < 2 or not re.fullmatch(r"\d+\.\d+\.\d+", lines[0]):
        return None
    return Interpreter(path=path, version=lines[0], implementation=lines[1])


def discover(environ: dict[str, str] | None = None) -> list[Interpreter]:
    """Every distinct working Python 3 found, newest first."""
    seen: set[Path] = set()
    result: list[Interpreter] = []
    for path in candidates(environ):
        try:
            real = path.resolve(strict=True)
        except OSError:
            continue
        if real in seen:
            continue
        seen.add(real)
        interp = query(path)
        if interp is not None:
            result.append(interp)
    result.sort(key=lambda i: i.version_tuple, reverse=True)
    return result


def choose(spec: str, found: list[Interpreter]) -> Interpreter:
    """Match ``3.7``, ``3.7.16`` among ``found``: the newest patch release wins."""
    matches = [i for i in found if i.version == spec or i.minor == spec]
    if matches:
        return max(matches, key=lambda i: i.version_tuple)
    listed = ", ".join(sorted({i.version for i in found}, key=_key)) or "none"
    raise BadInput(
        f"no Python {spec} found (on PATH, under pyenv, or managed by uv); found: {listed}. "
        f"Install it (e.g. `uv python install {spec}`) or pass --python PATH"
    )


def find(spec: str, environ: dict[str, str] | None = None) -> Interpreter:
    """The interpreter for ``--python``: a version or a path."""
    if os.sep in spec or spec.startswith("python"):
        path = Path(spec)
        interp = query(path) if path.exists() else None
        if interp is None:
            raise BadInput(f"--python {spec}: not a working Python interpreter")
        return _check_age(interp)
    if not re.fullmatch(r"3\.\d+(\.\d+)?", spec):
        raise BadInput(f"--python {spec!r}: give a version such as 3.7 or 3.7.16, or a path")
    return _check_age(choose(spec, discover(environ)))


def _check_age(interp: Interpreter) -> Interpreter:
    if interp.version_tuple[:2] < OLDEST:
        raise BadInput(
            f"Python {interp.version} is older than {OLDEST[0]}.{OLDEST[1]}, "
            "the oldest bisect-leak can drive"
        )
    return interp


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))
