"""Bisection in rounds: up to W candidates measured at once, on W workers.

Pinpoint-style speculation: each round splits the candidates left between the last old and
the first new into W + 1 parts. The first round measures both bounds together (and, when
W > 2, W - 2 points between them); the rounds after it narrow the bracket; the replications
of the answer's pair run together last. Unknowns (error / inconclusive) are stepped around
and never blamed, as in :mod:`bisect_leak.bisection.search`, whose answer type this returns.

Pure: no I/O. :func:`next_round` reads what was measured so far and says what to measure
next, or gives the answer; :class:`RoundPlanner` keeps that history for a run loop.

The bracket is the lowest old-then-new pair of consecutive judged candidates (judged:
leaking or stable). When the verdicts are monotone there is exactly one such pair, so the
answer is the sequential search's; when they are not, it is still a pair measured in the
right states with only unknowns between them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bisect_leak.bisection.search import SearchResult, SearchStatus
from bisect_leak.judge.verdict import Verdict

__all__ = [
    "Round",
    "RoundPlanner",
    "goal_rounds",
    "next_round",
    "replication_rounds",
    "spread",
]


@dataclass(frozen=True)
class Round:
    """The candidates to measure together next, oldest first."""

    candidates: tuple[str, ...]


def next_round(
    versions: Sequence[str],
    probed: Sequence[tuple[str, Verdict]],
    workers: int,
    *,
    old_state: Verdict = Verdict.STABLE,
    new_state: Verdict = Verdict.LEAKING,
) -> Round | SearchResult:
    """The next round (1..``workers`` unmeasured candidates), or the answer once there is
    nothing left to measure. ``versions`` run from the old bound to the new; ``probed`` holds
    every ``(version, verdict)`` recorded so far, in record order (it becomes the answer's
    ``probed``)."""
    versions, states = _checked(versions, probed, workers, old_state, new_state)
    last = len(versions) - 1
    missing = [i for i in (0, last) if i not in states]
    if missing:
        inside = [i for i in range(1, last) if i not in states]
        picks = missing[:workers] + spread(inside, workers - len(missing))
        return Round(tuple(versions[i] for i in sorted(picks)))
    failed = _bound_status(states[0], states[last], old_state, new_state)
    bounds = ((versions[0], states[0]), (versions[last], states[last]))
    if failed is not None:
        return SearchResult(failed, None, None, (), tuple(probed), bounds)
    lo, hi = _bracket(states, last, old_state, new_state)
    inside = [i for i in range(lo + 1, hi) if i not in states]
    if inside:
        return Round(tuple(versions[i] for i in spread(inside, workers)))
    return SearchResult(
        status=SearchStatus.FOUND if hi == lo + 1 else SearchStatus.RANGE,
        last_old=versions[lo],
        first_new=versions[hi],
        unknown_between=tuple(versions[lo + 1:hi]),
        probed=tuple(probed),
        bounds=bounds,
    )


def spread(indices: Sequence[int], count: int) -> list[int]:
    """``count`` of ``indices`` (sorted) splitting them into ``count + 1`` even parts, by
    rank: all of them when they are no more than ``count``. With one pick it is the lower
    median, the sequential search's midpoint."""
    n = len(indices)
    if count <= 0:
        return []
    if n <= count:
        return list(indices)
    return [indices[(k * (n + 1)) // (count + 1) - 1] for k in range(1, count + 1)]


def replication_rounds(pair: tuple[str, str], confirm: int,
                       workers: int) -> list[tuple[tuple[str, int], ...]]:
    """The replications of the answer's pair as rounds of ``(version, run)``: runs 2 ..
    ``confirm + 1`` of each, ``workers`` at a time (one round when ``2 * confirm <= W``)."""
    if workers < 1:
        raise ValueError("workers must be at least 1")
    jobs = [(version, run) for run in range(2, confirm + 2) for version in pair]
    return [tuple(jobs[i:i + workers]) for i in range(0, len(jobs), workers)]


def goal_rounds(n: int, workers: int) -> int:
    """Issue 17's goal, replication round included: ``1 + ceil(log_{W+1}(n)) + 1``."""
    power, k = 1, 0
    while power < n:
        power, k = power * (workers + 1), k + 1
    return 1 + k + 1


class RoundPlanner:
    """:func:`next_round` with its history: ask :meth:`next`, measure the round's candidates
    (anywhere, in any order), :meth:`record` each verdict, ask again. ``rounds`` is every
    round asked for, for the JSON's ``rounds``."""

    def __init__(self, versions: Sequence[str], workers: int,
                 old_state: Verdict = Verdict.STABLE, new_state: Verdict = Verdict.LEAKING):
        self.versions = tuple(versions)
        self.workers = workers
        self.old_state, self.new_state = Verdict(old_state), Verdict(new_state)
        self._probed: list[tuple[str, Verdict]] = []
        self.rounds: list[tuple[str, ...]] = []
        _checked(self.versions, (), workers, self.old_state, self.new_state)

    @property
    def probed(self) -> tuple[tuple[str, Verdict], ...]:
        return tuple(self._probed)

    def next(self) -> Round | SearchResult:
        """The next round (remembered in ``rounds`` once), or the answer. Asked before a
        round is all recorded, it gives the round's unrecorded candidates again, or the
        answer when the verdicts recorded already settle it (cancel the rest then)."""
        step = next_round(self.versions, self._probed, self.workers,
                          old_state=self.old_state, new_state=self.new_state)
        if isinstance(step, Round):
            measured = {v for v, _ in self._probed}
            pending = self.rounds[-1] if self.rounds else ()
            if any(v not in measured for v in pending):
                return Round(tuple(v for v in pending if v not in measured))
            self.rounds.append(step.candidates)
        return step

    def record(self, version: str, verdict: Verdict) -> None:
        """Record one verdict (each version once, in any order within a round)."""
        probed = [*self._probed, (version, Verdict(verdict))]
        _checked(self.versions, probed, self.workers, self.old_state, self.new_state)
        self._probed = probed


def _checked(versions, probed, workers, old_state, new_state):
    versions = tuple(versions)
    if len(versions) < 2:
        raise ValueError("a search needs at least two versions (the old and new bounds)")
    if len(set(versions)) != len(versions):
        raise ValueError("versions must be unique")
    if workers < 1:
        raise ValueError("workers must be at least 1")
    if not (Verdict(old_state).known and Verdict(new_state).known) or old_state is new_state:
        raise ValueError("old_state and new_state must be distinct known verdicts")
    index = {v: i for i, v in enumerate(versions)}
    states: dict[int, Verdict] = {}
    for version, verdict in probed:
        if version not in index:
            raise ValueError(f"{version!r} is not one of the versions being searched")
        if index[version] in states:
            raise ValueError(f"{version!r} was already recorded")
        states[index[version]] = Verdict(verdict)
    return versions, states


def _bound_status(old: Verdict, new: Verdict, old_state: Verdict,
                  new_state: Verdict) -> SearchStatus | None:
    """As :class:`bisection.search.Bisection`: a contradiction first, then an unknown."""
    if old is new_state or new is old_state:
        return SearchStatus.BOUNDS_CONTRADICT
    if not (old.known and new.known):
        return SearchStatus.BOUND_UNKNOWN
    return None


def _bracket(states: dict[int, Verdict], last: int, old_state: Verdict,
             new_state: Verdict) -> tuple[int, int]:
    """The lowest consecutive judged pair measured old then new (the bounds make one)."""
    judged = sorted(i for i, v in states.items() if v.known)
    for lo, hi in zip(judged, judged[1:]):
        if states[lo] is old_state and states[hi] is new_state:
            return lo, hi
    return 0, last  # unreachable once the bounds are old and new
