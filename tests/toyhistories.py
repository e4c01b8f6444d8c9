"""Test support: small git histories of ``leakyrepo``, each with the trap of one defect of
issue 16 (real histories), built in a temp dir.

- :func:`side_branch`: the good tag lies on a side branch that fixed a leak main still had;
  the main-line commit between the branch point and the merge lacks the fix.
- :func:`layout_move`: the leak lands in ``leakyrepo/``, then the package moves to
  ``src/leakyrepo/`` before the bad tag.
- :func:`git_versioned`: the version comes from git (a setuptools-scm-like backend that
  fails without a version handed over) and a submodule holds part of the package.

The backend here builds either layout (``src/leakyrepo`` or ``leakyrepo``).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import toy
import toyrepo
from toyrepo import NAME, module

BACKEND = toyrepo.BACKEND.replace(
    '''def _version():
    text = open(os.path.join(NAME, "__init__.py")).read()''',
    '''ROOT = os.path.join("src", NAME) if os.path.isdir(os.path.join("src", NAME)) else NAME


def _version():
    for var in ("SETUPTOOLS_SCM_PRETEND_VERSION_FOR_LEAKYREPO", "SETUPTOOLS_SCM_PRETEND_VERSION"):
        if os.environ.get(var):
            return os.environ[var]
    if os.path.exists("VERSION_FROM_GIT"):
        raise LookupError("setuptools-scm was unable to detect version: no .git here")
    text = open(os.path.join(ROOT, "__init__.py")).read()''').replace(
    "for folder, _, names in os.walk(NAME):", "for folder, _, names in os.walk(ROOT):").replace(
    'files.append((path.replace(os.sep, "/"), open(path, "rb").read()))',
    'arc = os.path.relpath(path, os.path.dirname(ROOT) or ".").replace(os.sep, "/")\n'
    '                files.append((arc, open(path, "rb").read()))')

SCM_PYPROJECT = toyrepo.PYPROJECT.replace('version = "1.0.0"\n', 'dynamic = ["version"]\n') + (
    "\n[tool.setuptools_scm]\n")


@dataclass
class History:
    path: Path
    shas: dict[str, str]

    def short(self, step: str) -> str:
        return self.shas[step][:10]


def _commit(repo: Path, day: int, subject: str, files: dict[str, str | None]) -> str:
    for rel, text in files.items():
        path = repo / rel
        if text is None:
            toyrepo._git(repo, "rm", "--quiet", "-r", rel)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    toyrepo._git(repo, "add", "--all")
    toyrepo._git(repo, "commit", "--quiet", "-m", subject,
                 date=f"2024-02-{day:02d}T12:00:00+00:00")
    return toyrepo._git(repo, "rev-parse", "HEAD")


def _init(dest: Path) -> None:
    dest.mkdir(parents=True)
    toyrepo._git(dest, "init", "--quiet", "--initial-branch=main")


def _base(pyproject: str = toyrepo.PYPROJECT) -> dict[str, str | None]:
    return {"pyproject.toml": pyproject, "build.py": BACKEND, "README.md": "# leakyrepo\n"}


def side_branch(dest: Path) -> History:
    """c0 leaks; branch ``fix`` off c0: r1 fixes it (stable; the good bound); main: c1 still
    leaks (an unrelated change); m2 merges ``fix`` (stable); c3 brings a new leak (bad).
    ``git log --first-parent r1..c3`` is c1, m2, c3: c1 leaks for want of r1's fix."""
    _init(dest)
    s = {}
    leak, stable = module("1.0.0", toy.LEAK), module("1.0.0", toy.STABLE)
    s["c0"] = _commit(dest, 1, "Start (leaks)", {**_base(), f"{NAME}/__init__.py": leak})
    toyrepo._git(dest, "checkout", "--quiet", "-b", "fix")
    s["r1"] = _commit(dest, 2, "Fix the leak", {f"{NAME}/__init__.py": stable})
    toyrepo._git(dest, "checkout", "--quiet", "main")
    s["c1"] = _commit(dest, 3, "Tidy (#1)", {f"{NAME}/__init__.py": leak + "\n# tidied\n"})
    toyrepo._git(dest, "merge", "--quiet", "--no-ff", "-X", "theirs", "-m",
                 "Merge branch 'fix'", "fix", date="2024-02-04T12:00:00+00:00")
    s["m2"] = toyrepo._git(dest, "rev-parse", "HEAD")
    assert "_LEAK.append(" not in (dest / NAME / "__init__.py").read_text()  # fixed
    s["c3"] = _commit(dest, 5, "Keep every request (#3)",
                      {f"{NAME}/__init__.py": leak + "\n# again\n"})
    return History(dest, s)


def layout_move(dest: Path) -> History:
    """c0 stable in ``leakyrepo/``; c1 the leak (#1); c2 a README change; c3 moves the
    package to ``src/leakyrepo/`` (#3); c4 a change under src (#4). Bad bound c4."""
    _init(dest)
    s = {}
    stable, leak = module("1.0.0", toy.STABLE), module("1.0.0", toy.LEAK)
    s["c0"] = _commit(dest, 1, "Start", {**_base(), f"{NAME}/__init__.py": stable})
    s["c1"] = _commit(dest, 2, "Keep every request (#1)", {f"{NAME}/__init__.py": leak})
    s["c2"] = _commit(dest, 3, "Explain (#2)", {"README.md": "# leakyrepo\n\nMore.\n"})
    s["c3"] = _commit(dest, 4, "Move to a src layout (#3)",
                      {f"{NAME}/__init__.py": None, f"src/{NAME}/__init__.py": leak})
    s["c4"] = _commit(dest, 5, "Tidy (#4)", {f"src/{NAME}/__init__.py": leak + "\n# tidy\n"})
    return History(dest, s)


def git_versioned(dest: Path, vendored: Path) -> History:
    """A package whose version comes from git (``VERSION_FROM_GIT`` makes the backend fail
    without a pretend version, as setuptools-scm does in a tree export) with a submodule at
    ``leakyrepo/vendored`` (its own repository at ``vendored``). Tag v1.0.0 at c0, then two
    commits: c2 is ``1.0.1.dev2+g<sha>``."""
    _init(vendored)
    s = {"v0": _commit(vendored, 1, "Vendored helper", {"__init__.py": "HELPER = 42\n"})}
    _init(dest)
    s["c0"] = _commit(dest, 1, "Start", {**_base(SCM_PYPROJECT), "VERSION_FROM_GIT": "",
                                         f"{NAME}/__init__.py": module("0", toy.STABLE)})
    toyrepo._git(dest, "tag", "v1.0.0")
    _submodule_add(dest, vendored, f"{NAME}/vendored")
    toyrepo._git(dest, "commit", "--quiet", "-m", "Vendor a helper",
                 date="2024-02-02T12:00:00+00:00")
    s["c1"] = toyrepo._git(dest, "rev-parse", "HEAD")
    s["c2"] = _commit(dest, 3, "Tidy (#2)", {f"{NAME}/__init__.py": module("0", toy.STABLE)
                                             + "\n# tidy\n"})
    return History(dest, s)


def _submodule_add(repo: Path, source: Path, at: str) -> None:
    env = dict(os.environ, GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    done = subprocess.run(["git", "-C", str(repo), "-c", "protocol.file.allow=always",
                           "submodule", "add", "--quiet", str(source), at],
                          env=env, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"git submodule add failed: {done.stderr}")
