"""The pure verdict rule (bisect_leak.judge.classify) on series with a known truth."""

from __future__ import annotations

import concurrent.futures
import functools
import os
import random

import memmodel as shapes
import pytest
from memmodel import Fill, Linear, Sawtooth, Shape, Staircase, Step

from bisect_leak.judge.bounds import compare_bounds
from bisect_leak.judge.classify import (
    MIN_SAMPLES,
    Guards,
    classify_fds,
    classify_growth,
    classify_held,
    classify_reference,
    floor,
    infeasible,
)
from bisect_leak.judge.verdict import Sample, Signal, Verdict

THRESHOLD = 25.0  # KiB per 1,000 requests
WARMUP, FIRST, MAX, EVERY = 20_000, 30_000, 120_000, 1_000  # the hello defaults
GUARDS = Guards.for_first_look(FIRST)


def growth(samples, final=False):
    return classify_growth(samples, warmup=WARMUP, guards=GUARDS, threshold=THRESHOLD,
                           final=final)


def measured(shape: Shape, upto: int, seed: int = 0) -> list[Sample]:
    return shapes.series(shape, warmup=WARMUP, every=EVERY, upto=upto, seed=seed)


def first_verdict(shape: Shape, seed: int = 0):
    """The trial loop's question at every round from the first look to the last."""
    samples = measured(shape, MAX, seed)
    for end in range(WARMUP + FIRST, WARMUP + MAX + 1, EVERY):
        upto = [s for s in samples if s.requests <= end]
        result = growth(upto, final=end >= WARMUP + MAX)
        if not result.more_would_help:
            return result, end
    raise AssertionError("the last round must decide or give up")


# --- the zoo, by property -----------------------------------------------------------------


@functools.cache
def zoo_verdicts(seed: int) -> tuple[tuple[Shape, Verdict, int, str], ...]:
    out = []
    for shape in shapes.zoo(THRESHOLD):
        result, end = first_verdict(shape, seed)
        out.append((shape, result.verdict, end, result.reason))
    return tuple(out)


@pytest.mark.parametrize("seed", [0, 1])
def test_zoo_no_bounded_shape_leaks_and_no_clear_leak_is_stable(seed):
    wrong = []
    for shape, verdict, end, reason in zoo_verdicts(seed):
        if shape.bounded and verdict is Verdict.LEAKING:
            wrong.append(f"{shape.name}: leaking at {end}: {reason}")
        if shape.leak_kib_per_1k >= 2 * THRESHOLD and verdict is Verdict.STABLE:
            wrong.append(f"{shape.name}: stable at {end}: {reason}")
    assert not wrong, "\n".join(wrong)


def test_zoo_decides_what_it_can():
    """Guarding truth must not turn everything inconclusive: the clear cases are decided."""
    decided = {shape.name: verdict for shape, verdict, _, _ in zoo_verdicts(0)}
    leaks = [n for n in decided if n.startswith("linear") and "30 B" not in n]
    assert all(decided[n] is Verdict.LEAKING for n in leaks), leaks
    flats = [n for n in decided if n.startswith(("flat", "random walk", "sawtooth"))]
    assert all(decided[n] is Verdict.STABLE for n in flats)
    assert decided["staircase 2x every 5k phase 0.5"] is Verdict.LEAKING


def test_issue_staircase_one_mib_every_20k_is_never_stable():
    # The case that was "stable (filled, then flat)" in 46 of 46 phases.
    for phase in [i / 23 for i in range(23)]:
        shape = Shape("stairs", (Staircase(1024.0, 20, phase),))
        result, end = first_verdict(shape)
        assert result.verdict is not Verdict.STABLE, (phase, end, result.reason)


def test_issue_sawtooth_cleared_every_20k_to_30k_is_never_leaking():
    for period in (20, 24, 27, 30):
        for phase in [i / 10 for i in range(10)]:
            result, _ = first_verdict(Shape("saw", (Sawtooth(200.0, period, phase),)))
            assert result.verdict is not Verdict.LEAKING, (period, phase, result.reason)


@pytest.mark.parametrize("tau", [20, 40, 60, 80])
def test_issue_bounded_fill_to_20_mib_is_never_leaking(tau):
    result, _ = first_verdict(Shape("fill", (Fill(20480.0, tau),)))
    assert result.verdict is not Verdict.LEAKING, result.reason


