"""A generative model of server memory with a known truth, for testing the verdict rule.

Test and bench code, not part of the wheel (``bench/`` imports it by putting ``tests/`` on
``sys.path``). Pure and seeded.

Two layers. The *zoo* (``Shape``, ``Synthetic``, ``zoo``) is the fixed grid the rule was first
tuned on. The *model* (``Window``, ``Model``, ``generate``) draws random compositions of
leaks, fills, caches, one-off gains and releases, staircases, wandering and heavy-tailed noise,
each with its truth *for the window observed* (``Model.truth``).

Wandering is zero-drift, but its *realized* path is what the window shows, so the truth reads
it as one-off gains and releases (``wandered``, from the path the sampler records, never from
a verdict): a wander that rose by at least ``threshold x hold`` over the last ``hold`` (it grew
at the threshold through the stretch a leak is judged on, as a leak would) makes a bounded
truth *ambiguous*; its fall over the last ``flat`` counts as memory given back there, as a
release does, so a leak or a staircase whose realized net growth (its rate less that fall per
request) is under 1.5x the threshold is *ambiguous*, not leaking or stepping. Tested by
``test_memmodel_wander_truth_reads_the_realized_path_as_gains_and_releases``.

The zoo: Each shape is the memory a server would show after its warm-up, as a sum of
parts: kept memory (linear leaks, staircases) and memory that is bounded or given back
(sawtooth caches, saturating fills, one-off steps, random walks, garbage spikes, page noise).
``Synthetic`` turns a shape into the samples a trial would take, request by request.
"""

from __future__ import annotations

import enum
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Union

from bisect_leak.judge.verdict import Sample

BASE = 60 * 1024 * 1024  # bytes of anonymous memory before any growth
STARTUP_KIB = 2048.0  # grown during the warm-up, then done
PAGE_KIB = 4.0


@dataclass(frozen=True)
class Linear:
    kib_per_1k: float

    def at(self, k: float) -> float:
        return self.kib_per_1k * k


@dataclass(frozen=True)
class Staircase:
    step_kib: float
    period_k: float
    phase: float = 0.0  # 0..1 of a period before the first step

    def at(self, k: float) -> float:
        return self.step_kib * math.floor(k / self.period_k + self.phase)

    @property
    def kib_per_1k(self) -> float:
        return self.step_kib / self.period_k


@dataclass(frozen=True)
class Sawtooth:
    kib_per_1k: float  # how fast the cache grows
    period_k: float  # cleared this often
    phase: float = 0.0

    def at(self, k: float) -> float:
        return self.kib_per_1k * self.period_k * ((k / self.period_k + self.phase) % 1.0)


@dataclass(frozen=True)
class Fill:
    amplitude_kib: float
    tau_k: float

    def at(self, k: float) -> float:
        return self.amplitude_kib * (1 - math.exp(-k / self.tau_k))


@dataclass(frozen=True)
class Step:
    size_kib: float
    at_k: float

    def at(self, k: float) -> float:
        return self.size_kib if k >= self.at_k else 0.0


Part = Union[Linear, Staircase, Sawtooth, Fill, Step]


@dataclass(frozen=True)
class Shape:
    """A post-warm-up memory series and its truth."""

    name: str
    parts: tuple[Part, ...] = ()
    noise_kib: float = 16.0  # uniform, then rounded to pages
    walk_kib: float = 0.0  # random walk step (standard deviation) per 1,000 requests
    spike_kib: float = 0.0  # garbage that comes and goes
    spike_chance: float = 0.0
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def leak_kib_per_1k(self) -> float:
        """The truth: memory kept per 1,000 requests (0 for a bounded shape)."""
        return sum(p.kib_per_1k for p in self.parts if isinstance(p, (Linear, Staircase)))

    @property
    def bounded(self) -> bool:
        return self.leak_kib_per_1k == 0 and self.walk_kib == 0

    def kib(self, k: float) -> float:
        return sum(p.at(k) for p in self.parts)


