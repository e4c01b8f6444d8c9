"""``bisect-leak map`` end to end on the offline ``maptoy`` wheelhouse: here, with ``--jobs``,
and on a real Dask scheduler with two real workers started on 127.0.0.1 by the test.

maptoy leaks in 1.1.0-1.2.0, is fixed in 1.3.0, and leaks again from 1.4.0 on the second
Python only (tests/maptoy.py).
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import maptoy
import psutil
import pytest
import toy
from conftest import CLI, describe_run, require
from daskcluster import cluster as start_cluster

from bisect_leak.environments import interpreters

RANGE = ["--package", maptoy.NAME, "--from", maptoy.VERSIONS[0], "--to", maptoy.VERSIONS[-1]]
DEADLINE = 120.0


need = require  # skip here when a prerequisite is missing; on CI, fail


@dataclass
class World:
    cli: CLI
    wheelhouse: Path
    pythons: list[interpreters.Interpreter]  # the base one, then the one 1.4.0 leaks on
    scenarios: list[Path]

    def args(self, cache: Path, *, pythons: int = 2, scenarios: int = 2,
             confirm: int = 0) -> list[str]:
        """The map's arguments; flips are replicated only where a test asks (suite time)."""
        return [*RANGE, "--python", ",".join(str(p.path) for p in self.pythons[:pythons]),
                "--scenario", ",".join(str(s) for s in self.scenarios[:scenarios]),
                "--find-links", str(self.wheelhouse), "--no-index", "--cache-dir", str(cache),
                "--confirm", str(confirm)]

    def truth(self, version: str, python: str) -> str:
        return maptoy.truth(version, ".".join(python.split(".")[:2]), self.pythons[1].minor)

    def run(self, args: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
        return self.cli.run(["map", *args], cwd=cwd, timeout=timeout)


@pytest.fixture(scope="module")
def world(cli_runner: CLI, toy_wheelhouse: Path, tmp_path_factory) -> World:
    base = interpreters.query(Path(cli_runner.python))
    assert base is not None
    others = {i.minor: i for i in interpreters.discover() if i.minor != base.minor}
    second = next((others[m] for m in ("3.12", "3.11", "3.13", "3.10", "3.9") if m in others),
                  None)
    need(second is not None, "a second Python (3.9-3.13) besides the one running the tests")
    toy.fill_wheelhouse(toy_wheelhouse, str(second.path))  # uvicorn for the second Python
    maptoy.build_wheels(toy_wheelhouse, second.minor)
    root = tmp_path_factory.mktemp("map-scenarios")
    scenarios = [maptoy.write_scenario(root / "toy"), maptoy.write_scenario(root / "toyb", "/b")]
    return World(cli_runner, toy_wheelhouse, [base, second], scenarios)


def cells(data: dict) -> dict[tuple[str, str, str], str]:
    return {(c["candidate"], c["python"], c["scenario"]): c["verdict"] for c in data["cells"]}


@pytest.fixture(scope="module")
def local_map(world: World, tmp_path_factory) -> tuple[subprocess.CompletedProcess, dict, Path]:
    """--every, here, two cells at a time, after a --check has already measured one cell
    (the map one cell at a time: the interrupt and held tests)."""
    work = tmp_path_factory.mktemp("local-map")
    cache = work / "cache"
    check = world.cli.run(
        ["--package", maptoy.NAME, "--check", "1.3.0", "--python", str(world.pythons[0].path),
         "--scenario", str(world.scenarios[0]), "--find-links", str(world.wheelhouse),
         "--no-index", "--cache-dir", str(cache)], cwd=work)
    assert check.returncode == 0, describe_run(check)
    proc = world.run([*world.args(cache), "--every", "--jobs", "2",  # one at a time: below
                      "--json", str(work / "map.json"), "--report", str(work / "map.md")],
                     cwd=work)
    assert proc.returncode == 0, describe_run(proc)
    return proc, json.loads((work / "map.json").read_text()), work


def test_every_map_here_matches_the_truth(world: World, local_map):
    proc, data, work = local_map
    assert len(data["cells"]) == 2 * 2 * len(maptoy.VERSIONS)
    for (version, python, _), verdict in cells(data).items():
        assert verdict == world.truth(version, python), (version, python)
    for c in data["cells"]:
        assert c["unit"] == "KiB/1k requests" and isinstance(c["value"], float)
        assert c["trial"]["version"] == c["candidate"] and c["trial"]["series"]["rows"]
    second = world.pythons[1].version
    for scenario in ("toy", "toyb"):
        on_base = [(f["from"], f["to"], f["first_after"]) for f in data["flips"]
                   if f["python"] == world.pythons[0].version and f["scenario"] == scenario]
        assert on_base == [("stable", "leaking", "1.1.0"), ("leaking", "stable", "1.3.0")]
        on_second = [(f["from"], f["to"], f["first_after"]) for f in data["flips"]
                     if f["python"] == second and f["scenario"] == scenario]
        assert on_second == [*on_base, ("stable", "leaking", "1.4.0")]
    markdown = (work / "map.md").read_text()
    assert f"| release | {world.pythons[0].version} / toy |" in markdown
    assert f"stable → leaking at 1.4.0 on {second} / toyb (after 1.3.0)" in markdown
    assert "| 1.1.0 | LEAK +" in markdown
    assert (work / "map.png").stat().st_size > 0 and (work / "map.svg").stat().st_size > 0
    assert "24/24 cells" in proc.stdout and "s left" in proc.stdout


def test_map_reuses_the_bisections_cache_and_a_bisection_reuses_the_maps(world, local_map):
    _, data, work = local_map
    reused = [c for c in data["cells"] if c["from_cache"]]
    assert [(c["candidate"], c["python"], c["scenario"]) for c in reused] == [
        ("1.3.0", world.pythons[0].version, "toy")]
    assert data["measured"] == len(data["cells"]) - 1
    check = world.cli.run(
        ["--package", maptoy.NAME, "--check", "1.4.0", "--python", str(world.pythons[1].path),
         "--scenario", str(world.scenarios[1]), "--find-links", str(world.wheelhouse),
         "--no-index", "--cache-dir", str(work / "cache")], cwd=work)
    assert check.returncode == 0 and "(cached)" in check.stdout, describe_run(check)
    again = world.run([*world.args(work / "cache"), "--every", "--json",
                       str(work / "again.json")], cwd=work)
    assert again.returncode == 0, describe_run(again)
    rerun = json.loads((work / "again.json").read_text())
    assert rerun["measured"] == 0 and cells(rerun) == cells(data)


def test_edges_with_jobs_finds_the_flip_it_can_and_says_what_it_may_miss(world, tmp_path,
                                                                         local_map):
    out = tmp_path / "edges.json"
    proc = world.run([*world.args(tmp_path / "cache", scenarios=1, confirm=1), "--jobs", "2",
                      "--json", str(out)], cwd=tmp_path)
    assert proc.returncode == 0, describe_run(proc)
    assert "sampled per request served" in proc.stdout  # the --jobs note
    data = json.loads(out.read_text())
    base, second = (p.version for p in world.pythons)
    measured = cells(data)
    assert {v for v, py, _ in measured if py == base} == {"1.0.0", "1.5.0"}
    assert [(f["python"], f["first_after"]) for f in data["flips"]] == [(second, "1.4.0")]
    assert data["flips"][0]["replicated"] is True  # both cells measured again, afresh
    assert "(replicated)" in proc.stdout
    assert any(f"{base} / toy" in n and "can be missed" in n for n in data["notes"])
    assert "a leak that comes and goes between two equal ends" in proc.stdout
    every = cells(local_map[1])
    assert all(every[k] == v for k, v in measured.items())


def test_map_bad_input_is_one_line_and_writes_nothing(world, tmp_path):
    cache = tmp_path / "cache"
    proc = world.run([*world.args(cache), "--to", "9.9.9"], cwd=tmp_path)
    assert proc.returncode == 2, describe_run(proc)
    assert proc.stderr.strip().splitlines()[-1].startswith(
        "bisect-leak: maptoy has no release 9.9.9 (--to)")
    assert not cache.exists()


def test_dask_without_the_extra_is_exit_2(world, tmp_path):
    shim = tmp_path / "shim" / "distributed"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text("raise ImportError('not installed')\n")
    env = {**world.cli.env, "PYTHONPATH": str(shim.parent)}
    proc = subprocess.run([sys.executable, "-m", "bisect_leak", "map",
                           *world.args(tmp_path / "cache"), "--dask", "tcp://127.0.0.1:9"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, describe_run(proc)
    assert proc.stderr.strip() == ("bisect-leak: --dask needs the dask extra: "
                                   "pip install 'bisect-leak[dask]'")
    assert not (tmp_path / "cache").exists()


def test_unreachable_scheduler_is_exit_3_in_one_line(world, tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = world.run([*world.args(tmp_path / "cache", pythons=1, scenarios=1),
                      "--dask", f"tcp://127.0.0.1:{port}"], cwd=tmp_path, timeout=120)
    assert proc.returncode == 3, describe_run(proc)
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("bisect-leak:")]
    assert errors == [ln for ln in proc.stderr.splitlines() if ln.strip()
                      and not ln.startswith("  ")]  # progress lines aside, just that one
    assert len(errors) == 1 and f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}" \
        in errors[0]
    assert "Traceback" not in proc.stderr


# -- a real Dask cluster on 127.0.0.1 ---------------------------------------------------------


def cluster(world: World, root: Path):
    """A real Dask scheduler and two workers on 127.0.0.1 (tests/daskcluster.py)."""
    return start_cluster(world.cli.env, world.cli.mark, root)


def result_keys(cache: Path) -> list[str]:
    return sorted(p.stem for p in (cache / "results").glob("*.json"))


def test_dask_map_equals_the_local_map_and_measures_each_cell_once(world, tmp_path, local_map):
    cache = tmp_path / "cache"
    out = tmp_path / "dask.json"
    with cluster(world, tmp_path) as c:
        proc = world.run([*world.args(cache, scenarios=1), "--every", "--dask", c.address,
                          "--json", str(out)], cwd=tmp_path)
        assert proc.returncode == 0, describe_run(proc) + c.log("wa") + c.log("wb")
        data = json.loads(out.read_text())
        local = {k: v for k, v in cells(local_map[1]).items() if k[2] == "toy"}
        assert cells(data) == local
        assert data["measured"] == len(local) == 12
        assert {c_["where"] for c_ in data["cells"]} == {"wa", "wb"}  # both workers ran cells
        # Once each: twelve trials in the workers' caches, none twice, under the keys a
        # bisection here uses, streamed back into the local cache.
        on_workers = result_keys(c.cache("wa")) + result_keys(c.cache("wb"))
        assert len(set(on_workers)) == len(on_workers) == 12
        assert sorted(on_workers) == result_keys(cache)
        again = world.run([*world.args(cache, scenarios=1), "--every", "--dask", c.address,
                           "--json", str(tmp_path / "again.json")], cwd=tmp_path)
        assert again.returncode == 0, describe_run(again)
        assert json.loads((tmp_path / "again.json").read_text())["measured"] == 0
        assert result_keys(c.cache("wa")) + result_keys(c.cache("wb")) == on_workers


def test_a_worker_killed_mid_cell_and_the_map_still_completes(world, tmp_path, local_map):
    cache = tmp_path / "cache"
    out = tmp_path / "killed.json"
    with cluster(world, tmp_path) as c:
        with open(tmp_path / "map.out", "wb") as so, open(tmp_path / "map.err", "wb") as se:
            run = subprocess.Popen(
                [sys.executable, "-m", "bisect_leak", "map", *world.args(cache, scenarios=1),
                 "--edges", "--dask", c.address, "--json", str(out)], cwd=tmp_path,
                env=world.cli.env, stdin=subprocess.DEVNULL, stdout=so, stderr=se)
        try:
            victim = psutil.Process(c.procs["wa"].pid)
            deadline = time.monotonic() + DEADLINE
            while not _serving(victim):  # a cell's server is up on wa: mid-cell
                assert run.poll() is None and time.monotonic() < deadline, (
                    (tmp_path / "map.err").read_text())
                time.sleep(0.05)
            c.kill_tree("wa")
            run.wait(timeout=600)
        finally:
            if run.poll() is None:
                run.kill()
        text = (tmp_path / "map.out").read_text() + (tmp_path / "map.err").read_text()
        assert run.returncode == 0, text + c.log("scheduler")
    data = json.loads(out.read_text())
    every = cells(local_map[1])  # --edges here: the cells it needs, as the local map has them
    assert all(every[k] == v for k, v in cells(data).items())
    base, second = (p.version for p in world.pythons)
    assert {(v, py) for v, py, _ in cells(data)} == {
        ("1.0.0", base), ("1.5.0", base), ("1.0.0", second), ("1.5.0", second),
        ("1.3.0", second), ("1.4.0", second)}
    assert [(f["python"], f["first_after"]) for f in data["flips"]] == [(second, "1.4.0")]
    assert "wb" in {c_["where"] for c_ in data["cells"]}
    assert len(result_keys(cache)) == 6


def _serving(worker: psutil.Process) -> bool:
    """True while a ``--check`` under ``worker`` has a server of its own running."""
    try:
        for child in worker.children(recursive=True):
            if "uvicorn" in " ".join(child.cmdline()):
                return True
    except psutil.Error:
        return False
    return False


def test_interrupt_stops_the_cells_and_a_rerun_resumes_from_the_cache(world, tmp_path):
    cache = tmp_path / "cache"
    args = ["map", *world.args(cache, pythons=1, scenarios=1), "--every"]
    with open(tmp_path / "out", "wb") as so, open(tmp_path / "err", "wb") as se:
        run = subprocess.Popen([sys.executable, "-m", "bisect_leak", *args], cwd=tmp_path,
                               env=world.cli.env, stdin=subprocess.DEVNULL, stdout=so, stderr=se)
    try:
        me = psutil.Process(run.pid)
        deadline = time.monotonic() + DEADLINE
        while not ("2/6 cells" in (tmp_path / "out").read_text() and _serving(me)):
            assert run.poll() is None and time.monotonic() < deadline, (
                (tmp_path / "err").read_text())
            time.sleep(0.05)
        family = me.children(recursive=True)
        run.send_signal(signal.SIGINT)
        assert run.wait(timeout=60) == 130
    finally:
        if run.poll() is None:
            run.kill()
    err = (tmp_path / "out").read_text() + (tmp_path / "err").read_text()
    assert "interrupted:" in err and "run again to resume from the cache" in err, err
    gone, alive = psutil.wait_procs(family, timeout=5)
    assert not alive, [p.pid for p in alive]
    assert not list((cache / "results").glob(".tmp-*"))
    kept = len(list((cache / "results").glob("*.json")))
    assert kept >= 2
    out = tmp_path / "resumed.json"
    again = world.run([*args[1:], "--json", str(out)], cwd=tmp_path)
    assert again.returncode == 0, describe_run(again)
    data = json.loads(out.read_text())
    assert sum(c["from_cache"] for c in data["cells"]) == kept
    assert data["measured"] == 6 - kept


def test_interrupt_cancels_the_clusters_pending_cells(world, tmp_path):
    cache = tmp_path / "cache"
    with cluster(world, tmp_path) as c:
        with open(tmp_path / "out", "wb") as so, open(tmp_path / "err", "wb") as se:
            run = subprocess.Popen(
                [sys.executable, "-m", "bisect_leak", "map", *world.args(cache, scenarios=1),
                 "--every", "--dask", c.address], cwd=tmp_path, env=world.cli.env,
                stdin=subprocess.DEVNULL, stdout=so, stderr=se)
        try:
            deadline = time.monotonic() + DEADLINE
            while "1/12 cells" not in (tmp_path / "out").read_text():
                assert run.poll() is None and time.monotonic() < deadline, (
                    (tmp_path / "err").read_text())
                time.sleep(0.05)
            run.send_signal(signal.SIGINT)
            assert run.wait(timeout=60) == 130
        finally:
            if run.poll() is None:
                run.kill()
        text = (tmp_path / "out").read_text() + (tmp_path / "err").read_text()
        assert "pending cancelled" in text, text
        from distributed import Client

        def count(dask_scheduler) -> int:  # pickled by value: the scheduler cannot import us
            return len(dask_scheduler.tasks)

        with Client(c.address, timeout=DEADLINE) as client:
            deadline = time.monotonic() + DEADLINE  # the cells already running end there
            while client.run_on_scheduler(count) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert client.run_on_scheduler(count) == 0
        measured = result_keys(c.cache("wa")) + result_keys(c.cache("wb"))
        assert len(measured) < 12  # the cancelled cells never ran
        assert len(result_keys(cache)) <= len(measured)



def test_held_map_judges_each_release_against_the_rows_oldest(world, tmp_path):
    args = [*world.args(tmp_path / "cache", pythons=1, scenarios=1), "--every",
            "--metric", "held", "--threshold", "300",
            "--warmup", "1000", "--requests", "4000"]  # a held median needs the longer look
    first = world.run([*args, "--json", str(tmp_path / "a.json")], cwd=tmp_path)
    assert first.returncode == 0, describe_run(first)
    data = json.loads((tmp_path / "a.json").read_text())
    by = {c["candidate"]: c for c in data["cells"]}
    assert "reference" in by["1.0.0"]["reason"] and by["1.0.0"]["verdict"] == "stable"
    for v in ("1.3.0", "1.4.0", "1.5.0"):
        assert by[v]["verdict"] == "stable" and by[v]["unit"] == "MiB held", by[v]
    for v in ("1.1.0", "1.2.0"):  # a steady leak holds more, though its spread is wide
        assert by[v]["verdict"] != "stable" and by[v]["value"] > 0.3, by[v]
    again = world.run([*args, "--json", str(tmp_path / "b.json")], cwd=tmp_path)
    assert again.returncode == 0, describe_run(again)
    rerun = json.loads((tmp_path / "b.json").read_text())
    assert rerun["measured"] == 0 and cells(rerun) == cells(data)
