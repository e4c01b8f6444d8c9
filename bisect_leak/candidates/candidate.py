"""A candidate: a release, a commit or the working tree, as one kind of thing to measure.

Every stage of the run handles candidates alike: the search orders their labels, the prober
turns one into an env (a release from the index, or a wheel built from a git tree), the
reports show it by its title. Pure: no I/O.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timezone

from bisect_leak.candidates.commits import WORKTREE, Commit
from bisect_leak.candidates.releases import Release, Selection


class Kind(str, enum.Enum):
    """What a candidate is."""

    RELEASE = "release"
    COMMIT = "commit"
    WORKTREE = "worktree"


@dataclass(frozen=True)
class Candidate:
    """One thing to measure, keyed by ``label`` (a version, a short sha or ``WORKTREE``)."""

    label: str
    kind: Kind
    date: datetime | None  # the day it stands for: a release's upload, a commit's date
    tree: str | None = None  # the git tree a wheel is built from (commits, the working tree)
    commit: Commit | None = None

    @property
    def built(self) -> bool:
        """True when the package comes from a wheel built here, not from an index."""
        return self.tree is not None

    @property
    def level(self) -> str:
        """The level of the search it belongs to: ``release`` or ``commit``."""
        return "release" if self.kind is Kind.RELEASE else "commit"

    def title(self, width: int = 60) -> str:
        """How a person reads it: the version, or the short sha with its subject."""
        if self.commit is None:
            return self.label
        return f"{self.label} ({self.commit.subject[:width]})"

    def requirement(self, project: str, wheel_uri: str | None = None) -> str:
        """What gets installed: ``name==version``, or ``name @ file:///...whl``."""
        if self.built:
            assert wheel_uri is not None, f"{self.label}: the wheel is built before the env"
            return f"{project} @ {wheel_uri}"
        return f"{project}=={self.label}"

    def utc_date(self) -> datetime | None:
        return self.date.astimezone(timezone.utc) if self.date is not None else None


def from_release(release: Release) -> Candidate:
    return Candidate(str(release), Kind.RELEASE, release.uploaded)


def from_selection(selection: Selection) -> dict[str, Candidate]:
    """The releases of a selection as candidates, oldest first."""
    return {str(r): from_release(r) for r in selection.releases}


def from_commit(commit: Commit, tree: str) -> Candidate:
    kind = Kind.WORKTREE if commit.sha == WORKTREE else Kind.COMMIT
    return Candidate(commit.short if kind is Kind.COMMIT else WORKTREE, kind, commit.date,
                     tree, commit)
