"""The answer measured again: the last good and first bad, ``--confirm`` more runs of each
(each cached as its run: see ``Prober.replicate``)."""

from __future__ import annotations

from bisect_leak.errors import ExitCode
from bisect_leak.outcome import describe
from bisect_leak.plan import Plan
from bisect_leak.prober import Prober
from bisect_leak.verdict import Verdict


def confirm(plan: Plan, prober: Prober) -> None:
    """Re-measure both ends of a found answer; it stands only if every run agrees.

    A run that disagrees turns the answer into no answer (exit 1), or exit 3 when the run
    failed for an infrastructure reason; the message names the run and its verdict.
    """
    py = prober.py
    search = py.search
    if not plan.confirm or search is None or not search.found:
        return
    pair = (search.last_old, search.first_new)
    for round_ in range(plan.confirm):
        for version in pair:
            prober.reporter.progress(f"replicating {version} ({round_ + 1}/{plan.confirm})")
            prober.replicate(version)
    failed = []
    for version in pair:
        first = py.trials[version]
        for number, run in enumerate(first.runs, start=2):
            if run.verdict is not first.verdict:
                failed.append((version, first, number, run))
    py.replicated = not failed
    if not failed:
        runs = 1 + plan.confirm
        py.message += f" (replicated: {runs} runs of each agree)"
        return
    errors = any(run.verdict is Verdict.ERROR for *_, run in failed)
    py.exit_code = ExitCode.INFRASTRUCTURE if errors else ExitCode.NO_ANSWER
    parts = [f"{version} was {first.verdict.value}, run {number} says {describe(run)}"
             for version, first, number, run in failed]
    py.message = (f"the answer did not replicate ({py.message}): " + "; ".join(parts)
                  + "; measure again with more --requests, or report the flakiness")
