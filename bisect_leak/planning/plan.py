"""Typed options for one run, validated into one clear error each."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from bisect_leak.candidates import commits
from bisect_leak.candidates.releases import DEFAULT_INDEX
from bisect_leak.errors import BadInput
from bisect_leak.judge.classify import DEFAULT_THRESHOLD_KIB
from bisect_leak.judge.verdict import Signal


class Resolve(str, enum.Enum):
    RELEASE_DATE = "release-date"  # dependencies as they stood when the release came out
    LATEST = "latest"


INSPECT_FRAMES = 8  # --inspect's default depth (measure/probe/launcher.py says why)


@dataclass(frozen=True)
class Plan:
    package: str = "fastapi"  # may carry extras: "uvicorn[standard]"
    good: str | None = None
    bad: str | None = None
    checks: tuple[str, ...] = ()
    pythons: tuple[str, ...] = ()  # empty: the Python running bisect-leak
    withs: tuple[str, ...] = ()
    pre: bool = False
    fixed: bool = False
    scenario: str = "hello"
    warmup: int | None = None
    requests: int | None = None
    concurrency: int | None = None
    metric: Signal = Signal.GROWTH
    threshold: float | None = None
    resolve: Resolve = Resolve.RELEASE_DATE
    index_url: str | None = None
    find_links: Path | None = None
    no_index: bool = False
    cache_dir: Path = field(default_factory=lambda: Path("cache"))
    no_cache: bool = False
    json_path: Path | None = None
    report_path: Path | None = None
    inspect: bool = False
    inspect_frames: int = INSPECT_FRAMES  # tracemalloc's frames per allocation (--inspect)
    culprit: bool = False
    confirm: int = 1  # times the last good and first bad are measured again after the search
    repo: Path | None = None  # a local clone: bisect on to the commit (issue 10)
    jobs: int = 1  # candidates measured at once here, in rounds (issue 17)
    dask: str | None = None  # or on this Dask scheduler's workers
    as_of: str | None = None  # commits resolve at this UTC time (a round's --check runs)

    @property
    def requirement(self) -> Requirement:
        return Requirement(self.package)

    @property
    def name(self) -> str:
        return self.requirement.name

    @property
    def extras(self) -> str:
        extras = sorted(self.requirement.extras)
        return f"[{','.join(extras)}]" if extras else ""

    @property
    def effective_index(self) -> str:
        return self.index_url or DEFAULT_INDEX

    def validate(self) -> Plan:
        """Raise BadInput naming the first thing wrong and what to do."""
        self.validate_options()
        if self.checks and (self.good or self.bad):
            raise BadInput(
                "--check measures versions without a search: leave out --good and --bad"
            )
        if not self.checks and not (self.good and self.bad):
            raise BadInput("give both --good VERSION and --bad VERSION, or --check VERSION")
        if self.repo is None:  # issue 10: a commit-ish needs the clone it lives in
            for flag, text in (("--good", self.good), ("--bad", self.bad),
                               *(("--check", c) for c in self.checks)):
                if text and not commits.is_release_text(text):
                    raise BadInput(f"{flag} {text!r} is not a version (PEP 440), e.g. 0.68.2; "
                                   "to give a commit, pass --repo CLONE")
        if self.culprit and self.checks:
            raise BadInput("--culprit needs a bisection (--good/--bad), not --check")
        return self

    def validate_options(self) -> Plan:
        """Everything but what is measured (the map's cells name their own versions)."""
        try:
            req = Requirement(self.package)
        except InvalidRequirement:
            raise BadInput(
                f"--package {self.package!r} is not a package name "
                "(e.g. fastapi, 'uvicorn[standard]')"
            ) from None
        if req.specifier or req.url or req.marker:
            raise BadInput(
                "--package takes a name (extras allowed), not a version: use --good/--bad"
            )
        if self.threshold is not None and not self.threshold > 0:
            raise BadInput(f"--threshold {self.threshold:g}: give a positive number of KiB")
        for flag, value in (("--requests", self.requests), ("--concurrency", self.concurrency)):
            if value is not None and value < 1:
                raise BadInput(f"{flag} {value}: give a whole number of at least 1")
        if self.warmup is not None and self.warmup < 0:
            raise BadInput(f"--warmup {self.warmup}: give 0 or more requests")
        if self.as_of is not None:
            try:
                datetime.fromisoformat(self.as_of)
            except ValueError:
                raise BadInput(f"--as-of {self.as_of!r}: give an ISO date and time, e.g. "
                               "2022-03-12T00:00:00+00:00") from None
        if not 1 <= self.inspect_frames <= 64:
            raise BadInput(f"--inspect-frames {self.inspect_frames}: give 1 to 64 (each frame "
                           "makes every traced allocation dearer; 8 reaches most callers)")
        if self.inspect_frames != INSPECT_FRAMES and not self.inspect:
            raise BadInput("--inspect-frames sets the depth of --inspect's stacks: add --inspect")
        if self.jobs < 1:
            raise BadInput(f"--jobs {self.jobs}: give a whole number of at least 1")
        if self.dask and self.jobs != 1:
            raise BadInput("--jobs is for trials run here; with --dask each worker runs one "
                           "trial at a time: leave out --jobs")
        if self.confirm < 0:
            raise BadInput(f"--confirm {self.confirm}: give 0 (no replication) or more")
        for pin in self.withs:
            try:
                Requirement(pin)
            except InvalidRequirement:
                raise BadInput(
                    f"--with {pin!r} is not a requirement (e.g. uvicorn==0.17.6)"
                ) from None
        if self.no_index and not self.find_links:
            raise BadInput("--no-index needs --find-links DIR: there is nowhere else to look")
        if self.find_links is not None and not self.find_links.is_dir():
            raise BadInput(
                f"wheelhouse {self.find_links} does not exist; "
                "pass an existing folder to --find-links"
            )
        return self

    def check_args(self, versions: Sequence[str], *, python: str | None = None,
                   absolute: bool = False, as_of: str | None = None) -> list[str]:
        """This plan's measurement as the flags of a ``--check`` run of ``versions``: the one
        place a plan turns back into flags (reproduce lines, the map's cells)."""
        args = ["--package", self.package]
        for v in versions:
            args += ["--check", v]
        if python is not None:
            args += ["--python", python]
        args += ["--scenario", self.scenario]
        for pin in self.withs:
            args += ["--with", pin]
        if self.metric is not Signal.GROWTH:
            args += ["--metric", self.metric.value]
        if self.threshold is not None:
            args += ["--threshold", f"{self.threshold:g}"]
        for flag, value in (("--warmup", self.warmup), ("--requests", self.requests),
                            ("--concurrency", self.concurrency)):
            if value is not None:
                args += [flag, str(value)]
        if self.no_cache:
            args.append("--no-cache")
        if self.resolve is not Resolve.RELEASE_DATE:
            args += ["--resolve", self.resolve.value]
        if self.index_url:
            args += ["--index-url", self.index_url]
        if self.find_links:
            args += ["--find-links", str(self.find_links.resolve() if absolute
                                         else self.find_links)]
        if self.no_index:
            args.append("--no-index")
        if self.repo is not None:
            args += ["--repo", str(self.repo.resolve() if absolute else self.repo)]
        if as_of is not None:
            args += ["--as-of", as_of]
        return args

    @property
    def threshold_value(self) -> float:
        return self.threshold if self.threshold is not None else DEFAULT_THRESHOLD_KIB
