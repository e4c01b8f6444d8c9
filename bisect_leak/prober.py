"""Measuring versions on one Python: the env spec of each, through the cache."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import replace
from datetime import datetime

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bisect_leak import classify, releases, resolution, trial
from bisect_leak import scenario as scenarios
from bisect_leak.cache import Store
from bisect_leak.envs import EnvBuildError, EnvSpec
from bisect_leak.outcome import PythonOutcome, Reporter
from bisect_leak.plan import Plan, Resolve
from bisect_leak.trial import Settings, TrialResult
from bisect_leak.verdict import Assessment, Signal, Verdict

RESOLVE_MARGIN = resolution.MARGIN


class Prober:
    """Measures versions on one Python, through the cache."""

    def __init__(self, plan: Plan, scenario: scenarios.Scenario, settings: Settings,
                 store: Store, reporter: Reporter, py: PythonOutcome,
                 selection: releases.Selection,
                 pin_uploads: dict[str, datetime] | None = None):
        self.plan: Plan = plan
        self.scenario: scenarios.Scenario = scenario
        self.settings: Settings = settings
        self.store: Store = store
        self.reporter: Reporter = reporter
        self.py: PythonOutcome = py
        self.selection: releases.Selection = selection
        self.pin_uploads: dict[str, datetime] = dict(pin_uploads or {})  # exact --with pins

    def installed(self, version: str) -> tuple[str, datetime | None]:
        """What gets installed for ``version`` (a requirement) and the date it stands for.
        A release here; a wheel built from a commit in ``commit_search.CommitProber``."""
        plan = self.plan
        return f"{plan.name}{plan.extras}=={version}", self.selection.release(version).uploaded

    def day(self, version: str) -> datetime | None:
        """The date ``version`` stands for (a release's upload)."""
        return self.selection.release(version).uploaded

    def day_name(self, version: str) -> str:
        """What :meth:`day` is, for the output."""
        return f"{self.plan.name} {version}'s upload"

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
        result = self._cached_or_measured(f"{version} with {pin}", spec, label)
        self._judge_held(None, result)
        self.reporter.trial(result, self.py.interpreter.version)
        return result

    def probe(self, version: str) -> TrialResult:
        if version in self.py.trials:
            return self.py.trials[version]
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

    def replicate(self, version: str) -> TrialResult:
        """``version`` measured once more, afresh: a new server and new samples, never read
        from or written to the results cache. Kept in the first trial's ``runs``."""
        label = f"{self.plan.name} {version} on Python {self.py.interpreter.version} (again)"
        began = time.monotonic()
        result = self._measure(version, self.spec(version), label)
        result.phases["total"] = time.monotonic() - began
        self._judge_held(version, result)
        first = self.py.trials[version]
        result.run = 2 + len(first.runs)
        first.runs.append(result)
        self.reporter.trial(result, self.py.interpreter.version)
        return result

    @property
    def reference(self) -> str:
        """The run that held memory is compared with: the good bound, or the first --check."""
        if self.plan.fixed and not self.plan.checks:
            return self.py.versions[-1]
        return self.py.versions[0]

    def _cached_or_measured(self, version: str, spec: EnvSpec, label: str) -> TrialResult:
        """The trial from the results cache, judged again by the current rule, or measured and
        cached. Errors and trials cut short by the time limit are not kept."""
        key = self.result_key(spec)
        cached = self.store.result(key)
        if cached is not None:
            result = TrialResult.from_dict(cached)
            result.from_cache = True
            if self._rejudge(result):
                return result
            self.reporter.info(f"the cached trial of {label} is too short for the current "
                               "verdict rule: measuring it again")
        began = time.monotonic()
        result = self._measure(version, spec, label)
        result.phases["total"] = time.monotonic() - began
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
