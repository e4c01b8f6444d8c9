"""End to end and offline: the real CLI bisects the toy package from a local wheelhouse.

Toy releases (tests/toy.py): 1.0.0 stable, 1.1.0 fills a cache then plateaus, 1.2.0 fails on
import, 1.3.0 stable, 1.4.0rc1 / 1.4.0 / 1.5.0 leak 1 KiB per request.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import toy
from conftest import CLI, VERDICTS, describe_run, trial_lines
from toy import TOY_BROKEN, TOY_FIRST_BAD, TOY_LAST_GOOD, TOY_PLATEAU, TOY_PRE

LEAKING_GROWTH = 500  # KiB per 1,000 requests: the toy keeps 1 KiB per request


@dataclass
class Run:
    proc: subprocess.CompletedProcess
    data: dict
    cache: Path


def env_folders(cache: Path) -> list[Path]:
    """Finished envs in a cache: everything in envs/ but temp dirs and hidden files."""
    envs = cache / "envs"
    if not envs.is_dir():
        return []
    return [p for p in envs.iterdir() if p.is_dir() and not p.name.startswith(".")]


def temp_dirs(cache: Path) -> list[Path]:
    return [p for sub in ("envs", "results") if (cache / sub).is_dir()
            for p in (cache / sub).glob(".tmp-*")]


def bisect(cli: CLI, workdir: Path, cache: Path, *extra: str, name: str = "out.json") -> Run:
    out = workdir / name
    proc = cli.run([*cli.toy_args(cache), "--good", "1.0.0", "--bad", "1.5.0",
                    "--json", str(out), *extra], cwd=workdir)
    assert out.exists(), describe_run(proc)
    return Run(proc, json.loads(out.read_text()), cache)


@pytest.fixture(scope="module")
def bisection(cli_runner: CLI, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """One toy bisection 1.0.0..1.5.0 on a fresh cache, shared by the tests that read it."""
    workdir = tmp_path_factory.mktemp("bisection")
    return bisect(cli_runner, workdir, workdir / "cache")


def trials_by_version(data: dict) -> dict[str, dict]:
    return {t["version"]: t for t in data["trials"]}


# -- the bisection -------------------------------------------------------------------------


def test_bisection_finds_the_first_leaking_release(cli, bisection):
    proc, data = bisection.proc, bisection.data
    assert proc.returncode == 0, describe_run(proc)
    assert data["last_good"] == TOY_LAST_GOOD
    assert data["first_bad"] == TOY_FIRST_BAD
    assert data["package"] == "leakytoy"
    assert data["exit_code"] == 0
    assert data["interrupted"] is False


def test_bisection_every_trial_has_a_verdict(cli, bisection):
    trials = bisection.data["trials"]
    assert trials
    assert all(t["verdict"] in VERDICTS for t in trials)
    by_version = trials_by_version(bisection.data)
    assert by_version[TOY_LAST_GOOD]["verdict"] == "stable"
    assert by_version[TOY_FIRST_BAD]["verdict"] == "leaking"
    for t in trials:
        if t["verdict"] == "leaking":
            assert t["growth_kib_per_1k"] > LEAKING_GROWTH, t


def test_bisection_broken_release_is_an_error_with_its_import_error(cli, bisection):
    by_version = trials_by_version(bisection.data)
    assert TOY_BROKEN in by_version, "the search must have probed the broken release"
    broken = by_version[TOY_BROKEN]
    assert broken["verdict"] == "error"
    assert "ImportError" in broken["stderr_tail"]
    assert "broken on purpose" in broken["stderr_tail"]


def test_bisection_skips_the_pre_release(cli, bisection):
    data = bisection.data
    assert TOY_PRE in [s["version"] for s in data["skipped"]]
    assert TOY_PRE not in trials_by_version(data)
    assert TOY_PRE not in data["versions"]


def test_bisection_prints_one_line_per_trial_and_how_to_reproduce(cli, bisection):
    proc, data = bisection.proc, bisection.data
    lines = [m for m in trial_lines(proc.stdout) if "afresh)" not in m.group(0)]
    assert [m["version"] for m in lines] == [t["version"] for t in data["trials"]], proc.stdout
    assert [m["verdict"] for m in lines] == [t["verdict"] for t in data["trials"]]
    assert "reproduce with" in proc.stdout
    reproduce = next(line for line in proc.stdout.splitlines() if "reproduce with" in line)
    assert f"--check {TOY_LAST_GOOD}" in reproduce and f"--check {TOY_FIRST_BAD}" in reproduce
    assert "(cached)" not in proc.stdout  # a fresh cache measures everything


def test_the_answer_is_measured_again_afresh_and_kept_in_the_json(cli, bisection):
    proc, data = bisection.proc, bisection.data
    again = [m for m in trial_lines(proc.stdout) if "(run 2, afresh)" in m.group(0)]
    assert [(m["version"], m["verdict"]) for m in again] == [
        (TOY_LAST_GOOD, "stable"), (TOY_FIRST_BAD, "leaking")]
    trials = trials_by_version(data)
    for version, verdict in ((TOY_LAST_GOOD, "stable"), (TOY_FIRST_BAD, "leaking")):
        runs = trials[version]["runs"]
        assert [r["verdict"] for r in runs] == [verdict] and runs[0]["run"] == 2
        assert not runs[0]["from_cache"] and runs[0]["reason"]
    others = [t for v, t in trials.items() if v not in (TOY_LAST_GOOD, TOY_FIRST_BAD)]
    assert all(t["runs"] == [] for t in others)
    assert "replicated: 2 runs of each agree" in proc.stdout
    assert data["replicated"] is True


def test_bisection_leaves_no_temp_dirs(cli, bisection):
    assert temp_dirs(bisection.cache) == []


def test_pre_releases_included_with_pre(cli, tmp_path):
    run = bisect(cli, tmp_path, tmp_path / "cache", "--pre", "--confirm", "0")
    assert run.proc.returncode == 0, describe_run(run.proc)
    assert run.data["first_bad"] == TOY_PRE
    assert run.data["last_good"] == TOY_LAST_GOOD
    assert TOY_PRE in run.data["versions"]
    assert all(t["verdict"] in VERDICTS for t in run.data["trials"])


# -- checks, bounds, no answer -------------------------------------------------------------


def test_check_plateau_is_stable_and_broken_is_error_exit_3(cli, tmp_path):
    out = tmp_path / "out.json"
    proc = cli.run([*cli.toy_args(tmp_path / "cache"), "--check", TOY_PLATEAU,
                    "--check", TOY_BROKEN, "--json", str(out)], cwd=tmp_path)
    assert proc.returncode == 3, describe_run(proc)
    data = json.loads(out.read_text())
    by_version = trials_by_version(data)
    assert set(by_version) == {TOY_PLATEAU, TOY_BROKEN}
    assert by_version[TOY_PLATEAU]["verdict"] == "stable", by_version[TOY_PLATEAU]["reason"]
    assert by_version[TOY_BROKEN]["verdict"] == "error"
    assert "ImportError" in by_version[TOY_BROKEN]["stderr_tail"]
    assert [m["version"] for m in trial_lines(proc.stdout)] == [TOY_PLATEAU, TOY_BROKEN]
    assert "reproduce with" in proc.stdout


def test_report_and_plot_of_a_python_whose_trials_all_failed(cli, tmp_path):
    report = tmp_path / "r.md"
    proc = cli.run([*cli.toy_args(tmp_path / "cache"), "--check", TOY_BROKEN,
                    "--report", str(report)], cwd=tmp_path)
    assert proc.returncode == 3, describe_run(proc)  # the version's error, not an internal one
    assert "Traceback" not in proc.stderr, describe_run(proc)
    text = report.read_text()
    assert f"| {TOY_BROKEN} | **error** |" in text
    assert "ImportError" in text
    assert report.with_suffix(".png").stat().st_size > 0


def test_good_newer_than_bad_suggests_fixed(cli, tmp_path):
    cache = tmp_path / "cache"
    proc = cli.run([*cli.toy_args(cache), "--good", "1.3.0", "--bad", "1.0.0"], cwd=tmp_path)
    assert proc.returncode == 2, describe_run(proc)
    assert "--fixed" in proc.stderr
    assert not cache.exists()


def test_fixed_needs_bad_older_than_good(cli, tmp_path):
    cache = tmp_path / "cache"
    proc = cli.run([*cli.toy_args(cache), "--fixed", "--bad", TOY_FIRST_BAD,
                    "--good", TOY_LAST_GOOD], cwd=tmp_path)
    assert proc.returncode == 2, describe_run(proc)
    assert "--fixed" in proc.stderr and "older" in proc.stderr
    assert not cache.exists()


def test_no_leak_to_bisect_exit_1(cli, tmp_path):
    out = tmp_path / "out.json"
    proc = cli.run([*cli.toy_args(tmp_path / "cache"), "--good", "1.0.0", "--bad", "1.3.0",
                    "--json", str(out)], cwd=tmp_path)
    assert proc.returncode == 1, describe_run(proc)
    assert "no leak to bisect" in proc.stdout
    data = json.loads(out.read_text())
    assert data["last_good"] is None and data["first_bad"] is None
    assert trials_by_version(data)["1.3.0"]["verdict"] == "stable"


# -- the cache -----------------------------------------------------------------------------


def test_rerun_answers_from_the_cache_and_no_cache_measures_again(cli, bisection, tmp_path):
    first = bisection
    again = bisect(cli, tmp_path, first.cache, name="again.json")
    assert again.proc.returncode == 0, describe_run(again.proc)
    assert (again.data["last_good"], again.data["first_bad"]) == (TOY_LAST_GOOD, TOY_FIRST_BAD)
    lines = trial_lines(again.proc.stdout)
    assert lines, again.proc.stdout
    for m in lines:
        line = m.group(0)
        if m["verdict"] in ("stable", "leaking") and "afresh)" not in line:
            assert line.endswith("(cached)"), line
    assert any(t["from_cache"] for t in again.data["trials"])
    assert ({t["version"]: t["verdict"] for t in again.data["trials"]}
            == {t["version"]: t["verdict"] for t in first.data["trials"]})

    # --no-cache measures afresh what the cache holds (one cached version is enough to see it)
    out = tmp_path / "fresh.json"
    proc = cli.run([*cli.toy_args(first.cache), "--check", TOY_FIRST_BAD, "--no-cache",
                    "--json", str(out)], cwd=tmp_path)
    assert proc.returncode == 0, describe_run(proc)
    (trial,) = json.loads(out.read_text())["trials"]
    assert trial["verdict"] == "leaking" and not trial["from_cache"]
    assert "(cached)" not in proc.stdout
    assert temp_dirs(first.cache) == []


def test_two_runs_at_once_share_the_cache(cli, tmp_path):
    cache = tmp_path / "cache"
    runs = []
    for name in ("a", "b"):
        out = tmp_path / f"{name}.json"
        popen = cli.popen([*cli.toy_args(cache), "--good", "1.0.0", "--bad", "1.5.0",
                           "--confirm", "0", "--json", str(out)], cwd=tmp_path,
                          stdout=tmp_path / f"{name}.out", stderr=tmp_path / f"{name}.err")
        runs.append((name, popen, out))
    try:
        for _, popen, _ in runs:
            popen.wait(timeout=300)
    finally:
        for _, popen, _ in runs:
            if popen.poll() is None:
                popen.kill()
                popen.wait(timeout=30)
    datas = []
    for name, popen, out in runs:
        text = (tmp_path / f"{name}.out").read_text() + (tmp_path / f"{name}.err").read_text()
        assert popen.returncode == 0, f"run {name}: exit {popen.returncode}\n{text}"
        data = json.loads(out.read_text())
        assert (data["last_good"], data["first_bad"]) == (TOY_LAST_GOOD, TOY_FIRST_BAD), text
        datas.append(data)
    # Both runs used one env per version: same key for the same version, one folder per key.
    keys: dict[str, set[str]] = {}
    for data in datas:
        for t in data["trials"]:
            keys.setdefault(t["version"], set()).add(t["env"]["key"])
    assert all(len(k) == 1 for k in keys.values()), keys
    folders = {p.name for p in env_folders(cache)}
    assert {k for ks in keys.values() for k in ks} <= folders
    # Envs may also be built ahead for versions the search might have needed, never more
    # than one per version in range.
    assert len(folders) <= len(datas[0]["versions"]), sorted(folders)
    # No env was built twice: across both runs, at most one "building env" line per version
    # (the other run waits for the lock, then finds it built).
    errs = "".join((tmp_path / f"{name}.err").read_text() for name, _, _ in runs)
    for version in datas[0]["versions"]:
        builds = errs.count(f"building env: leakytoy {version} on")
        assert builds <= 1, f"{version} built {builds} times:\n{errs}"
    # The index agrees with the folders.
    listed = cli.run(["cache", "--cache-dir", str(cache)], cwd=tmp_path)
    assert listed.returncode == 0, describe_run(listed)
    listed_keys = {line.split()[1] for line in listed.stdout.splitlines()
                   if line.startswith("env ")}
    assert listed_keys == folders, listed.stdout
    assert temp_dirs(cache) == []


UV_BINARY_RACE = """
import threading
from bisect_leak.environments import env as envs
barrier = threading.Barrier(8)
errors = []
def find():
    barrier.wait()
    try:
        envs.uv_binary()
    except Exception as exc:
        errors.append(repr(exc))
