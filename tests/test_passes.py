"""One pass over candidates, at both levels (issue 18): releases and commits share the exit
rule of ``--check``, the answer sentence and the replication. A real toy git repository; the
wheel build and the measuring seam (``Prober._measure``) give canned results."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest
import toyrepo

from bisect_leak.bisection.search import SearchResult, SearchStatus
from bisect_leak.candidates import candidate
from bisect_leak.candidates.releases import Selection
from bisect_leak.candidates.repo import Repo
from bisect_leak.environments import wheels
from bisect_leak.environments.interpreters import Interpreter
from bisect_leak.environments.store import Store
from bisect_leak.errors import ExitCode
from bisect_leak.judge.verdict import Sample, Verdict
from bisect_leak.measure.trial import Settings, TrialResult
from bisect_leak.planning.plan import Plan
from bisect_leak.planning.scenario import Load
from bisect_leak.planning.scenario import resolve as resolve_scenario
from bisect_leak.run import commit_pass, passes, runner
from bisect_leak.run.outcome import PythonOutcome
from bisect_leak.run.prober import Prober

LOAD = Load(warmup=1000, requests=3000, max_requests=9000, sample_every=100)


class Quiet:
    def progress(self, text: str) -> None: ...
    def info(self, text: str) -> None: ...
    def trial(self, result: TrialResult, python: str) -> None: ...


@pytest.fixture
def repo(tmp_path) -> toyrepo.ToyRepo:
    return toyrepo.make(tmp_path / "leakyrepo")


def prober_for(plan: Plan, tmp_path: Path, verdicts: dict[str, Verdict],
               monkeypatch) -> Prober:
    """A release-level prober whose trials are canned: ``verdicts`` by label (a release's
    version, a commit's short sha), wheels 'built' to a path that is never installed."""

    def measure(self, version, spec, label):
        verdict = verdicts[version]
        return TrialResult(version=version, verdict=verdict, warmup=LOAD.warmup,
                           requests=LOAD.warmup + LOAD.requests,
                           error="canned" if verdict is Verdict.ERROR else "")

    def wheel(spec, repo, store, on_build=None):
        return tmp_path / f"{spec.tree[:8]}.whl"

    monkeypatch.setattr(Prober, "_measure", measure)
    monkeypatch.setattr(wheels, "wheel", wheel)
    monkeypatch.setattr(Prober, "_judge_held", lambda self, version, result: None)
    selection = Selection(())
    py = PythonOutcome(interpreter=Interpreter(Path(sys.executable), "3.11.7"),
                       candidates=candidate.from_selection(selection))
    store = Store(tmp_path / "cache").open()
    return Prober(plan, resolve_scenario("hello"), Settings(load=LOAD), store, Quiet(), py)


@pytest.mark.parametrize(("verdict", "code"), [
    (Verdict.STABLE, ExitCode.ANSWER),
    (Verdict.INCONCLUSIVE, ExitCode.NO_ANSWER),  # exit 0 before issue 18: the rule diverged
    (Verdict.ERROR, ExitCode.INFRASTRUCTURE),
])
def test_a_commit_check_exits_as_a_release_check_does(repo, tmp_path, monkeypatch, verdict,
                                                      code):
    sha = repo.shas["c2"]
    plan = Plan(package=toyrepo.NAME, checks=(sha,), repo=repo.path,
                cache_dir=tmp_path / "cache")
    rp = commit_pass.prepare(plan.validate())
    prober = prober_for(plan, tmp_path, {sha[:10]: verdict}, monkeypatch)
    runner._checks(plan, rp, prober)
    assert prober.py.exit_code is code
    assert prober.py.commits is not None
    assert prober.py.commits.exit_code is passes.checks_exit(prober.py.commits) is code


def test_one_answer_sentence_names_a_release_or_a_commit(repo, tmp_path, monkeypatch):
    plan = Plan(package=toyrepo.NAME, good="1.0.0", bad="1.1.0", repo=repo.path,
                cache_dir=tmp_path / "cache", confirm=0)
    prober = prober_for(plan, tmp_path, {}, monkeypatch)
    found = SearchResult(SearchStatus.FOUND, "a", "b", (), (),
                         (("a", Verdict.STABLE), ("b", Verdict.LEAKING)))
    prober.py.search = found
    code, text = passes.answer(plan, "hello", prober.py)
    assert code is ExitCode.ANSWER
    assert text.startswith(f"first bad: {toyrepo.NAME} b (last good a) under 'hello'")
    commit = Repo.open(repo.path).commit(repo.shas["m8"])
    level = PythonOutcome(interpreter=prober.py.interpreter, versions=["x", commit.short],
                          candidates={commit.short: candidate.from_commit(commit, "tree")},
                          search=SearchResult(SearchStatus.FOUND, "x", commit.short, (), (),
                                              (("x", Verdict.STABLE),
                                               (commit.short, Verdict.LEAKING))),
                          range=commit_pass.CommitRange(repo.path))
    code, text = passes.answer(plan, "hello", level)
    assert text.startswith(f"first bad commit: {commit.sha[:10]} {commit.subject}, "
                           f"{commit.date:%Y-%m-%d} (last good x)")


def seed_like(held_kib: float, threads: int, seed: int) -> list[Sample]:
    """fastapi#4649 as its users ran it: no growth, a held step and more threads (anyio)."""
    rng = random.Random(seed)
    out = []
    for r in range(0, 20_000 + 30_000 + 1, 1_000):
        anon = int((60 * 1024 + held_kib + rng.uniform(-100, 100)) * 1024)
        out.append(Sample(r, r / 1000, anon, anon, threads, 12, anon))
    return out


def test_no_leak_to_bisect_names_what_else_differs_between_the_bounds(tmp_path, monkeypatch):
    """Issue 15 item 8: the seed's held step and thread jump show up, with the flags."""
    plan = Plan(package="fastapi", good="0.65.2", bad="0.75.0", cache_dir=tmp_path / "c",
                confirm=0)
    prober = prober_for(plan, tmp_path, {}, monkeypatch)
    py = prober.py
    py.trials = {
        "0.65.2": TrialResult(version="0.65.2", verdict=Verdict.STABLE, warmup=20_000,
                              samples=seed_like(0.0, 7, 1)),
        "0.75.0": TrialResult(version="0.75.0", verdict=Verdict.STABLE, warmup=20_000,
                              samples=seed_like(2.8 * 1024, 40, 2)),
    }
    py.versions = list(py.trials)
    search = SearchResult(SearchStatus.BOUNDS_CONTRADICT, None, None, (), (),
                          (("0.65.2", Verdict.STABLE), ("0.75.0", Verdict.STABLE)))
    passes.settle(plan, "hello", prober, search)
    assert py.exit_code is ExitCode.NO_ANSWER
    assert py.message.startswith("no leak to bisect: 0.75.0 is stable")
    assert {d.signal for d in py.other_signals} == {"held memory", "threads"}
    assert "--metric held --threshold 2048" in py.message
    assert "threads" in py.message
