"""One pass of the pipeline over candidates: search, answer, replication, culprit.

The release level and the commit level are both a pass: an ordered list of candidates on one
Python, a :class:`Bisection` over their labels (or plain checks), one answer rule, one exit
rule for checks, the same replication. Only how a candidate is named differs, and the
candidate says that itself.
"""

from __future__ import annotations

from collections.abc import Iterable

from bisect_leak.bisection.search import Bisection, SearchResult, SearchStatus, regression_states
from bisect_leak.errors import ExitCode
from bisect_leak.judge.bounds import SignalDiff, compare_bounds
from bisect_leak.judge.verdict import Verdict
from bisect_leak.planning.plan import Plan
from bisect_leak.run import culprit, parallel, replication
from bisect_leak.run.executors import Executor
from bisect_leak.run.outcome import PythonOutcome, describe
from bisect_leak.run.prober import Prober


def searcher(plan: Plan, py: PythonOutcome) -> Bisection:
    old_state, new_state = regression_states(plan.fixed)
    return Bisection(py.versions, old_state, new_state)


def step(prober: Prober, search: Bisection, label: str, prefetch=None) -> None:
    """Measure ``label`` and record its verdict; meanwhile build the envs of both possible
    next probes in the background (``prefetch``: an :class:`~environments.prefetch.Prefetcher`)."""
    if prefetch is not None:
        for upcoming in search.after(label):
            if upcoming is not None and prober.needs_env(upcoming):
                prefetch.submit(prober.spec(upcoming))
    announce(prober, label)
    search.record(label, prober.probe(label).verdict)


def drive(prober: Prober, search: Bisection, prefetch=None) -> SearchResult:
    """Run the search to its end."""
    while (label := search.next()) is not None:
        step(prober, search, label, prefetch)
    return search.result()


def announce(prober: Prober, label: str) -> None:
    c = prober.py.candidates.get(label)
    if c is not None and c.commit is not None:
        prober.reporter.info(f"commit {label}  {c.commit.date:%Y-%m-%d}  {c.commit.subject[:90]}")


def settle(plan: Plan, scenario: str, prober: Prober, search: SearchResult,
           executor: Executor | None = None) -> None:
    """Record a finished search on the prober's pass: its answer, the answer's replications
    (together in rounds on ``executor`` when there is one) and (with ``--culprit``) which
    dependency change carries it."""
    py = prober.py
    py.search = search
    answered = answer(plan, scenario, py)
    py.other_signals = other_signals(plan, prober)
    if py.other_signals:
        answered = answered[0], (answered[1] + "; the bounds differ on other signals: "
                                 + "; ".join(d.describe() for d in py.other_signals))
    if executor is not None and search.found and plan.confirm:
        py.rounds += parallel.confirm_rounds(plan, prober, executor)
        confirmed = replication.judge(py, plan.confirm, answered)
    else:
        confirmed = replication.confirm(plan.confirm, prober, answered)
    if confirmed is not None:
        py.replicated = confirmed.replicated
        answered = confirmed.exit_code, confirmed.message
    py.exit_code, py.message = answered
    if plan.culprit and py.exit_code is ExitCode.ANSWER:
        py.culprits, py.culprit_message = culprit.find(plan, prober)


def other_signals(plan: Plan, prober: Prober) -> list[SignalDiff]:
    """When the bounds show no leak to bisect (or no fix to find) on the chosen signal: every
    other signal that differs between them beyond its noise, with the flags to bisect it."""
    py, s = prober.py, prober.py.search
    if s is None or s.status is not SearchStatus.BOUNDS_CONTRADICT:
        return []
    (old_v, _), (new_v, new_verdict) = s.bounds
    if new_verdict is regression_states(plan.fixed)[1]:
        return []  # the older bound is what contradicts: not a question of signals
    good_v, bad_v = (new_v, old_v) if plan.fixed else (old_v, new_v)
    good, bad = py.trials.get(good_v), py.trials.get(bad_v)
    if good is None or bad is None or Verdict.ERROR in (good.verdict, bad.verdict):
        return []
    load = prober.settings.load
    return compare_bounds(good.samples, bad.samples, warmup=load.warmup, guards=load.guards)