def test_a_fill_is_told_apart_by_slowing_down():
    samples = measured(Shape("fill", (Fill(20480.0, 80),)), 90_000)
    result = growth(samples)
    assert result.verdict is Verdict.INCONCLUSIVE
    assert "could be a bounded fill" in result.reason


def test_one_off_step_late_in_the_run_is_not_a_leak():
    for at in (10, 40, 75, 100):
        result, _ = first_verdict(Shape("step", (Step(20480.0, at),)))
        assert result.verdict is not Verdict.LEAKING


def test_leak_verdict_carries_the_deciding_figure_and_interval():
    samples = measured(Shape("1 KiB/request", (Linear(1000.0),)), 60_000)
    result = growth(samples)
    assert result.verdict is Verdict.LEAKING
    assert result.signal is Signal.GROWTH
    assert result.low <= 1000.0 <= result.high
    assert result.growth_kib_per_1k == pytest.approx(1000.0, rel=0.02)
    assert result.low > THRESHOLD
    assert "held for the 30,000 requests after" in result.reason
    assert f"{result.growth_kib_per_1k:+.1f}" in result.reason


def test_stable_verdict_names_the_flat_stretch_and_its_upper_bound():
    result, end = first_verdict(Shape("flat", noise_kib=64.0))
    assert result.verdict is Verdict.STABLE
    assert result.high < THRESHOLD
    assert end - WARMUP >= GUARDS.flat  # never before the longest step period has passed
    assert "flat below 25" in result.reason


def test_flat_late_window_after_a_step_is_not_enough():
    # A step at 50k, flat for 20k after: a leak stepping every 50k would look the same.
    samples = measured(Shape("step", (Step(4096.0, 50),)), 70_000)
    assert growth(samples).verdict is Verdict.INCONCLUSIVE


def test_undecided_at_the_last_round_is_inconclusive_without_asking_for_more():
    samples = measured(Shape("fill", (Fill(20480.0, 80),)), MAX)
    result = growth(samples, final=True)
    assert result.verdict is Verdict.INCONCLUSIVE
    assert result.more_would_help is False
    assert result.reason.startswith("undecided at 120,000 requests after warm-up")
    assert "more requests might decide it: load.max_requests = " in result.reason


@pytest.mark.parametrize("final", [False, True])
def test_too_few_samples_after_warmup_is_inconclusive(final):
    samples = measured(Shape("flat"), (MIN_SAMPLES - 2) * EVERY)
    result = growth(samples, final=final)
    assert result.verdict is Verdict.INCONCLUSIVE
    assert result.growth_kib_per_1k is None
    assert result.more_would_help is (not final)


def test_samples_before_warmup_are_ignored():
    # Huge growth during warm-up only (start-up), flat after it.
    samples = measured(Shape("flat"), MAX)
    samples[:5] = [Sample(s.requests, s.seconds, s.rss, s.uss, 2, 12, 1) for s in samples[:5]]
    assert growth(samples).verdict is Verdict.STABLE


def test_rss_is_used_only_when_anon_and_uss_are_missing():
    samples = measured(Shape("leak", (Linear(500.0),)), 60_000)
    no_anon = [Sample(s.requests, s.seconds, s.rss, s.uss, s.threads, s.fds) for s in samples]
    assert "USS memory" in growth(no_anon).reason
    bare = [Sample(s.requests, s.seconds, s.rss, None, s.threads, s.fds) for s in samples]
    assert "RSS memory" in growth(bare).reason
    assert "anon memory" in growth(samples).reason


@pytest.mark.parametrize("threshold", [0.0, -5.0])
def test_non_positive_threshold_raises(threshold):
    with pytest.raises(ValueError):
        classify_growth(measured(Shape("flat"), 60_000), warmup=WARMUP, guards=GUARDS,
                        threshold=threshold)


def test_floor_drops_spikes_and_cleared_caches_and_keeps_what_stays():
    # The last two samples are not confirmed yet: the floor is two shorter.
    assert floor([0, 0, 9, 0, 0]) == [0, 0, 0]  # a one-sample spike
    assert floor([0, 5, 10, 0, 0, 0, 0, 1, 2]) == [0] * 7  # a cache cleared, and it stays
    assert floor([0, 1, 2, 3, 4]) == [0, 1, 2]  # kept
    assert floor([5, 5, -50, 5, 5]) == [5, 5, 5]  # a one-sample dip is a glitch
    assert floor([5, 5, -50, -50, 5, 5, 5]) == [5] * 5  # so is a two-sample dip
    assert floor([5, 5, -50, -50, -50, 5, 5, 5, 5]) == [-50] * 5 + [5, 5]  # confirmed


