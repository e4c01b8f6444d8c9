"""Test support: a toy history for the line answer (``--repo --inspect``), package
``leakyrepo`` built by tests/toyrepo.py's in-tree backend.

====  ==============================================  =======================================
#     subject                                         change
====  ==============================================  =======================================
c0    Initial version                                 stable; ``leakyrepo/keep.py`` holds an
                                                      unused helper that keeps what it gets
c1    Keep every request through the helper (#1)      ``_behave`` calls ``keep(1024)``: the
                                                      allocating line is the UNCHANGED helper's
c2    Stop keeping (#2)                               stable again
c3    Keep every request in place (#3)                ``_behave`` appends a bytearray itself:
                                                      the allocating line is in the diff
====  ==============================================  =======================================
"""

from __future__ import annotations

from pathlib import Path

import toy
import toyrepo

KEEP = '''\
"""Keeps what it is given."""

_KEPT = []


def keep(size):
    _KEPT.append(bytearray(size))
'''
KEEP_LINE = 7  # the allocating line of keep.py
CALL = "    keep(1024)"
IN_PLACE = "    _LEAK.append(bytearray(1024))"


def _module(body: str) -> str:
    stable = toyrepo.module("1.0.0", toy.STABLE)
    assert "    return None" in stable
    return stable.replace("    return None", body) + "\n\nfrom leakyrepo.keep import keep  # noqa\n"


def line_of(text: str, code: str) -> int:
    return text.splitlines().index(code) + 1


def make(dest: Path) -> toyrepo.ToyRepo:
    dest.mkdir(parents=True)
    toyrepo._git(dest, "init", "--quiet", "--initial-branch=main")
    pkg = f"{toyrepo.NAME}/__init__.py"
    s = {"c0": toyrepo._commit(dest, 0, "Initial version", {
        "pyproject.toml": toyrepo.PYPROJECT, "build.py": toyrepo.BACKEND,
        pkg: _module("    return None"), f"{toyrepo.NAME}/keep.py": KEEP,
        ".gitignore": "*.pyc\n__pycache__/\n"})}
    s["c1"] = toyrepo._commit(dest, 1, "Keep every request through the helper (#1)",
                              {pkg: _module(CALL)})
    s["c2"] = toyrepo._commit(dest, 2, "Stop keeping (#2)", {pkg: _module("    return None")})
    s["c3"] = toyrepo._commit(dest, 3, "Keep every request in place (#3)",
                              {pkg: _module(IN_PLACE)})
    return toyrepo.ToyRepo(dest, s)


def module_text(body: str) -> str:
    return _module(body)
