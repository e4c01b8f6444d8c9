"""The answer measured again: the last good and first bad, ``--confirm`` more runs of each
(each cached as its run: see ``Prober.replicate``)."""

from __future__ import annotations

from dataclasses import dataclass

from bisect_leak.errors import ExitCode
from bisect_leak.judge.verdict import Verdict
from bisect_leak.run.outcome import PythonOutcome, describe
from bisect_leak.run.prober import Prober


@dataclass(frozen=True)
class Confirmation:
    """What the replications say of an answer: it stands, or which run disagreed."""

    replicated: bool
    exit_code: ExitCode
    message: str


def confirm(times: int, prober: Prober, answered: tuple[ExitCode, str]) -> Confirmation | None:
    """Re-measure both ends of a found answer ``times`` times; it stands only if every run
    agrees. A run that disagrees turns it into no answer (exit 1), or exit 3 when the run
    failed for an infrastructure reason; the message names the run and its verdict. None
    when there is nothing to replicate."""
    py = prober.py
    search = py.search
    if not times or search is None or not search.found:
        return None
    pair = (search.last_old, search.first_new)
    for round_ in range(times):
        for version in pair:
            prober.reporter.progress(f"replicating {version} ({round_ + 1}/{times})")
            prober.replicate(version)
    return judge(py, times, answered)


def judge(py: PythonOutcome, times: int, answered: tuple[ExitCode, str]) -> Confirmation:
    """What the runs of a found pair (in each first trial's ``runs``) say of the answer."""
    search = py.search
    assert search is not None and search.found
    pair = (search.last_old, search.first_new)
    failed = []
    for version in pair:
        first = py.trials[version]
        for number, run in enumerate(first.runs, start=2):
            if run.verdict is not first.verdict:
                failed.append((version, first, number, run))
    code, message = answered
    if not failed:
        return Confirmation(True, code, f"{message} (replicated: {1 + times} runs of each agree)")
    errors = any(run.verdict is Verdict.ERROR for *_, run in failed)
    parts = [f"{version} was {first.verdict.value}, run {number} says {describe(run)}"
             for version, first, number, run in failed]
    return Confirmation(
        False, ExitCode.INFRASTRUCTURE if errors else ExitCode.NO_ANSWER,
        f"the answer did not replicate ({message}): " + "; ".join(parts)
        + "; measure again with more --requests, or report the flakiness")
