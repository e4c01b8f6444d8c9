"""A local git clone of the package under test, read through ``git`` (never checked out).

Everything here reads the repository's objects; the only write is ``worktree_tree``, which
stores the working tree's files as loose objects through a temporary index (the user's
index, HEAD and files are never touched).
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from bisect_leak import processes
from bisect_leak.candidates import commits
from bisect_leak.candidates.commits import Commit, FileChange
from bisect_leak.errors import BadInput, InfrastructureError

LOG_FORMAT = "%x1e%H%x1f%P%x1f%aI%x1f%s"
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


class GitError(InfrastructureError):
    """git failed on a repository it had accepted."""


@dataclass(frozen=True)
class Repo:
    path: Path
    bare: bool

    @classmethod
    def open(cls, path: Path) -> Repo:
        """The repository at ``path``; BadInput when it is not one."""
        path = Path(path).expanduser().absolute()
        if not path.is_dir():
            raise BadInput(f"--repo {path} does not exist; pass a local git clone of the package")
        if shutil.which("git") is None:
            raise BadInput("--repo needs git on PATH; install git")
        done = processes.git(path, "rev-parse", "--is-bare-repository", "--show-toplevel",
                             timeout=30)
        if not done.ok:
            bare = processes.git(path, "rev-parse", "--is-bare-repository", timeout=30)
            if bare.ok and bare.stdout.strip() == "true":
                return cls(path, True)
            raise BadInput(f"--repo {path} is not a git repository; pass a local git clone "
                           "(git clone URL DIR)")
        lines = done.stdout.split()
        top = Path(lines[1]) if len(lines) > 1 else path
        return cls(top, lines[0] == "true")

    def _git(self, *args: str, timeout: float = 120.0) -> str:
        done = processes.git(self.path, *args, timeout=timeout)
        if not done.ok:
            raise GitError(f"git {' '.join(args[:3])} failed in {self.path}: {done.tail(3)}")
        return done.stdout

    def resolve(self, ref: str, flag: str) -> str:
        """The full sha of a commit-ish; BadInput naming ``flag`` when there is none."""
        done = processes.git(self.path, "rev-parse", "--verify", "--quiet",
                             f"{ref}^{{commit}}", timeout=30)
        if not done.ok or not done.stdout.strip():
            raise BadInput(f"{flag} {ref!r} is not a commit in {self.path}; give a tag, "
                           "branch or sha that `git -C REPO rev-parse` knows")
        return done.stdout.strip()

    def head(self) -> str | None:
        """HEAD's sha, or None in a repository without commits."""
        done = processes.git(self.path, "rev-parse", "--verify", "--quiet", "HEAD^{commit}",
                             timeout=30)
        return done.stdout.strip() if done.ok else None

    def tags(self) -> list[str]:
        return self._git("tag", "--list").split()

    def tag_commit(self, version: str) -> tuple[str, str] | None:
        """(tag, sha) of the tag naming release ``version``, or None."""
        tag = commits.tag_for(self.tags(), version)
        if tag is None:
            return None
        return tag, self.resolve(f"refs/tags/{tag}", "tag")

    def is_ancestor(self, old: str, new: str) -> bool:
        done = processes.git(self.path, "merge-base", "--is-ancestor", old, new, timeout=60)
        return done.ok

    def first_containing(self, old: str, new: str) -> str:
        """The oldest commit on ``new``'s first-parent line that contains ``old``: ``old``
        itself when it lies on that line, else the merge that brought it in (``old`` was
        on a side branch that reached ``new`` through a merge's second parent)."""
        line = self._git("rev-list", "--first-parent", f"{old}..{new}").split()
        if not line:
            return old
        parent = processes.git(self.path, "rev-parse", "--verify", "--quiet", f"{line[-1]}^1",
                               timeout=30)
        if parent.ok and parent.stdout.strip() == old:
            return old
        # containing ``old`` is monotone along the line (newest first): bisect for the edge
        low, high = 0, len(line) - 1  # line[low] contains old; find the last one that does
        while low < high:
            mid = (low + high + 1) // 2
            if self.is_ancestor(old, line[mid]):
                low = mid
            else:
                high = mid - 1
        return line[low]

    def describe(self, sha: str) -> str | None:
        """``git describe --tags --long`` of a commit (``v1.2.0-3-gabc``), None without tags."""
        done = processes.git(self.path, "describe", "--tags", "--long", "--abbrev=10", sha,
                             timeout=60)
        return done.stdout.strip() if done.ok and done.stdout.strip() else None

    def pretend_version(self, sha: str) -> str:
        """The version setuptools-scm or hatch-vcs would derive for ``sha`` from git."""
        return commits.pretend_version(self.describe(sha), sha)

    def submodules(self, treeish: str) -> list[tuple[str, str]]:
        """(path, commit) of every submodule (gitlink) in ``treeish``."""
        out = self._git("ls-tree", "-r", "-z", treeish)
        found = []
        for entry in out.split("\0"):
            meta, _, path = entry.partition("\t")
            parts = meta.split()
            if len(parts) == 3 and parts[1] == "commit":
                found.append((path, parts[2]))
        return found

    def first_parent(self, old: str, new: str) -> list[Commit]:
        """The first-parent history from ``old`` (excluded) to ``new`` (included), oldest
        first; each commit with its change against its first parent (a merge: the whole PR)."""
        text = self._git("log", "--first-parent", "--diff-merges=first-parent", "--no-renames",
                         "--numstat", f"--format={LOG_FORMAT}", f"{old}..{new}")
        return commits.parse_log(text)

    def commit(self, sha: str) -> Commit:
        text = self._git("log", "-1", "--diff-merges=first-parent", "--no-renames", "--numstat",
                         f"--format={LOG_FORMAT}", sha)
        return commits.parse_log(text)[0]

    def tree(self, treeish: str) -> str:
        return self._git("rev-parse", f"{treeish}^{{tree}}").strip()

    def paths(self, treeish: str) -> list[str]:
        return self._git("ls-tree", "-r", "--name-only", treeish).splitlines()

    def package_roots(self, treeishes: tuple[str, ...], project: str) -> tuple[str, ...]:
        """The package folders at any of ``treeishes`` (a range's bounds): a layout move
        inside the range keeps both sides' folders (issue 16)."""
        return commits.package_roots_of((self.paths(t) for t in treeishes), project)

    def read(self, treeish: str, path: str) -> str | None:
        done = processes.git(self.path, "show", f"{treeish}:{path}", timeout=30)
        return done.stdout if done.ok else None

    def project_name(self, treeish: str) -> str | None:
        """The project name its metadata declares at ``treeish``."""
        return commits.project_name(self.read(treeish, "pyproject.toml"),
                                    self.read(treeish, "setup.cfg"),
                                    self.read(treeish, "setup.py"))

    def dirty_paths(self) -> list[str]:
        """Tracked files with uncommitted changes, and untracked files not ignored."""
        if self.bare:
            return []
        out = self._git("status", "--porcelain", "-z", "--untracked-files=all")
        return commits.parse_status_z(out)

    def worktree_changes(self, tree: str) -> tuple[FileChange, ...]:
        """The working tree's ``tree`` (from :meth:`worktree_tree`) against HEAD, file by
        file with lines added and deleted (text files as text, not "binary")."""
        head = self.head()
        base = f"{head}^{{tree}}" if head else EMPTY_TREE
        text = self._git("diff-tree", "-r", "--no-renames", "--numstat", base, tree)
        return tuple(commits.parse_numstat(text))

    def worktree_tree(self) -> str:
        """The tree object of the working tree as it is now, uncommitted changes and untracked
        (not ignored) files included, written through a temporary index."""
        if self.bare:
            raise BadInput(f"--repo {self.path} is a bare repository: it has no working tree "
                           f"for {commits.WORKTREE}")
        index = Path(self._git("rev-parse", "--git-path", "index").strip())
        if not index.is_absolute():
            index = self.path / index
        with tempfile.TemporaryDirectory(prefix="bisect-leak-index-") as tmp:
            temp_index = Path(tmp) / "index"
            if index.exists():
                shutil.copyfile(index, temp_index)
            env = dict(os.environ, GIT_INDEX_FILE=str(temp_index))
            for args in (("add", "--all", "--", "."), ("write-tree",)):
                done = processes.git(self.path, *args, timeout=300, env=env)
                if not done.ok:
                    raise GitError(f"git {args[0]} of the working tree failed: {done.tail(3)}")
            return done.stdout.strip()

    def export(self, treeish: str, dest: Path) -> None:
        """The files of ``treeish`` (a commit or a tree) into ``dest``, via ``git archive``,
        with its submodules at their recorded commits (from their clones under
        ``.git/modules`` or the working tree); GitError naming one that is not there."""
        _archive(self.path, treeish, dest)
        for path, sha in self.submodules(treeish):
            where = self._submodule_git(path, sha)
            if where is None:
                raise GitError(f"submodule {path} at {sha[:10]} is not in {self.path}: run "
                               "`git submodule update --init --recursive` in the clone")
            _archive(where, sha, dest / path)

    def _submodule_git(self, path: str, sha: str) -> Path | None:
        """A git directory holding submodule ``path``'s commit ``sha``, or None."""
        common = Path(self._git("rev-parse", "--git-common-dir").strip())
        if not common.is_absolute():
            common = self.path / common
        for where in (common / "modules" / path, self.path / path):
            if where.exists():
                done = processes.git(where, "cat-file", "-e", f"{sha}^{{commit}}", timeout=30)
                if done.ok:
                    return where
        return None


def _archive(git_dir: Path, treeish: str, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    archive = dest.parent / f"{dest.name}.tar"
    try:
        done = processes.git(git_dir, "archive", "--format=tar", "-o", str(archive), treeish,
                             timeout=300)
        if not done.ok:
            raise GitError(f"git archive {treeish[:10]} failed in {git_dir}: {done.tail(3)}")
        with tarfile.open(archive) as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(dest, filter="data")
            else:  # pragma: no cover
                tar.extractall(dest)  # noqa: S202 - our own git archive
    finally:
        archive.unlink(missing_ok=True)


def now() -> datetime:
    return datetime.now(timezone.utc)


def diff_text(repo: Repo, old: str, new: str) -> str:
    """``git diff -U0`` from tree-ish ``old`` to ``new``, renames followed (a moved file's
    unchanged lines are not changes): the hunks of the line answer (issue 16)."""
    return repo._git("diff", "-U0", "--find-renames", "--no-color", "--no-ext-diff",
                     "--no-textconv", old, new, timeout=300)