class Synthetic:
    """Samples of a shape as a trial would take them: call in the order requests are served."""

    def __init__(self, shape: Shape, *, warmup: int, seed: int = 0):
        self.shape = shape
        self.warmup = warmup
        self.rng = random.Random(seed)
        self.walk = 0.0
        self.last_k = 0.0

    def kib(self, requests: int) -> float:
        k = (requests - self.warmup) / 1000
        if k < 0:  # start-up growth, done by the end of the warm-up
            return STARTUP_KIB * (1 - (k * 1000 / self.warmup) ** 2) if self.warmup else 0.0
        shape, rng = self.shape, self.rng
        if shape.walk_kib:
            self.walk += rng.gauss(0, shape.walk_kib * math.sqrt(max(k - self.last_k, 0.0)))
        self.last_k = k
        value = STARTUP_KIB + shape.kib(k) + self.walk + rng.uniform(-1, 1) * shape.noise_kib
        if shape.spike_chance and rng.random() < shape.spike_chance:
            value += shape.spike_kib * rng.uniform(0.5, 1.0)
        return round(value / PAGE_KIB) * PAGE_KIB

    def sample(self, requests: int) -> Sample:
        anon = BASE + int(self.kib(requests) * 1024)
        return Sample(requests=requests, seconds=requests / 5000, rss=anon + 20 * 2**20,
                      uss=anon + 2**20, threads=2, fds=12, anon=anon)


def series(shape: Shape, *, warmup: int, every: int, upto: int, seed: int = 0) -> list[Sample]:
    """Samples every ``every`` requests from 0 to ``warmup + upto``."""
    synthetic = Synthetic(shape, warmup=warmup, seed=seed)
    return [synthetic.sample(r) for r in range(0, warmup + upto + 1, every)]


def zoo(threshold: float = 25.0, *, longest_k: float = 120.0) -> list[Shape]:
    """A grid over every family at the hello defaults' scale (threshold in KiB/1k)."""
    shapes: list[Shape] = []
    for b_per_request in (30, 45, 60, 100, 256, 512, 2048):
        rate = b_per_request * 1000 / 1024
        for noise in (16.0, 128.0):
            shapes.append(Shape(f"linear {b_per_request} B/request, noise {noise:g}",
                                (Linear(rate),), noise_kib=noise))
    for times in (2.0, 4.0, 10.0):
        for period in (5, 10, 20, 24, 35, 50):
            for phase in (0.05, 0.5, 0.95):
                rate = times * threshold
                shapes.append(Shape(
                    f"staircase {times:g}x every {period}k phase {phase}",
                    (Staircase(rate * period, period, phase),)))
    for slope in (50.0, 200.0, 400.0):
        for period in (20, 25, 30):
            for phase in (0.0, 0.3, 0.7):
                shapes.append(Shape(f"sawtooth {slope:g}/1k cleared every {period}k ph {phase}",
                                    (Sawtooth(slope, period, phase),)))
    for amplitude in (1024.0, 5120.0, 20480.0):
        for tau in (5, 20, 40, 80):
            shapes.append(Shape(f"fill {amplitude / 1024:g} MiB tau {tau}k",
                                (Fill(amplitude, tau),)))
    for size in (512.0, 4096.0, 20480.0):
        for at in (5, 25, 45, 70, 100):
            shapes.append(Shape(f"one-off step {size / 1024:g} MiB at {at}k", (Step(size, at),)))
    for walk in (2.0, 10.0, 30.0):
        shapes.append(Shape(f"random walk {walk:g}/1k", walk_kib=walk))
    for spike in (512.0, 4096.0):
        for chance in (0.05, 0.2):
            shapes.append(Shape(f"flat, spikes {spike / 1024:g} MiB at {chance}",
                                spike_kib=spike, spike_chance=chance))
    for noise in (4.0, 64.0, 256.0):
        shapes.append(Shape(f"flat, page noise {noise:g}", noise_kib=noise))
    for times in (2.0, 10.0):
        shapes.append(Shape(f"leak {times:g}x under a sawtooth cache",
                            (Linear(times * threshold), Sawtooth(200.0, 25, 0.4))))
        shapes.append(Shape(f"leak {times:g}x with spikes", (Linear(times * threshold),),
                            spike_kib=2048.0, spike_chance=0.1))
    return shapes


# --- the generative model ------------------------------------------------------------------


class Truth(str, enum.Enum):
    """What a correct verdict is for the window observed."""

    LEAKING = "leaking"  # something grew at >= 1.5x the threshold through the last ``hold``
    BOUNDED = "bounded"  # everything finished growing at least ``flat`` before the end
    STEPPING = "stepping"  # a leak stepping up more rarely than every hold/2: never stable
    AMBIGUOUS = "ambiguous"  # either verdict, or inconclusive, is acceptable