def test_guards_scale_with_the_first_look_and_say_what_they_need():
    assert Guards(hold=30_000, flat=50_000, fill=80_000, span=20_000) == GUARDS
    assert GUARDS.needed(EVERY) == 52_000  # flat + two samples to confirm
    assert Guards.for_first_look(2_000).needed(200) == 3_733  # the short fds scenario decides
    assert infeasible(GUARDS, EVERY, 120_000) is None
    why = infeasible(GUARDS, 5_000, 60_000)  # a sample every 5,000: never enough for leaking
    assert why is not None and "70,000" in why and "load.max_requests" in why


# --- descriptors ---------------------------------------------------------------------------


def fd_series(fds_at, upto=MAX):
    base = measured(Shape("flat"), upto)
    return [Sample(s.requests, s.seconds, s.rss, s.uss, s.threads,
                   fds_at(max(s.requests - WARMUP, 0)), s.anon) for s in base]


def test_fds_rising_is_leaking_and_memory_is_not_looked_at():
    result = classify_fds(fd_series(lambda r: 20 + (r * 300) // 1000), warmup=WARMUP,
                          guards=GUARDS)
    assert result.verdict is Verdict.LEAKING
    assert result.signal is Signal.FDS
    assert result.growth_kib_per_1k == pytest.approx(300, rel=0.02)
    assert "open descriptors" in result.reason


def test_fds_pool_that_fills_and_stays_is_not_leaking():
    # Connections pooled up to 64 over the first 40k requests, then constant.
    result = classify_fds(fd_series(lambda r: 12 + min(64, r * 64 // 40_000)), warmup=WARMUP,
                          guards=GUARDS)
    assert result.verdict is not Verdict.LEAKING


def test_fds_constant_is_stable():
    result = classify_fds(fd_series(lambda r: 20), warmup=WARMUP, guards=GUARDS)
    assert result.verdict is Verdict.STABLE
    assert result.growth_kib_per_1k == 0


# --- held memory ---------------------------------------------------------------------------


def held_series(kib: float, noise: float, seed: int, upto: int = 30_000) -> list[Sample]:
    rng = random.Random(seed)
    out = []
    for r in range(0, WARMUP + upto + 1, EVERY):
        anon = int((60 * 1024 + kib + rng.uniform(-noise, noise)) * 1024)
        out.append(Sample(r, r / 1000, anon, anon, 2, 12, anon))
    return out


def test_held_20_mib_above_reference_is_leaking_in_mib():
    result = classify_held(held_series(20 * 1024.0, 200.0, 12), held_series(0.0, 200.0, 11),
                           warmup=WARMUP, threshold_mib=5.0)
    assert result.verdict is Verdict.LEAKING
    assert result.signal is Signal.HELD
    assert result.growth_kib_per_1k == pytest.approx(20, abs=0.5)
    assert result.low > 5.0


def test_held_equal_to_reference_is_stable():
    result = classify_held(held_series(0.0, 200.0, 12), held_series(0.0, 200.0, 11),
                           warmup=WARMUP, threshold_mib=5.0)
    assert result.verdict is Verdict.STABLE
    assert result.high < 5.0


def test_held_interval_is_widened_by_the_reference_noise():
    quiet = held_series(0.0, 10.0, 11)
    drifting = [Sample(s.requests, s.seconds, s.rss, s.uss, 2, 12,
                       s.anon + (4 * 2**20 if i > len(quiet) // 2 + 10 else 0))
                for i, s in enumerate(quiet)]
    sample = held_series(7 * 1024.0, 10.0, 12)
    assert classify_held(sample, quiet, warmup=WARMUP, threshold_mib=5.0).verdict \
        is Verdict.LEAKING
    noisy = classify_held(sample, drifting, warmup=WARMUP, threshold_mib=5.0)
    assert noisy.verdict is Verdict.INCONCLUSIVE  # 7 MiB held, but the reference moves 4


def test_held_with_too_few_samples_is_inconclusive_with_the_reason():
    result = classify_held(held_series(0.0, 1.0, 1), held_series(0.0, 1.0, 2, upto=4_000),
                           warmup=WARMUP, threshold_mib=5.0)
    assert result.verdict is Verdict.INCONCLUSIVE
    assert result.growth_kib_per_1k is None
    assert "too few samples" in result.reason


def test_the_reference_is_measured_against_itself():
    steady = classify_reference(held_series(0.0, 100.0, 3), warmup=WARMUP, threshold_mib=5.0)
    assert steady.verdict is Verdict.STABLE
    moving = held_series(0.0, 10.0, 3)
    moving = [Sample(s.requests, s.seconds, s.rss, s.uss, 2, 12,
                     s.anon + (i * 2**20 if i > 20 else 0)) for i, s in enumerate(moving)]
    assert classify_reference(moving, warmup=WARMUP, threshold_mib=5.0).verdict \
        is not Verdict.STABLE
    short = classify_reference(held_series(0.0, 1.0, 1, upto=4_000), warmup=WARMUP,
                               threshold_mib=5.0)
    assert short.verdict is Verdict.INCONCLUSIVE and "the reference needs" in short.reason


# --- the generative model (tests/memmodel.py) through the real trial loop -----------------

GENERATED = range(2_000)  # a fixed seed set: every family, every window


@functools.cache
def generated_verdicts() -> tuple:
    """Every generated seed judged once, in as many processes as there are cores (pure and
    seeded: the same rows as one process gives)."""
    workers = min(len(os.sched_getaffinity(0)), 4)
    with concurrent.futures.ProcessPoolExecutor(workers) as pool:
        return tuple(pool.map(shapes.judged_seed, GENERATED, chunksize=50))


def test_generated_series_are_never_wrong():
    wrong = [f"seed {seed} {model.family} {model.window.name} truth {truth.value}: {verdict} "
             f"at {measured:,}: {reason}"
             for seed, model, verdict, truth, measured, reason in generated_verdicts()
             if shapes.wrong(verdict, truth)]
    assert not wrong, "\n".join(wrong)


def test_generated_set_covers_every_family_and_window_and_decides_most():
    rows = generated_verdicts()
    assert {m.family for _, m, *_ in rows} == set(shapes.FAMILIES)
    assert {m.window for _, m, *_ in rows} == set(shapes.WINDOWS)
    decidable = [v for _, _, v, t, _, _ in rows
                 if t in (shapes.Truth.LEAKING, shapes.Truth.BOUNDED)]
    assert sum(v == "inconclusive" for v in decidable) <= 0.15 * len(decidable)


HELLO = shapes.WINDOWS[0]


def test_memmodel_wander_truth_reads_the_realized_path_as_gains_and_releases():
    # hello: hold 30k, flat 50k, threshold 25 KiB/1k. The path is what the sampler recorded.
    leak = shapes.Model("w", (shapes.Curve("ramp", 50.0),), shapes.Noise(), HELLO)
    bounded = shapes.Model("w", (), shapes.Noise(), HELLO)
    flat = [(k, 0.0) for k in range(0, 101)]
    assert leak.truth(100.0, flat) is shapes.Truth.LEAKING
    assert bounded.truth(100.0, flat) is shapes.Truth.BOUNDED
    rose = [(k, 30.0 * max(k - 70, 0)) for k in range(0, 101)]  # +900 over the last 30k
    assert bounded.truth(100.0, rose) is shapes.Truth.AMBIGUOUS
    assert bounded.truth(100.0, [(k, v * 0.8) for k, v in rose]) is shapes.Truth.BOUNDED
    fell = [(k, -1000.0 * (k >= 60)) for k in range(0, 101)]  # 50 - 1000/50 < 1.5 x 25
    assert leak.truth(100.0, fell) is shapes.Truth.AMBIGUOUS
    assert leak.truth(100.0, [(k, v / 2) for k, v in fell]) is shapes.Truth.LEAKING
    stairs = shapes.Model("w", (shapes.Stairs(1000.0, 20.0),), shapes.Noise(), HELLO)
    assert stairs.truth(100.0, flat) is shapes.Truth.STEPPING
    assert stairs.truth(100.0, fell) is shapes.Truth.AMBIGUOUS


def test_memmodel_bounded_means_done_a_whole_flat_stretch_before_the_end():
    # The short descriptor window: hold 2k, flat 3.333k, 4k long. One step 1.5k in, then flat
    # for 2.5k (more than hold), is the same window as a staircase stepping every 3k, whose
    # earlier steps fell before the warm-up ended: no rule can tell them apart, so the step is
    # ambiguous, not bounded (where only a leak's verdict would be wrong).
    short = shapes.WINDOWS[3]
    quiet = shapes.Noise(scale=0.0)
    step = shapes.Model("s", (shapes.Jump(30.0, 1.5),), quiet, short)
    stairs = shapes.Model("s", (shapes.Stairs(30.0, 3.0, start=-4.5),), quiet, short)

    def seen(m):
        sampler = shapes.ModelSampler(m)
        fds = [sampler.sample(short.warmup + r).fds for r in range(0, 4001, short.every)]
        return [v - fds[0] for v in fds]
    assert seen(step) == seen(stairs) and seen(step)[-1] == 30
    assert stairs.truth(4.0) is shapes.Truth.STEPPING
    assert step.truth(4.0) is shapes.Truth.AMBIGUOUS
    assert shapes.judged(step)[0] == shapes.judged(stairs)[0] != "stable"
    early = shapes.Model("s", (shapes.Jump(30.0, 0.5),), quiet, short)  # done 3.5k before
    assert early.truth(4.0) is shapes.Truth.BOUNDED
    ramp = shapes.Model("s", (shapes.Curve("ramp", 40.0, 0.5, 1.5),), quiet, short)
    assert ramp.truth(4.0) is shapes.Truth.AMBIGUOUS  # it grew until 2.5k before the end


def model(family, *parts, window=HELLO, **noise):
    return shapes.Model(family, parts, shapes.Noise(**noise), window)


@pytest.mark.parametrize("rate,stop", [(50, 22), (200, 40), (1000, 60)])
def test_linear_fill_to_a_bound_is_not_leaking_once_it_stopped(rate, stop):
    for seed in range(3):
        m = model("leak stops", shapes.Curve("ramp", rate, stop=stop))
        verdict, truth, measured, reason = shapes.judged(m, seed)
        assert not shapes.wrong(verdict, truth), (verdict, measured, reason)
        assert verdict != "leaking" or measured / 1000 < stop + HELLO.hold_k, reason


@pytest.mark.parametrize("mid", [40, 50, 60])
def test_logistic_fill_of_10_mib_is_never_wrong(mid):
    for seed in range(3):
        m = model("logistic", shapes.Curve("logistic", 10240.0, stop=4.0, mid=mid))
        verdict, truth, measured, reason = shapes.judged(m, seed)
        assert not shapes.wrong(verdict, truth), (verdict, truth, measured, reason)


def test_leak_with_rare_two_mib_dips_is_never_stable():
    for seed in range(10):
        m = model("dips", shapes.Curve("ramp", 50.0), dip_chance=0.05, dip=2048.0)
        verdict, _, measured, reason = shapes.judged(m, seed)
        assert verdict != "stable", (seed, measured, reason)


def test_leak_under_student_t_noise_is_never_stable():
    for seed in range(10):
        m = model("t", shapes.Curve("ramp", 100.0), kind="t", df=2.0, scale=512.0)
        verdict, _, measured, reason = shapes.judged(m, seed)
        assert verdict != "stable", (seed, measured, reason)


@pytest.mark.parametrize("parts", [
    (shapes.Curve("ramp", 50.0, start=30.0),),  # a leak 2x starting 30k in
    (shapes.Curve("ramp", 250.0, start=50.0),),
    (shapes.Curve("ramp", 100.0), shapes.Jump(-4096.0, 40.0)),  # gives 4 MiB back once
])
def test_late_leak_or_one_that_gave_memory_back_is_never_stable(parts):
    for seed in range(5):
        verdict, _, measured, reason = shapes.judged(model("late", *parts), seed)
        assert verdict != "stable", (seed, measured, reason)


def test_descriptor_leak_in_a_short_scenario_is_leaking():
    short = shapes.WINDOWS[3]  # 2k first look, at most 4k, a sample every 200
    m = model("fds", shapes.Curve("ramp", 800.0), window=short, scale=1.0, kind="gauss")
    verdict, truth, measured, reason = shapes.judged(m, 0)
    assert (verdict, truth) == ("leaking", shapes.Truth.LEAKING), reason
    assert measured <= short.max_requests


def test_descriptor_pool_that_filled_is_not_leaking():
    fds = shapes.WINDOWS[2]
    m = model("pool", shapes.Curve("ramp", 640 / 25, stop=25.0), window=fds, scale=1.0,
              kind="gauss")
    for seed in range(3):
        verdict, _, measured, reason = shapes.judged(m, seed)
        assert verdict != "leaking", (seed, measured, reason)


def test_an_inconclusive_staircase_says_what_would_decide_it():
    m = model("stairs", shapes.Stairs(1024.0 * 25 / 25, 25.0, 5.0))
    verdict, _, _, reason = shapes.judged(m, 0)
    if verdict == "inconclusive":
        assert "load.max_requests = " in reason
    assert verdict != "stable"


def test_a_growing_reference_makes_held_inconclusive():
    growing = [Sample(s.requests, s.seconds, s.rss, s.uss, 2, 12,
                      s.anon + max(s.requests - WARMUP, 0) * 100)  # 100 KiB/1k requests
               for s in held_series(0.0, 10.0, 3)]
    ref = classify_reference(growing, warmup=WARMUP, threshold_mib=5.0)
    assert ref.verdict is Verdict.INCONCLUSIVE and "the reference itself grows" in ref.reason
    held = classify_held(held_series(0.0, 10.0, 4), growing, warmup=WARMUP, threshold_mib=5.0)
    assert held.verdict is Verdict.INCONCLUSIVE and "moving target" in held.reason


def test_bounds_compared_on_every_signal_name_the_held_step_and_the_thread_jump():
    good = held_series(0.0, 100.0, 5)
    bad = [Sample(s.requests, s.seconds, s.rss, s.uss, 40, s.fds, s.anon)
           for s in held_series(2.8 * 1024, 100.0, 6)]
    good = [Sample(s.requests, s.seconds, s.rss, s.uss, 7, s.fds, s.anon) for s in good]
    diffs = {d.signal: d for d in compare_bounds(good, bad, warmup=WARMUP)}
    assert set(diffs) == {"held memory", "threads"}
    assert diffs["held memory"].command == "--metric held --threshold 2048"
    assert (diffs["threads"].good, diffs["threads"].bad) == (7, 40)
    assert compare_bounds(good, good, warmup=WARMUP) == []


SHORT = shapes.WINDOWS[3]  # descriptors: 2k first look, at most 4k, a sample every 200


def test_small_descriptor_leak_in_a_short_scenario_is_leaking_on_its_measured_noise():
    # 3x the threshold under a descriptor of noise: Sen's range over the seven floor values of
    # the late stretch reaches its flat pairs (rule 1: leaking on 1 of these 5 seeds); the
    # rise beyond the measured noise decides most of them
    verdicts = []
    for seed in range(5):
        m = model("fds", shapes.Curve("ramp", 15.0), window=SHORT, scale=1.0, kind="gauss")
        verdict, truth, measured, reason = shapes.judged(m, seed)
        assert truth is shapes.Truth.LEAKING and verdict != "stable", (seed, reason)
        verdicts.append(verdict)
    assert verdicts.count("leaking") >= 3, verdicts


def test_a_cache_whose_cleared_cycle_a_later_gain_holds_up_is_not_leaking():
    # found by bench/calibrate.py (seed 2294): a cache's cycle before its clear at 26k stays in
    # the floor (a 4.3 MiB gain at 24k holds it up) and rises steadily through the late
    # stretch; its next cycle rises through the tail. What it held is not more than twice
    # what it gave back (rule 1 called 2 of these 6 draws leaking on the ranks)
    w = shapes.WINDOWS[1]  # 20k/80k every 500
    cache = shapes.Cache(208.0, (9.4, 26.2, 31.7, 49.1, 62.3, 72.4, 81.3), origin=-7.9)
    m = model("masked cache", shapes.Jump(4356.0, 24.2), cache, window=w, scale=148.0)
    for seed in range(6):
        verdict, truth, measured, reason = shapes.judged(m, seed)
        assert verdict != "leaking", (seed, truth, measured, reason)
    assert shapes.judged(shapes.generate(2294), 2294)[0] != "leaking"


def test_a_rise_whose_last_samples_fell_below_it_is_not_yet_leaking():
    # a descriptor cache filled for 2.9k requests (longer than hold) and cleared at 3,590:
    # the unconfirmed last sample says the held rise may have been given back
    cache = shapes.Cache(28.0, (0.23, 0.49, 0.59, 0.68, 3.59, 3.64, 4.8), origin=-0.9)
    m = model("cleared at the end", cache, window=SHORT, scale=1.0, kind="gauss")
    for seed in range(3):
        verdict, truth, measured, reason = shapes.judged(m, seed)
        assert not shapes.wrong(verdict, truth), (seed, truth, measured, reason)
