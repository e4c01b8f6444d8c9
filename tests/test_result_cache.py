"""The results cache offline: replications cached as runs, what is never written back, a
cache read that never measures, and results whose provenance is not this run's.

The measuring itself is replaced at its seam (``Prober._measure``: env + trial) by canned
trials; everything between that seam and the cache folder is the real code.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest
from packaging.version import Version

from bisect_leak.bisection.search import SearchResult, SearchStatus
from bisect_leak.candidates.candidate import from_selection
from bisect_leak.candidates.releases import Release, Selection
from bisect_leak.environments.interpreters import Interpreter
from bisect_leak.environments.store import Store
from bisect_leak.errors import ExitCode
from bisect_leak.judge.verdict import Sample, Verdict
from bisect_leak.map import mapping
from bisect_leak.map.grid import Cell, Row
from bisect_leak.map.mapping import MapRow
from bisect_leak.measure import provenance
from bisect_leak.measure.trial import Settings, TrialResult
from bisect_leak.planning.plan import Plan
from bisect_leak.planning.scenario import Load
from bisect_leak.planning.scenario import resolve as resolve_scenario
from bisect_leak.run import replication
from bisect_leak.run.outcome import PythonOutcome
from bisect_leak.run.prober import Prober

LOAD = Load(warmup=1000, requests=3000, max_requests=9000, sample_every=100)
PYTHON = "3.11.9"
GOOD, BAD = "1.0", "2.0"


class Recorder:
    def __init__(self):
        self.infos: list[str] = []

    def progress(self, text: str) -> None: ...
    def info(self, text: str) -> None:
        self.infos.append(text)
    def trial(self, result: TrialResult, python: str) -> None: ...


def series(requests: int, kib_per_request: float) -> list[Sample]:
    return [Sample(r, r / 1000, 50 * 2**20 + int(kib_per_request * 1024 * r), None, 1, 10)
            for r in range(0, requests + 1, LOAD.sample_every)]


class Lab:
    """Probers over one cache folder; counts what reaches the measuring seam."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
        self.cache = tmp_path / "cache"
        self.measured: list[tuple[str, str]] = []
        self.cut_short: set[str] = set()
        self.errors: set[str] = set()
        self.short: set[str] = set()  # ends early: the rule asks for more when read back
        lab = self

        def measure(prober: Prober, version: str, spec, label: str) -> TrialResult:
            lab.measured.append((version, label))
            return lab.trial(prober, version)

        monkeypatch.setattr(Prober, "_measure", measure)

    def trial(self, prober: Prober, version: str) -> TrialResult:
        if version in self.errors:
            return TrialResult(version=version, verdict=Verdict.ERROR, error="boom",
                               provenance=prober.provenance)
        total = 1500 if version in self.short else LOAD.warmup + LOAD.max_requests
        samples = series(total, 1.0 if version == BAD else 0.0)
        verdict = Verdict.LEAKING if version == BAD else Verdict.STABLE
        return TrialResult(version=version, verdict=verdict, samples=samples,
                           warmup=LOAD.warmup, requests=total,
                           cut_short="the time limit ended the load" if version in
                           self.cut_short else "", provenance=prober.provenance)

    def prober(self, *, no_cache: bool = False, confirm: int = 1) -> Prober:
        plan = Plan(package="toy", good=GOOD, bad=BAD, cache_dir=self.cache,
                    no_cache=no_cache, confirm=confirm)
        scenario = resolve_scenario("hello")
        store = Store(self.cache, results=not no_cache).open()
        selection = Selection(tuple(Release(Version(v)) for v in (GOOD, BAD)))
        py = PythonOutcome(interpreter=Interpreter(Path(sys.executable), PYTHON),
                           versions=[GOOD, BAD], candidates=from_selection(selection))
        return Prober(plan, scenario, Settings(load=LOAD), store, Recorder(), py)

    def results(self) -> list[Path]:
        return sorted((self.cache / "results").glob("*.json"))


@pytest.fixture
def lab(tmp_path, monkeypatch) -> Lab:
    return Lab(tmp_path, monkeypatch)


def search_and_confirm(prober: Prober) -> None:
    """What the run loop does after a search found GOOD / BAD."""
    for version in (GOOD, BAD):
        prober.probe(version)
    prober.py.search = SearchResult(SearchStatus.FOUND, GOOD, BAD, (), (), (
        (GOOD, Verdict.STABLE), (BAD, Verdict.LEAKING)))
    confirmed = replication.confirm(prober.plan.confirm, prober, (ExitCode.ANSWER, "found"))
    assert confirmed is not None
    prober.py.replicated = confirmed.replicated


def test_replications_are_cached_by_run_and_a_warm_rerun_reads_them(lab):
    cold = lab.prober(confirm=2)
    search_and_confirm(cold)
    assert len(lab.measured) == 6  # 2 trials + 2 runs of each
    assert len(lab.results()) == 6  # one entry per (version, run)
    assert cold.py.replicated
    lab.measured.clear()
    warm = lab.prober(confirm=2)
    search_and_confirm(warm)
    assert lab.measured == []
    for version in (GOOD, BAD):
        first = warm.py.trials[version]
        assert first.from_cache
        assert [(r.run, r.from_cache) for r in first.runs] == [(2, True), (3, True)]
        assert [r.verdict for r in first.runs] == [first.verdict] * 2
    assert warm.py.replicated


def test_a_third_run_measures_only_the_new_replication(lab):
    search_and_confirm(lab.prober(confirm=1))
    lab.measured.clear()
    search_and_confirm(lab.prober(confirm=2))
    assert sorted(v for v, _ in lab.measured) == [GOOD, BAD]
    assert all("(run 3)" in label for _, label in lab.measured)


