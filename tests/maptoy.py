"""Test support: ``maptoy``, a toy whose leak comes, goes, and comes back on one Python only.

=========  ==========================================
1.0.0      stable
1.1.0      leaks 1 KiB per request
1.2.0      leaks 1 KiB per request
1.3.0      fixed: stable
1.4.0      leaks, but only on the Python ``only`` names
1.5.0      leaks, but only on the Python ``only`` names
=========  ==========================================

With ``--edges``, the row of the other Python has two stable ends: the 1.1.0-1.2.0 leak
between them is the trap a map in that mode can miss (and must say so).
"""

from __future__ import annotations

from pathlib import Path

from toydeps import CORE_STABLE, _write

NAME = "maptoy"
VERSIONS = ("1.0.0", "1.1.0", "1.2.0", "1.3.0", "1.4.0", "1.5.0")
LEAKS = {"1.1.0", "1.2.0"}  # on every Python
LEAKS_ON_ONE = {"1.4.0", "1.5.0"}  # on the ``only`` Python

_KEEP_ALWAYS = "_KEPT = []\n\ndef KEEP(scope):\n    _KEPT.append(bytearray(1024))\n"
_KEEP_NEVER = "def KEEP(scope):\n    pass\n"
_KEEP_ON = ("import sys\n_KEPT = []\n\ndef KEEP(scope):\n"
            "    if sys.version_info[:2] == {only}:\n        _KEPT.append(bytearray(1024))\n")

SCENARIO_TOML = """\
description = "maptoy hello ({name})"
requirements = ["httptools"]

[load]
warmup = 500
requests = 2000
max_requests = 8000
concurrency = 4
sample_every = 250
max_seconds = 60

[[request]]
method = "GET"
path = "{path}"
"""


def truth(version: str, python_minor: str, only: str) -> str:
    """The verdict a cell must get."""
    if version in LEAKS or (version in LEAKS_ON_ONE and python_minor == only):
        return "leaking"
    return "stable"


def build_wheels(dest: Path, only: str) -> list[Path]:
    """One wheel per version; ``only`` is the ``3.N`` Python on which 1.4.0 and 1.5.0 leak."""
    dest.mkdir(parents=True, exist_ok=True)
    major, minor = (int(p) for p in only.split("."))
    paths = []
    for v in VERSIONS:
        if v in LEAKS:
            keep = _KEEP_ALWAYS
        elif v in LEAKS_ON_ONE:
            keep = _KEEP_ON.format(only=(major, minor))
        else:
            keep = _KEEP_NEVER
        paths.append(_write(dest, NAME, v, "", keep + CORE_STABLE))
    return paths


def write_scenario(dest: Path, path: str = "/") -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "app.py").write_text(f"from {NAME} import app  # noqa: F401\n")
    (dest / "scenario.toml").write_text(SCENARIO_TOML.format(name=dest.name, path=path))
    return dest
