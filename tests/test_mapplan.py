"""The map's planning, by property: --edges against the truth of a row, --every, flips."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bisect_leak.judge.verdict import Verdict
from bisect_leak.map.grid import Row, flips, hidden_note, next_edges, next_every

ROW = Row("3.7.16", "hello")
L, S, U, E = Verdict.LEAKING, Verdict.STABLE, Verdict.INCONCLUSIVE, Verdict.ERROR

truths = st.lists(st.sampled_from([L, S, U, E]), min_size=1, max_size=40)
judged_truths = st.lists(st.sampled_from([L, S]), min_size=1, max_size=40)


def versions_of(truth: list[Verdict]) -> list[str]:
    return [f"1.{i}.0" for i in range(len(truth))]


def run(pick, truth: list[Verdict], batch: bool = True) -> tuple[dict, int]:
    """Measure what the planner asks for, until it asks for nothing. ``batch``: everything it
    asks for at once (a cluster); else one at a time (here, sequentially)."""
    versions = versions_of(truth)
    answer = dict(zip(versions, truth))
    known: dict[str, Verdict] = {}
    rounds = 0
    while wanted := pick(versions, known):
        assert not set(wanted) & set(known), "asked again for a measured release"
        for v in wanted if batch else wanted[:1]:
            known[v] = answer[v]
        rounds += 1
        assert rounds <= len(versions)
    return known, rounds


def flip_points(known: dict, truth: list[Verdict]) -> set[tuple[str, str, str]]:
    return {(f.last_before, f.first_after, f.after.value)
            for f in flips(ROW, versions_of(truth), known)}


@given(truths, st.booleans())
def test_every_measures_every_cell_once(truth, batch):
    known, _ = run(next_every, truth, batch)
    assert list(known) == versions_of(truth)


@given(truths, st.booleans())
def test_edges_never_reports_a_flip_that_every_does_not(truth, batch):
    edges, _ = run(next_edges, truth, batch)
    every, _ = run(next_every, truth)
    assert flip_points(edges, truth) <= flip_points(every, truth)
    assert len(edges) <= len(truth)


@given(judged_truths, st.booleans())
def test_edges_measures_both_ends_and_closes_every_differing_interval(truth, batch):
    versions = versions_of(truth)
    known, _ = run(next_edges, truth, batch)
    assert versions[0] in known and versions[-1] in known
    judged = [i for i, v in enumerate(versions) if v in known]
    for lo, hi in zip(judged, judged[1:]):  # every interval left open has equal ends
        if hi > lo + 1:
            assert known[versions[lo]] is known[versions[hi]]


@given(st.integers(2, 60), st.integers(1, 59), st.booleans(), st.booleans())
def test_edges_finds_a_single_flip_exactly_in_log_steps(n, at, leak_first, batch):
    at = min(at, n - 1)
    a, b = (L, S) if leak_first else (S, L)
    truth = [a] * at + [b] * (n - at)
    known, rounds = run(next_edges, truth, batch)
    versions = versions_of(truth)
    assert flip_points(known, truth) == {(versions[at - 1], versions[at], b.value)}
    assert len(known) <= 2 + n.bit_length() + 1


@given(st.lists(st.sampled_from([U, E]), min_size=1, max_size=6), st.integers(3, 20))
def test_edges_steps_inward_past_unjudged_ends(unjudged, n):
    truth = unjudged + [S] * n + list(reversed(unjudged))
    known, _ = run(next_edges, truth)
    versions = versions_of(truth)
    assert known[versions[len(unjudged)]] is S  # the first judged from the left
    assert known[versions[-len(unjudged) - 1]] is S
    assert flips(ROW, versions, known) == []


def test_a_flip_across_unjudged_cells_names_them():
    truth = [S, S, E, U, L, L]
    known, _ = run(next_every, truth)
    (flip,) = flips(ROW, versions_of(truth), known)
    assert (flip.last_before, flip.first_after, flip.unjudged) == ("1.1.0", "1.4.0",
                                                                    ("1.2.0", "1.3.0"))
    assert "1.2.0, 1.3.0 could not be judged" in flip.text()
    assert flip.text().startswith("stable → leaking at 1.4.0 on 3.7.16 / hello")


def test_edges_misses_a_leak_between_equal_ends_and_says_so():
    truth = [S, L, L, S, S]
    versions = versions_of(truth)
    known, _ = run(next_edges, truth)
    assert set(known) == {versions[0], versions[-1]}
    assert flips(ROW, versions, known) == []
    note = hidden_note(ROW, versions, known)
    assert note is not None and "can be missed" in note and "3 release(s)" in note
    every, _ = run(next_every, truth)
    assert hidden_note(ROW, versions, every) is None
    assert len(flips(ROW, versions, every)) == 2
