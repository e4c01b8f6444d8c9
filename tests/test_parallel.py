"""The bisection in rounds (issue 17) end to end on the offline toy: ``--jobs 2`` here and
``--dask`` on a real scheduler with two real workers on 127.0.0.1. Rounds and answers are
asserted, never timings (CI has 2 cores)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import toy
from conftest import CLI, describe_run
from daskcluster import cluster

from bisect_leak.bisection.rounds import goal_rounds

RANGE = ["--good", "1.0.0", "--bad", "1.5.0"]
CANDIDATES = 6  # 1.0.0 .. 1.5.0, pre-releases left out


def run(cli: CLI, tmp_path: Path, cache: Path, *extra: str, name: str) -> tuple[dict, str]:
    out = tmp_path / f"{name}.json"
    proc = cli.run([*cli.toy_args(cache), *RANGE, "--json", str(out), *extra], cwd=tmp_path,
                   timeout=900)
    assert proc.returncode == 0, describe_run(proc)
    return json.loads(out.read_text()), proc.stdout + proc.stderr


def answer(data: dict) -> tuple[str, str]:
    return data["last_good"], data["first_bad"]


def assert_rounds(data: dict, workers: int) -> list[list[str]]:
    rounds = data["rounds"]
    assert rounds, "a bisection in rounds says which candidates ran together"
    assert all(1 <= len(r) <= workers for r in rounds), rounds
    assert len(rounds) <= goal_rounds(CANDIDATES, workers), rounds
    assert rounds[0][0] == "1.0.0" and rounds[0][-1] == "1.5.0", "both bounds in round 1"
    return rounds


@pytest.mark.slow
def test_jobs_2_answers_as_the_sequential_search_in_rounds_and_rereads_it_all(cli, tmp_path):
    cache = tmp_path / "cache"
    data, stdout = run(cli, tmp_path, cache, "--jobs", "2", name="jobs")
    assert answer(data) == (toy.TOY_LAST_GOOD, toy.TOY_FIRST_BAD)
    rounds = assert_rounds(data, 2)
    assert any("run 2" in c for c in rounds[-1]), "the replications run together last"
    by_version = {t["version"]: t for t in data["trials"]}
    for v in (toy.TOY_LAST_GOOD, toy.TOY_FIRST_BAD):
        assert [r["verdict"] for r in by_version[v]["runs"]] == [by_version[v]["verdict"]]
    assert "round 1: measuring" in stdout
    # the same command again: the answer and its replications from the cache, nothing measured
    again, _ = run(cli, tmp_path, cache, "--jobs", "2", name="again")
    assert answer(again) == answer(data)
    measured = [t["version"] for t in again["trials"]
                if not t["from_cache"] and t["verdict"] != "error"]
    assert measured == []
    for t in again["trials"]:
        assert all(r["from_cache"] for r in t.get("runs", ()))


@pytest.mark.slow
def test_dask_workers_answer_as_the_sequential_search(cli, tmp_path):
    cache = tmp_path / "cache"
    with cluster(cli.env, cli.mark, tmp_path) as c:
        data, stdout = run(cli, tmp_path, cache, "--dask", c.address, "--confirm", "0",
                           name="dask")  # replication rounds: the --jobs test
    assert answer(data) == (toy.TOY_LAST_GOOD, toy.TOY_FIRST_BAD)
    assert_rounds(data, 2)
    assert "measured on wa" in stdout or "measured on wb" in stdout
    # what the workers measured was written back here: a re-run without the cluster reads it
    again, _ = run(cli, tmp_path, cache, "--confirm", "0", name="again")
    assert answer(again) == answer(data)
    good_bad = [t for t in again["trials"] if t["version"] in answer(data)]
    assert good_bad and all(t["from_cache"] for t in good_bad)
