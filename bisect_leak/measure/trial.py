"""One trial: server up, warm-up, load rounds with samples, classify, server down."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from bisect_leak.environments.env import Env
from bisect_leak.judge import classify
from bisect_leak.judge.classify import memory_figure
from bisect_leak.judge.units import UNITS
from bisect_leak.judge.verdict import Assessment, Sample, Signal, Verdict
from bisect_leak.measure import inspector, provenance
from bisect_leak.measure.load import Driver, Round, tolerated
from bisect_leak.measure.sampling import Sampler, ServerGone
from bisect_leak.measure.server import HOST, Server, ServerError, free_port
from bisect_leak.planning.plan import INSPECT_FRAMES
from bisect_leak.planning.scenario import Load, Scenario

PROTOCOL = 4  # bump when a change makes cached trial results incomparable
STARTUP_TIMEOUT = 60.0


@dataclass(frozen=True)
class Settings:
    """How a trial is run and judged: part of the results cache key."""

    load: Load
    metric: Signal = Signal.GROWTH
    threshold: float = classify.DEFAULT_THRESHOLD_KIB
    inspect: bool = False  # run under the launcher and report what grows
    inspect_frames: int = INSPECT_FRAMES  # tracemalloc's frames per allocation

    def key_fields(self) -> dict:
        return {
            "load": {k: getattr(self.load, k) for k in self.load.__dataclass_fields__},
            "metric": self.metric.value,
            "threshold": self.threshold,
            "inspect": self.inspect and self.inspect_frames,
            "protocol": PROTOCOL,
        }


@dataclass
class TrialResult:
    version: str
    verdict: Verdict
    assessment: Assessment | None = None
    samples: list[Sample] = field(default_factory=list)
    warmup: int = 0
    requests: int = 0
    load: Round = field(default_factory=Round)
    seconds: float = 0.0
    error: str = ""
    stderr_tail: str = ""
    freeze: tuple[str, ...] = ()
    env_key: str = ""
    installer: str = ""
    build_seconds: float = 0.0
    from_cache: bool = False
    inspect: dict | None = None  # what grew between warm-up and the end (--inspect)
    phases: dict[str, float] = field(default_factory=dict)  # seconds: start, load, classify
    cut_short: str = ""  # why the load ended before the rule was done (the time limit)
    runs: list[TrialResult] = field(default_factory=list)  # measured again (--confirm)
    run: int = 1  # 2, 3, ...: a replication of the same version
    provenance: dict = field(default_factory=dict)  # measure/provenance.py: who made it

    @property
    def reason(self) -> str:
        return self.error or (self.assessment.reason if self.assessment else "")

    def to_dict(self) -> dict:
        a = self.assessment
        figure, kib = memory_figure(self.samples) if self.samples else (None, [])
        return {
            "version": self.version,
            "verdict": self.verdict.value,
            "signal": a.signal.value if a else None,
            "value": _round(a.growth_kib_per_1k) if a else None,
            "interval": [_round(a.low), _round(a.high)] if a else None,
            "unit": UNITS[a.signal] if a else None,
            "growth_kib_per_1k": (_round(a.growth_kib_per_1k)
                                  if a and a.signal is Signal.GROWTH else None),
            "interval_kib_per_1k": ([_round(a.low), _round(a.high)]
                                    if a and a.signal is Signal.GROWTH else None),
            "late_kib_per_1k": _round(a.late_kib_per_1k) if a else None,
            "more_requests": a.more_requests if a else None,  # inconclusive: might decide it
            "reason": self.reason,
            "cut_short": self.cut_short,
            "requests": self.requests,
            "warmup": self.warmup,
            "seconds": round(self.seconds, 2),
            "memory": figure,  # the memory the verdict reads, as in "samples" (KiB)
            "samples": [[s.requests, round(k)] for s, k in zip(self.samples, kib)],
            "series": {
                "columns": ["requests", "rss", "uss", "threads", "fds", "seconds", "anon"],
                "rows": [s.as_row() for s in self.samples],
            },
            "load": {
                "sent": self.load.sent, "ok": self.load.ok,
                "client_errors": self.load.client_errors,
                "server_errors": self.load.server_errors, "failures": self.load.failures,
                "seconds": round(self.load.seconds, 2),
            },
            "stderr_tail": self.stderr_tail,
            "freeze": list(self.freeze),
            "env": {"key": self.env_key, "installer": self.installer,
                    "build_seconds": round(self.build_seconds, 2)},
            "from_cache": self.from_cache,
            "inspect": self.inspect,
            "phases": {k: round(v, 3) for k, v in self.phases.items()},
            "run": self.run,
            "runs": [r.to_dict() for r in self.runs],
            "provenance": self.provenance,
        }

    @classmethod
    def from_dict(cls, data: dict) -> TrialResult:
        a = None
        if data.get("signal"):
            low, high = data.get("interval") or (None, None)
            a = Assessment(Verdict(data["verdict"]), Signal(data["signal"]), data.get("value"),
                           low, high, data["late_kib_per_1k"], data["reason"],
                           more_requests=data.get("more_requests"))
        load = data.get("load", {})
        verdict = Verdict(data["verdict"])
        return cls(
            version=data["version"],
            verdict=verdict,
            assessment=a,
            samples=[Sample.from_row(r) for r in data["series"]["rows"]],
            warmup=data["warmup"],
            requests=data["requests"],
            load=Round(load.get("sent", 0), load.get("ok", 0), load.get("client_errors", 0),
                       load.get("server_errors", 0), load.get("failures", 0),
                       load.get("seconds", 0.0)),
            seconds=data["seconds"],
            error=data["reason"] if verdict is Verdict.ERROR else "",
            stderr_tail=data.get("stderr_tail", ""),
            freeze=tuple(data.get("freeze", ())),
            env_key=data.get("env", {}).get("key", ""),
            installer=data.get("env", {}).get("installer", ""),
            build_seconds=data.get("env", {}).get("build_seconds", 0.0),
            inspect=data.get("inspect"),
            phases=data.get("phases", {}),
            cut_short=data.get("cut_short", ""),
            runs=[cls.from_dict(r) for r in data.get("runs", ())],
            run=data.get("run", 1),
            provenance=data.get("provenance") or {},
        )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def judge(samples: list[Sample], settings: Settings, *, final: bool) -> Assessment:
    """The verdict the trial's own samples give (the held metric is judged by the caller,
    against a reference run: here it only asks for the first look's samples)."""
    load = settings.load
    if settings.metric is Signal.FDS:
        return classify.classify_fds(samples, warmup=load.warmup, guards=load.guards,
                                     threshold=settings.threshold, final=final)
    if settings.metric is Signal.HELD:
        return Assessment(Verdict.INCONCLUSIVE, Signal.HELD, None, None, None, None,
                          "held memory is judged against the reference run")
    return classify.classify_growth(samples, warmup=load.warmup, guards=load.guards,
                                    threshold=settings.threshold, final=final)


