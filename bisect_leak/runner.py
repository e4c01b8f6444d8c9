"""One run, start to end: plan in, outcome out. The CLI's single call."""

from __future__ import annotations

import hashlib
import json
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Protocol

from packaging.utils import canonicalize_name
from packaging.version import Version

from bisect_leak import classify, envs, freeze, interpreters, processes, releases, trial
from bisect_leak import scenario as scenarios
from bisect_leak.cache import Store
from bisect_leak.envs import EnvBuildError, EnvSpec
from bisect_leak.errors import BadInput, ExitCode
from bisect_leak.interpreters import Interpreter
from bisect_leak.plan import Plan, Resolve
from bisect_leak.prefetch import Prefetcher
from bisect_leak.search import Bisection, SearchResult, SearchStatus, regression_states
from bisect_leak.trial import Settings, TrialResult
from bisect_leak.verdict import Signal, Verdict

RESOLVE_MARGIN = timedelta(days=1)  # a release's own dependencies often ship the same day


class Reporter(Protocol):
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
    overrides: list[str] = field(default_factory=list)
    culprits: list[CulpritTrial] = field(default_factory=list)
    culprit_message: str = ""


@dataclass
class Outcome:
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
        if plan.resolve is Resolve.LATEST:
            argv += ["--resolve", "latest"]
        if plan.index_url:
            argv += ["--index-url", plan.index_url]
        if plan.find_links:
            argv += ["--find-links", str(plan.find_links)]
        if plan.no_index:
            argv.append("--no-index")
        return shlex.join(argv)


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
    return Settings(load=load, metric=plan.metric, threshold=threshold, inspect=plan.inspect)


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
    reporter.progress(f"listing releases of {plan.name}")
    available = _available_releases(plan, fetch)
    old, new, old_flag, new_flag = _bounds(plan)
    selections = []
    for interp in interps:
        if plan.checks:
            selections.append(_check_selection(plan, available, interp))
        else:
            selections.append(releases.select(
                available, plan.name, old, new, python_version=interp.version, pre=plan.pre,
                old_name=old_flag, new_name=new_flag,
            ))
    envs.uv_binary()  # before any prefetch thread starts
    outcome.resolve_seconds = time.monotonic() - began
    store = Store(plan.cache_dir, results=not plan.no_cache).open()  # input is valid: now write
    direct = {canonicalize_name(_req_name(r)) for r in (*scenario.requirements, *plan.withs)}
    if scenario.requirements and canonicalize_name(plan.name) not in direct:
        reporter.info(
            f"{plan.name} is installed with an override (uv --override {plan.name}==VERSION): "
            "a package that pins it, as FastAPI pins Starlette, gets the version under test")
    probes = []
    for interp, selection in zip(interps, selections):
        py = PythonOutcome(interpreter=interp, versions=selection.versions,
                           skipped=list(selection.skipped))
        outcome.results.append(py)
        for version, why in selection.skipped:
            reporter.info(f"skipping {plan.name} {version} on Python {interp.version}: {why}")
        probes.append(_Prober(plan, scenario, settings, store, reporter, py, selection))
    if plan.checks:
        for prober in probes:
            for version in prober.py.versions:
                prober.probe(version)
            prober.py.exit_code = (ExitCode.INFRASTRUCTURE if any(
                t.verdict is Verdict.ERROR for t in prober.py.trials.values()) else ExitCode.ANSWER)
            prober.py.message = _checks_message(prober.py)
    else:
        old_state, new_state = regression_states(plan.fixed)
        searches = [Bisection(p.py.versions, old_state, new_state) for p in probes]
        with Prefetcher(store) as prefetch:

            def step(prober: _Prober, search: Bisection, version: str) -> None:
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
                if plan.culprit and prober.py.search.found:
                    _find_culprit(plan, prober)
    found = [r for r in outcome.results if r.exit_code is ExitCode.ANSWER]
    if found and not plan.checks:
        outcome.exit_code = ExitCode.ANSWER
    else:
        outcome.exit_code = max((r.exit_code for r in outcome.results), default=ExitCode.NO_ANSWER)


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