@dataclass(frozen=True)
class Window:
    """The settings a series is observed under (a scenario's ``[load]`` and threshold)."""

    name: str
    warmup: int
    first: int  # requests after warm-up before the first verdict
    max_requests: int
    every: int
    threshold: float  # per 1k requests, in the series' unit
    fds: bool = False  # the series is open descriptors (integers), not memory

    @property
    def hold_k(self) -> float:  # the guards the rule scales from the first look
        return self.first / 1000

    @property
    def flat_k(self) -> float:
        return self.first * 5 // 3 / 1000

    @property
    def length_k(self) -> float:
        return self.max_requests / 1000


WINDOWS = (
    Window("hello", 20_000, 30_000, 120_000, 1_000, 25.0),
    Window("20k/80k every 500", 5_000, 20_000, 80_000, 500, 25.0),
    Window("fds hello", 20_000, 30_000, 120_000, 1_000, 5.0, fds=True),
    Window("fds 2k/4k every 200", 1_000, 2_000, 4_000, 200, 5.0, fds=True),
)


@dataclass(frozen=True)
class Curve:
    """Kept memory along a smooth path: ``ramp`` (linear from start to stop; no stop is a
    leak), ``exp`` (exponential fill) or ``logistic`` (S-shaped fill)."""

    kind: str
    size: float  # ramp: rate per 1k; fills: amplitude
    start: float = 0.0  # k requests after warm-up
    stop: float = math.inf  # ramp: where it stops; exp: time constant; logistic: width
    mid: float = 0.0  # logistic: the midpoint

    def at(self, k: float) -> float:
        if self.kind == "ramp":
            return self.size * min(max(k - self.start, 0.0), self.stop - self.start)
        if self.kind == "exp":
            return self.size * (1 - math.exp(-max(k - self.start, 0.0) / self.stop))
        return self.size / (1 + math.exp(-(k - self.mid) / self.stop))


@dataclass(frozen=True)
class Stairs:
    step: float
    period: float
    start: float = 0.0  # the first step

    def at(self, k: float) -> float:
        return self.step * (math.floor((k - self.start) / self.period) + 1) if k >= self.start \
            else 0.0

    @property
    def rate(self) -> float:
        return self.step / self.period


@dataclass(frozen=True)
class Cache:
    """Grows at ``rate`` up to ``cap`` and is emptied at each of ``clears``."""

    rate: float
    clears: tuple[float, ...]
    cap: float = math.inf
    origin: float = 0.0  # the last clear before the window (<= 0)

    def last_clear(self, k: float) -> float:
        return max([c for c in self.clears if c <= k], default=self.origin)

    def at(self, k: float) -> float:
        return min(self.rate * (k - self.last_clear(k)), self.cap)


@dataclass(frozen=True)
class Jump:
    """A one-off gain (``size`` > 0) or release (< 0) at ``at``."""

    size: float
    at: float

    def at_k(self, k: float) -> float:
        return self.size if k >= self.at else 0.0


Component = Union[Curve, Stairs, Cache, Jump]


@dataclass(frozen=True)
class Noise:
    scale: float = 16.0
    kind: str = "uniform"  # uniform, gauss or t (Student, ``df``)
    df: float = 3.0
    dip_chance: float = 0.0  # low samples: a buffer freed, a trim, regrown within 1-2 samples
    dip: float = 0.0
    spike_chance: float = 0.0  # garbage that comes and goes
    spike: float = 0.0
    wander: float = 0.0  # zero-drift Ornstein-Uhlenbeck wandering: standard deviation
    wander_k: float = 20.0  # and its time constant, k requests


