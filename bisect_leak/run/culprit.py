"""Which changed dependency carries the leak: the first bad release with each one set back."""

from __future__ import annotations

from packaging.utils import canonicalize_name

from bisect_leak.bisection.search import regression_states
from bisect_leak.environments import freeze
from bisect_leak.judge.verdict import Verdict
from bisect_leak.planning.plan import Plan
from bisect_leak.run.outcome import CulpritTrial
from bisect_leak.run.prober import Prober


def find(plan: Plan, prober: Prober) -> tuple[list[CulpritTrial], str]:
    """Which changed dependency turns the leak on (or, with --fixed, off): the first bad
    measured with each one set back, and the sentence that says what they show."""
    py = prober.py
    assert py.search is not None and py.search.last_old and py.search.first_new
    first_new = py.search.first_new
    before, after = py.trials[py.search.last_old], py.trials[first_new]
    changes = [c for c in freeze.diff(before.freeze, after.freeze)
               if c.name != canonicalize_name(plan.name)]
    tried = [_set_back(prober, first_new, change) for change in changes]
    message = _message(plan, first_new, tried)
    prober.reporter.info(message)
    return tried, message


def _set_back(prober: Prober, first_new: str, change: freeze.Change) -> CulpritTrial:
    if change.before is None:
        return CulpritTrial(change, None, None, f"added by {first_new}: cannot be set back")
    pin = f"{change.name}=={change.before}"
    prober.reporter.progress(f"culprit: {first_new} with {pin}")
    result = prober.probe_with(first_new, pin)
    note = f"does not run that way: {result.reason}" if result.verdict is Verdict.ERROR else ""
    return CulpritTrial(change, pin, result, note)


def _message(plan: Plan, first_new: str, tried: list[CulpritTrial]) -> str:
    old_state, _ = regression_states(plan.fixed)
    turned = [c for c in tried if c.verdict is old_state]
    if not tried:
        return "only the package itself changed: the cause is in its own code"
    if turned:
        return "culprit: " + "; ".join(
            f"{c.change} ({first_new} with {c.pin} is {c.verdict.value})" for c in turned)
    effect = "off" if not plan.fixed else "back on"
    listed = "; ".join(f"{c.change}: {c.verdict.value if c.verdict else 'not tried'}"
                       + (f" ({c.note})" if c.note else "") for c in tried)
    return (f"no single dependency change turns the leak {effect}, so the cause is in "
            f"{plan.name} itself or in a combination: {listed}")
