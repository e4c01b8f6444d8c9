"""Tests for the pure bisection in bisect_leak.bisection.search."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bisect_leak.bisection.search as search
from bisect_leak.bisection.search import Bisection, SearchStatus, regression_states
from bisect_leak.judge.verdict import Verdict

UNKNOWN = (Verdict.ERROR, Verdict.INCONCLUSIVE)
DIRECTIONS = [regression_states(False), regression_states(True)]


def names(n: int) -> list[str]:
    return [f"1.{i}.0" for i in range(n)]


@st.composite
def scenarios(draw, max_n: int = 60, allow_unknowns: bool = True):
    """(n, boundary, {interior index: unknown verdict})."""
    n = draw(st.integers(2, max_n))
    boundary = draw(st.integers(1, n - 1))
    unknown: dict[int, Verdict] = {}
    if allow_unknowns and n > 2:
        indices = draw(st.sets(st.integers(1, n - 2)))
        unknown = {i: draw(st.sampled_from(UNKNOWN)) for i in indices}
    return n, boundary, unknown


def truth(versions, boundary, unknown, old_state, new_state):
    """A monotone oracle that also counts its calls per version."""
    calls: dict[str, int] = {}

    def probe(version: str) -> Verdict:
        calls[version] = calls.get(version, 0) + 1
        i = versions.index(version)
        if i in unknown:
            return unknown[i]
        return old_state if i < boundary else new_state

    return probe, calls


def check_property(scenario, old_state, new_state):
    n, boundary, unknown = scenario
    versions = names(n)
    probe, calls = truth(versions, boundary, unknown, old_state, new_state)
    result = search.bisect(versions, probe, old_state=old_state, new_state=new_state)

    unknown_names = {versions[i] for i in unknown}
    # (a) never blames an unknown version
    assert result.last_old not in unknown_names
    assert result.first_new not in unknown_names
    # (b) brackets the true boundary
    lo, hi = versions.index(result.last_old), versions.index(result.first_new)
    assert lo < boundary <= hi
    # (c) FOUND iff adjacent
    assert result.found == (hi == lo + 1)
    assert result.status is (SearchStatus.FOUND if hi == lo + 1 else SearchStatus.RANGE)
    # (d) everything strictly between them is reported, and no probed one there was known
    assert result.unknown_between == tuple(versions[lo + 1 : hi])
    probed = dict(result.probed)
    assert all(not probed[v].known for v in result.unknown_between if v in probed)
    # (e) each version probed at most once, and probed mirrors the calls
    assert all(count == 1 for count in calls.values())
    assert [v for v, _ in result.probed] == list(calls)
    # (f) logarithmic without unknowns
    if not unknown:
        assert len(result.probed) <= 2 + math.ceil(math.log2(n)) + 1
    assert result.bounds == (
        (versions[0], old_state),
        (versions[-1], new_state),
    )


@settings(max_examples=120, deadline=None)
@given(scenarios())
def test_regression_property(scenario):
    check_property(scenario, Verdict.STABLE, Verdict.LEAKING)


@settings(max_examples=120, deadline=None)
@given(scenarios())
def test_fix_property(scenario):
    check_property(scenario, Verdict.LEAKING, Verdict.STABLE)


@settings(max_examples=100, deadline=None)
@given(scenarios(allow_unknowns=False))
def test_no_unknowns_pinpoints(scenario):
    n, boundary, _ = scenario
    versions = names(n)
    probe, _ = truth(versions, boundary, {}, Verdict.STABLE, Verdict.LEAKING)
    result = search.bisect(versions, probe)
    assert result.found
    assert result.first_new == versions[boundary]
    assert result.unknown_between == ()


def test_unknowns_are_stepped_around_then_left_as_range():
    versions = names(10)
    unknown = {4: Verdict.ERROR, 5: Verdict.INCONCLUSIVE}
    probe, _ = truth(versions, 5, unknown, Verdict.STABLE, Verdict.LEAKING)
    result = search.bisect(versions, probe)
    assert result.status is SearchStatus.RANGE
    assert not result.found
    assert (result.last_old, result.first_new) == (versions[3], versions[6])
    assert result.unknown_between == (versions[4], versions[5])


def test_pick_is_closest_to_midpoint_ties_low():
    versions = names(4)
    b = Bisection(versions)
    assert b.next() == versions[0]
    b.record(versions[0], Verdict.STABLE)
    assert b.next() == versions[3]
    b.record(versions[3], Verdict.LEAKING)
    assert b.next() == versions[1]  # 1 and 2 are equally close to 1.5
    b.record(versions[1], Verdict.ERROR)
    assert b.next() == versions[2]


@pytest.mark.parametrize(("old_state", "new_state"), DIRECTIONS)
def test_new_bound_contradicts(old_state, new_state):
    versions = names(20)
    result = search.bisect(versions, lambda v: old_state, old_state=old_state, new_state=new_state)
    assert result.status is SearchStatus.BOUNDS_CONTRADICT
    assert not result.found
    assert len(result.probed) == 2
    assert result.bounds == ((versions[0], old_state), (versions[-1], old_state))
    assert (result.last_old, result.first_new) == (None, None)


@pytest.mark.parametrize(("old_state", "new_state"), DIRECTIONS)
def test_old_bound_contradicts(old_state, new_state):
    versions = names(20)
    result = search.bisect(versions, lambda v: new_state, old_state=old_state, new_state=new_state)
    assert result.status is SearchStatus.BOUNDS_CONTRADICT
    assert len(result.probed) == 2
    assert result.bounds == ((versions[0], new_state), (versions[-1], new_state))


@pytest.mark.parametrize("bad", UNKNOWN)
@pytest.mark.parametrize("which", [0, -1])
def test_bound_unknown(bad, which):
    versions = names(12)
    answers = {versions[0]: Verdict.STABLE, versions[-1]: Verdict.LEAKING}
    answers[versions[which]] = bad
    result = search.bisect(versions, answers.__getitem__)
    assert result.status is SearchStatus.BOUND_UNKNOWN
    assert len(result.probed) == 2
    assert result.bounds[0 if which == 0 else 1] == (versions[which], bad)


def test_two_versions():
    result = search.bisect(["1.0", "2.0"], {"1.0": Verdict.STABLE, "2.0": Verdict.LEAKING}.get)
    assert result.status is SearchStatus.FOUND
    assert (result.last_old, result.first_new) == ("1.0", "2.0")
    assert result.probed == (("1.0", Verdict.STABLE), ("2.0", Verdict.LEAKING))
    assert result.unknown_between == ()


@settings(max_examples=100, deadline=None)
@given(scenarios(), st.integers(0, 10), st.sampled_from(DIRECTIONS))
def test_after_predicts_next(scenario, steps, states):
    n, boundary, unknown = scenario
    old_state, new_state = states
    versions = names(n)
    probe, _ = truth(versions, boundary, unknown, old_state, new_state)
    b = Bisection(versions, old_state, new_state)
    history = []
    for _ in range(steps):
        version = b.next()
        if version is None:
            break
        history.append((version, probe(version)))
        b.record(*history[-1])
    version = b.next()
    if version is None:
        return
    predicted = b.after(version)
    assert b.probed == tuple(history)  # after() leaves the search untouched
    assert b.next() == version
    for outcome, expected in zip((old_state, new_state), predicted):
        replay = Bisection(versions, old_state, new_state)
        for v, verdict in history:
            assert replay.next() == v
            replay.record(v, verdict)
        replay.record(version, outcome)
        assert replay.next() == expected


def test_after_on_bounds():
    versions = names(9)
    b = Bisection(versions)
    assert b.after(versions[0]) == (versions[-1], versions[-1])
    b.record(versions[0], Verdict.STABLE)
    assert b.after(versions[-1]) == (None, versions[4])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(list(Verdict)), min_size=2, max_size=40))
def test_non_monotone_answers_a_pair_measured_in_the_right_states(verdicts):
    versions = names(len(verdicts))
    answers = dict(zip(versions, verdicts))
    result = search.bisect(versions, answers.__getitem__)
    probed = dict(result.probed)
    assert len(probed) == len(result.probed)  # each version measured once
    assert all(answers[v] is verdict for v, verdict in result.probed)  # recorded as answered
    (old, old_v), (new, new_v) = result.bounds
    assert (old, new) == (versions[0], versions[-1])
    if result.status in (SearchStatus.FOUND, SearchStatus.RANGE):
        # Whatever happened between, the pair reported was measured old-state / new-state,
        # lies inside the bounds in order, and every version between is reported as unknown.
        assert probed[result.last_old] is Verdict.STABLE
        assert probed[result.first_new] is Verdict.LEAKING
        lo, hi = versions.index(result.last_old), versions.index(result.first_new)
        assert lo < hi
        assert result.unknown_between == tuple(versions[lo + 1:hi])
        assert all(not probed[v].known for v in result.unknown_between if v in probed)
        assert result.found == (hi == lo + 1)
    elif result.status is SearchStatus.BOUND_UNKNOWN:
        assert not old_v.known or not new_v.known
    else:
        assert (old_v, new_v) != (Verdict.STABLE, Verdict.LEAKING)


def test_out_of_bracket_records_are_kept_but_ignored():
    versions = names(10)
    b = Bisection(versions)
    b.record(versions[0], Verdict.STABLE)
    b.record(versions[9], Verdict.LEAKING)
    b.record(versions[4], Verdict.LEAKING)  # hi -> 4
    b.record(versions[7], Verdict.STABLE)  # above hi: ignored
    b.record(versions[2], Verdict.STABLE)  # lo -> 2
    b.record(versions[1], Verdict.LEAKING)  # below lo: ignored
    assert b.next() == versions[3]
    b.record(versions[3], Verdict.STABLE)
    assert b.next() is None
    result = b.result()
    assert result.found
    assert (result.last_old, result.first_new) == (versions[3], versions[4])
    assert len(result.probed) == 7


def test_invalid_use():
    with pytest.raises(ValueError):
        search.bisect(["1.0"], lambda v: Verdict.STABLE)
    with pytest.raises(ValueError):
        Bisection(["1.0", "1.0"])
    with pytest.raises(ValueError):
        Bisection(["1.0", "2.0"], Verdict.STABLE, Verdict.STABLE)
    with pytest.raises(ValueError):
        Bisection(["1.0", "2.0"], Verdict.STABLE, Verdict.ERROR)
    b = Bisection(["1.0", "2.0", "3.0"])
    with pytest.raises(RuntimeError):
        b.result()
    with pytest.raises(ValueError):
        b.record("9.9", Verdict.STABLE)
    b.record("1.0", Verdict.STABLE)
    with pytest.raises(ValueError):
        b.record("1.0", Verdict.STABLE)


def test_regression_states():
    assert regression_states(False) == (Verdict.STABLE, Verdict.LEAKING)
    assert regression_states(True) == (Verdict.LEAKING, Verdict.STABLE)
