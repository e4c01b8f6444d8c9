"""Which changed dependency carries the leak: the first bad release with each one set back."""

from __future__ import annotations

from packaging.utils import canonicalize_name

from bisect_leak.bisection.search import regression_states
from bisect_leak.environments import freeze
from bisect_leak.judge.verdict import Verdict
from bisect_leak.planning.plan import Plan
from bisect_leak.run.outcome import CulpritTrial
from bisect_leak.run.prober import Prober


def find(plan: Plan, prober: Prober) -> None:
    """Which changed dependency turns the leak on (or, with --fixed, off)."""
    py = prober.py
    assert py.search is not None and py.search.last_old and py.search.first_new
    before, after = py.trials[py.search.last_old], py.trials[py.search.first_new]
    old_state, _ = regression_states(plan.fixed)
    changes = [c for c in freeze.diff(before.freeze, after.freeze)
               if c.name != canonicalize_name(plan.name)]
    for change in changes:
        if change.before is None:
            py.culprits.append(CulpritTrial(change, None, None,
                                            f"added by {py.search.first_new}: cannot be set back"))
            continue
        pin = f"{change.name}=={change.before}"
        prober.reporter.progress(f"culprit: {py.search.first_new} with {pin}")
        result = prober.probe_with(py.search.first_new, pin)
        note = ""
        if result.verdict is Verdict.ERROR:
            note = f"does not run that way: {result.reason}"
        py.culprits.append(CulpritTrial(change, pin, result, note))
    turned = [c for c in py.culprits if c.verdict is old_state]
    effect = "off" if not plan.fixed else "back on"
    if not changes:
        py.culprit_message = "only the package itself changed: the cause is in its own code"
    elif turned:
        py.culprit_message = "culprit: " + "; ".join(
            f"{c.change} ({py.search.first_new} with {c.pin} is {c.verdict.value})"
            for c in turned)
    else:
        tried = "; ".join(
            f"{c.change}: {c.verdict.value if c.verdict else 'not tried'}"
            + (f" ({c.note})" if c.note else "") for c in py.culprits)
        py.culprit_message = (f"no single dependency change turns the leak {effect}, so the "
                              f"cause is in {plan.name} itself or in a combination: {tried}")
    prober.reporter.info(py.culprit_message)
