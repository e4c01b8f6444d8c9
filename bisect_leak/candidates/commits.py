"""Commits as data: which ones change what gets installed, their PR numbers, tags, metadata.

Pure: every function takes text or lists and does no I/O (``repo`` reads git, this decides).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

#: files at the top of the tree that decide what a build installs (metadata, build config)
BUILD_FILES = frozenset({
    "setup.py", "setup.cfg", "pyproject.toml", "MANIFEST.in", "hatch_build.py",
    "build.py", "meson.build",
})
#: path segments that never end up installed, even inside a package folder
NOT_INSTALLED_DIRS = frozenset({"tests", "test", "docs", "doc", ".github"})
#: top-level folders that are never installed (used when no package folder is found)
NEVER_INSTALLED_TOP = frozenset({
    "tests", "test", "docs", "doc", ".github", "scripts", "tools", "benchmarks", "examples",
    "bench", ".circleci", "requirements",
})
NEVER_INSTALLED_SUFFIXES = (".md", ".rst", ".txt", ".yml", ".yaml", ".ini", ".cfg.example")

#: the spelling that means "the working tree with its uncommitted changes"
WORKTREE = "WORKTREE"

_PR_PATTERNS = (
    re.compile(r"\(#(\d+)\)\s*$"),  # squash merge: "Fix the thing (#1332)"
    re.compile(r"^Merge pull request #(\d+)\b"),  # GitHub merge commit
    re.compile(r"\(#(\d+)\)"),  # anywhere, last resort
)


@dataclass(frozen=True)
class FileChange:
    path: str
    added: int | None  # None for a binary file
    deleted: int | None

    def stat(self) -> str:
        if self.added is None or self.deleted is None:
            return f"{self.path} | binary"
        return f"{self.path} | +{self.added} -{self.deleted}"

    def as_dict(self) -> dict:
        return {"path": self.path, "added": self.added, "deleted": self.deleted}


@dataclass(frozen=True)
class Commit:
    """One commit of the first-parent history, with its change against its first parent."""

    sha: str
    subject: str
    date: datetime  # author date, with its offset
    parents: tuple[str, ...] = ()
    files: tuple[FileChange, ...] = field(default=())

    @property
    def short(self) -> str:
        return self.sha[:10]

    @property
    def pr(self) -> int | None:
        return pr_number(self.subject)

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1


def pr_number(subject: str) -> int | None:
    """The pull request a subject names: ``"... (#1332)"`` or ``"Merge pull request #12 ..."``.

    When a subject names several (``"... (#949) (#1045) (#1047)"``), the last one is the PR
    that landed it."""
    for pattern in _PR_PATTERNS:
        found = pattern.findall(subject)
        if found:
            return int(found[-1])
    return None


def parse_log(text: str) -> list[Commit]:
    """Commits from ``git log --format=%x1e%H%x1f%P%x1f%aI%x1f%s --numstat`` (newest first
    in, oldest first out)."""
    commits = []
    for record in text.split("\x1e"):
        if not record.strip():
            continue
        header, _, rest = record.partition("\n")
        sha, parents, date, subject = header.split("\x1f", 3)
        commits.append(Commit(sha, subject.strip(), datetime.fromisoformat(date),
                              tuple(parents.split()), tuple(parse_numstat(rest))))
    commits.reverse()
    return commits


def parse_numstat(text: str) -> list[FileChange]:
    """``ADDED<TAB>DELETED<TAB>PATH`` lines (``-`` for a binary file's counts)."""
    files = []
    for line in text.splitlines():
        parts = line.split("\t", 2)
        if len(parts) != 3 or not parts[0] or not parts[1]:
            continue
        added, deleted, path = parts
        if not (added == "-" or added.isdigit()) or not (deleted == "-" or deleted.isdigit()):
            continue
        files.append(FileChange(path, None if added == "-" else int(added),
                                None if deleted == "-" else int(deleted)))
    return files


def parse_status_z(text: str) -> list[str]:
    """The paths of ``git status --porcelain -z``: ``XY PATH`` entries split by NUL, a
    rename or copy followed by its source path (skipped); paths verbatim, spaces and all."""
    paths = []
    entries = iter(text.split("\0"))
    for entry in entries:
        if len(entry) < 4:
            continue
        status, path = entry[:2], entry[3:]
        paths.append(path)
        if "R" in status or "C" in status:
            next(entries, None)  # the source of a rename or copy
    return paths


def package_roots_of(listings: Iterable[Iterable[str]], project: str) -> tuple[str, ...]:
    """The package folders found in any of several tree listings (a range's bounds), so a
    layout move inside the range (``pkg/`` to ``src/pkg/``) keeps both sides' changes."""
    roots: dict[str, None] = {}
    for paths in listings:
        roots.update(dict.fromkeys(package_roots(paths, project)))
    return tuple(roots)


def pretend_version(described: str | None, sha: str) -> str:
    """The version a git-versioned project (setuptools-scm, hatch-vcs) would give the commit,
    from ``git describe --tags --long`` (``v1.2.0-3-gabc``): the tag's version on a tagged
    commit, else the next patch's dev release (``1.2.1.dev3+gabc``), as setuptools-scm's
    default scheme does; ``0.0.0.dev0+gSHA`` with no version tag behind it."""
    local = f"g{sha[:10]}"
    match = re.match(r"^(?P<tag>.+)-(?P<n>\d+)-g(?P<hash>[0-9a-f]+)$", (described or "").strip())
    if match:
        text = re.sub(r"^(?:[A-Za-z][\w.-]*?[-_])?v?(?=\d)", "",
                      match.group("tag").rsplit("/", 1)[-1])
        try:
            version = Version(text)
        except InvalidVersion:
            return f"0.0.0.dev0+{local}"
        distance = int(match.group("n"))
        if distance == 0:
            return str(version)
        if version.is_devrelease:
            return f"{version.public}+{local}"
        if version.post is not None:
            return f"{version.base_version}.post{version.post + distance}+{local}"
        if version.is_prerelease:
            return f"{version.public}.post{distance}+{local}"
        release = list(version.release)
        release[-1] += 1
        return f"{'.'.join(str(p) for p in release)}.dev{distance}+{local}"
    return f"0.0.0.dev0+{local}"


def import_names(project: str) -> tuple[str, ...]:
    """The folder names a project's code is likely under: ``uvicorn``, ``my_pkg``."""
    canonical = canonicalize_name(project)
    return tuple(dict.fromkeys((canonical.replace("-", "_"), canonical.replace("-", ""))))


def package_roots(paths: Iterable[str], project: str) -> tuple[str, ...]:
    """The folders (or single modules) holding the project's code in a tree listing:
    ``uvicorn/``, ``src/uvicorn/``, ``uvicorn.py``. Empty when none is found."""
    names = import_names(project)
    present = set(paths)
    roots = []
    for prefix in ("", "src/"):
        for name in names:
            if f"{prefix}{name}/__init__.py" in present:
                roots.append(f"{prefix}{name}/")
            if f"{prefix}{name}.py" in present:
                roots.append(f"{prefix}{name}.py")
    return tuple(roots)


def installs(path: str, roots: Sequence[str]) -> bool:
    """True when a change to ``path`` can change what gets installed."""
    if path in BUILD_FILES:
        return True
    parts = path.split("/")
    if roots:
        inside = any(path == r or (r.endswith("/") and path.startswith(r)) for r in roots)
        return inside and not any(p in NOT_INSTALLED_DIRS for p in parts[:-1])
    # No package folder found: everything but the usual non-installed places counts.
    if parts[0] in NEVER_INSTALLED_TOP or parts[0].startswith("."):
        return False
    return not (len(parts) == 1 and path.endswith(NEVER_INSTALLED_SUFFIXES))


def installed_changes(commit: Commit, roots: Sequence[str]) -> tuple[FileChange, ...]:
    return tuple(f for f in commit.files if installs(f.path, roots))


def candidates(commits: Sequence[Commit], roots: Sequence[str]) -> list[Commit]:
    """The commits that change installed files (docs- or tests-only commits cannot change a
    verdict and are never measured)."""
    return [c for c in commits if installed_changes(c, roots)]


def tag_for(tags: Iterable[str], version: str) -> str | None:
    """The tag naming release ``version``: ``0.14.0``, ``v0.14.0``, ``uvicorn-0.14.0``,
    ``release-0.14.0``; an exact spelling wins over an equal version (``v0.14``)."""
    wanted = Version(version)
    exact, equal = [], []
    for tag in tags:
        text = tag.rsplit("/", 1)[-1]
        stripped = re.sub(r"^(?:[A-Za-z][\w.-]*?[-_])?v?(?=\d)", "", text)
        if stripped == version:
            exact.append(tag)
            continue
        try:
            if Version(stripped) == wanted:
                equal.append(tag)
        except InvalidVersion:
            continue
    found = sorted(exact, key=len) or sorted(equal, key=len)
    return found[0] if found else None


def tag_spellings(version: str) -> str:
    return f"{version}, v{version}"


def project_name(pyproject: str | None, setup_cfg: str | None,
                 setup_py: str | None) -> str | None:
    """The project name the metadata declares, or None when it cannot be read statically."""
    if pyproject:
        try:
            data = tomllib.loads(pyproject)
        except tomllib.TOMLDecodeError:
            data = {}
        name = data.get("project", {}).get("name") or (
            data.get("tool", {}).get("poetry", {}).get("name"))
        if isinstance(name, str):
            return name
    if setup_cfg:
        match = re.search(r"^\[metadata\][^\[]*?^name\s*=\s*(\S+)", setup_cfg, re.M | re.S)
        if match:
            return match.group(1)
    if setup_py:
        call = setup_py.find("setup(")
        match = re.search(r"\bname\s*=\s*['\"]([A-Za-z0-9._-]+)['\"]",
                          setup_py[call:] if call >= 0 else setup_py)
        if match:
            return match.group(1)
    return None


#: the metadata files :func:`project_name` and :func:`git_versioned` read, in that order
METADATA_FILES = ("pyproject.toml", "setup.cfg", "setup.py")

_GIT_VERSION = re.compile(r"setuptools[_-]scm|hatch[_-]vcs|use_scm_version|"
                          r"source\s*=\s*[\"']vcs[\"']|versioningit", re.I)


def git_versioned(pyproject: str | None, setup_cfg: str | None, setup_py: str | None) -> bool:
    """True when the project takes its version from git (setuptools-scm, hatch-vcs, ...):
    a tree export has no ``.git``, so its build needs a version handed over."""
    return any(text and _GIT_VERSION.search(text) for text in (pyproject, setup_cfg, setup_py))


def is_release_text(text: str) -> bool:
    """A bound or check written as a version (``0.14.0``, ``v0.14.0``) names a release;
    anything else (``HEAD``, a sha, a branch, WORKTREE) names a commit."""
    if text == WORKTREE:
        return False
    try:
        Version(text)
    except InvalidVersion:
        return False
    return True
