"""Theil–Sen slope with Sen's (1968) distribution-free interval. Pure numerics.

The interval's ranks and the tie correction are those of Sen's eq. 2.6 as scipy's
``theilslopes`` implements them (tests compare the two).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from operator import sub, truediv
from statistics import NormalDist

CONFIDENCE = 0.99  # the rank range's nominal level (not a calibrated coverage: see classify)


@dataclass(frozen=True)
class Slope:
    """A robust slope with its rank interval."""

    value: float
    low: float
    high: float


def z_for(confidence: float) -> float:
    """The two-sided normal quantile for ``confidence`` (0.99 -> 2.576)."""
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def ranks(n: int, confidence: float = CONFIDENCE) -> tuple[int, int]:
    """The 0-based ranks, among the n(n-1)/2 sorted pairwise slopes (no ties), of Sen's
    interval at ``confidence``."""
    count = n * (n - 1) // 2
    sigma = math.sqrt(n * (n - 1) * (2 * n + 5) / 18)
    z = z_for(confidence)
    return (max(round((count - z * sigma) / 2) - 1, 0),
            min(round((count + z * sigma) / 2), count - 1))


def min_points(confidence: float = CONFIDENCE) -> int:
    """The fewest points whose interval excludes the lowest and highest pairwise slopes: with
    fewer, the "interval" is the whole range of slopes (7 at 99%)."""
    n = 3
    while ranks(n, confidence)[0] < 1 or ranks(n, confidence)[1] > n * (n - 1) // 2 - 2:
        n += 1
    return n


def _tie_term(values: Sequence[float]) -> int:
    return sum(k * (k - 1) * (2 * k + 5) for k in Counter(values).values() if k > 1)


def theil_sen(xs: Sequence[float], ys: Sequence[float],
              confidence: float = CONFIDENCE, z: float | None = None) -> Slope:
    """Median of the pairwise slopes, with Sen's interval at ``confidence`` (or at the
    normal quantile ``z``, for ranges widened beyond what a confidence can express)."""
    n = len(xs)
    if n < 2 or n != len(ys):
        raise ValueError("theil_sen needs two or more (x, y) points")
    slopes = sorted(_pairwise(xs, ys))
    if not slopes:
        raise ValueError("theil_sen needs distinct x values")
    count = len(slopes)
    mid = count // 2
    median = slopes[mid] if count % 2 else (slopes[mid - 1] + slopes[mid]) / 2
    variance = (n * (n - 1) * (2 * n + 5) - _tie_term(xs) - _tie_term(ys)) / 18
    sigma = math.sqrt(max(variance, 0.0))
    z = z_for(confidence) if z is None else z
    upper = min(round((count + z * sigma) / 2), count - 1)
    lower = max(round((count - z * sigma) / 2) - 1, 0)
    return Slope(median, slopes[lower], slopes[upper])


def _pairwise(xs: Sequence[float], ys: Sequence[float]) -> list[float]:
    """Every slope (ys[j] - ys[i]) / (xs[j] - xs[i]) with xs[j] > xs[i]; by lag when xs
    strictly increase (the usual case: C-level maps, one per lag)."""
    n = len(xs)
    if any(b <= a for a, b in zip(xs, xs[1:])):  # ties or out of order: every pair
        return [(ys[j] - ys[i]) / (xs[j] - xs[i])
                for i in range(n) for j in range(n) if xs[j] > xs[i]]
    out: list[float] = []
    for d in range(1, n):
        out.extend(map(truediv, map(sub, ys[d:], ys), map(sub, xs[d:], xs)))
    return out
