"""One run, start to end: plan in, outcome out. The CLI's single call."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import replace

from packaging.utils import canonicalize_name
from packaging.version import Version

from bisect_leak import processes
from bisect_leak.candidates import candidate, releases
from bisect_leak.environments import env as envs
from bisect_leak.environments import interpreters, resolution
from bisect_leak.environments.interpreters import Interpreter
from bisect_leak.environments.prefetch import Prefetcher
from bisect_leak.environments.store import Store
from bisect_leak.errors import BadInput, ExitCode
from bisect_leak.judge import classify
from bisect_leak.judge.verdict import Signal
from bisect_leak.measure.trial import Settings
from bisect_leak.planning import scenario as scenarios
from bisect_leak.planning.plan import Plan, Resolve
from bisect_leak.run import commit_pass, inspection, parallel, passes
from bisect_leak.run.outcome import Outcome, PythonOutcome, Reporter
from bisect_leak.run.prober import Prober, requirement_name


def settings_for(plan: Plan, scenario: scenarios.Scenario) -> Settings:
    load = scenario.load
    changes = {}
    if plan.requests is not None:
        changes["requests"] = plan.requests
        changes["max_requests"] = max(load.max_requests, plan.requests)
        if load.extend_to:  # the scenario's cap keeps its room above the new limit
            changes["extend_to"] = max(load.extend_to, changes["max_requests"])
    if plan.concurrency is not None:
        changes["concurrency"] = plan.concurrency
    if plan.warmup is not None:
        changes["warmup"] = plan.warmup
    if changes:
        load = replace(load, **changes)
    threshold = plan.threshold_value
    if plan.metric is Signal.FDS and plan.threshold is None:
        threshold = classify.DEFAULT_FDS_THRESHOLD
    if plan.metric is Signal.HELD and plan.threshold is None:
        threshold = classify.DEFAULT_HELD_THRESHOLD_KIB
    never = None if plan.metric is Signal.HELD else classify.infeasible(
        load.guards, load.sample_every, load.max_requests)
    if never:  # after the CLI's overrides: settings that can never call anything
        raise BadInput(f"scenario {scenario.name!r} with these settings: {never}")
    # --inspect never slows the search: inspection.inspect re-runs the answer afterwards
    return Settings(load=load, metric=plan.metric, threshold=threshold)


def execute(
    plan: Plan,
    reporter: Reporter,
    *,
    fetch: Callable[[str, str], dict] = releases.fetch_index,
) -> Outcome:
    """Validate, resolve, measure, search. Interrupts end it with exit 130 and what was done."""
    started = time.monotonic()
    outcome = Outcome(plan=plan)
    processes.stopping.clear()
    try:
        _execute(plan, reporter, fetch, outcome)
    except KeyboardInterrupt:
        stopped = processes.interrupt()
        outcome.interrupted = True
        outcome.exit_code = ExitCode.INTERRUPTED
        reporter.info(f"interrupted: {sum(len(r.trials) for r in outcome.results)} trial(s) "
                      f"finished and kept; {stopped} process group(s) stopped")
    finally:
        processes.stop_all()
        outcome.seconds = time.monotonic() - started
    return outcome


def _execute(plan: Plan, reporter: Reporter, fetch, outcome: Outcome) -> None:
    plan.validate()
    rp = commit_pass.prepare(plan) if plan.repo else None  # --repo: validated before all
    scenario = scenarios.resolve(plan.scenario)
    outcome.scenario = scenario
    outcome.settings = settings = settings_for(plan, scenario)
    began = time.monotonic()
    interps = _interpreters(plan, scenario)
    selections = _selections(plan, rp, interps, fetch, reporter)
    envs.uv_binary()  # before any prefetch thread starts
    outcome.resolve_seconds = time.monotonic() - began
    store = Store(plan.cache_dir, results=not plan.no_cache).open()  # input is valid: now write
    _say_override(plan, scenario, reporter)
    pins = pin_days(plan, fetch)
    probes = []
    for interp, selection in zip(interps, selections):
        py = PythonOutcome(interpreter=interp, versions=selection.versions,
                           candidates=candidate.from_selection(selection),
                           skipped=list(selection.skipped))
        outcome.results.append(py)
        for version, why in selection.skipped:
            reporter.info(f"skipping {plan.name} {version} on Python {interp.version}: {why}")
        probes.append(Prober(plan, scenario, settings, store, reporter, py, pin_uploads=pins))
    if plan.checks:
        for prober in probes:
            _checks(plan, rp, prober)
    elif rp is not None and rp.commit_bounds:
        _bisect_commits(plan, rp, scenario.name, probes)
    else:
        _bisect(plan, rp, scenario.name, probes, store)
    if plan.inspect:  # after the answers: the pair (or the checks) re-run briefly, inspected
        for prober in probes:
            inspection.inspect(prober)
    outcome.exit_code = overall_exit(outcome.results)


def _interpreters(plan: Plan, scenario: scenarios.Scenario) -> list[Interpreter]:
    pythons = plan.pythons or (f"{sys.version_info[0]}.{sys.version_info[1]}",)
    interps = [interpreters.find(p) for p in pythons]
    for interp in interps:
        if not scenario.supports(interp.version):
            raise BadInput(f"scenario {scenario.name!r} runs on Python {scenario.python}; "
                           f"Python {interp.version} is not: choose another --python")
    return interps


def _selections(plan: Plan, rp, interps: list[Interpreter], fetch,
                reporter: Reporter) -> list[releases.Selection]:
    """The releases each Python measures: the checks, or every release between the bounds."""
    commits_only = rp is not None and rp.commit_bounds  # a bound is a commit: no releases
    checks = rp.release_checks if rp else plan.checks
    available = []
    if not commits_only and (checks or not plan.checks):
        reporter.progress(f"listing releases of {plan.name}")
        available = available_releases(plan, fetch)
    if plan.checks or commits_only:
        return [_check_selection(plan, available, interp, checks) for interp in interps]
    old, new, old_flag, new_flag = _bounds(plan)
    return [releases.select(available, plan.name, old, new, python_version=interp.version,
                            pre=plan.pre, old_name=old_flag, new_name=new_flag)
            for interp in interps]


def pin_days(plan: Plan, fetch) -> dict:
    """Exact --with pins' upload times: a pin newer than a release pulls its day forward."""
    if plan.resolve is Resolve.RELEASE_DATE and plan.withs and not plan.no_index:
        return resolution.pin_uploads(plan.withs, plan.effective_index, fetch)
    return {}


