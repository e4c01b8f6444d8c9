"""Tests for the pure classifier in bisect_leak.classify, on synthetic sample series."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bisect_leak.classify import (
    MIN_SAMPLES,
    classify_fds,
    classify_growth,
    classify_held,
    theil_sen,
)
from bisect_leak.verdict import Sample, Signal, Verdict

WARMUP = 2000
EVERY = 500
THRESHOLD = 25.0  # KiB per 1,000 requests
BASE = 40 * 1024 * 1024  # bytes of USS before any growth
RSS_EXTRA = 12 * 1024 * 1024  # RSS sits above USS (shared pages)
KIB = 1024
MIB = 1024 * 1024


def series(
    kib_at: Callable[[int], float],
    *,
    upto: int = 10_000,
    noise_kib: float = 0.0,
    seed: int = 0,
    fds_at: Callable[[int], int] = lambda r: 20,
) -> list[Sample]:
    """Samples every EVERY requests from 0 to ``upto``; memory in bytes, USS and RSS alike."""
    rng = random.Random(seed)
    out = []
    for requests in range(0, upto + 1, EVERY):
        kib = kib_at(requests) + (rng.uniform(-noise_kib, noise_kib) if noise_kib else 0.0)
        uss = int(BASE + kib * KIB)
        out.append(Sample(requests, requests / 1000, uss + RSS_EXTRA, uss, 4, fds_at(requests)))
    return out


def from_values(kib: Sequence[float]) -> list[Sample]:
    """Post-warm-up samples (the first at WARMUP) with the given USS values in KiB."""
    out = []
    for i, value in enumerate(kib):
        requests = WARMUP + i * EVERY
        uss = int(BASE + value * KIB)
        out.append(Sample(requests, requests / 1000, uss + RSS_EXTRA, uss, 4, 20))
    return out


def growth(samples: Sequence[Sample], final: bool = False):
    return classify_growth(samples, warmup=WARMUP, threshold=THRESHOLD, final=final)


# --- classify_growth --------------------------------------------------------------------


def test_flat_series_with_noise_is_stable():
    result = growth(series(lambda r: 0.0, noise_kib=4.0, seed=1))
    assert result.verdict is Verdict.STABLE
    assert result.signal is Signal.GROWTH
    assert abs(result.growth_kib_per_1k) < THRESHOLD
    assert result.low <= result.growth_kib_per_1k <= result.high
    assert result.more_would_help is False
    assert "flat" in result.reason
    assert result.reason.startswith("flat below 25 KiB/1k: USS")


def test_linear_leak_of_one_kib_per_request_is_leaking():
    # 1 KiB per request is 1,000 KiB per 1,000 requests.
    result = growth(series(lambda r: float(r), upto=12_000))
    assert result.verdict is Verdict.LEAKING
    assert result.growth_kib_per_1k == pytest.approx(1000, rel=0.01)
    assert result.late_kib_per_1k == pytest.approx(1000, rel=0.01)
    assert result.low > THRESHOLD
    assert "keeps growing" in result.reason


def test_linear_leak_of_1024_kib_per_1k_requests_is_leaking():
    result = growth(series(lambda r: r * 1.024, noise_kib=8.0, seed=3))
    assert result.verdict is Verdict.LEAKING
    assert result.growth_kib_per_1k == pytest.approx(1024, rel=0.02)


def test_fill_then_plateau_is_stable():
    # Rises 1 KiB per request until 5,000 requests, then flat until 10,000.
    result = growth(series(lambda r: float(min(r, 5000))))
    assert result.verdict is Verdict.STABLE
    assert result.late_kib_per_1k == pytest.approx(0, abs=1)
    assert result.high >= result.growth_kib_per_1k > THRESHOLD  # the whole run did rise
    assert "flat" in result.reason or "filled" in result.reason


def test_fill_that_dominates_the_run_is_reported_as_filled():
    # The rise covers most of the run (whole slope clearly above), the late half is flat.
    result = growth(series(lambda r: float(min(r, 6000))))
    assert result.verdict is Verdict.STABLE
    assert result.low > THRESHOLD
    assert result.reason.startswith("filled, then flat in the late half")


def test_slow_leak_near_threshold_is_inconclusive_and_asks_for_more():
    samples = series(lambda r: r * THRESHOLD / 1000, noise_kib=20.0, seed=0)
    result = growth(samples, final=False)
    assert result.verdict is Verdict.INCONCLUSIVE
    assert result.more_would_help is True
    assert result.low <= THRESHOLD <= result.high
    assert "undecided so far" in result.reason


def test_slow_leak_near_threshold_final_is_inconclusive_without_asking():
    samples = series(lambda r: r * THRESHOLD / 1000, noise_kib=20.0, seed=0)
    result = growth(samples, final=True)
    assert result.verdict is Verdict.INCONCLUSIVE
    assert result.more_would_help is False
    assert "undecided against 25 KiB/1k" in result.reason


@pytest.mark.parametrize("final", [False, True])
def test_too_few_samples_after_warmup_is_inconclusive(final):
    samples = series(lambda r: float(r), upto=5000)  # 2,000..5,000: 7 samples
    post = [s for s in samples if s.requests >= WARMUP]
    assert len(post) == MIN_SAMPLES - 1
    result = growth(samples, final=final)
    assert result.verdict is Verdict.INCONCLUSIVE
    assert result.more_would_help is (not final)
    assert result.growth_kib_per_1k is None
    assert result.interval_half_width is None
    assert f"only {MIN_SAMPLES - 1} samples after warm-up" in result.reason


def test_samples_before_warmup_are_ignored():
    # A huge rise during warm-up, then flat: only post-warm-up samples count.
    result = growth(series(lambda r: 100_000.0 if r >= WARMUP else r * 10.0))
    assert result.verdict is Verdict.STABLE
    assert "2,000–10,000 requests" in result.reason


def test_missing_uss_falls_back_to_rss():
    # USS stays flat, RSS grows 1 KiB per request; one sample cannot tell its USS.
    samples = []
    for requests in range(0, 10_001, EVERY):
        uss = None if requests == 6000 else BASE
        rss = BASE + RSS_EXTRA + requests * KIB
        samples.append(Sample(requests, requests / 1000, rss, uss, 4, 20))
    result = growth(samples)
    assert "RSS" in result.reason
    assert "USS" not in result.reason
    assert result.verdict is Verdict.LEAKING
    assert result.growth_kib_per_1k == pytest.approx(1000)


def test_uss_is_used_when_every_sample_has_it():
    # Same RSS growth, but USS is known everywhere and flat: USS decides.
    samples = [
        Sample(r, r / 1000, BASE + RSS_EXTRA + r * KIB, BASE, 4, 20)
        for r in range(0, 10_001, EVERY)
    ]
    result = growth(samples)
    assert "USS" in result.reason
    assert result.verdict is Verdict.STABLE


@pytest.mark.parametrize("threshold", [0.0, -1.0, -25.0])
def test_non_positive_threshold_raises(threshold):
    with pytest.raises(ValueError, match="threshold"):
        classify_growth(series(lambda r: 0.0), warmup=WARMUP, threshold=threshold)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(16, 40),
    slope_factor=st.floats(4.0, 200.0),
    noise_fraction=st.floats(0.0, 1.0),
    data=st.data(),
)
def test_property_steep_slope_with_bounded_noise_is_leaking(n, slope_factor, noise_fraction, data):
    slope = slope_factor * THRESHOLD  # KiB per 1k requests, at least 4x the threshold
    # Amplitude at most slope/8 KiB: far below slope * span (span >= 7.5k requests), and
    # small enough that even adjacent samples keep a pairwise slope above the threshold.
    amplitude = noise_fraction * slope / 8
    noise = data.draw(
        st.lists(st.floats(-amplitude, amplitude), min_size=n, max_size=n), label="noise"
    )
    values = [slope * (i * EVERY / 1000) + e for i, e in enumerate(noise)]
    result = growth(from_values(values))
    assert result.verdict is Verdict.LEAKING
    assert result.low > THRESHOLD


@settings(max_examples=60, deadline=None)
@given(
    noise=st.integers(16, 40).flatmap(
        lambda n: st.lists(st.floats(-8.0, 8.0), min_size=n, max_size=n)
    ),
    final=st.booleans(),
)
def test_property_flat_with_small_noise_is_never_leaking(noise, final):
    result = growth(from_values(noise), final=final)
    assert result.verdict is not Verdict.LEAKING


# --- theil_sen --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slope", "intercept", "n"),
    [(2.0, 1.0, 2), (2.0, 1.0, 4), (-3.5, 10.0, 9), (0.0, 7.0, 12), (1024.0, -5.0, 20)],
)
def test_theil_sen_on_exact_line(slope, intercept, n):
    xs = [0.5 * i for i in range(n)]
    ys = [intercept + slope * x for x in xs]
    result = theil_sen(xs, ys)
    assert result.value == pytest.approx(slope)
    assert result.low <= slope + 1e-9
    assert result.high >= slope - 1e-9


@given(
    slope=st.floats(-1e4, 1e4),
    intercept=st.floats(-1e4, 1e4),
    n=st.integers(2, 25),
)
def test_theil_sen_property_exact_line(slope, intercept, n):
    xs = [float(i) for i in range(n)]
    ys = [intercept + slope * x for x in xs]
    result = theil_sen(xs, ys)
    assert result.value == pytest.approx(slope, abs=1e-6)
    assert result.low - 1e-6 <= slope <= result.high + 1e-6


def test_theil_sen_interval_brackets_median_with_noise():
    rng = random.Random(7)
    xs = [float(i) for i in range(30)]
    ys = [3.0 * x + rng.uniform(-5, 5) for x in xs]
    result = theil_sen(xs, ys)
    assert result.low <= result.value <= result.high
    assert result.low < 3.0 < result.high


def test_theil_sen_ignores_pairs_with_equal_x():
    result = theil_sen([0.0, 0.0, 1.0, 2.0], [0.0, 5.0, 2.0, 4.0])
    assert result.low <= result.value <= result.high


@pytest.mark.parametrize(
    ("xs", "ys"),
    [([], []), ([1.0], [2.0]), ([1.0, 2.0], [1.0]), ([1.0, 1.0, 1.0], [1.0, 2.0, 3.0])],
)
def test_theil_sen_rejects_too_few_or_degenerate_points(xs, ys):
    with pytest.raises(ValueError):
        theil_sen(xs, ys)


# --- classify_fds -----------------------------------------------------------------------


def test_fds_rising_is_leaking():
    samples = series(lambda r: 0.0, fds_at=lambda r: 20 + (r * 300) // 1000)
    result = classify_fds(samples, warmup=WARMUP)
    assert result.verdict is Verdict.LEAKING
    assert result.signal is Signal.FDS
    assert result.growth_kib_per_1k == pytest.approx(300)
    assert "descriptors keep rising" in result.reason


def test_fds_constant_is_stable():
    result = classify_fds(series(lambda r: float(r)), warmup=WARMUP)  # memory leak, fds flat
    assert result.verdict is Verdict.STABLE
    assert result.signal is Signal.FDS
    assert result.growth_kib_per_1k == 0


def test_fds_too_few_samples_is_inconclusive():
    result = classify_fds(series(lambda r: 0.0, upto=4000), warmup=WARMUP, final=True)
    assert result.verdict is Verdict.INCONCLUSIVE
    assert result.more_would_help is False


# --- classify_held ----------------------------------------------------------------------


def test_held_20_mib_above_reference_is_leaking():
    reference = series(lambda r: 0.0, noise_kib=200.0, seed=11)
    samples = series(lambda r: 20 * 1024.0, noise_kib=200.0, seed=12)
    result = classify_held(samples, reference, warmup=WARMUP, threshold_mib=5.0)
    assert result.verdict is Verdict.LEAKING
    assert result.signal is Signal.HELD
    assert result.growth_kib_per_1k == pytest.approx(20, abs=0.5)  # MiB held, in this signal
    assert result.low > 5.0


def test_held_equal_to_reference_is_stable():
    reference = series(lambda r: 0.0, noise_kib=200.0, seed=11)
    samples = series(lambda r: 0.0, noise_kib=200.0, seed=12)
    result = classify_held(samples, reference, warmup=WARMUP, threshold_mib=5.0)
    assert result.verdict is Verdict.STABLE
    assert abs(result.growth_kib_per_1k) < 1.0
    assert result.high < 5.0


def test_held_near_threshold_is_inconclusive():
    reference = series(lambda r: 0.0)
    samples = series(lambda r: 5 * 1024.0, noise_kib=1024.0, seed=5)
    result = classify_held(samples, reference, warmup=WARMUP, threshold_mib=5.0)
    assert result.verdict is Verdict.INCONCLUSIVE


def test_held_with_too_few_samples_is_inconclusive():
    reference = series(lambda r: 0.0, upto=4000)
    samples = series(lambda r: 20 * 1024.0)
    result = classify_held(samples, reference, warmup=WARMUP, threshold_mib=5.0)
    assert result.verdict is Verdict.INCONCLUSIVE
    assert result.growth_kib_per_1k is None


def test_held_is_measured_in_mib():
    # 20 MiB extra held reads as 20, not 20 * 1024.
    reference = [Sample(r, r / 1000, BASE, BASE, 4, 20) for r in range(0, 10_001, EVERY)]
    samples = [Sample(r, r / 1000, BASE, BASE + 20 * MIB, 4, 20) for r in range(0, 10_001, EVERY)]
    result = classify_held(samples, reference, warmup=WARMUP, threshold_mib=5.0)
    assert result.growth_kib_per_1k == pytest.approx(20)
    assert result.verdict is Verdict.LEAKING
