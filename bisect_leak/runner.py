"""One run, start to end: plan in, outcome out. The CLI's single call."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import replace

from packaging.utils import canonicalize_name
from packaging.version import Version

from bisect_leak import (
    classify,
    commit_search,
    culprit,
    envs,
    inspection,
    interpreters,
    processes,
    releases,
    replication,
    resolution,
)
from bisect_leak import scenario as scenarios
from bisect_leak.cache import Store
from bisect_leak.errors import BadInput, ExitCode
from bisect_leak.interpreters import Interpreter
from bisect_leak.outcome import Outcome, PythonOutcome, Reporter, describe
from bisect_leak.plan import Plan, Resolve
from bisect_leak.prefetch import Prefetcher
from bisect_leak.prober import Prober, requirement_name
from bisect_leak.search import Bisection, SearchStatus, regression_states
from bisect_leak.trial import Settings
from bisect_leak.verdict import Signal, Verdict


def settings_for(plan: Plan, scenario: scenarios.Scenario) -> Settings:
    load = scenario.load
    changes = {}
    if plan.requests is not None:
        changes["requests"] = plan.requests
        changes["max_requests"] = max(load.max_requests, plan.requests)
    if plan.concurrency is not None:
        changes["concurrency"] = plan.concurrency
    if changes:
        load = replace(load, **changes)
    threshold = plan.threshold_value
    if plan.metric is Signal.FDS and plan.threshold is None:
        threshold = classify.DEFAULT_FDS_THRESHOLD
    if plan.metric is Signal.HELD and plan.threshold is None:
        threshold = classify.DEFAULT_HELD_THRESHOLD_KIB
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
    rp = commit_search.prepare(plan) if plan.repo else None  # issue 10: --repo, before all
    scenario = scenarios.resolve(plan.scenario)
    outcome.scenario = scenario
    settings = settings_for(plan, scenario)
    outcome.settings = settings
    began = time.monotonic()
    pythons = plan.pythons or (f"{sys.version_info[0]}.{sys.version_info[1]}",)
    interps = [interpreters.find(p) for p in pythons]
    for interp in interps:
        if not scenario.supports(interp.version):
            raise BadInput(f"scenario {scenario.name!r} runs on Python {scenario.python}; "
                           f"Python {interp.version} is not: choose another --python")
    commits_only = rp is not None and rp.commit_bounds  # a bound is a commit: no releases
    checks = rp.release_checks if rp else plan.checks
    old, new, old_flag, new_flag = ("",) * 4 if commits_only else _bounds(plan)
    available = []
    if not commits_only and (checks or not plan.checks):
        reporter.progress(f"listing releases of {plan.name}")
        available = available_releases(plan, fetch)
    selections = []
    for interp in interps:
        if plan.checks or commits_only:
            selections.append(_check_selection(plan, available, interp, checks))
        else:
            selections.append(releases.select(
                available, plan.name, old, new, python_version=interp.version, pre=plan.pre,
                old_name=old_flag, new_name=new_flag,
            ))
    envs.uv_binary()  # before any prefetch thread starts
    outcome.resolve_seconds = time.monotonic() - began
    store = Store(plan.cache_dir, results=not plan.no_cache).open()  # input is valid: now write
    direct = {canonicalize_name(requirement_name(r)) for r in (*scenario.requirements, *plan.withs)}
    if scenario.requirements and canonicalize_name(plan.name) not in direct:
        reporter.info(
            f"{plan.name} is installed with an override (uv --override {plan.name}==VERSION): "
            "a package that pins it, as FastAPI pins Starlette, gets the version under test")
    pins = {}  # issue 16: exact --with pins newer than a release pull its day forward
    if plan.resolve is Resolve.RELEASE_DATE and plan.withs and not plan.no_index:
        pins = resolution.pin_uploads(plan.withs, plan.effective_index, fetch)
    probes = []
    for interp, selection in zip(interps, selections):
        py = PythonOutcome(interpreter=interp, versions=selection.versions,
                           skipped=list(selection.skipped))
        outcome.results.append(py)
        for version, why in selection.skipped:
            reporter.info(f"skipping {plan.name} {version} on Python {interp.version}: {why}")
        probes.append(Prober(plan, scenario, settings, store, reporter, py, selection,
                             pin_uploads=pins))
    if plan.checks:
        for prober in probes:
            for version in prober.py.versions:
                prober.probe(version)
            prober.py.exit_code = _checks_exit(prober.py)
            prober.py.message = _checks_message(prober.py)
            if rp:
                commit_search.run_checks(plan, rp, prober)
    elif commits_only:
        for prober in probes:
            commit_search.run_bounds(plan, rp, prober)
    else:
        old_state, new_state = regression_states(plan.fixed)
        searches = [Bisection(p.py.versions, old_state, new_state) for p in probes]
        with Prefetcher(store) as prefetch:

            def step(prober: Prober, search: Bisection, version: str) -> None:
                for upcoming in search.after(version):
                    if upcoming is not None and prober.needs_env(upcoming):
                        prefetch.submit(prober.spec(upcoming))
                search.record(version, prober.probe(version).verdict)

            for _ in range(2):  # both bounds on every Python first: the matrix table
                for prober, search in zip(probes, searches):
                    version = search.next()
                    if version is not None:
                        step(prober, search, version)
            for prober, search in zip(probes, searches):
                while (version := search.next()) is not None:
                    step(prober, search, version)
                prober.py.search = search.result()
                prober.py.exit_code, prober.py.message = _answer(plan, scenario, prober.py)
                if prober.py.search.found:
                    replication.confirm(plan, prober)
                if rp and prober.py.exit_code is ExitCode.ANSWER:
                    commit_search.after_releases(plan, rp, prober)
                if plan.culprit and prober.py.exit_code is ExitCode.ANSWER:
                    culprit.find(plan, prober)
    if plan.inspect:  # after the answers: the pair (or the checks) re-run briefly, inspected
        for prober in probes:
            inspection.inspect(prober)
    outcome.exit_code = overall_exit(outcome.results)


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


def _answer(plan: Plan, scenario, py: PythonOutcome) -> tuple[ExitCode, str]:
    s = py.search
    assert s is not None
    where = f"under {scenario.name!r} on Python {py.interpreter.version}"
    (old_v, old_verdict), (new_v, new_verdict) = s.bounds
    old_word, new_word = ("last leaking", "first fixed") if plan.fixed else (
        "last good", "first bad")
    if s.status is SearchStatus.FOUND:
        return ExitCode.ANSWER, (
            f"{new_word}: {plan.name} {s.first_new} ({old_word} {s.last_old}) {where}"
        )
    if s.status is SearchStatus.BOUND_UNKNOWN:
        errors = [v for v, verdict in s.bounds if verdict is Verdict.ERROR]
        code = ExitCode.INFRASTRUCTURE if errors else ExitCode.NO_ANSWER
        parts = [f"{v} {describe(py.trials.get(v))}" for v, verdict in s.bounds
                 if not verdict.known]
        return code, f"a bound could not be judged {where}: " + "; ".join(parts)
    if s.status is SearchStatus.BOUNDS_CONTRADICT:
        old_state, new_state = regression_states(plan.fixed)
        if new_verdict is not new_state:
            if plan.fixed:
                text = (f"no fix to find: {new_v} still leaks {where}: "
                        f"{describe(py.trials.get(new_v))}")
            else:
                text = (f"no leak to bisect: {new_v} is stable {where}: "
                        f"{describe(py.trials.get(new_v))}")
            if old_verdict is not old_state:
                text += f"; {old_v}: {describe(py.trials.get(old_v))}"
            return ExitCode.NO_ANSWER, text
        return ExitCode.NO_ANSWER, (
            f"the {'--bad' if plan.fixed else '--good'} bound {old_v} is already "
            f"{old_verdict.value} {where}: {describe(py.trials.get(old_v))}; "
            "choose an older bound"
        )
    between = ", ".join(f"{v} ({py.trials[v].verdict.value if v in py.trials else 'untested'})"
                        for v in s.unknown_between)
    return ExitCode.NO_ANSWER, (
        f"narrowed to {s.last_old}..{s.first_new} {where}, but {between} could not be judged; "
        "the change is in one of them"
    )


def _checks_exit(py: PythonOutcome) -> ExitCode:
    """3 if any check hit an error, 1 if any is inconclusive, 0 when all were decided."""
    verdicts = [t.verdict for t in py.trials.values()]
    if Verdict.ERROR in verdicts:
        return ExitCode.INFRASTRUCTURE
    if all(v.known for v in verdicts):
        return ExitCode.ANSWER
    return ExitCode.NO_ANSWER


def _checks_message(py: PythonOutcome) -> str:
    return "; ".join(f"{v} {describe(t)}" for v, t in py.trials.items())