def _say_override(plan: Plan, scenario: scenarios.Scenario, reporter: Reporter) -> None:
    direct = {canonicalize_name(requirement_name(r)) for r in (*scenario.requirements, *plan.withs)}
    if scenario.requirements and canonicalize_name(plan.name) not in direct:
        reporter.info(
            f"{plan.name} is installed with an override (uv --override {plan.name}==VERSION): "
            "a package that pins it, as FastAPI pins Starlette, gets the version under test")


def _checks(plan: Plan, rp, prober: Prober) -> None:
    """The release checks, then (with --repo) the commit checks; one exit rule for both."""
    py = prober.py
    py.exit_code, py.message = passes.check(prober, list(py.versions))
    level = commit_pass.check(plan, rp, prober) if rp is not None else None
    if level is not None:
        py.exit_code = max(py.exit_code, level.exit_code) if py.trials else level.exit_code
        py.message = "; ".join(m for m in (py.message, level.message) if m)


def _bisect(plan: Plan, rp, scenario: str, probes: list[Prober], store: Store) -> None:
    """The release bisection on every Python (both bounds on every Python first: the matrix
    table), then, on each that answered, the commit-level pass with --repo. With --jobs or
    --dask, every search runs in rounds of candidates measured at once."""
    executor = parallel.executor_for(plan, probes[0]) if probes else None
    try:
        if executor is None:
            _bisect_here(plan, scenario, probes, store)
        else:
            for prober in probes:
                passes.settle(plan, scenario, prober,
                              parallel.bisect(plan, prober, executor), executor)
        for prober in probes:
            if rp is not None and prober.py.exit_code is ExitCode.ANSWER:
                level = commit_pass.bisect_releases(plan, rp, prober, scenario, executor)
                prober.py.exit_code = max(prober.py.exit_code, level.exit_code)
    finally:
        if executor is not None:
            executor.close()