def check(prober: Prober, labels: Iterable[str]) -> tuple[ExitCode, str]:
    """Measure each candidate once: no search. The exit and message of the checks."""
    for label in labels:
        announce(prober, label)
        prober.probe(label)
    py = prober.py
    return checks_exit(py), "; ".join(f"{py.title(v)} {describe(t)}" for v, t in py.trials.items())


def checks_exit(py: PythonOutcome) -> ExitCode:
    """3 if any check hit an error, 1 if any is inconclusive, 0 when all were decided."""
    verdicts = [t.verdict for t in py.trials.values()]
    if Verdict.ERROR in verdicts:
        return ExitCode.INFRASTRUCTURE
    if all(v.known for v in verdicts):
        return ExitCode.ANSWER
    return ExitCode.NO_ANSWER


def _named(plan: Plan, py: PythonOutcome, label: str) -> str:
    c = py.candidates.get(label)
    if c is None or c.commit is None:
        return f"{plan.name} {label}"
    return f"{c.commit.sha[:10]} {c.commit.subject}, {c.commit.date:%Y-%m-%d}"


def answer(plan: Plan, scenario: str, py: PythonOutcome) -> tuple[ExitCode, str]:
    """The exit code and the sentence a finished search ends with, at any level."""
    s = py.search
    assert s is not None
    where = f"under {scenario!r} on Python {py.interpreter.version}"
    level = " commit" if py.range is not None else ""
    old_word, new_word = ("last leaking", "first fixed") if plan.fixed else (
        "last good", "first bad")
    if s.status is SearchStatus.FOUND:
        return ExitCode.ANSWER, (f"{new_word}{level}: {_named(plan, py, s.first_new or '')} "
                                 f"({old_word} {s.last_old}) {where}")
    if s.status is SearchStatus.BOUND_UNKNOWN:
        errors = any(v is Verdict.ERROR for _, v in s.bounds)
        parts = [f"{py.title(v)} {describe(py.trials.get(v))}" for v, verdict in s.bounds
                 if not verdict.known]
        return (ExitCode.INFRASTRUCTURE if errors else ExitCode.NO_ANSWER,
                f"a{level} bound could not be judged {where}: " + "; ".join(parts))
    if s.status is SearchStatus.BOUNDS_CONTRADICT:
        built = "no commit answer: built from source, " if level else ""
        return ExitCode.NO_ANSWER, built + _contradiction(plan, py, where)
    between = ", ".join(
        f"{py.title(v)} ({py.trials[v].verdict.value if v in py.trials else 'untested'})"
        for v in s.unknown_between)
    return ExitCode.NO_ANSWER, (
        f"narrowed to{level + 's' if level else ''} {s.last_old}..{s.first_new} {where}, but "
        f"{between} could not be judged; the change is in one of them")


def _contradiction(plan: Plan, py: PythonOutcome, where: str) -> str:
    s = py.search
    assert s is not None
    (old_v, old_verdict), (new_v, new_verdict) = s.bounds
    old_state, new_state = regression_states(plan.fixed)
    if new_verdict is not new_state:
        if plan.fixed:
            text = f"no fix to find: {py.title(new_v)} still leaks {where}: "
        else:
            text = f"no leak to bisect: {py.title(new_v)} is stable {where}: "
        text += describe(py.trials.get(new_v))
        if old_verdict is not old_state:
            text += f"; {py.title(old_v)}: {describe(py.trials.get(old_v))}"
        return text
    return (f"the {'--bad' if plan.fixed else '--good'} bound {py.title(old_v)} is already "
            f"{old_verdict.value} {where}: {describe(py.trials.get(old_v))}; "
            "choose an older bound")