def test_no_cache_measures_replications_afresh_and_writes_nothing(lab):
    search_and_confirm(lab.prober(confirm=1))
    lab.measured.clear()
    fresh = lab.prober(no_cache=True, confirm=1)
    search_and_confirm(fresh)
    assert len(lab.measured) == 4
    assert not any(t.from_cache for t in fresh.py.trials.values())
    assert len(lab.results()) == 4  # the first run's entries, nothing more


def test_a_trial_cut_short_or_an_error_is_never_written_back(lab):
    lab.cut_short.add(GOOD)
    lab.errors.add(BAD)
    prober = lab.prober()
    prober.probe(GOOD)
    prober.probe(BAD)
    assert lab.results() == []
    lab.measured.clear()
    again = lab.prober()
    again.probe(GOOD)
    again.probe(BAD)
    assert [v for v, _ in lab.measured] == [GOOD, BAD]


def test_a_cache_read_never_measures(lab):
    lab.short.add(GOOD)  # cached, but today's rule wants more requests when it reads it
    first = lab.prober()
    first.probe(GOOD)
    assert len(lab.results()) == 1
    lab.measured.clear()
    reader = lab.prober()
    assert reader.cached(GOOD) is None  # too short for the rule: a miss, not a measurement
    assert reader.cached(BAD) is None  # not there
    assert lab.measured == []
    assert GOOD not in reader.py.trials


def test_map_cached_cell_only_reads(lab):
    lab.short.add(GOOD)  # in the cache, too short for today's rule
    prober = lab.prober()
    prober.probe(GOOD)
    prober.probe(BAD)
    lab.measured.clear()
    row = Row(PYTHON, "hello")
    map_row = MapRow(row, prober.scenario, lab.prober(), [GOOD, BAD], [], (sys.executable,))
    assert mapping._cached(map_row, Cell(GOOD, row)) is None
    hit = mapping._cached(map_row, Cell(BAD, row))
    assert hit is not None and hit.from_cache and hit.where == "cache"
    assert hit.trial.verdict is Verdict.LEAKING
    assert lab.measured == []


def test_a_cache_read_carries_todays_provenance(lab):
    lab.prober().probe(GOOD)
    lab.measured.clear()
    path = lab.results()[0]
    text = path.read_text()
    assert '"bisect_leak": "' in text
    path.write_text(text.replace('"bisect_leak": "', '"bisect_leak": "0.0.0-old-'))
    reader = lab.prober()
    trial = reader.probe(GOOD)  # re-judged here: the verdict is today's rule's
    assert trial.from_cache and lab.measured == []
    assert provenance.provenance_mismatch(reader.provenance, trial) is None


def worker_json(trials: list[dict]) -> dict:
    return {"exit_code": 0, "host": "elsewhere", "worker": "w1", "seconds": 1.0,
            "stderr": "", "json": {"results": [{"python": PYTHON, "trials": trials}]}}


def map_row(lab: Lab) -> tuple[MapRow, Row]:
    row = Row(PYTHON, "hello")
    prober = lab.prober()
    return MapRow(row, prober.scenario, prober, [GOOD, BAD], [], (sys.executable,)), row


def test_a_worker_result_with_another_provenance_is_an_error_and_not_kept(lab):
    map_r, row = map_row(lab)
    good = lab.trial(map_r.prober, GOOD).to_dict()
    for change, why in [({"bisect_leak": "9.9.9"}, "bisect-leak 9.9.9"),
                        ({"rule": 99}, "verdict rule 99"),
                        ({"scenario": "0123456789abcdef"}, "scenario differs"),
                        ({"settings": {**good["provenance"]["settings"],
                                       "threshold": 1.0}}, "threshold 1.0 (here 25.0)")]:
        data = {**good, "provenance": {**good["provenance"], **change}}
        result = mapping._from_run(map_r, Cell(GOOD, row), worker_json([data]), write=True)
        assert result.trial.verdict is Verdict.ERROR
        assert result.trial.reason.startswith("w1: ")
        assert why in result.trial.reason
    assert lab.results() == []


def test_a_worker_result_cut_short_is_used_but_not_written_back(lab):
    map_r, row = map_row(lab)
    lab.cut_short.add(GOOD)
    short = lab.trial(map_r.prober, GOOD).to_dict()
    result = mapping._from_run(map_r, Cell(GOOD, row), worker_json([short]), write=True)
    assert result.trial.verdict is Verdict.STABLE
    assert lab.results() == []
    whole = lab.trial(map_r.prober, BAD).to_dict()
    result = mapping._from_run(map_r, Cell(BAD, row), worker_json([whole]), write=True)
    assert result.trial.verdict is Verdict.LEAKING and result.where == "w1"
    assert len(lab.results()) == 1


def test_provenance_mismatch_is_pure_and_names_the_difference():
    settings = Settings(load=LOAD).key_fields()
    here = provenance.current("abc", settings)
    assert provenance.provenance_mismatch(here, {"provenance": here}) is None
    trial = TrialResult(version="1.0", verdict=Verdict.STABLE, provenance=here)
    assert provenance.provenance_mismatch(here, TrialResult.from_dict(trial.to_dict())) is None
    assert "no provenance" in provenance.provenance_mismatch(here, {"version": "1.0"})
    other = provenance.current("abc", Settings(load=replace(LOAD, requests=4000)).key_fields())
    assert provenance.provenance_mismatch(here, {"provenance": other}) == (
        "the load settings differ there: load.requests 4000 (here 3000)")
    assert "digest def" in provenance.provenance_mismatch(
        here, {"provenance": provenance.current("def", settings)})