@dataclass(frozen=True)
class Model:
    family: str
    parts: tuple[Component, ...]
    noise: Noise
    window: Window

    def kept(self, k: float) -> float:
        return sum(p.at_k(k) if isinstance(p, Jump) else p.at(k) for p in self.parts)

    def truth(self, end_k: float, wander: Sequence[tuple[float, float]] = ()) -> Truth:
        """The truth for the window ending ``end_k`` k requests after warm-up; ``wander`` is
        the realized wandering path ``(k, KiB)`` at the samples (``ModelSampler.path``), read
        as one-off gains and releases (see ``wandered``)."""
        w = self.window
        growing, ambiguous, stepping = 0.0, False, 0.0
        for part in self.parts:
            kind, rate = _judge(part, end_k, w)
            growing += rate if kind == "growing" else 0.0
            ambiguous |= kind == "ambiguous"
            stepping += rate if kind == "stepping" else 0.0
        gained, fell = wandered(wander, end_k, w)
        ambiguous |= gained >= w.threshold * w.hold_k  # it grew at the threshold: not done
        given = fell + sum(-p.size for p in self.parts if isinstance(p, Jump) and p.size < 0
                           and end_k - w.flat_k < p.at <= end_k)
        if growing - given / w.flat_k >= 1.5 * w.threshold:  # net growth through the end
            return Truth.LEAKING
        ambiguous |= growing >= 1.5 * w.threshold
        if stepping and stepping + growing - given / w.flat_k >= 1.5 * w.threshold:
            return Truth.STEPPING
        ambiguous |= stepping > 0
        if ambiguous or growing >= 0.5 * w.threshold:
            return Truth.AMBIGUOUS
        return Truth.BOUNDED


def wandered(path: Sequence[tuple[float, float]], end: float, w: Window) -> tuple[float, float]:
    """What the realized wandering did by the window's end: (its rise over the last ``hold``,
    its fall over the last ``flat``), each >= 0, read at the samples nearest those points."""
    if not path:
        return 0.0, 0.0
    at = {k: v for k, v in path if k <= end + 1e-9}
    if not at:
        return 0.0, 0.0

    def value(k: float) -> float:
        return at[min(at, key=lambda x: abs(x - k))]

    now = value(end)
    return max(now - value(end - w.hold_k), 0.0), max(value(end - w.flat_k) - now, 0.0)


def _judge(part: Component, end: float, w: Window) -> tuple[str, float]:
    """("growing", rate) through the last ``hold``, ("done", 0) at least ``flat`` before the
    end, or ("ambiguous", 0).

    Done means finished growing at least ``flat`` before the end, not only ``hold``: a part
    that rose by ``threshold x hold / 2`` or more between ``flat`` and ``hold`` before the end and
    then stayed flat shows the same window as a staircase stepping every ``flat`` (which is
    ``stepping``, where ``stable`` is wrong), so no rule can call it either way there."""
    thr, hold, flat = w.threshold, w.hold_k, w.flat_k
    if isinstance(part, Jump):
        recent = end - flat < part.at <= end and part.size >= 0.5 * thr * hold
        return ("ambiguous" if recent else "done"), 0.0
    if isinstance(part, Cache):
        full_early = part.rate * (end - flat - part.last_clear(end)) >= part.cap
        quiet = end - part.last_clear(end) <= hold or full_early
        return ("done" if quiet or part.rate < 0.5 * thr else "ambiguous"), 0.0
    if isinstance(part, Stairs):
        steps = (end - part.start) / part.period
        if part.rate >= 1.5 * thr and part.period <= w.flat_k and steps >= 2:
            return ("growing" if part.period <= hold / 2 else "stepping"), part.rate
        return ("ambiguous" if part.rate >= 0.5 * thr and end >= part.start else "done"), 0.0
    cuts = [end - hold + hold * i / 5 for i in range(6)]
    rates = [(part.at(b) - part.at(a)) / (b - a) for a, b in zip(cuts, cuts[1:])]
    if max(rates) < 0.25 * thr:  # done, unless it last grew inside the last ``flat``
        late = part.at(end - hold) - part.at(end - flat) >= 0.5 * thr * hold
        return ("ambiguous" if late else "done"), 0.0
    if min(rates) >= 1.5 * thr or max(rates) < 0.5 * thr:
        return "growing", min(rates)
    return "ambiguous", 0.0


