"""Two trials (the good bound and the bad) compared on every signal. Pure.

Used when the answer is "no leak to bisect" on the chosen metric: anything else that differs
between the bounds beyond its noise is named, with the flags that would bisect it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bisect_leak.judge.classify import Guards, classify_growth, classify_held, memory_figure
from bisect_leak.judge.verdict import Sample, Verdict

MIN_POST = 8  # post-warm-up samples each trial needs to be compared
DEFAULT_FIRST_LOOK = 30_000  # the hello scenario's, for guards not given


@dataclass(frozen=True)
class SignalDiff:
    """One signal that differs between the bounds beyond its noise."""

    signal: str  # "held memory", "growth", "threads", "descriptors"
    good: float
    bad: float
    unit: str
    noise: float  # how far the signal moves within one trial (the larger of the two)
    command: str  # the flags that would bisect it ("" where no metric bisects it)

    def describe(self) -> str:
        how = f": bisect it with {self.command}" if self.command else ""
        return (f"{self.signal} {self.good:+,.1f} → {self.bad:+,.1f} {self.unit} (noise "
                f"{self.noise:,.1f}){how}")


def compare_bounds(good: Sequence[Sample], bad: Sequence[Sample], *, warmup: int,
                   guards: Guards | None = None) -> list[SignalDiff]:
    """Every signal that differs between the good and the bad bound beyond its noise: held
    memory (median, MiB), growth (the floor's slope, KiB/1k, with the ranges the verdict
    rule gives it under ``guards``, the scenario's: a raw rank interval of a serially
    dependent floor is far too narrow to tell two slopes apart), threads and descriptors
    (medians). Empty when nothing does or either trial has too few samples."""
    g = [s for s in good if s.requests >= warmup]
    b = [s for s in bad if s.requests >= warmup]
    if len(g) < MIN_POST or len(b) < MIN_POST:
        return []
    guards = guards or Guards.for_first_look(DEFAULT_FIRST_LOOK)
    found = [_held(good, bad, warmup), _growth(good, bad, warmup, guards),
             _level("threads", [s.threads for s in g], [s.threads for s in b], ""),
             _level("descriptors", [s.fds for s in g], [s.fds for s in b], "--metric fds")]
    return [d for d in found if d is not None]


def _held(good: Sequence[Sample], bad: Sequence[Sample], warmup: int) -> SignalDiff | None:
    """Named when the medians differ by three times the noise; the command is given only
    when the held rule, at the suggested threshold, calls the bad bound leaking."""
    gm = [k / 1024 for k in memory_figure([s for s in good if s.requests >= warmup])[1]]
    bm = [k / 1024 for k in memory_figure([s for s in bad if s.requests >= warmup])[1]]
    noise = max(_drift(gm), _drift(bm), _spread(gm), _spread(bm))
    diff = _median(bm) - _median(gm)
    if abs(diff) <= max(3 * noise, 0.5):
        return None
    threshold = max(512, math.floor(abs(diff) * 1024 * 0.75 / 512) * 512)
    decides = diff > 0 and classify_held(bad, good, warmup=warmup,
                                         threshold_mib=threshold / 1024).verdict is Verdict.LEAKING
    return SignalDiff("held memory", 0.0, diff, "MiB against the good bound", noise,
                      f"--metric held --threshold {threshold}" if decides else "")


def _growth(g: Sequence[Sample], b: Sequence[Sample], warmup: int,
            guards: Guards) -> SignalDiff | None:
    """Named only when the verdict rule itself, at a threshold between the two slopes, calls
    the good bound stable and the bad one leaking: the suggested bisection can decide."""
    sg, sb = (classify_growth(t, warmup=warmup, guards=guards, final=True) for t in (g, b))
    figures = (sg.growth_kib_per_1k, sg.low, sg.high, sb.growth_kib_per_1k, sb.low, sb.high)
    if any(f is None for f in figures):
        return None
    gv, gl, gh, bv, bl, bh = figures
    if bl <= gh and gl <= bh or bv <= gv:  # the ranges overlap, or it grows less
        return None
    threshold = max(1, round((gv + bv) / 2))
    judged = [classify_growth(t, warmup=warmup, guards=guards, threshold=threshold,
                              final=True).verdict for t in (g, b)]
    if judged != [Verdict.STABLE, Verdict.LEAKING]:
        return None
    return SignalDiff("growth", gv, bv, "KiB/1k requests", max(gh - gl, bh - bl) / 2,
                      f"--metric growth --threshold {threshold}")


def _level(name: str, gv: Sequence[int], bv: Sequence[int], command: str) -> SignalDiff | None:
    if min(bv) <= max(gv) and min(gv) <= max(bv):  # the ranges overlap
        return None
    noise = max(max(gv) - min(gv), max(bv) - min(bv)) / 2
    return SignalDiff(name, _median(gv), _median(bv), "(median)", noise,
                      command if _median(bv) > _median(gv) else "")


def _drift(values: Sequence[float]) -> float:
    half = len(values) // 2
    return abs(_median(values[half:]) - _median(values[:half]))


def _spread(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return (ordered[3 * len(ordered) // 4] - ordered[len(ordered) // 4]) / 2


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    return (ordered[(n - 1) // 2] + ordered[n // 2]) / 2
