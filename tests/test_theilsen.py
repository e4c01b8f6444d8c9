"""Sen's interval ranks and tie correction against scipy's theilslopes (the reference)."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.stats import theilslopes

from bisect_leak.judge.theilsen import theil_sen


def test_n10_lower_bound_matches_sen_and_gilbert():
    # The case: ranks one off gave -0.315 where Sen/Gilbert (scipy) give -0.418.
    rng = random.Random(3)
    xs = [float(i) for i in range(10)]
    ys = [rng.gauss(0, 1) for _ in xs]
    ours, ref = theil_sen(xs, ys, 0.95), theilslopes(ys, xs, 0.95)
    assert (ours.value, ours.low, ours.high) == pytest.approx(
        (ref.slope, ref.low_slope, ref.high_slope))


@settings(derandomize=True, max_examples=150, deadline=None)
@given(
    n=st.integers(4, 40),
    confidence=st.sampled_from([0.9, 0.95, 0.99]),
    ties=st.booleans(),
    seed=st.integers(0, 10_000),
)
def test_interval_matches_scipy_with_and_without_ties(n, confidence, ties, seed):
    rng = random.Random(seed)
    xs = [float(i // 2 if ties else i) for i in range(n)]  # repeated x values too
    ys = [float(rng.randint(0, 4)) if ties else rng.gauss(i, 3) for i in range(n)]
    ref = theilslopes(ys, xs, confidence)
    assume(math.isfinite(ref.low_slope))  # scipy's variance goes negative with ties this heavy
    ours = theil_sen(xs, ys, confidence)
    assert ours.value == pytest.approx(ref.slope)
    assert ours.low == pytest.approx(ref.low_slope)
    assert ours.high == pytest.approx(ref.high_slope)


def test_exact_line_gives_its_slope_and_a_degenerate_interval():
    xs = [0.5 * i for i in range(12)]
    result = theil_sen(xs, [7.0 - 3.5 * x for x in xs])
    assert result.value == pytest.approx(-3.5)
    assert result.low == pytest.approx(-3.5) and result.high == pytest.approx(-3.5)


@pytest.mark.parametrize(("xs", "ys"), [([], []), ([1.0], [2.0]), ([1.0, 2.0], [1.0]),
                                        ([1.0, 1.0, 1.0], [1.0, 2.0, 3.0])])
def test_too_few_or_degenerate_points_raise(xs, ys):
    with pytest.raises(ValueError):
        theil_sen(xs, ys)
