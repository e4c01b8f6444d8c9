"""The trial loop (``trial._load_rounds``) over the shape zoo, with an injected sampler.

Only the seams are replaced: the server (always alive), the load driver (serves what it is
asked), and the sampler (a seeded synthetic shape). The loop, the rule and its stopping are
the real ones.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from memmodel import Fill, Linear, Sawtooth, Shape, Staircase, Step, Synthetic

from bisect_leak.judge.verdict import Verdict
from bisect_leak.measure import trial
from bisect_leak.measure.load import Round
from bisect_leak.measure.trial import Settings, TrialResult
from bisect_leak.planning.scenario import Load

THRESHOLD = 25.0
LOAD = Load()  # the hello defaults: 20k warm-up, first look at 30k, at most 120k, every 1k


class AliveServer:
    def check_alive(self) -> None:
        pass


class Driver:
    """Serves every request asked for, or stops early after ``stop_after`` in all."""

    def __init__(self, stop_after: int | None = None):
        self.served = 0
        self.stop_after = stop_after

    def run(self, count: int, seconds: float) -> Round:
        if self.stop_after is not None:
            count = max(0, min(count, self.stop_after - self.served))
        self.served += count
        return Round(sent=count, ok=count, seconds=count / 5000)


def run_loop(shape: Shape, seed: int, load: Load = LOAD, driver: Driver | None = None
             ) -> TrialResult:
    result = TrialResult(version="x", verdict=Verdict.ERROR, warmup=load.warmup)
    sampler = Synthetic(shape, warmup=load.warmup, seed=seed)
    trial._load_rounds(AliveServer(), driver or Driver(), sampler, result,
                       Settings(load=load, threshold=THRESHOLD), lambda _: None, None)
    return result


def check_truth(shape: Shape, result: TrialResult) -> None:
    why = f"{shape}: {result.verdict.value} at {result.requests:,}: {result.reason}"
    if shape.bounded:
        assert result.verdict is not Verdict.LEAKING, why
    if shape.leak_kib_per_1k >= 2 * THRESHOLD:
        assert result.verdict is not Verdict.STABLE, why
    assert result.assessment is not None and not result.assessment.more_would_help
    assert result.requests <= LOAD.warmup + LOAD.max_requests


bounded = st.one_of(
    st.builds(lambda s, p, ph: Shape("saw", (Sawtooth(s, p, ph),)),
              st.floats(20, 400), st.floats(5, 30), st.floats(0, 1)),
    st.builds(lambda a, t: Shape("fill", (Fill(a, t),)), st.floats(256, 20480), st.floats(2, 80)),
    st.builds(lambda z, at: Shape("step", (Step(z, at),)), st.floats(64, 20480),
              st.floats(0, 120)),
    st.builds(lambda n, sp, ch: Shape("noise", noise_kib=n, spike_kib=sp, spike_chance=ch),
              st.floats(0, 256), st.floats(0, 4096), st.floats(0, 0.25)),
)
leaks = st.one_of(
    st.builds(lambda r, n: Shape("linear", (Linear(r),), noise_kib=n),
              st.floats(2 * THRESHOLD, 2000), st.floats(0, 256)),
    st.builds(lambda times, p, ph: Shape("stairs", (Staircase(times * THRESHOLD * p, p, ph),)),
              st.floats(2, 40), st.floats(5, 50), st.floats(0, 1)),
    st.builds(lambda r, s, p: Shape("leak+saw", (Linear(r), Sawtooth(s, p, 0.3))),
              st.floats(2 * THRESHOLD, 1000), st.floats(20, 400), st.floats(5, 30)),
)


@settings(derandomize=True, max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(shape=st.one_of(bounded, leaks), seed=st.integers(0, 1000))
def test_loop_never_gives_a_wrong_verdict(shape, seed):
    check_truth(shape, run_loop(shape, seed))


def test_loop_stops_as_soon_as_a_clear_leak_is_held():
    result = run_loop(Shape("1 KiB/request", (Linear(1000.0),)), 0)
    assert result.verdict is Verdict.LEAKING
    guards = LOAD.guards
    assert result.requests == LOAD.warmup + guards.hold + guards.span


def test_loop_calls_a_flat_server_stable_after_the_flat_stretch():
    result = run_loop(Shape("flat", noise_kib=32.0), 0)
    assert result.verdict is Verdict.STABLE
    assert result.requests == LOAD.warmup + LOAD.guards.needed(LOAD.sample_every)


def test_loop_that_runs_out_of_requests_is_inconclusive_and_says_why():
    result = run_loop(Shape("fill", (Fill(20480.0, 80),)), 0)
    assert result.verdict is Verdict.INCONCLUSIVE
    assert result.requests == LOAD.warmup + LOAD.max_requests
    assert "could be a bounded fill" in result.reason
    assert not result.cut_short


def test_a_time_limit_that_ends_the_load_is_named_in_the_reason():
    result = run_loop(Shape("flat"), 0, driver=Driver(stop_after=40_500))
    assert result.verdict is Verdict.INCONCLUSIVE
    assert result.cut_short.startswith("the time limit ended the load at 40,500 requests")
    assert result.reason.startswith(result.cut_short)


def test_extend_to_lets_the_rule_have_the_requests_it_asks_for_and_no_more():
    shape = Shape("fill", (Fill(20480.0, 80),))
    planned = run_loop(shape, 0)
    assert planned.assessment.more_requests  # inconclusive at 120k, and says how many more
    capped = replace(LOAD, extend_to=200_000)
    result = run_loop(shape, 0, load=capped)
    assert result.requests > LOAD.warmup + LOAD.max_requests
    assert result.requests <= capped.warmup + capped.extend_to
    assert result.verdict is not Verdict.LEAKING  # a bounded fill, given more requests
    assert not result.assessment.more_would_help


def test_more_requests_survives_the_json_round_trip():
    result = run_loop(Shape("fill", (Fill(20480.0, 80),)), 0)
    data = result.to_dict()
    assert data["more_requests"] == result.assessment.more_requests > 0
    assert TrialResult.from_dict(data).assessment.more_requests == data["more_requests"]
