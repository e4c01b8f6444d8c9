"""A zoo of synthetic memory series with a known truth, for testing the verdict rule.

Pure and seeded. Each shape is the memory a server would show after its warm-up, as a sum of
parts: kept memory (linear leaks, staircases) and memory that is bounded or given back
(sawtooth caches, saturating fills, one-off steps, random walks, garbage spikes, page noise).
``Synthetic`` turns a shape into the samples a trial would take, request by request.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
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