def _bisect_commits(plan: Plan, rp, scenario: str, probes: list[Prober]) -> None:
    """Commit bounds: the commit-level pass alone, in rounds with --jobs or --dask."""
    assert rp.good is not None and rp.bad is not None
    old, new = (rp.bad, rp.good) if plan.fixed else (rp.good, rp.bad)
    executor = parallel.executor_for(plan, probes[0]) if probes else None
    try:
        for prober in probes:
            level = commit_pass.bisect(plan, rp.repo, prober, old, new, scenario, executor)
            prober.py.exit_code = level.exit_code
    finally:
        if executor is not None:
            executor.close()


def _bisect_here(plan: Plan, scenario: str, probes: list[Prober], store: Store) -> None:
    searches = [passes.searcher(plan, p.py) for p in probes]
    with Prefetcher(store) as prefetch:
        for _ in range(2):
            for prober, search in zip(probes, searches):
                label = search.next()
                if label is not None:
                    passes.step(prober, search, label, prefetch)
        for prober, search in zip(probes, searches):
            passes.settle(plan, scenario, prober, passes.drive(prober, search, prefetch))


def overall_exit(results: list[PythonOutcome]) -> ExitCode:
    """0 only when every Python answered; any infrastructure error is 3 unless every Python
    answered; otherwise 1 (no answer)."""
    codes = [r.exit_code for r in results]
    if codes and all(c is ExitCode.ANSWER for c in codes):
        return ExitCode.ANSWER
    if ExitCode.INFRASTRUCTURE in codes:
        return ExitCode.INFRASTRUCTURE
    return ExitCode.NO_ANSWER


def _bounds(plan: Plan) -> tuple[str, str, str, str]:
    """(old, new, old's flag, new's flag): a fix hunt runs from the leaking --bad up."""
    if plan.checks:
        return "", "", "", ""
    good = releases.parse_version(plan.good or "", "--good")
    bad = releases.parse_version(plan.bad or "", "--bad")
    if good == bad:
        raise BadInput(f"--good and --bad are both {good}: give two different releases")
    if plan.fixed:
        if bad > good:
            raise BadInput(f"with --fixed, --bad {bad} (leaking) must be older than --good {good}")
        return str(plan.bad), str(plan.good), "--bad", "--good"
    if good > bad:
        raise BadInput(
            f"--good {good} is newer than --bad {bad}; to find where a leak was fixed, pass --fixed"
        )
    return str(plan.good), str(plan.bad), "--good", "--bad"


def available_releases(plan: Plan, fetch) -> list[releases.Release]:
    found: dict[Version, releases.Release] = {}
    if plan.find_links:
        for r in releases.from_wheelhouse(plan.name, plan.find_links):
            found[r.version] = r
    if not plan.no_index:
        for r in releases.parse_simple_json(fetch(plan.name, plan.effective_index)):
            found.setdefault(r.version, r)
    if not found:
        where = plan.find_links if plan.no_index else plan.effective_index
        raise BadInput(f"no releases of {plan.name} found in {where}; check the package name")
    return sorted(found.values(), key=lambda r: r.version)


def _check_selection(plan: Plan, available, interp: Interpreter,
                     checks: tuple[str, ...]) -> releases.Selection:
    chosen = []
    known = {r.version: r for r in available}
    for text in checks:
        v = releases.parse_version(text, "--check")
        if v not in known:
            raise BadInput(f"{plan.name} has no release {v} (--check); nearest: "
                           f"{releases.nearest(available, v)}")
        if not known[v].supports(interp.version):
            raise BadInput(f"{plan.name} {v} (--check) requires Python {known[v].requires_python}; "
                           f"Python {interp.version} cannot run it")
        chosen.append(known[v])
    return releases.Selection(tuple(chosen))
