"""Test support: a git repository of a toy package, ``leakyrepo``, with a known history.

The package builds with an in-tree PEP 517 backend (``build.py``, stdlib only, no build
requirements), so ``uv build --no-index`` works offline. First-parent history from tag
``v1.0.0`` to tag ``1.1.0`` (both spellings on purpose):

====  =====================================================  ==========  =============
#     subject                                                changes     behaviour
====  =====================================================  ==========  =============
c0    Initial version (tag v1.0.0)                            all         stable
c1    Explain the app in the README                           docs        (never measured)
c2    Tidy the app (#2)                                       source      stable
c3    Test the app harder (#3)                                tests       (never measured)
c4    Rename a helper (#4)                                    source      stable
c5    Move the build settings (#5)                            metadata    does not build
c6    Fix the build settings (#6)                             metadata    stable
c7    Document the counter (#9)                               docs        (never measured)
m8    Merge pull request #7 from dev/keep-requests            source      leaking  <- first bad
c9    Speed up the response (#8)                              source      leaking
c10   Release 1.1.0 (tag 1.1.0)                               source      leaking
====  =====================================================  ==========  =============

The merged branch holds two commits (a stable one, then the leak) that a first-parent
search never measures: the answer is the merge, which names the PR.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import toy

NAME = "leakyrepo"

BACKEND = '''\
"""An in-tree PEP 517 backend: a pure-Python wheel of the leakyrepo folder."""
import base64, hashlib, os, re, zipfile

NAME = "leakyrepo"


def _version():
    text = open(os.path.join(NAME, "__init__.py")).read()
    return re.search(r'__version__ = "([^"]+)"', text).group(1)


def _hash(data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode()


def get_requires_for_build_wheel(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    version = _version()
    dist = "%s-%s.dist-info" % (NAME, version)
    files = []
    for folder, _, names in os.walk(NAME):
        for name in sorted(names):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                files.append((path.replace(os.sep, "/"), open(path, "rb").read()))
    meta = "Metadata-Version: 2.1\\nName: %s\\nVersion: %s\\n" % (NAME, version)
    wheel = "Wheel-Version: 1.0\\nGenerator: toy\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
    files += [(dist + "/METADATA", meta.encode()), (dist + "/WHEEL", wheel.encode())]
    record = "".join("%s,%s,%d\\n" % (n, _hash(d), len(d)) for n, d in files)
    files.append((dist + "/RECORD", (record + dist + "/RECORD,,\\n").encode()))
    filename = "%s-%s-py3-none-any.whl" % (NAME, version)
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as zf:
        for name, data in files:
            zf.writestr(zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0)), data)
    return filename
'''

PYPROJECT = '''\
[build-system]
requires = []
build-backend = "build"
backend-path = ["."]

[project]
name = "leakyrepo"
version = "1.0.0"
'''

BROKEN_PYPROJECT = PYPROJECT.replace('build-backend = "build"', 'build-backend = "build:gone"')

SCENARIO_APP = "from leakyrepo import app  # noqa: F401\n"


def module(version: str, behaviour: str, note: str = "") -> str:
    source = toy.toy_module_source(toy.ToyVersion(version, behaviour, f"leakyrepo {note}"))
    return source.replace("leakytoy", "leakyrepo")


@dataclass
class ToyRepo:
    path: Path
    shas: dict[str, str]  # step name (c0..c10, m8, f1, f2) -> sha

    def short(self, step: str) -> str:
        return self.shas[step][:10]


def _git(repo: Path, *args: str, date: str | None = None) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="Toy", GIT_AUTHOR_EMAIL="toy@example.invalid",
               GIT_COMMITTER_NAME="Toy", GIT_COMMITTER_EMAIL="toy@example.invalid",
               GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    if date:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
    done = subprocess.run(["git", "-C", str(repo), *args], env=env, capture_output=True,
                          text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {done.stderr}")
    return done.stdout.strip()


def _commit(repo: Path, step: int, subject: str, files: dict[str, str]) -> str:
    for rel, text in files.items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    _git(repo, "add", "--all")
    date = f"2024-01-{step + 1:02d}T12:00:00+02:00"
    _git(repo, "commit", "--quiet", "-m", subject, date=date)
    return _git(repo, "rev-parse", "HEAD")


def make(dest: Path) -> ToyRepo:
    """Write the repository described above into ``dest`` (which must not exist)."""
    dest.mkdir(parents=True)
    _git(dest, "init", "--quiet", "--initial-branch=main")
    s: dict[str, str] = {}
    stable = module("1.0.0", toy.STABLE)
    s["c0"] = _commit(dest, 0, "Initial version", {
        "pyproject.toml": PYPROJECT, "build.py": BACKEND, f"{NAME}/__init__.py": stable,
        "README.md": "# leakyrepo\n", "tests/test_app.py": "def test_nothing():\n    pass\n",
        ".gitignore": "*.pyc\n__pycache__/\n"})
    _git(dest, "tag", "v1.0.0")
    s["c1"] = _commit(dest, 1, "Explain the app in the README", {
        "README.md": "# leakyrepo\n\nA toy app.\n"})
    s["c2"] = _commit(dest, 2, "Tidy the app (#2)", {
        f"{NAME}/__init__.py": stable + "\n# tidied\n"})
    s["c3"] = _commit(dest, 3, "Test the app harder (#3)", {
        "tests/test_app.py": "def test_nothing():\n    assert True\n"})
    s["c4"] = _commit(dest, 4, "Rename a helper (#4)", {
        f"{NAME}/__init__.py": stable + "\n# tidied\n# renamed\n"})
    s["c5"] = _commit(dest, 5, "Move the build settings (#5)", {"pyproject.toml": BROKEN_PYPROJECT})
    s["c6"] = _commit(dest, 6, "Fix the build settings (#6)", {"pyproject.toml": PYPROJECT})
    s["c7"] = _commit(dest, 7, "Document the counter (#9)",
                      {"README.md": "# leakyrepo\n\nCounts.\n"})
    _git(dest, "checkout", "--quiet", "-b", "dev/keep-requests")
    s["f1"] = _commit(dest, 8, "Add a counter", {
        f"{NAME}/__init__.py": stable + "\n# tidied\n# renamed\n# counter\n"})
    leak = module("1.0.0", toy.LEAK)
    s["f2"] = _commit(dest, 9, "Keep every request", {f"{NAME}/__init__.py": leak})
    _git(dest, "checkout", "--quiet", "main")
    _git(dest, "merge", "--quiet", "--no-ff", "-m",
         "Merge pull request #7 from dev/keep-requests", "dev/keep-requests",
         date="2024-01-11T12:00:00+02:00")
    s["m8"] = _git(dest, "rev-parse", "HEAD")
    s["c9"] = _commit(dest, 11, "Speed up the response (#8)", {
        f"{NAME}/__init__.py": leak + "\n# faster\n"})
    s["c10"] = _commit(dest, 12, "Release 1.1.0", {
        f"{NAME}/__init__.py": module("1.1.0", toy.LEAK) + "\n# faster\n"})
    _git(dest, "tag", "1.1.0")
    return ToyRepo(dest, s)


def build_release_wheels(repo: ToyRepo, dest: Path, uv: str, python: str) -> None:
    """The wheels of the two tagged releases, as an index would hold them."""
    for tag in ("v1.0.0", "1.1.0"):
        src = dest / f".src-{tag}"
        src.mkdir(parents=True)
        archive = dest / f".src-{tag}.tar"
        _git(repo.path, "archive", "-o", str(archive), tag)
        shutil.unpack_archive(archive, src)
        done = subprocess.run([uv, "build", "--wheel", "--no-index", "--python", python,
                               "--out-dir", str(dest), str(src)],
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"building {tag} failed: {done.stderr[-2000:]}")
        shutil.rmtree(src)
        archive.unlink()


def write_scenario(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "app.py").write_text(SCENARIO_APP)
    (dest / "scenario.toml").write_text(toy.TOY_SCENARIO_TOML)
    return dest