def _available_releases(plan: Plan, fetch) -> list[releases.Release]:
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


def _check_selection(plan: Plan, available, interp: Interpreter) -> releases.Selection:
    chosen = []
    known = {r.version: r for r in available}
    for text in plan.checks:
        v = releases.parse_version(text, "--check")
        if v not in known:
            raise BadInput(f"{plan.name} has no release {v} (--check); nearest: "
                           f"{releases.nearest(available, v)}")
        if not known[v].supports(interp.version):
            raise BadInput(f"{plan.name} {v} (--check) requires Python {known[v].requires_python}; "
                           f"Python {interp.version} cannot run it")
        chosen.append(known[v])
    return releases.Selection(tuple(chosen))


class _Prober:
    """Measures versions on one Python, through the cache."""

    def __init__(self, plan, scenario, settings, store, reporter, py, selection):
        self.plan: Plan = plan
        self.scenario: scenarios.Scenario = scenario
        self.settings: Settings = settings
        self.store: Store = store
        self.reporter: Reporter = reporter
        self.py: PythonOutcome = py
        self.selection: releases.Selection = selection

    def spec(self, version: str) -> EnvSpec:
        plan, name = self.plan, canonicalize_name(self.plan.name)
        pin = f"{plan.name}{plan.extras}=={version}"
        reqs = [pin]
        pinned = {canonicalize_name(_req_name(p)) for p in plan.withs} | {name}
        reqs += [r for r in self.scenario.requirements
                 if canonicalize_name(_req_name(r)) not in pinned]  # --with replaces these
        reqs += [p for p in plan.withs if canonicalize_name(_req_name(p)) != name]
        if not any(canonicalize_name(_req_name(r)) == "uvicorn" for r in reqs):
            reqs.append("uvicorn")
        overrides = (pin, *plan.withs)  # with the extras: an override replaces the requirement
        exclude_newer = None
        if plan.resolve is Resolve.RELEASE_DATE:
            uploaded = self.selection.release(version).uploaded
            if uploaded is not None:
                exclude_newer = (uploaded + RESOLVE_MARGIN).strftime("%Y-%m-%dT%H:%M:%SZ")
        return EnvSpec(
            python=str(self.py.interpreter.path),
            python_version=self.py.interpreter.version,
            requirements=tuple(reqs),
            overrides=overrides,
            index_url=plan.index_url,
            find_links=str(plan.find_links.resolve()) if plan.find_links else None,
            no_index=plan.no_index,
            exclude_newer=exclude_newer,
            exempt=tuple(sorted({canonicalize_name(_req_name(p)) for p in plan.withs
                                 if _is_exact_pin(p)})) if exclude_newer else (),
        )

    def result_key(self, spec: EnvSpec) -> str:
        blob = json.dumps({"env": spec.key, "scenario": self.scenario.digest,
                           "settings": self.settings.key_fields()}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:20]

    def needs_env(self, version: str) -> bool:
        """True unless the version's trial is already known (measured or cached)."""
        if version in self.py.trials:
            return False
        return self.store.result(self.result_key(self.spec(version))) is None

    def probe_with(self, version: str, pin: str) -> TrialResult:
        """``version`` with one more pin forced over everything (a hybrid env)."""
        base = self.spec(version)
        spec = replace(base, requirements=(*base.requirements, pin),
                       overrides=(*base.overrides, pin))
        label = f"{self.plan.name} {version} with {pin} on Python {self.py.interpreter.version}"
        key = self.result_key(spec)
        cached = self.store.result(key)
        if cached is not None:
            result = TrialResult.from_dict(cached)
            result.from_cache = True
        else:
            result = self._measure(f"{version} with {pin}", spec, label)
            if result.verdict is not Verdict.ERROR:
                self.store.put_result(key, spec.key, f"{label}, {self.scenario.name}",
                                      result.to_dict())
        self.reporter.trial(result, self.py.interpreter.version)
        return result

    def probe(self, version: str) -> TrialResult:
        if version in self.py.trials:
            return self.py.trials[version]
        spec = self.spec(version)
        if spec.exclude_newer:
            self.py.resolved_as_of[version] = spec.exclude_newer
        self.py.overrides = list(spec.overrides)
        key = self.result_key(spec)
        cached = self.store.result(key)
        label = f"{self.plan.name} {version} on Python {self.py.interpreter.version}"
        if cached is not None:
            result = TrialResult.from_dict(cached)
            result.from_cache = True
        else:
            began = time.monotonic()
            result = self._measure(version, spec, label)
            result.phases["total"] = time.monotonic() - began
            if result.verdict is not Verdict.ERROR:
                self.store.put_result(key, spec.key, f"{label}, {self.scenario.name}",
                                      result.to_dict())
        if self.settings.metric is Signal.HELD and result.verdict is not Verdict.ERROR:
            result = self._judge_held(version, result)
        self.py.trials[version] = result
        self.reporter.trial(result, self.py.interpreter.version)
        return result

    def _judge_held(self, version: str, result: TrialResult) -> TrialResult:
        """Held memory against the good bound's run (which is stable by definition)."""
        reference = self.py.versions[-1] if self.plan.fixed else self.py.versions[0]
        if self.plan.checks:
            reference = self.py.versions[0]
        if version == reference:  # the baseline the others are held against
            a = classify.classify_held(result.samples, result.samples,
                                       warmup=self.settings.load.warmup,
                                       threshold_mib=self.settings.threshold / 1024)
            result.assessment = replace(
                a, verdict=Verdict.STABLE, growth_kib_per_1k=0.0,
                reason="the reference for held memory (the good bound, or the first --check)")
        else:
            ref = self.probe(reference)
            if ref.verdict is Verdict.ERROR:
                result.assessment = None
                result.verdict = Verdict.INCONCLUSIVE
                result.error = ""
                return result
            result.assessment = classify.classify_held(
                result.samples, ref.samples, warmup=self.settings.load.warmup,
                threshold_mib=self.settings.threshold / 1024)
        result.verdict = result.assessment.verdict
        return result

    def _measure(self, version: str, spec: EnvSpec, label: str) -> TrialResult:
        progress = self.reporter.progress
        began = time.monotonic()
        try:
            env = self.store.env(
                spec,
                on_build=lambda: progress(f"building env: {label}"),
                on_wait=lambda: progress(f"waiting for another run building {label}"),
            )
        except EnvBuildError as exc:
            return TrialResult(version=version, verdict=Verdict.ERROR,
                               error=f"env build failed: {exc}", stderr_tail=exc.tail)
        env_seconds = time.monotonic() - began
        progress(f"measuring {label} under {self.scenario.name!r}")
        result = trial.run(env, version, self.scenario, self.settings, progress=progress)
        result.phases["env"] = env_seconds  # building, or waiting for a prefetch, or 0 if cached
        return result


def _find_culprit(plan: Plan, prober: _Prober) -> None:
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


def _is_exact_pin(requirement: str) -> bool:
    from packaging.requirements import Requirement

    return any(spec.operator in ("==", "===") for spec in Requirement(requirement).specifier)


def _req_name(requirement: str) -> str:
    from packaging.requirements import Requirement

    return Requirement(requirement).name


def describe(t: TrialResult | None) -> str:
    if t is None:
        return "not measured"
    a = t.assessment
    if t.verdict is Verdict.ERROR or a is None or a.growth_kib_per_1k is None:
        return f"{t.verdict.value} ({t.reason})"
    half = a.interval_half_width or 0.0
    if a.signal is Signal.HELD:
        return (f"{t.verdict.value} ({a.growth_kib_per_1k:+.1f} MiB held vs reference, "
                f"{a.low:+.1f}..{a.high:+.1f})")
    unit = "descriptors/1k requests" if a.signal is Signal.FDS else "KiB/1k requests"
    return f"{t.verdict.value} ({a.growth_kib_per_1k:+.1f} ± {half:.1f} {unit})"


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


def _checks_message(py: PythonOutcome) -> str:
    return "; ".join(f"{v} {describe(t)}" for v, t in py.trials.items())


