"""Planning a leak map (pure): which cells to measure next, and where the verdict flips.

A map is rows (one Python x one scenario) of releases, oldest first. ``--every`` measures
every cell. ``--edges`` measures both ends of a row, then the middle of every interval between
two judged cells (leaking or stable) whose verdicts differ, until no such interval holds an
unmeasured release. Cells whose verdict is ``error`` or ``inconclusive`` are stepped around,
never taken as a side. Two equal ends hide whatever comes and goes between them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bisect_leak.judge.verdict import Verdict

JUDGED = (Verdict.LEAKING, Verdict.STABLE)


@dataclass(frozen=True)
class Row:
    """One column of the map's table: a Python and a scenario."""

    python: str  # the interpreter's full version, e.g. 3.7.16
    scenario: str

    @property
    def label(self) -> str:
        return f"{self.python} / {self.scenario}"


@dataclass(frozen=True)
class Cell:
    """Exactly one ``bisect-leak --check``: a candidate on one Python under one scenario."""

    candidate: str
    row: Row


@dataclass(frozen=True)
class Flip:
    """Consecutive judged cells of a row whose verdicts differ."""

    row: Row
    before: Verdict
    after: Verdict
    last_before: str
    first_after: str
    unjudged: tuple[str, ...] = ()  # measured between them, error or inconclusive
    replicated: bool | None = None  # both cells measured again (--confirm): every run agreed
    disagreed: str = ""  # which run of which cell did not, when one did not

    def text(self) -> str:
        line = (f"{self.before.value} → {self.after.value} at {self.first_after} "
                f"on {self.row.label} (after {self.last_before})")
        if self.unjudged:
            line += f"; {', '.join(self.unjudged)} could not be judged: the change may be there"
        if self.replicated:
            line += " (replicated)"
        elif self.replicated is False:
            line += f"; did not replicate: {self.disagreed}"
        return line

    def as_dict(self) -> dict:
        return {"python": self.row.python, "scenario": self.row.scenario,
                "from": self.before.value, "to": self.after.value,
                "last_before": self.last_before, "first_after": self.first_after,
                "unjudged_between": list(self.unjudged), "replicated": self.replicated,
                "text": self.text()}


def next_every(versions: Sequence[str], known: Mapping[str, Verdict]) -> list[str]:
    """Every release not yet measured."""
    return [v for v in versions if v not in known]


def next_edges(versions: Sequence[str], known: Mapping[str, Verdict]) -> list[str]:
    """What to measure next on one row (empty when the row is done). Ends first: from each
    end, inward past unjudged cells, until a judged one; then the middle of every
    interval between consecutive judged cells whose verdicts differ."""
    wanted: list[str] = []
    for order in (list(versions), list(reversed(versions))):
        for v in order:
            if v not in known:
                wanted.append(v)
                break
            if known[v] in JUDGED:
                break
    if wanted:
        return list(dict.fromkeys(wanted))
    judged = [i for i, v in enumerate(versions) if known.get(v) in JUDGED]
    for lo, hi in zip(judged, judged[1:]):
        if known[versions[lo]] is known[versions[hi]]:
            continue
        gap = [v for v in versions[lo + 1:hi] if v not in known]
        if gap:
            wanted.append(gap[len(gap) // 2])
    return wanted


def flips(row: Row, versions: Sequence[str], known: Mapping[str, Verdict]) -> list[Flip]:
    """Where the verdict changes between consecutive judged cells, with no unmeasured release
    between them (an interval that still holds unmeasured releases is not a located flip)."""
    found = []
    judged = [i for i, v in enumerate(versions) if known.get(v) in JUDGED]
    for lo, hi in zip(judged, judged[1:]):
        a, b = known[versions[lo]], known[versions[hi]]
        between = versions[lo + 1:hi]
        if a is b or any(v not in known for v in between):
            continue
        found.append(Flip(row, a, b, versions[lo], versions[hi], tuple(between)))
    return found


def hidden_note(row: Row, versions: Sequence[str], known: Mapping[str, Verdict]) -> str | None:
    """For --edges: a row whose judged ends agree and whose inside was not all measured."""
    judged = [v for v in versions if known.get(v) in JUDGED]
    if len(judged) < 2:
        return None
    if known[judged[0]] is not known[judged[-1]]:
        return None
    unmeasured = [v for v in versions if v not in known]
    if not unmeasured:
        return None
    return (f"{row.label}: {judged[0]} and {judged[-1]} are both {known[judged[0]].value}; "
            f"a leak that comes and goes between them ({len(unmeasured)} release(s) not "
            "measured) can be missed: --every measures them all")
