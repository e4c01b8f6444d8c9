"""The bounds compared on every signal (``judge/bounds.py``): what is named when there is no
leak to bisect on the chosen metric, and what is noise."""

from __future__ import annotations

import random

from bisect_leak.judge.bounds import compare_bounds
from bisect_leak.judge.classify import Guards
from bisect_leak.judge.verdict import Sample

WARMUP, EVERY, MEASURED = 10_000, 1_000, 60_000
GUARDS = Guards.for_first_look(30_000)


def series(kib_per_1k: float, seed: int, *, noise_kib: float = 300.0) -> list[Sample]:
    """Anonymous memory rising at ``kib_per_1k`` after warm-up, with uniform noise."""
    rng = random.Random(seed)
    out = []
    for r in range(0, WARMUP + MEASURED + 1, EVERY):
        kib = 50 * 1024 + max(r - WARMUP, 0) / 1000 * kib_per_1k + rng.uniform(0, noise_kib)
        anon = int(kib * 1024)
        out.append(Sample(r, r / 1000, anon, anon, 7, 12, anon))
    return out


def test_two_small_slopes_inside_the_rules_ranges_are_not_a_signal():
    """Two stable bounds whose slopes differ by a few KiB/1k under MiB-sized noise (the
    seed under `middleware`: +1.2 against +3.7, the latter's range +0.0..+20.0) are not a
    growth signal to bisect: the rule's own ranges overlap, however narrow a raw rank
    interval of each floor would be."""
    for seed in range(20):
        diffs = compare_bounds(series(1.2, seed, noise_kib=3000),
                               series(3.7, seed + 100, noise_kib=3000), warmup=WARMUP,
                               guards=GUARDS)
        assert "growth" not in {d.signal for d in diffs}, (seed, diffs)


def test_a_clear_growth_difference_is_named_with_the_flags_to_bisect_it():
    diffs = {d.signal: d for d in compare_bounds(series(0.0, 1), series(60.0, 2),
                                                 warmup=WARMUP, guards=GUARDS)}
    growth = diffs["growth"]
    assert growth.good < 5 and 45 < growth.bad < 80
    assert growth.command == f"--metric growth --threshold {round((growth.good + growth.bad) / 2)}"
