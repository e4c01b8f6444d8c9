"""Bisection over an ordered list of releases, stepping around unknown verdicts.

Modelled on cargo-bisect-rustc's ``least_satisfying``: every probe answers the
old state, the new state, or something unknown (error / inconclusive). Unknown
versions are excluded and never blamed; if they surround the boundary, the
result is the smallest range they leave rather than a single release.

Pure: no I/O. :class:`Bisection` is a step-able state machine so that a caller
can prefetch what the next probe will need (see :meth:`Bisection.after`);
:func:`bisect` drives it with a plain callable.
"""

from __future__ import annotations

import copy
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Callable

from bisect_leak.judge.verdict import Verdict

__all__ = [
    "Bisection",
    "SearchResult",
    "SearchStatus",
    "bisect",
    "regression_states",
]


class SearchStatus(str, enum.Enum):
    """How a search ended."""

    FOUND = "found"  # an adjacent last-old / first-new pair
    RANGE = "range"  # unknowns left between the last old and the first new version
    BOUNDS_CONTRADICT = "bounds-contradict"  # a bound measured the opposite known state
    BOUND_UNKNOWN = "bound-unknown"  # a bound's verdict is error or inconclusive


@dataclass(frozen=True)
class SearchResult:
    """The outcome of a search, with every probe in the order it was made."""

    status: SearchStatus
    last_old: str | None
    first_new: str | None
    unknown_between: tuple[str, ...]  # every version strictly between last_old and first_new
    probed: tuple[tuple[str, Verdict], ...]
    bounds: tuple[tuple[str, Verdict], tuple[str, Verdict]]

    @property
    def found(self) -> bool:
        """True when a single release was pinpointed."""
        return self.status is SearchStatus.FOUND


def regression_states(fixed: bool) -> tuple[Verdict, Verdict]:
    """``(old_state, new_state)``: a regression hunt, or a fix hunt when ``fixed``."""
    if fixed:
        return Verdict.LEAKING, Verdict.STABLE
    return Verdict.STABLE, Verdict.LEAKING


class Bisection:
    """Step-able search: ask :meth:`next`, probe it, :meth:`record` the verdict.

    The old bound is probed first, then the new bound; if both agree with the
    expected states, the versions between them are bisected. Verdicts that
    contradict the current bracket are kept in ``probed`` but otherwise ignored.
    """

    def __init__(
        self,
        versions: Sequence[str],
        old_state: Verdict = Verdict.STABLE,
        new_state: Verdict = Verdict.LEAKING,
    ) -> None:
        versions = tuple(versions)
        if len(versions) < 2:
            raise ValueError("a search needs at least two versions (the old and new bounds)")
        if len(set(versions)) != len(versions):
            raise ValueError("versions must be unique")
        old_state, new_state = Verdict(old_state), Verdict(new_state)
        if not (old_state.known and new_state.known) or old_state is new_state:
            raise ValueError("old_state and new_state must be distinct known verdicts")
        self.versions = versions
        self.old_state = old_state
        self.new_state = new_state
        self._index = {v: i for i, v in enumerate(versions)}
        self._verdicts: dict[int, Verdict] = {}
        self._probed: list[tuple[str, Verdict]] = []
        self._lo = 0  # highest index known old (the old bound, once verified)
        self._hi = len(versions) - 1  # lowest index known new

    @property
    def probed(self) -> tuple[tuple[str, Verdict], ...]:
        """Every recorded ``(version, verdict)``, in record order."""
        return tuple(self._probed)

    @property
    def done(self) -> bool:
        """True once :meth:`next` would return None."""
        return self.next() is None

    def _bound_status(self) -> SearchStatus | None:
        """A failing status once both bounds are recorded and one is wrong, else None."""
        old = self._verdicts.get(0)
        new = self._verdicts.get(len(self.versions) - 1)
        if old is None or new is None:
            return None
        if old is self.new_state or new is self.old_state:
            return SearchStatus.BOUNDS_CONTRADICT
        if not (old.known and new.known):
            return SearchStatus.BOUND_UNKNOWN
        return None

    def next(self) -> str | None:
        """The next version to probe, or None when the search is over."""
        last = len(self.versions) - 1
        if 0 not in self._verdicts:
            return self.versions[0]
        if last not in self._verdicts:
            return self.versions[last]
        if self._bound_status() is not None:
            return None
        lo, hi = self._lo, self._hi
        candidates = [i for i in range(lo + 1, hi) if i not in self._verdicts]
        if not candidates:
            return None
        # Closest to (lo + hi) / 2, ties to the lower index; doubled to stay in integers.
        best = min(candidates, key=lambda i: (abs(2 * i - (lo + hi)), i))
        return self.versions[best]

    def record(self, version: str, verdict: Verdict) -> None:
        """Record the verdict of one probe (each version at most once)."""
        if version not in self._index:
            raise ValueError(f"{version!r} is not one of the versions being searched")
        index = self._index[version]
        if index in self._verdicts:
            raise ValueError(f"{version!r} was already recorded")
        verdict = Verdict(verdict)
        self._verdicts[index] = verdict
        self._probed.append((version, verdict))
        if verdict is self.old_state and self._lo < index < self._hi:
            self._lo = index
        elif verdict is self.new_state and self._lo < index < self._hi:
            self._hi = index

    def after(self, version: str) -> tuple[str | None, str | None]:
        """What :meth:`next` would return if ``version`` proved old, and if it proved new."""
        outcomes = []
        for state in (self.old_state, self.new_state):
            trial = copy.deepcopy(self)
            trial.record(version, state)
            outcomes.append(trial.next())
        return outcomes[0], outcomes[1]

    def result(self) -> SearchResult:
        """The outcome; valid once :meth:`next` returns None."""
        if not self.done:
            raise RuntimeError("the search is not finished")
        last = len(self.versions) - 1
        bounds = (
            (self.versions[0], self._verdicts[0]),
            (self.versions[last], self._verdicts[last]),
        )
        failed = self._bound_status()
        if failed is not None:
            return SearchResult(failed, None, None, (), self.probed, bounds)
        lo, hi = self._lo, self._hi
        status = SearchStatus.FOUND if hi == lo + 1 else SearchStatus.RANGE
        return SearchResult(
            status=status,
            last_old=self.versions[lo],
            first_new=self.versions[hi],
            unknown_between=self.versions[lo + 1 : hi],
            probed=self.probed,
            bounds=bounds,
        )


def bisect(
    versions: Sequence[str],
    probe: Callable[[str], Verdict],
    *,
    old_state: Verdict = Verdict.STABLE,
    new_state: Verdict = Verdict.LEAKING,
) -> SearchResult:
    """Search ``versions`` (oldest first) with ``probe`` until the boundary is bracketed."""
    search = Bisection(versions, old_state, new_state)
    while (version := search.next()) is not None:
        search.record(version, probe(version))
    return search.result()