def run(
    env: Env,
    version: str,
    scenario: Scenario,
    settings: Settings,
    *,
    progress: Callable[[str], None] = lambda _: None,
    server_factory: Callable[[Env, Scenario], Server] | None = None,
) -> TrialResult:
    """Measure one version in its env. Never raises for the server's faults: verdict ERROR."""
    load = settings.load
    result = TrialResult(version=version, verdict=Verdict.ERROR, warmup=load.warmup,
                         freeze=env.freeze, env_key=env.key, installer=env.installer,
                         build_seconds=env.build_seconds,
                         provenance=provenance.current(scenario.digest, settings.key_fields()))
    start = time.monotonic()
    control = free_port() if settings.inspect else None
    if server_factory is not None:
        server = server_factory(env, scenario)
    elif control is not None:
        server = Server(env.python, scenario.path, app=scenario.app_module,
                        launcher=inspector.LAUNCHER, launcher_args=("--control-port", str(control)),
                        extra_env={inspector.FRAMES_VARIABLE: str(settings.inspect_frames)})
    else:
        server = Server(env.python, scenario.path, app=scenario.app_module)
    driver: Driver | None = None
    try:
        try:
            began = time.monotonic()
            server.start(timeout=STARTUP_TIMEOUT)
            result.phases["server_start"] = time.monotonic() - began
        except ServerError as exc:
            result.phases["server_start"] = time.monotonic() - began
            result.error = f"server did not start: {exc}"
            result.stderr_tail = exc.stderr_tail
            return result
        driver = Driver(HOST, server.port, scenario.requests, connection=load.connection,
                        concurrency=load.concurrency, io_timeout=load.request_timeout)
        sampler = Sampler(server.pid)
        _measure(server, driver, sampler, result, settings, progress, control)
    except (ServerError, ServerGone) as exc:
        result.verdict = Verdict.ERROR
        result.error = _death_reason(str(exc), server, result)
        result.stderr_tail = server.stderr_tail()
    finally:
        if driver is not None:
            driver.close()
        server.stop()
        result.seconds = time.monotonic() - start
        if result.verdict is Verdict.ERROR and not result.stderr_tail:
            result.stderr_tail = server.stderr_tail()
        server.close()
    return result