class ModelSampler:
    """Samples of a model as a trial would take them (the trial loop's sampler seam)."""

    def __init__(self, model: Model, seed: int = 0):
        self.model = model
        self.rng = random.Random(seed)
        self.wander = model.noise.wander * self.rng.gauss(0, 1)
        self.last_k = 0.0
        self.dip_left = 0
        self.path: list[tuple[float, float]] = []  # (k, KiB): the realized wandering

    def value(self, requests: int) -> float:
        m, n, rng = self.model, self.model.noise, self.rng
        k = (requests - m.window.warmup) / 1000
        if k < 0:
            return 0.0
        if n.wander:
            decay = math.exp(-(k - self.last_k) / n.wander_k)
            self.wander = self.wander * decay + n.wander * math.sqrt(1 - decay**2) * rng.gauss(0, 1)
        self.last_k = k
        if n.wander:
            self.path.append((k, self.wander))
        noise = {"uniform": rng.uniform(-1, 1), "gauss": rng.gauss(0, 1)}.get(
            n.kind, rng.gauss(0, 1) / math.sqrt(rng.gammavariate(n.df / 2, 2 / n.df)))
        value = m.kept(k) + self.wander + noise * n.scale
        if self.dip_left or (n.dip_chance and rng.random() < n.dip_chance):
            self.dip_left = self.dip_left - 1 if self.dip_left else rng.choice((0, 0, 1))
            value -= n.dip * rng.uniform(0.5, 1.0)
        elif n.spike_chance and rng.random() < n.spike_chance:
            value += n.spike * rng.uniform(0.5, 1.0)
        return value

    def sample(self, requests: int) -> Sample:
        value = self.value(requests)
        if self.model.window.fds:
            fds = max(3, 12 + round(value))
            return Sample(requests, requests / 5000, BASE, BASE, 2, fds, BASE)
        kib = round((STARTUP_KIB + value) / PAGE_KIB) * PAGE_KIB
        anon = BASE + int(kib * 1024)
        return Sample(requests, requests / 5000, anon + 20 * 2**20, anon + 2**20, 2, 12, anon)


FAMILIES = (
    "flat", "leak", "late leak", "leak stops", "logistic fill", "exp fill", "staircase",
    "periodic cache", "random cache", "one-off gain", "leak gives back", "leak with dips",
    "student-t", "wander", "composite",
)


def generate(seed: int, family: str | None = None, window: Window | None = None) -> Model:
    """One random model (its family and window drawn too unless given). Seeded and pure."""
    rng = random.Random(seed)
    w = window or rng.choice(WINDOWS)
    family = family or rng.choice(FAMILIES)
    parts = _parts(family, rng, w)
    noise = _noise(family, rng, w)
    return Model(family, parts, noise, w)


def _rate(rng: random.Random, w: Window, low: float = 1.5, high: float = 80.0) -> float:
    """A rate in threshold multiples, log-uniform."""
    return w.threshold * math.exp(rng.uniform(math.log(low), math.log(high)))


def _parts(family: str, rng: random.Random, w: Window) -> tuple[Component, ...]:
    L, thr, hold = w.length_k, w.threshold, w.hold_k
    u = rng.uniform
    if family in ("flat", "wander"):
        return ()
    if family in ("leak", "leak with dips", "student-t"):
        small = rng.random() < 0.2  # below the threshold: stable is the truth
        return (Curve("ramp", _rate(rng, w, 0.05, 0.4) if small else _rate(rng, w)),)
    if family == "late leak":
        return (Curve("ramp", _rate(rng, w), start=u(0.1, 0.8) * L),)
    if family == "leak stops":  # a cache or pool filled at a constant rate up to its bound
        start = u(0, 0.2) * L
        return (Curve("ramp", _rate(rng, w, 1.5, 40), start=start, stop=start + u(0.1, 0.7) * L),)
    if family == "logistic fill":
        return (Curve("logistic", u(0.5, 1.5) * thr * L, stop=u(0.02, 0.12) * L,
                      mid=u(0.1, 0.7) * L),)
    if family == "exp fill":
        return (Curve("exp", u(0.3, 1.5) * thr * L, start=u(0, 0.3) * L, stop=u(0.02, 0.3) * L),)
    if family == "staircase":
        period = u(0.03, 0.5) * L
        return (Stairs(_rate(rng, w, 1.5, 20) * period, period, u(0, 1) * period),)
    if family == "periodic cache":
        period = u(0.1, 1.0) * hold
        phase = u(0, period)
        clears = tuple(phase + i * period for i in range(int(L / period) + 2))
        return (Cache(_rate(rng, w, 1, 20), clears, origin=phase - period),)
    if family == "random cache":
        mean, t, clears = u(0.15, 0.5) * hold, 0.0, []
        while t < L + 1:
            t += rng.expovariate(1 / mean)
            clears.append(t)
        cap = math.inf if rng.random() < 0.5 else _rate(rng, w, 1, 20) * mean
        return (Cache(_rate(rng, w, 1, 20), tuple(clears), cap, origin=-u(0, mean)),)
    if family == "one-off gain":
        return tuple(Jump(u(0.5, 10) * thr * hold, u(0, 1) * L) for _ in range(rng.randint(1, 2)))
    if family == "leak gives back":
        rate = _rate(rng, w, 2, 40)
        return (Curve("ramp", rate), Jump(-u(0.2, 1.0) * rate * u(0.2, 0.6) * L, u(0.2, 0.9) * L))
    return _composite(rng, w)


