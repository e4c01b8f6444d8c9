"""Wheels built from a commit's exported tree with ``uv build``, cached by tree.

As envs are: built in a temp dir beside the target, renamed into place last, under a file
lock per key, so two runs sharing a cache build each tree once and never see half a wheel.
A build that fails is not cached (the next run tries again) and raises :class:`BuildError`
with the build's last lines.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from bisect_leak import processes
from bisect_leak.candidates import commits
from bisect_leak.candidates.repo import Repo
from bisect_leak.environments import env as envs
from bisect_leak.environments.store import Store

BUILD_TIMEOUT = 900.0
KEY_VERSION = 1


class BuildError(Exception):
    """The commit's tree did not build into a wheel: the candidate's verdict is ``error``."""

    def __init__(self, message: str, tail: str = ""):
        super().__init__(message)
        self.tail = tail


@dataclass(frozen=True)
class WheelSpec:
    """What decides a built wheel: the tree, the Python and where build requirements come
    from. ``exclude_newer`` (the commit's date) is used but not part of the key: one tree,
    one wheel, whichever commit carries it."""

    tree: str
    project: str
    python: str  # interpreter path
    python_version: str
    index_url: str | None = None
    find_links: str | None = None
    no_index: bool = False
    exclude_newer: str | None = None
    version: str | None = None  # from `git describe`: for projects whose version comes from git

    @property
    def key(self) -> str:
        fields = asdict(self)
        fields.pop("exclude_newer")
        fields.pop("version")
        fields.pop("python")
        fields["v"] = KEY_VERSION
        blob = json.dumps(fields, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:20]


def wheels_dir(store: Store) -> Path:
    return store.root / "wheels"


def cached(spec: WheelSpec, store: Store) -> Path | None:
    found = sorted((wheels_dir(store) / spec.key).glob("*.whl"))
    return found[0] if found else None


def wheel(spec: WheelSpec, repo: Repo, store: Store, *,
          on_build: Callable[[], None] | None = None) -> Path:
    """The wheel of ``spec.tree``, from the cache or built (once, under its lock)."""
    root = wheels_dir(store)
    root.mkdir(parents=True, exist_ok=True)
    target = root / spec.key
    with store.lock(f"wheel-{spec.key}"):
        done = cached(spec, store)
        if done is not None:
            return done
        for stale in root.glob(f".tmp-{spec.key}-*"):  # left by a killed run; we hold the lock
            shutil.rmtree(stale, ignore_errors=True)
        if on_build:
            on_build()
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{spec.key}-", dir=root))
        try:
            built = _build(spec, repo, tmp)
            final = tmp / "final"
            final.mkdir()
            os.rename(built, final / built.name)
            (final / "bisect-leak-wheel.json").write_text(json.dumps(asdict(spec), indent=1))
            if target.exists():
                shutil.rmtree(target)
            os.rename(final, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return target / built.name


def _build(spec: WheelSpec, repo: Repo, tmp: Path) -> Path:
    uv = envs.uv_binary()
    if uv is None:
        raise BuildError("building a commit needs uv (pip install uv)")
    src, out = tmp / "src", tmp / "out"
    repo.export(spec.tree, src)
    argv = [uv, "build", "--wheel", "--python", spec.python, "--out-dir", str(out)]
    if spec.exclude_newer:
        argv += ["--exclude-newer", spec.exclude_newer]
    if spec.no_index:
        argv.append("--no-index")
    if spec.index_url:
        argv += ["--index-url", spec.index_url]
    if spec.find_links:
        argv += ["--find-links", spec.find_links]
    argv.append(str(src))
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "UV_PYTHON")}
    env.setdefault("UV_NO_PROGRESS", "1")
    if spec.version and commits.git_versioned(*(_read(src / n) for n in commits.METADATA_FILES)):
        env.update(pretend_env(spec.project, spec.version))
    done = processes.run(argv, timeout=BUILD_TIMEOUT, env=env, cwd=tmp)
    wheels = sorted(out.glob("*.whl")) if out.is_dir() else []
    if not done.ok or len(wheels) != 1:
        why = f"exit {done.returncode}" if not done.ok else f"{len(wheels)} wheels built"
        cause = _cause(done.stderr + "\n" + done.stdout)
        raise BuildError(f"uv build of tree {spec.tree[:10]} failed ({why})"
                         + (f": {cause}" if cause else ""), done.tail(15))
    return wheels[0]


def pretend_env(project: str, version: str) -> dict[str, str]:
    """The variables setuptools-scm (and hatch-vcs, built on it) read instead of git: the
    package-specific form, and the plain one older setuptools-scm knows."""
    suffix = re.sub(r"[^A-Za-z0-9]", "_", canonicalize_name(project)).upper()
    return {"SETUPTOOLS_SCM_PRETEND_VERSION": version,
            f"SETUPTOOLS_SCM_PRETEND_VERSION_FOR_{suffix}": version}


def _read(path: Path) -> str | None:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return None


def _cause(text: str) -> str:
    """The line that says why a build failed: the last exception, else uv's first error."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    raised = [line for line in lines if re.match(r"^[\w.]*(Error|Exception)\b", line)]
    if raised:
        return raised[-1][:200]
    errors = [line for line in lines if line.startswith(("error:", "× ", "ERROR"))]
    return errors[0][:200] if errors else ""