def _measure(server: Server, driver: Driver, sampler: Sampler, result: TrialResult,
             settings: Settings, progress: Callable[[str], None], control: int | None) -> None:
    _load_rounds(server, driver, sampler, result, settings, progress, control)
    if control is not None and server.exit_code() is None:
        try:
            result.inspect = inspector.ask(control, "diff")
            result.inspect.pop("ok", None)
        except inspector.InspectError as exc:
            result.inspect = {"error": str(exc)}


def _load_rounds(server: Server, driver: Driver, sampler: Sampler, result: TrialResult,
                 settings: Settings, progress: Callable[[str], None],
                 control: int | None) -> None:
    load = settings.load
    baseline_taken = False
    deadline = time.monotonic() + load.max_seconds
    total = load.warmup + load.max_requests
    result.samples.append(sampler.sample(0))
    served = 0
    while served < total:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            result.cut_short = _time_limit(load.max_seconds, served)
            break
        chunk = min(load.sample_every, total - served)
        done = driver.run(chunk, remaining)
        result.load.add(done)
        served += done.sent
        server.check_alive()
        bad = done.failures + done.unexpected
        if bad > tolerated(done.sent):
            raise ServerError(
                f"{done.failures} connection failures and {done.unexpected} unexpected answers "
                f"({done.server_errors} 5xx) in {done.sent} requests"
                + (f" (last failure: {done.last_failure})" if done.last_failure else "")
            )
        result.samples.append(sampler.sample(served))
        result.requests = served
        result.phases["load"] = result.phases.get("load", 0.0) + done.seconds
        measured = served - load.warmup
        # The baseline (type counts; tracemalloc starts) at the end of the warm-up: the
        # inspected window is the measured load alone (bisect_leak/inspection.py).
        if control is not None and not baseline_taken and measured >= 0:
            try:
                inspector.ask(control, "baseline")
            except inspector.InspectError as exc:
                result.inspect = {"error": str(exc)}
                control = None
            baseline_taken = True
        progress(f"{result.version}: {served:,}/{total:,} requests"
                 f" ({'warm-up' if measured < 0 else 'measuring'})")
        if measured >= load.requests:
            began = time.monotonic()
            assessment = judge(result.samples, settings, final=False)
            result.phases["classify"] = result.phases.get("classify", 0.0) + (
                time.monotonic() - began)
            if not assessment.more_would_help:
                result.assessment, result.verdict = assessment, assessment.verdict
                return
        if done.sent < chunk:  # the deadline cut the round short
            result.cut_short = _time_limit(load.max_seconds, served)
            break
        if served >= total:  # the planned end: past it only as far as load.extend_to allows
            total += _extension(judge(result.samples, settings, final=True), load, served)
    assessment = judge(result.samples, settings, final=True)
    if result.cut_short and assessment.verdict is Verdict.INCONCLUSIVE:
        assessment = replace(assessment, reason=f"{result.cut_short}: {assessment.reason}")
    result.assessment, result.verdict = assessment, assessment.verdict


def _extension(assessment: Assessment, load: Load, served: int) -> int:
    """Requests past the planned end when the rule says about how many more might decide
    and the scenario's ``extend_to`` allows them (0: stop here)."""
    cap = load.warmup + load.extend_to
    if (assessment.verdict is not Verdict.INCONCLUSIVE or not assessment.more_requests
            or served >= cap):
        return 0
    every = load.sample_every
    return min(-(-assessment.more_requests // every) * every, cap - served)


def _time_limit(seconds: float, served: int) -> str:
    return (f"the time limit ended the load at {served:,} requests (max_seconds {seconds:g}: "
            "a slower server needs a larger one)")


def _death_reason(message: str, server: Server, result: TrialResult) -> str:
    code = server.exit_code()
    reason = message
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        reason += f" (killed by {name}{'; out of memory?' if name == 'SIGKILL' else ''})"
    if len(result.samples) >= 2:
        first, last = result.samples[0], result.samples[-1]
        grown = (last.rss - first.rss) / 2**20
        if grown > 0:
            reason += (f"; it had grown {grown:+.1f} MiB RSS over {last.requests:,} requests "
                       "before that: evidence, but not a verdict")
    return reason
