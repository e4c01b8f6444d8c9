"""What a run produced, as data: per Python, per trial; read by the reports."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from bisect_leak.bisection.search import SearchResult
from bisect_leak.candidates.candidate import Candidate
from bisect_leak.candidates.lines import LineAnswer
from bisect_leak.environments import freeze
from bisect_leak.environments.interpreters import Interpreter
from bisect_leak.errors import ExitCode
from bisect_leak.judge.bounds import SignalDiff
from bisect_leak.judge.units import UNITS
from bisect_leak.judge.verdict import Signal, Verdict
from bisect_leak.measure.trial import Settings, TrialResult
from bisect_leak.planning import scenario as scenarios
from bisect_leak.planning.plan import Plan


class Reporter(Protocol):
    """Where a run tells what it is doing (the terminal, or a test's recorder)."""

    def progress(self, text: str) -> None: ...
    def info(self, text: str) -> None: ...
    def trial(self, result: TrialResult, python: str) -> None: ...


@dataclass
class CulpritTrial:
    """The first bad (or first fixed) release with one changed dependency set back."""

    change: freeze.Change
    pin: str | None
    result: TrialResult | None
    note: str = ""

    @property
    def verdict(self) -> Verdict | None:
        return self.result.verdict if self.result else None


@dataclass
class CommitRange:
    """Where the candidates of a commit-level pass come from."""

    repo: Path
    text: str = ""  # OLD..NEW as the user reads it
    in_range: int = 0  # first-parent commits between the bounds
    candidates: int = 0  # of those, the ones that change installed files
    roots: tuple[str, ...] = ()  # the package folders that decide what is installed


@dataclass
class PythonOutcome:
    """Everything one pass over candidates on one Python produced: the release level, or
    (in ``commits``) the commit level that followed it, both of this one type."""

    interpreter: Interpreter
    versions: list[str] = field(default_factory=list)  # candidate labels, oldest first
    candidates: dict[str, Candidate] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    trials: dict[str, TrialResult] = field(default_factory=dict)  # in probe order
    search: SearchResult | None = None
    exit_code: ExitCode = ExitCode.NO_ANSWER
    message: str = ""
    resolved_as_of: dict[str, str] = field(default_factory=dict)
    resolved_why: dict[str, str] = field(default_factory=dict)  # issue 16
    overrides: list[str] = field(default_factory=list)
    culprits: list[CulpritTrial] = field(default_factory=list)
    culprit_message: str = ""
    replicated: bool | None = None  # after a found answer with --confirm: did every run agree
    build_seconds: dict[str, float] = field(default_factory=dict)  # wheels; 0.0 when cached
    rounds: list[list[str]] = field(default_factory=list)  # --jobs/--dask: measured together
    other_signals: list[SignalDiff] = field(default_factory=list)  # no leak to bisect: what else
    range: CommitRange | None = None  # a commit-level pass: where its candidates come from
    commits: PythonOutcome | None = None  # --repo: the commit-level pass after this one

    def title(self, label: str) -> str:
        """A candidate as a person reads it (a commit with its subject)."""
        c = self.candidates.get(label)
        return c.title() if c is not None else label

    @property
    def answer(self) -> Candidate | None:
        """The first bad (first fixed) candidate of a found search."""
        s = self.search
        if s is None or not s.found or s.first_new is None:
            return None
        return self.candidates.get(s.first_new)
    lines: LineAnswer | None = None  # --inspect of a found pair: the changed lines (issue 16)


@dataclass
class Outcome:
    """One run: the plan, and what each Python's search or checks found."""

    plan: Plan
    scenario: scenarios.Scenario | None = None
    settings: Settings | None = None
    results: list[PythonOutcome] = field(default_factory=list)
    exit_code: ExitCode = ExitCode.NO_ANSWER
    interrupted: bool = False
    seconds: float = 0.0
    resolve_seconds: float = 0.0  # listing releases and finding interpreters

    def reproduce(self, py: PythonOutcome) -> str:
        """A command that measures the pair (or the checks) again."""
        plan = self.plan
        if py.search and py.search.last_old and py.search.first_new:
            versions = [py.search.last_old, py.search.first_new]
            if plan.fixed and plan.metric is Signal.HELD:  # the first --check is the reference
                versions.reverse()
        else:  # the checks as given: releases and commit-ishes alike
            versions = list(plan.checks) or list(py.trials)
        argv = ["bisect-leak", *plan.check_args(versions, python=py.interpreter.version)]
        return shlex.join(argv)


def describe(t: TrialResult | None) -> str:
    """A verdict with its figure and interval, in the unit of the signal that decided it."""
    if t is None:
        return "not measured"
    a = t.assessment
    if t.verdict is Verdict.ERROR or a is None or a.growth_kib_per_1k is None:
        return f"{t.verdict.value} ({t.reason})"
    if a.signal is Signal.HELD:
        return (f"{t.verdict.value} ({a.growth_kib_per_1k:+.1f} MiB held, "
                f"{_span(a.low, a.high)})")
    return (f"{t.verdict.value} ({a.growth_kib_per_1k:+.1f} {UNITS[a.signal]}, "
            f"{_span(a.low, a.high)})")


def _span(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return "no interval"
    return f"interval {low:+.1f}..{high:+.1f}"