threads = [threading.Thread(target=find) for _ in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(errors), errors[:1])
"""


def test_uv_binary_is_safe_from_several_threads(tmp_path):
    """The runner builds envs from two threads: finding uv must not race (fresh processes)."""
    failures = []
    for _ in range(20):
        proc = subprocess.run([sys.executable, "-c", UV_BINARY_RACE], capture_output=True,
                              text=True, timeout=60, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        if not proc.stdout.startswith("0 "):
            failures.append(proc.stdout.strip())
    assert not failures, failures


def test_cache_command_lists_and_cleans(cli, tmp_path):
    cache = tmp_path / "cache"
    proc = cli.run([*cli.toy_args(cache), "--check", "1.0.0"], cwd=tmp_path)
    assert proc.returncode == 0, describe_run(proc)
    assert len(env_folders(cache)) == 1

    listed = cli.run(["cache", "--cache-dir", str(cache)], cwd=tmp_path)
    assert listed.returncode == 0, describe_run(listed)
    env_lines = [line for line in listed.stdout.splitlines() if line.startswith("env ")]
    assert len(env_lines) == 1, listed.stdout
    assert env_folders(cache)[0].name in env_lines[0]
    assert "1 env(s)" in listed.stdout

    cleaned = cli.run(["cache", "--cache-dir", str(cache), "clean"], cwd=tmp_path)
    assert cleaned.returncode == 0, describe_run(cleaned)
    assert "removed 1 env(s)" in cleaned.stdout
    assert env_folders(cache) == []

    relisted = cli.run(["cache", "--cache-dir", str(cache)], cwd=tmp_path)
    assert relisted.returncode == 0, describe_run(relisted)
    assert not any(line.startswith("env ") for line in relisted.stdout.splitlines())
    assert "0 env(s)" in relisted.stdout


def test_relative_cache_dir(cli, tmp_path):
    args = cli.toy_args(Path("rel-cache"))
    proc = cli.run([*args, "--check", "1.0.0"], cwd=tmp_path)
    assert proc.returncode == 0, describe_run(proc)
    assert "Traceback" not in proc.stderr
    assert [m["verdict"] for m in trial_lines(proc.stdout)] == ["stable"]


def test_cached_samples_are_judged_again_by_the_current_rule(cli, tmp_path):
    cache = tmp_path / "cache"
    check = [*cli.toy_args(cache), "--check", TOY_LAST_GOOD]
    first = cli.run([*check, "--json", tmp_path / "a.json"], cwd=tmp_path)
    assert first.returncode == 0, describe_run(first)
    # Tamper with what the cache says (verdict, figure, reason), keeping the samples.
    [stored] = (cache / "results").glob("*.json")
    data = json.loads(stored.read_text())
    assert data["verdict"] == "stable"
    data.update(verdict="leaking", value=999.0, reason="a verdict from an older rule")
    stored.write_text(json.dumps(data))
    again = cli.run([*check, "--json", tmp_path / "b.json"], cwd=tmp_path)
    trial = json.loads((tmp_path / "b.json").read_text())["trials"][0]
    assert trial["from_cache"] and trial["verdict"] == "stable", describe_run(again)
    assert trial["value"] != 999.0 and "older rule" not in trial["reason"]
    # Samples too short for the rule are not trusted: the version is measured again.
    data["series"]["rows"] = data["series"]["rows"][:6]
    data["requests"] = data["series"]["rows"][-1][0]
    stored.write_text(json.dumps(data))
    third = cli.run([*check, "--json", tmp_path / "c.json"], cwd=tmp_path)
    assert "too short for the current verdict rule: measuring it again" in third.stderr
    trial = json.loads((tmp_path / "c.json").read_text())["trials"][0]
    assert not trial["from_cache"] and trial["verdict"] == "stable"


FLAKY_APP = '''\
"""leakytoy, but a leaking release keeps its memory only the first time it is started."""
import collections
import os

import leakytoy
from leakytoy import app  # noqa: F401

_MARK = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                     "started-" + leakytoy.__version__)
if os.path.exists(_MARK):
    leakytoy._LEAK = collections.deque(maxlen=1)  # later starts: what it appends is dropped
open(_MARK, "w").close()
'''


def test_an_answer_that_does_not_replicate_is_no_answer(cli, tmp_path):
    """The first bad release leaks in the search's run and not when measured again (as a
    timing-dependent leak might): the answer must not stand."""
    scenario = tmp_path / "flaky"
    scenario.mkdir()
    (scenario / "scenario.toml").write_text(toy.TOY_SCENARIO_TOML)
    (scenario / "app.py").write_text(FLAKY_APP)
    bisect_args = [*cli.toy_args(tmp_path / "cache", scenario=scenario), "--good",
                   TOY_LAST_GOOD, "--bad", TOY_FIRST_BAD, "--json", tmp_path / "o.json"]
    proc = cli.run(bisect_args, cwd=tmp_path)
    assert proc.returncode == 1, describe_run(proc)
    data = json.loads((tmp_path / "o.json").read_text())
    assert data["replicated"] is False and data["exit_code"] == 1
    bad = trials_by_version(data)[TOY_FIRST_BAD]
    assert bad["verdict"] == "leaking" and [r["verdict"] for r in bad["runs"]] == ["stable"]
    assert data["message"].startswith("the answer did not replicate")
    assert f"{TOY_FIRST_BAD} was leaking, run 2 says stable" in proc.stdout
