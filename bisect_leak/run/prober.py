"""Measuring versions on one Python: the env spec of each, through the cache."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bisect_leak.candidates.commits import WORKTREE
from bisect_leak.candidates.repo import GitError, Repo
from bisect_leak.environments import resolution, wheels
from bisect_leak.environments.env import EnvBuildError, EnvSpec
from bisect_leak.environments.store import Store
from bisect_leak.judge import classify
from bisect_leak.judge.verdict import Assessment, Signal, Verdict
from bisect_leak.measure import provenance, trial
from bisect_leak.measure.trial import Settings, TrialResult
from bisect_leak.planning import scenario as scenarios
from bisect_leak.planning.plan import Plan, Resolve
from bisect_leak.run.outcome import PythonOutcome, Reporter

RESOLVE_MARGIN = resolution.MARGIN


class Prober:
    """Measures candidates (releases, commits, the working tree) on one Python, through the
    cache. A built candidate's wheel is built from its git tree in ``repo`` first."""

    def __init__(self, plan: Plan, scenario: scenarios.Scenario, settings: Settings,
                 store: Store, reporter: Reporter, py: PythonOutcome,
                 repo: Repo | None = None, snapshot: datetime | None = None,
                 pin_uploads: dict[str, datetime] | None = None):
        self.plan: Plan = plan
        self.scenario: scenarios.Scenario = scenario
        self.settings: Settings = settings
        self.store: Store = store
        self.reporter: Reporter = reporter
        self.py: PythonOutcome = py
        self.repo: Repo | None = repo
        self.snapshot: datetime | None = snapshot  # one resolution date for every candidate
        self.wheels: dict[str, Path] = {}
        self.pin_uploads: dict[str, datetime] = dict(pin_uploads or {})  # exact --with pins

    def at(self, py: PythonOutcome, repo: Repo | None = None,
           snapshot: datetime | None = None) -> Prober:
        """A prober of the same run over another pass's candidates."""
        return Prober(self.plan, self.scenario, self.settings, self.store, self.reporter, py,
                      repo, snapshot, self.pin_uploads)

    def installed(self, label: str) -> tuple[str, datetime | None]:
        """What gets installed for a candidate (a requirement) and the date it resolves at."""
        plan, c = self.plan, self.py.candidates[label]
        uri = self.wheels[label].as_uri() if c.built else None
        return c.requirement(f"{plan.name}{plan.extras}", uri), self.day(label)

    def day(self, label: str) -> datetime | None:
        """The date a candidate stands for: the pass's one snapshot, or its own day."""
        return self.snapshot or self.py.candidates[label].utc_date()

    def day_name(self, label: str) -> str:
        """What :meth:`day` is, for the output."""
        if self.snapshot is not None:
            return "the newest commit of the range"
        c = self.py.candidates[label]
        return f"commit {label}'s date" if c.built else f"{self.plan.name} {label}'s upload"

    def as_of(self, version: str) -> resolution.AsOf | None:
        """The day ``version``'s env is resolved as of (None: the index as it is now)."""
        if self.plan.resolve is not Resolve.RELEASE_DATE:
            return None
        return resolution.as_of(self.day(version), self.day_name(version), self.pin_uploads)

    def spec(self, version: str) -> EnvSpec:
        plan, name = self.plan, canonicalize_name(self.plan.name)
        pin, _ = self.installed(version)
        reqs = [pin]
        pinned = {canonicalize_name(requirement_name(p)) for p in plan.withs} | {name}
        reqs += [r for r in self.scenario.requirements
                 if canonicalize_name(requirement_name(r)) not in pinned]  # --with replaces these
        reqs += [p for p in plan.withs if canonicalize_name(requirement_name(p)) != name]
        if not any(canonicalize_name(requirement_name(r)) == "uvicorn" for r in reqs):
            reqs.append("uvicorn")
        overrides = (pin, *plan.withs)  # with the extras: an override replaces the requirement
        chosen = self.as_of(version)
        exclude_newer = chosen.exclude_newer if chosen else None
        return EnvSpec(
            python=str(self.py.interpreter.path),
            python_version=self.py.interpreter.version,
            requirements=tuple(reqs),
            overrides=overrides,
            index_url=plan.index_url,
            find_links=str(plan.find_links.resolve()) if plan.find_links else None,
            no_index=plan.no_index,
            exclude_newer=exclude_newer,
            exempt=tuple(sorted({canonicalize_name(requirement_name(p)) for p in plan.withs
                                 if is_exact_pin(p)})) if exclude_newer else (),
        )

    def result_key(self, spec: EnvSpec, run: int = 1) -> str:
        """The results cache key of a trial; a replication (run 2, 3, ...) has its own."""
        fields = {"env": spec.key, "scenario": self.scenario.digest,
                  "settings": self.settings.key_fields()}
        if run > 1:
            fields["run"] = run
        blob = json.dumps(fields, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:20]

    @property
    def provenance(self) -> dict:
        """What every trial of this prober must carry (measure/provenance.py)."""
        return provenance.current(self.scenario.digest, self.settings.key_fields())

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
        result = self._cached_or_measured(f"{version} with {pin}", spec, label)
        self._judge_held(None, result)
        self.reporter.trial(result, self.py.interpreter.version)
        return result

    def probe(self, version: str) -> TrialResult:
        if version in self.py.trials:
            return self.py.trials[version]
        failed = self.prepare(version)
        if failed is not None:
            self.reporter.trial(failed, self.py.interpreter.version)
            return failed
        spec = self.spec(version)
        chosen = self.as_of(version)
        if spec.exclude_newer and chosen:
            self.py.resolved_as_of[version] = spec.exclude_newer
            self.py.resolved_why[version] = chosen.why
            if "pin's day" in chosen.why:
                self.reporter.info(f"{version}: dependencies resolved as of "
                                   f"{spec.exclude_newer[:10]}: {chosen.why}")
        self.py.overrides = list(spec.overrides)
        label = f"{self.plan.name} {version} on Python {self.py.interpreter.version}"
        result = self._cached_or_measured(version, spec, label)
        self._judge_held(version, result)
        self.py.trials[version] = result
        self.reporter.trial(result, self.py.interpreter.version)
        return result

    def prepare(self, label: str) -> TrialResult | None:
        """A built candidate's wheel, built (or found in the cache) before its env. An
        ``error`` trial, kept as the candidate's, when it cannot be built; else None."""
        c = self.py.candidates[label]
        if not c.built or label in self.wheels:
            return None
        assert self.repo is not None, f"{label}: a built candidate needs its repo"
        began = time.monotonic()
        subject = f" ({c.commit.subject})" if c.commit else ""
        try:
            self.wheels[label] = wheels.wheel(
                self.wheel_spec(label), self.repo, self.store,
                on_build=lambda: self.reporter.progress(
                    f"building a wheel of {self.plan.name} at {label}{subject}"))
        except (wheels.BuildError, GitError) as exc:
            failed = TrialResult(version=label, verdict=Verdict.ERROR,
                                 error=f"build failed: {exc}",
                                 stderr_tail=getattr(exc, "tail", ""))
            self.py.trials[label] = failed
            return failed
        finally:
            self.py.build_seconds[label] = time.monotonic() - began
        return None

    def wheel_spec(self, label: str) -> wheels.WheelSpec:
        c, plan = self.py.candidates[label], self.plan
        assert c.tree is not None and self.repo is not None
        chosen = self.as_of(label)
        sha = c.commit.sha if c.commit is not None and c.label != WORKTREE else "HEAD"
        return wheels.WheelSpec(
            tree=c.tree, project=canonicalize_name(plan.name),
            python=str(self.py.interpreter.path), python_version=self.py.interpreter.version,
            index_url=plan.index_url,
            find_links=str(plan.find_links.resolve()) if plan.find_links else None,
            no_index=plan.no_index, exclude_newer=chosen.exclude_newer if chosen else None,
            version=self.repo.pretend_version(sha))

    def replicate(self, version: str) -> TrialResult:
        """``version`` measured once more: a new server and new samples, cached as its run
        (2, 3, ...) under its own key, so a warm re-run reads it and ``--no-cache`` measures
        it afresh. Kept in the first trial's ``runs``."""
        first = self.py.trials[version]
        run = 2 + len(first.runs)
        label = f"{self.plan.name} {version} on Python {self.py.interpreter.version} (run {run})"
        result = self._cached_or_measured(version, self.spec(version), label, run=run)
        result.run = run
        self._judge_held(version, result)
        first.runs.append(result)
        self.reporter.trial(result, self.py.interpreter.version)
        return result

    def cached_run(self, version: str, run: int) -> TrialResult | None:
        """Replication ``run`` of ``version`` from the cache alone; never measures."""
        result = self._read(self.result_key(self.spec(version), run))
        if result is not None:
            result.run = run
            self._judge_held(version, result)
        return result

    def add_run(self, version: str, result: TrialResult, run: int) -> None:
        """A replication measured elsewhere (``--no-cache``): kept in the first trial's
        ``runs`` and, unless an error or cut short, cached as its run."""
        result.run = run
        self._judge_held(version, result)
        if not result.from_cache and result.verdict is not Verdict.ERROR \
                and not result.cut_short:
            spec = self.spec(version)
            label = f"{self.plan.name} {version} on Python {self.py.interpreter.version}"
            self.store.put_result(self.result_key(spec, run), spec.key,
                                  f"{label} (run {run}), {self.scenario.name}",
                                  result.to_dict())
        self.py.trials[version].runs.append(result)
        self.reporter.trial(result, self.py.interpreter.version)

    def needs_reference(self, version: str) -> bool:
        """Held memory judges every run against the reference's: it runs first."""
        return self.settings.metric is Signal.HELD and version != self.reference

    @property
    def reference(self) -> str:
        """The run that held memory is compared with: the good bound, or the first --check."""
        if self.plan.fixed and not self.plan.checks:
            return self.py.versions[-1]
        return self.py.versions[0]

    def cached(self, version: str) -> TrialResult | None:
        """The version's trial as :meth:`probe` would give it, from the results cache alone
        (held memory: its reference's too); None when it is not all there, or the rule asks
        for more requests. Never measures."""
        if version in self.py.trials:
            return self.py.trials[version]
        if (self.settings.metric is Signal.HELD and version != self.reference
                and self.cached(self.reference) is None):
            return None
        result = self._read(self.result_key(self.spec(version)))
        if result is None:
            return None
        self._judge_held(version, result)
        self.py.trials[version] = result
        return result

    def _read(self, key: str) -> TrialResult | None:
        """A cached trial judged by today's rule (and so stamped with today's provenance),
        or None when missing or too short for the rule."""
        cached = self.store.result(key)
        if cached is None:
            return None
        result = TrialResult.from_dict(cached)
        result.from_cache = True
        if not self._rejudge(result):
            return None
        result.provenance = self.provenance
        return result

    def _cached_or_measured(self, version: str, spec: EnvSpec, label: str,
                            run: int = 1) -> TrialResult:
        """The trial (or its replication ``run``) from the results cache, judged again by the
        current rule, or measured and cached. Errors and trials cut short by the time limit
        are not kept."""
        key = self.result_key(spec, run)
        result = self._read(key)
        if result is not None:
            return result
        if self.store.result(key) is not None:
            self.reporter.info(f"the cached trial of {label} is too short for the current "
                               "verdict rule: measuring it again")
        began = time.monotonic()
        result = self._measure(version, spec, label)
        result.phases["total"] = time.monotonic() - began
        result.run = run
        if result.verdict is not Verdict.ERROR and not result.cut_short:
            self.store.put_result(key, spec.key, f"{label}, {self.scenario.name}",
                                  result.to_dict())
        return result

    def _rejudge(self, result: TrialResult) -> bool:
        """Judge cached samples with today's rule; False when it asks for more requests."""
        if result.verdict is Verdict.ERROR or self.settings.metric is Signal.HELD:
            return True
        load = self.settings.load
        final = result.requests >= load.warmup + load.max_requests
        assessment = trial.judge(result.samples, self.settings, final=final)
        if assessment.more_would_help:
            return False
        result.assessment, result.verdict = assessment, assessment.verdict
        return True

    def _judge_held(self, version: str | None, result: TrialResult) -> None:
        """Held memory: the reference against its own halves, any other run against the
        reference's first run (``version`` None: a hybrid, never the reference)."""
        if self.settings.metric is not Signal.HELD or result.verdict is Verdict.ERROR:
            return
        warmup, mib = self.settings.load.warmup, self.settings.threshold / 1024
        if version == self.reference:
            result.assessment = classify.classify_reference(result.samples, warmup=warmup,
                                                            threshold_mib=mib)
        else:
            ref = self.probe(self.reference)
            if ref.verdict is Verdict.ERROR:
                result.assessment = Assessment(
                    Verdict.INCONCLUSIVE, Signal.HELD, None, None, None, None,
                    f"the reference {self.reference} could not be measured: {ref.reason}")
            else:
                result.assessment = classify.classify_held(result.samples, ref.samples,
                                                           warmup=warmup, threshold_mib=mib)
        result.verdict = result.assessment.verdict

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


def is_exact_pin(requirement: str) -> bool:
    """``name==1.2``: a pin the user wants whatever the release date."""
    return any(spec.operator in ("==", "===") for spec in Requirement(requirement).specifier)


def requirement_name(requirement: str) -> str:
    return Requirement(requirement).name
