"""What a run produced, as data: per Python, per trial; read by the reports."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any, Protocol

from bisect_leak import freeze
from bisect_leak import scenario as scenarios
from bisect_leak.errors import ExitCode
from bisect_leak.interpreters import Interpreter
from bisect_leak.plan import Plan, Resolve
from bisect_leak.search import SearchResult
from bisect_leak.trial import Settings, TrialResult
from bisect_leak.verdict import Signal, Verdict


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
class PythonOutcome:
    """Everything one Python's search or checks produced."""

    interpreter: Interpreter
    versions: list[str] = field(default_factory=list)
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
    commits: Any = None  # commit_search.CommitLevel with --repo (issue 10)


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
        else:
            versions = list(py.trials)
        argv = ["bisect-leak", "--package", plan.package]
        for v in versions:
            argv += ["--check", v]
        argv += ["--python", py.interpreter.version, "--scenario", plan.scenario]
        for pin in plan.withs:
            argv += ["--with", pin]
        if plan.metric is not Signal.GROWTH:
            argv += ["--metric", plan.metric.value]
        if plan.threshold is not None:
            argv += ["--threshold", f"{plan.threshold:g}"]
        if plan.requests is not None:
            argv += ["--requests", str(plan.requests)]
        if plan.concurrency is not None:
            argv += ["--concurrency", str(plan.concurrency)]
        if plan.no_cache:
            argv.append("--no-cache")
        if plan.resolve is Resolve.LATEST:
            argv += ["--resolve", "latest"]
        if plan.index_url:
            argv += ["--index-url", plan.index_url]
        if plan.find_links:
            argv += ["--find-links", str(plan.find_links)]
        if plan.no_index:
            argv.append("--no-index")
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
    unit = "descriptors/1k requests" if a.signal is Signal.FDS else "KiB/1k requests"
    return f"{t.verdict.value} ({a.growth_kib_per_1k:+.1f} {unit}, {_span(a.low, a.high)})"


def _span(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return "no interval"
    return f"interval {low:+.1f}..{high:+.1f}"
