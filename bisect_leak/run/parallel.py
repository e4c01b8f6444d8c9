"""The bisection in rounds on several workers (``--jobs N`` here, or ``--dask ADDRESS``).

Each round measures up to W candidates at once (:mod:`bisection.rounds` chooses them: the
bounds together first, then points splitting what is left into W + 1 parts); the
replications of the answer's pair run together last. A candidate already in the cache is
read, never measured; every other one is a ``bisect-leak --check`` run by the executor (the
map's), its JSON checked for provenance and turned back into a trial here.
"""

from __future__ import annotations

import statistics
import time

from bisect_leak.bisection.rounds import Round, RoundPlanner
from bisect_leak.bisection.search import SearchResult, regression_states
from bisect_leak.measure.trial import TrialResult
from bisect_leak.planning.plan import Plan
from bisect_leak.run import remote
from bisect_leak.run.executors import DaskExecutor, Executor, Job, LocalExecutor
from bisect_leak.run.prober import Prober

SLACK = 900.0  # seconds a --check may take beyond its scenario's load limit (env builds)


def executor_for(plan: Plan, prober: Prober) -> Executor | None:
    """Where the rounds run; None for the plain sequential search."""
    timeout = prober.scenario.load.max_seconds + SLACK
    if plan.dask:
        return DaskExecutor(plan.dask, timeout)
    if plan.jobs > 1:
        return LocalExecutor(plan.cache_dir, timeout, plan.jobs)
    return None


class Clock:
    """Seconds per measured trial so far, for the estimate of what is left."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def estimate(self, rounds_left: int) -> str:
        if not self.seconds:
            return "no trial timed yet"
        per = statistics.median(self.seconds)
        return (f"{per:.0f} s per trial so far; about {rounds_left} round(s), "
                f"~{per * rounds_left:.0f} s, left")


def bisect(plan: Plan, prober: Prober, executor: Executor) -> SearchResult:
    """The search in rounds of ``executor.slots`` candidates; ``py.rounds`` says which."""
    py = prober.py
    planner = RoundPlanner(py.versions, executor.slots, *regression_states(plan.fixed))
    clock = Clock()
    while isinstance(step := planner.next(), Round):
        done = len(planner.rounds)  # this round included
        measured = measure(prober, executor, step.candidates, clock, done,
                           _left(done - 1, len(py.versions), executor.slots))
        for label in step.candidates:
            planner.record(label, measured[label].verdict)
    py.rounds = [list(r) for r in planner.rounds]
    return step


def _left(done: int, n: int, workers: int) -> int:
    """Rounds a search of ``n`` candidates on ``workers`` may still take (replication too)."""
    rounds, power = 0, 1
    while power < n:
        power, rounds = power * (workers + 1), rounds + 1
    return max(1, 2 + rounds - done)


def measure(prober: Prober, executor: Executor, labels: tuple[str, ...], clock: Clock,
            number: int, rounds_left: int) -> dict:
    """One round: each label's trial, from the cache or from the executor; kept in the
    prober's pass and shown as each finishes."""
    py, reporter = prober.py, prober.reporter
    found = {label: t for label in labels  # a commit's wheel is built here first (cached)
             if (t := prober.prepare(label) or prober.cached(label)) is not None}
    for t in found.values():
        reporter.trial(t, py.interpreter.version)
    todo = [label for label in labels if label not in found]
    if todo:
        reporter.info(f"round {number}: measuring {', '.join(todo)} "
                      f"({executor.where}); {clock.estimate(rounds_left)}")
    for label in todo:
        executor.submit(_job(prober, label))
    for _ in todo:
        job, raw = executor.next_done()
        trial, where = remote.trial_from_run(prober, job.key, raw,
                                             write=isinstance(executor, DaskExecutor))
        if not trial.from_cache and raw.get("seconds"):
            clock.seconds.append(float(raw["seconds"]))
        reporter.info(f"{job.key} measured on {where} in {raw.get('seconds', 0.0):.0f} s")
        py.trials[job.key] = trial
        reporter.trial(trial, py.interpreter.version)
        found[job.key] = trial
    return found


def _job(prober: Prober, label: str, run: int = 1) -> Job:
    plan, interp = prober.plan, prober.py.interpreter
    labels = [label]
    if prober.needs_reference(label):
        labels.insert(0, prober.reference)  # held memory: the first --check is the reference
    built = prober.py.candidates[label].built
    as_of = prober.snapshot.isoformat() if built and prober.snapshot else None
    args = plan.check_args([_commitish(prober, v) for v in labels], absolute=True, as_of=as_of)
    if run > 1 and "--no-cache" not in args:
        args.append("--no-cache")  # afresh; kept here under the run's own key
    stamp = "".join(c if c.isalnum() else "-" for c in f"{label}-py{interp.version}")
    return Job(label if run == 1 else (label, run), tuple(args),
               (str(interp.path), interp.version),
               f"bisect-leak-{stamp}-{run}-{time.time_ns()}")


def _commitish(prober: Prober, label: str) -> str:
    """How a --check names the candidate: a release by version, a commit by full sha."""
    c = prober.py.candidates[label]
    return c.commit.sha if c.commit is not None and c.label != "WORKTREE" else label


def confirm_rounds(plan: Plan, prober: Prober, executor: Executor) -> list[list[str]]:
    """The replications of a found pair as rounds on the executor; each lands in its first
    trial's ``runs``, as :meth:`Prober.replicate` would put it."""
    s = prober.py.search
    if not plan.confirm or s is None or not s.found:
        return []
    return replicate(prober, executor, [s.last_old or "", s.first_new or ""], plan.confirm)


def replicate(prober: Prober, executor: Executor, labels: list[str],
              times: int) -> list[list[str]]:
    """Runs 2 .. ``times + 1`` of each label (already measured once), ``executor.slots`` at a
    time: read from the cache as their run, or measured afresh and kept as it."""
    done = []
    slots = max(1, executor.slots)
    jobs = [(label, run) for run in range(2, times + 2) for label in labels]
    for batch in (jobs[i:i + slots] for i in range(0, len(jobs), slots)):
        runs: dict[tuple[str, int], TrialResult] = {}
        for label, run in batch:
            cached = None if prober.plan.no_cache else prober.cached_run(label, run)
            if cached is not None:
                runs[label, run] = cached
            else:
                executor.submit(_job(prober, label, run))
        for _ in range(len(batch) - len(runs)):
            job, raw = executor.next_done()
            label, run = job.key
            runs[label, run], _ = remote.trial_from_run(prober, label, raw, write=False)
        for label, run in batch:  # in run order, as the sequential replication keeps them
            prober.add_run(label, runs[label, run], run)
        done.append([f"{label} (run {run})" for label, run in batch])
    return done