def _composite(rng: random.Random, w: Window) -> tuple[Component, ...]:
    picks = rng.sample(["leak", "leak stops", "logistic fill", "exp fill", "staircase",
                        "periodic cache", "random cache", "one-off gain", "late leak"], 2)
    return tuple(p for f in picks for p in _parts(f, rng, w))


def _noise(family: str, rng: random.Random, w: Window) -> Noise:
    thr, hold = w.threshold, w.hold_k
    u = rng.uniform
    if w.fds:
        return Noise(scale=u(0, 3), kind="gauss")
    base = dict(scale=u(4, 256), kind=rng.choice(("uniform", "gauss")))
    if family == "leak with dips" or rng.random() < 0.1:
        base.update(dip_chance=u(0.01, 0.08), dip=u(10, 40) * thr * hold / 30)
    if family == "student-t":
        base.update(kind="t", df=u(1.5, 4), scale=u(16, 512))
    if family == "wander" or rng.random() < 0.05:
        base.update(wander=u(0.5, 2.0) * 1024, wander_k=u(0.1, 0.7) * hold)
    if rng.random() < 0.15:
        base.update(spike_chance=u(0.02, 0.2), spike=u(256, 4096))
    return Noise(**base)


# --- through the real trial loop -----------------------------------------------------------


class _AliveServer:
    def check_alive(self) -> None:
        pass


class _Driver:
    """Serves every request asked for."""

    def run(self, count: int, seconds: float):
        from bisect_leak.measure.load import Round
        return Round(sent=count, ok=count, seconds=count / 5000)


def trial_loop(model: Model, seed: int = 0, sampler: ModelSampler | None = None):
    """The real round-by-round loop (``trial._load_rounds``) over a model's samples: only the
    server, the driver and the sampler are replaced. Returns the TrialResult."""
    from bisect_leak.judge.verdict import Signal, Verdict
    from bisect_leak.measure import trial
    from bisect_leak.planning.scenario import Load

    w = model.window
    load = Load(warmup=w.warmup, requests=w.first, max_requests=w.max_requests,
                sample_every=w.every, max_seconds=1e9)
    settings = trial.Settings(load=load, metric=Signal.FDS if w.fds else Signal.GROWTH,
                              threshold=w.threshold)
    result = trial.TrialResult(version="x", verdict=Verdict.ERROR, warmup=w.warmup)
    sampler = sampler or ModelSampler(model, seed)
    trial._load_rounds(_AliveServer(), _Driver(), sampler, result, settings,
                       lambda _: None, None)
    return result


def outcome(model: Model, seed: int = 0):
    """(the TrialResult, the truth at the verdict's window)."""
    sampler = ModelSampler(model, seed)
    result = trial_loop(model, seed, sampler)
    return result, model.truth((result.requests - model.window.warmup) / 1000, sampler.path)


def judged(model: Model, seed: int = 0) -> tuple[str, Truth, int, str]:
    """(verdict, truth at the verdict's window, measured requests, reason)."""
    result, truth = outcome(model, seed)
    return result.verdict.value, truth, result.requests - model.window.warmup, result.reason


def extended(model: Model, more: int) -> Model:
    """The same model observed ``more`` requests longer (``load.max_requests`` raised)."""
    w = model.window
    return replace(model, window=replace(w, max_requests=w.max_requests + more))


def judged_seed(seed: int) -> tuple:
    """(seed, model, verdict, truth, measured, reason) for ``generate(seed)``: one picklable
    task, so a pool of processes can judge a seed set (the same rows in any order)."""
    model = generate(seed)
    return (seed, model) + judged(model, seed)


def wrong(verdict: str, truth: Truth) -> bool:
    return ((verdict == "leaking" and truth is Truth.BOUNDED)
            or (verdict == "stable" and truth in (Truth.LEAKING, Truth.STEPPING)))
