"""Tests for the rounds planner in bisect_leak.bisection.rounds, against the sequential search."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bisect_leak.bisection.search as search
from bisect_leak.bisection.rounds import (
    Round,
    RoundPlanner,
    goal_rounds,
    next_round,
    replication_rounds,
    spread,
)
from bisect_leak.bisection.search import SearchStatus, regression_states
from bisect_leak.judge.verdict import Verdict

UNKNOWN = (Verdict.ERROR, Verdict.INCONCLUSIVE)
DIRECTIONS = [regression_states(False), regression_states(True)]


def names(n: int) -> list[str]:
    return [f"1.{i}.0" for i in range(n)]


def drive(versions, answers, workers, old_state=Verdict.STABLE, new_state=Verdict.LEAKING):
    """Run the planner to its answer; every round is checked as it is handed out."""
    planner = RoundPlanner(versions, workers, old_state, new_state)
    measured: set[str] = set()
    while isinstance(step := planner.next(), Round):
        picks = step.candidates
        assert 1 <= len(picks) <= workers
        assert len(set(picks)) == len(picks)
        assert not measured & set(picks)  # never measured twice
        assert list(picks) == sorted(picks, key=versions.index)
        for version in reversed(picks):  # any completion order
            planner.record(version, answers[version])
        measured |= set(picks)
    assert planner.rounds and all(planner.rounds)
    assert [v for v, _ in step.probed] == [v for r in planner.rounds for v in reversed(r)]
    return step, planner.rounds


@st.composite
def monotone(draw, max_n: int = 80, unknowns: bool = True):
    """(versions, answers, states): known verdicts in order, old then new; any unknowns
    (bounds included), a boundary anywhere (0 or n: the bounds contradict)."""
    n = draw(st.integers(2, max_n))
    old_state, new_state = draw(st.sampled_from(DIRECTIONS))
    boundary = draw(st.integers(0, n))
    versions = names(n)
    answers = {v: old_state if i < boundary else new_state for i, v in enumerate(versions)}
    if unknowns:
        for i in draw(st.sets(st.integers(0, n - 1), max_size=n)):
            answers[versions[i]] = draw(st.sampled_from(UNKNOWN))
    return versions, answers, (old_state, new_state)


def same_answer(parallel, sequential):
    """Everything but the order and number of probes."""
    for name in ("status", "last_old", "first_new", "unknown_between", "bounds"):
        assert getattr(parallel, name) == getattr(sequential, name), name


@settings(max_examples=300, deadline=None)
@given(monotone(), st.integers(1, 16))
def test_monotone_answer_is_the_sequential_answer(case, workers):
    versions, answers, (old_state, new_state) = case
    result, _ = drive(versions, answers, workers, old_state, new_state)
    sequential = search.bisect(versions, answers.__getitem__,
                               old_state=old_state, new_state=new_state)
    same_answer(result, sequential)
    assert all(answers[v] is verdict for v, verdict in result.probed)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list(Verdict)), min_size=2, max_size=60),
       st.integers(1, 16), st.sampled_from(DIRECTIONS))
def test_any_verdicts_give_a_measured_adjacent_pair(verdicts, workers, states):
    """Non-monotone traps included: the pair was measured old / new, only unknowns lie
    between them (all measured), and it is inside the bounds in order."""
    old_state, new_state = states
    versions = names(len(verdicts))
    answers = dict(zip(versions, verdicts))
    result, _ = drive(versions, answers, workers, old_state, new_state)
    probed = dict(result.probed)
    (old, old_v), (new, new_v) = result.bounds
    assert (old, new) == (versions[0], versions[-1])
    if result.status in (SearchStatus.FOUND, SearchStatus.RANGE):
        assert (probed[result.last_old], probed[result.first_new]) == (old_state, new_state)
        lo, hi = versions.index(result.last_old), versions.index(result.first_new)
        assert lo < hi
        assert result.unknown_between == tuple(versions[lo + 1:hi])
        assert all(v in probed and not probed[v].known for v in result.unknown_between)
        assert result.found == (hi == lo + 1)
    elif result.status is SearchStatus.BOUND_UNKNOWN:
        assert not old_v.known or not new_v.known
        assert old_v is not new_state and new_v is not old_state
    else:
        assert old_v is new_state or new_v is old_state


@settings(max_examples=300, deadline=None)
@given(monotone(max_n=400, unknowns=False), st.integers(2, 16))
def test_round_goal_without_unknowns(case, workers):
    """1 + ceil(log_{W+1} N) + 1 rounds, the replication round (--confirm 1) included."""
    versions, answers, states = case
    result, rounds = drive(versions, answers, workers, *states)
    extra = len(replication_rounds((result.last_old, result.first_new), 1, workers)
                ) if result.found else 0
    assert len(rounds) + extra <= goal_rounds(len(versions), workers)


@pytest.mark.parametrize(("n", "workers", "most"), [(13, 3, 4), (250, 15, 4)])
def test_issue_examples_meet_the_goal_at_every_boundary(n, workers, most):
    versions = names(n)
    assert goal_rounds(n, workers) == most
    for boundary in range(1, n):
        answers = {v: Verdict.STABLE if i < boundary else Verdict.LEAKING
                   for i, v in enumerate(versions)}
        result, rounds = drive(versions, answers, workers)
        assert result.found and result.first_new == versions[boundary]
        assert len(rounds) + len(replication_rounds((result.last_old, result.first_new),
                                                    1, workers)) <= most


@settings(max_examples=200, deadline=None)
@given(monotone(unknowns=False))
def test_one_worker_probes_what_the_sequential_search_probes(case):
    versions, answers, (old_state, new_state) = case
    result, rounds = drive(versions, answers, 1, old_state, new_state)
    sequential = search.bisect(versions, answers.__getitem__,
                               old_state=old_state, new_state=new_state)
    assert result == sequential
    assert all(len(r) == 1 for r in rounds)


def test_first_round_is_both_bounds_and_points_between():
    versions = names(13)
    assert next_round(versions, (), 1) == Round((versions[0],))
    assert next_round(versions, (), 2) == Round((versions[0], versions[12]))
    assert next_round(versions, (), 3) == Round((versions[0], versions[6], versions[12]))
    assert next_round(versions, (), 4).candidates == tuple(versions[i] for i in (0, 4, 8, 12))
    assert next_round(versions, (), 20).candidates == tuple(versions)


def test_rounds_of_a_range_with_an_unknown():
    versions = names(13)
    answers = {v: Verdict.STABLE if i < 5 else Verdict.LEAKING for i, v in enumerate(versions)}
    answers[versions[4]] = Verdict.ERROR
    result, rounds = drive(versions, answers, 3)
    assert rounds == [tuple(versions[i] for i in (0, 6, 12)),
                      tuple(versions[i] for i in (1, 3, 4)),
                      (versions[5],)]
    assert result.status is SearchStatus.RANGE
    assert (result.last_old, result.first_new) == (versions[3], versions[5])
    assert result.unknown_between == (versions[4],)


def test_a_non_monotone_trap_takes_the_lowest_old_then_new_pair():
    versions = names(13)
    answers = {v: Verdict.STABLE for v in versions}  # 3 leaks, 4 and 5 do not, 6 on do
    answers.update({versions[i]: Verdict.LEAKING for i in (3, 6, 7, 8, 9, 10, 11, 12)})
    result, rounds = drive(versions, answers, 3)
    assert rounds == [tuple(versions[i] for i in (0, 6, 12)),
                      tuple(versions[i] for i in (1, 3, 4)),
                      (versions[2],)]
    assert (result.last_old, result.first_new) == (versions[2], versions[3])
    assert result.found


def test_planner_hands_out_the_unrecorded_rest_of_a_round():
    versions = names(13)
    planner = RoundPlanner(versions, 3)
    assert planner.next() == Round(tuple(versions[i] for i in (0, 6, 12)))
    planner.record(versions[6], Verdict.LEAKING)
    assert planner.next() == Round((versions[0], versions[12]))
    planner.record(versions[0], Verdict.STABLE)
    planner.record(versions[12], Verdict.LEAKING)
    assert planner.next() == Round(tuple(versions[i] for i in (1, 3, 4)))
    assert len(planner.rounds) == 2


def test_planner_answers_once_a_round_settles_it():
    versions = names(13)
    planner = RoundPlanner(versions, 3)
    planner.next()
    planner.record(versions[0], Verdict.LEAKING)
    planner.record(versions[12], Verdict.LEAKING)
    result = planner.next()  # versions[6] still running: not needed
    assert result.status is SearchStatus.BOUNDS_CONTRADICT
    assert result.probed == ((versions[0], Verdict.LEAKING), (versions[12], Verdict.LEAKING))


def test_spread():
    assert spread([], 3) == []
    assert spread([1, 2], 3) == [1, 2]
    assert spread(list(range(1, 12)), 1) == [6]
    assert spread(list(range(1, 11)), 1) == [5]  # the lower median, as search.py's midpoint
    assert spread(list(range(1, 12)), 3) == [3, 6, 9]
    assert spread(list(range(5)), 0) == []


def test_replication_rounds():
    assert replication_rounds(("a", "b"), 1, 2) == [(("a", 2), ("b", 2))]
    assert replication_rounds(("a", "b"), 2, 3) == [(("a", 2), ("b", 2), ("a", 3)),
                                                    (("b", 3),)]
    assert replication_rounds(("a", "b"), 0, 4) == []
    assert replication_rounds(("a", "b"), 2, 1) == [(("a", 2),), (("b", 2),), (("a", 3),),
                                                    (("b", 3),)]


def test_goal_rounds():
    assert goal_rounds(13, 3) == 4
    assert goal_rounds(250, 15) == 4
    assert goal_rounds(256, 15) == 4
    assert goal_rounds(257, 15) == 5
    assert goal_rounds(2, 1) == 3


def test_invalid_use():
    with pytest.raises(ValueError):
        next_round(["1.0"], (), 2)
    with pytest.raises(ValueError):
        next_round(["1.0", "1.0"], (), 2)
    with pytest.raises(ValueError):
        next_round(["1.0", "2.0"], (), 0)
    with pytest.raises(ValueError):
        next_round(["1.0", "2.0"], (), 2, old_state=Verdict.ERROR)
    with pytest.raises(ValueError):
        next_round(["1.0", "2.0"], (("9.9", Verdict.STABLE),), 2)
    planner = RoundPlanner(["1.0", "2.0", "3.0"], 2)
    planner.record("1.0", Verdict.STABLE)
    with pytest.raises(ValueError):
        planner.record("1.0", Verdict.STABLE)
    assert planner.probed == (("1.0", Verdict.STABLE),)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(list(Verdict)), min_size=2, max_size=40),
       st.integers(1, 16), st.randoms(use_true_random=False), st.data())
def test_the_next_round_does_not_depend_on_the_order_verdicts_came_in(verdicts, workers,
                                                                     rng, data):
    """Workers finish in any order: the plan reads the set of verdicts, not their order."""
    versions = names(len(verdicts))
    measured = data.draw(st.sets(st.sampled_from(versions)))
    probed = [(v, verdicts[versions.index(v)]) for v in versions if v in measured]
    shuffled = list(probed)
    rng.shuffle(shuffled)
    a, b = next_round(versions, probed, workers), next_round(versions, shuffled, workers)
    if isinstance(a, Round):
        assert a == b
    else:
        assert a.probed == tuple(probed) and b.probed == tuple(shuffled)
        same_answer(a, b)
