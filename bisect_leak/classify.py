"""Samples in, verdict out. Pure: no I/O, no clock.

The growth signal is a Theil–Sen slope (KiB per 1,000 requests) over the samples after the
warm-up, with Sen's rank interval, computed twice: over the whole post-warm-up run and over
its late half alone. A leak keeps its slope in both; a cache that fills and then stays flat
has a late half whose interval sits below the threshold.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bisect_leak.verdict import Assessment, Sample, Signal, Verdict

Z_99 = 2.576  # two-sided 99%: verdicts are looked at after every round, so ask for more
MIN_SAMPLES = 8  # post-warm-up samples before any verdict
MIN_LATE = 5
DEFAULT_THRESHOLD_KIB = 25.0  # KiB per 1,000 requests; see README "Choosing the threshold"
DEFAULT_FDS_THRESHOLD = 5.0  # descriptors per 1,000 requests
DEFAULT_HELD_THRESHOLD_KIB = 5120.0  # extra median memory held against the good bound


@dataclass(frozen=True)
class Slope:
    """A robust slope with its rank interval."""

    value: float
    low: float
    high: float


def theil_sen(xs: Sequence[float], ys: Sequence[float], z: float = Z_99) -> Slope:
    """Median of pairwise slopes, with Sen's distribution-free interval."""
    n = len(xs)
    if n < 2 or n != len(ys):
        raise ValueError("theil_sen needs two or more (x, y) points")
    slopes = sorted(
        (ys[j] - ys[i]) / (xs[j] - xs[i])
        for i in range(n)
        for j in range(i + 1, n)
        if xs[j] != xs[i]
    )
    if not slopes:
        raise ValueError("theil_sen needs distinct x values")
    count = len(slopes)
    mid = count // 2
    median = slopes[mid] if count % 2 else (slopes[mid - 1] + slopes[mid]) / 2
    spread = z * math.sqrt(n * (n - 1) * (2 * n + 5) / 18)
    lo = max(0, math.floor((count - spread) / 2))
    hi = min(count - 1, math.ceil((count + spread) / 2))
    return Slope(median, slopes[lo], slopes[hi])


def memory_figure(samples: Sequence[Sample]) -> tuple[str, list[float]]:
    """The memory classified, in KiB: anonymous resident memory (the heap) where every sample
    has it, else USS, else RSS. Anonymous memory ignores shared-library pages, which USS counts
    as "unique" whenever no other process happens to map them."""
    if all(s.anon is not None for s in samples):
        return "anon", [s.anon / 1024 for s in samples]
    if all(s.uss is not None for s in samples):
        return "USS", [s.uss / 1024 for s in samples]
    return "RSS", [s.rss / 1024 for s in samples]


def classify_growth(
    samples: Sequence[Sample],
    *,
    warmup: int,
    threshold: float = DEFAULT_THRESHOLD_KIB,
    final: bool = False,
) -> Assessment:
    """Leaking / stable / inconclusive from the memory slope after warm-up.

    ``final`` says no more requests will come: an undecided series is then inconclusive
    without asking for more.
    """
    post = [s for s in samples if s.requests >= warmup]
    figure, mem = memory_figure(post) if post else ("RSS", [])
    return _classify_slope(post, mem, Signal.GROWTH, threshold, final, what=figure,
                           unit="KiB/1k", phrases=("keeps growing above", "flat below"),
                           rate="KiB/1k requests")


def classify_fds(
    samples: Sequence[Sample],
    *,
    warmup: int,
    threshold: float = DEFAULT_FDS_THRESHOLD,
    final: bool = False,
) -> Assessment:
    """Open descriptors still rising after warm-up (connections the server never closes)."""
    post = [s for s in samples if s.requests >= warmup]
    return _classify_slope(post, [float(s.fds) for s in post], Signal.FDS, threshold, final,
                           what="descriptors", unit="/1k",
                           phrases=("descriptors keep rising above", "descriptors flat below"),
                           rate="per 1k requests")


def _classify_slope(
    post: Sequence[Sample],
    values: Sequence[float],
    signal: Signal,
    threshold: float,
    final: bool,
    *,
    what: str,
    unit: str,
    phrases: tuple[str, str],
    rate: str,
) -> Assessment:
    """The rule both slope signals share: the whole run and its late half, against a bar."""
    if threshold <= 0:
        raise ValueError("threshold must be positive")
    if len(post) < MIN_SAMPLES:
        return Assessment(
            Verdict.INCONCLUSIVE, signal, None, None, None, None,
            f"only {len(post)} samples after warm-up (need {MIN_SAMPLES})",
            more_would_help=not final,
        )
    xs = [s.requests / 1000 for s in post]
    whole = theil_sen(xs, values)
    late_start = min(len(post) // 2, len(post) - MIN_LATE)
    late = theil_sen(xs[late_start:], values[late_start:])
    span = f"{post[0].requests:,}–{post[-1].requests:,} requests"
    described = (
        f"{what} {whole.value:+.1f} {rate} over {span} "
        f"(late half {late.value:+.1f}, interval {late.low:+.1f}..{late.high:+.1f})"
    )

    def result(verdict: Verdict, why: str, more: bool = False) -> Assessment:
        return Assessment(
            verdict, signal, whole.value, whole.low, whole.high, late.value,
            f"{why}: {described}", more_would_help=more,
        )

    bar = f"{threshold:g}{unit}" if unit.startswith("/") else f"{threshold:g} {unit}"
    rising, flat = phrases
    if late.low > threshold and whole.low > threshold:
        return result(Verdict.LEAKING, f"{rising} {bar}")
    if late.high < threshold:
        if whole.value > threshold:
            return result(Verdict.STABLE, "filled, then flat in the late half")
        return result(Verdict.STABLE, f"{flat} {bar}")
    if final:
        return result(Verdict.INCONCLUSIVE, f"undecided against {bar}")
    return result(Verdict.INCONCLUSIVE, "undecided so far", more=True)


def classify_held(
    samples: Sequence[Sample],
    reference: Sequence[Sample],
    *,
    warmup: int,
    threshold_mib: float,
) -> Assessment:
    """Post-warm-up median memory against a reference run's (garbage freed late, not never)."""
    post_samples = [s for s in samples if s.requests >= warmup]
    ref_samples = [s for s in reference if s.requests >= warmup]
    figure, both = memory_figure([*post_samples, *ref_samples])  # one measure for both runs
    post, ref = both[: len(post_samples)], both[len(post_samples):]
    if len(post) < MIN_SAMPLES or len(ref) < MIN_SAMPLES:
        return Assessment(
            Verdict.INCONCLUSIVE, Signal.HELD, None, None, None, None,
            "too few samples after warm-up to compare held memory",
        )
    held = (_median(post) - _median(ref)) / 1024
    low = (_quantile(post, 0.25) - _quantile(ref, 0.75)) / 1024
    high = (_quantile(post, 0.75) - _quantile(ref, 0.25)) / 1024
    described = (
        f"median {figure} held {held:+.1f} MiB against the reference "
        f"(interquartile {low:+.1f}..{high:+.1f})"
    )
    if low > threshold_mib:
        verdict, why = Verdict.LEAKING, f"holds more than {threshold_mib:g} MiB extra"
    elif high < threshold_mib:
        verdict, why = Verdict.STABLE, f"holds less than {threshold_mib:g} MiB extra"
    else:
        verdict, why = Verdict.INCONCLUSIVE, "held memory overlaps the threshold"
    return Assessment(verdict, Signal.HELD, held, low, high, None, f"{why}: {described}")


def _median(values: Sequence[float]) -> float:
    return _quantile(values, 0.5)


def _quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)
