"""Two trials (the good bound and the bad) compared on every signal. Pure.

Used when the answer is "no leak to bisect" on the chosen metric: anything else that differs
between the bounds beyond its noise is named, with the flags that would bisect it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bisect_leak.judge.classify import floor, memory_figure
from bisect_leak.judge.theilsen import theil_sen
from bisect_leak.judge.verdict import Sample

MIN_POST = 8  # post-warm-up samples each trial needs to be compared


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


def compare_bounds(good: Sequence[Sample], bad: Sequence[Sample], *,
                   warmup: int) -> list[SignalDiff]:
    """Every signal that differs between the good and the bad bound beyond its noise: held
    memory (median, MiB), growth (the floor's slope, KiB/1k), threads and descriptors
    (medians). Empty when nothing does or either trial has too few samples."""
    g = [s for s in good if s.requests >= warmup]
    b = [s for s in bad if s.requests >= warmup]
    if len(g) < MIN_POST or len(b) < MIN_POST:
        return []
    found = [_held(g, b), _growth(g, b, warmup),
             _level("threads", [s.threads for s in g], [s.threads for s in b], ""),
             _level("descriptors", [s.fds for s in g], [s.fds for s in b], "--metric fds")]
    return [d for d in found if d is not None]


def _held(g: Sequence[Sample], b: Sequence[Sample]) -> SignalDiff | None:
    gm = [k / 1024 for k in memory_figure(g)[1]]
    bm = [k / 1024 for k in memory_figure(b)[1]]
    noise = max(_drift(gm), _drift(bm), _spread(gm), _spread(bm))
    diff = _median(bm) - _median(gm)
    if abs(diff) <= max(3 * noise, 0.5):
        return None
    threshold = max(512, math.floor(abs(diff) * 1024 * 0.75 / 512) * 512)
    return SignalDiff("held memory", 0.0, diff, "MiB against the good bound", noise,
                      f"--metric held --threshold {threshold}" if diff > 0 else "")


def _growth(g: Sequence[Sample], b: Sequence[Sample], warmup: int) -> SignalDiff | None:
    slopes = []
    for trial in (g, b):
        low = floor(memory_figure(trial)[1])
        slopes.append(theil_sen([(s.requests - warmup) / 1000 for s in trial[:len(low)]], low))
    sg, sb = slopes
    if sb.low <= sg.high and sg.low <= sb.high:  # the ranges overlap
        return None
    threshold = max(1, round((sg.value + sb.value) / 2))
    return SignalDiff("growth", sg.value, sb.value, "KiB/1k requests",
                      max(sg.high - sg.low, sb.high - sb.low) / 2,
                      f"--metric growth --threshold {threshold}" if sb.value > sg.value else "")


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
