"""Find the fix, the Python matrix, and the held / fds signals, offline on toy wheels."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import require
from toy import TOY_PLATEAU, base_python, fill_wheelhouse, write_toy_scenario
from toydeps import build_dep_wheels, write_frame_scenario

from bisect_leak.environments import interpreters

pytestmark = pytest.mark.index  # fills the wheelhouse's uvicorn wheels once


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory):
    wh = fill_wheelhouse(tmp_path_factory.mktemp("wh-dirs"), str(base_python()))
    build_dep_wheels(wh)
    return wh


def run(args, tmp_path, wheelhouse, python=None):
    out = tmp_path / "out.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bisect_leak", *args, "--find-links", str(wheelhouse),
         "--no-index", "--cache-dir", str(tmp_path / "c"), "--json", str(out),
         "--python", python or str(base_python())],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
        env=dict(os.environ, UV_CACHE_DIR=str(tmp_path / "uv")),
    )
    assert out.exists(), proc.stdout + proc.stderr
    return proc, json.loads(out.read_text())


def test_fixed_finds_the_first_release_without_the_leak(wheelhouse, tmp_path):
    scenario = write_frame_scenario(tmp_path / "fix", "toyfix")
    proc, data = run(["--package", "toyfix", "--fixed", "--bad", "1.0.0", "--good", "1.3.0",
                      "--confirm", "0",
                      "--scenario", str(scenario)], tmp_path, wheelhouse)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (data["last_leaking"], data["first_fixed"]) == ("1.1.0", "1.2.0")
    assert "last_good" not in data and "first_bad" not in data
    assert "first fixed: toyfix 1.2.0" in proc.stdout


def test_fixed_when_the_good_bound_still_leaks_is_no_answer(wheelhouse, tmp_path):
    scenario = write_frame_scenario(tmp_path / "fix", "toyfix")
    proc, data = run(["--package", "toyfix", "--fixed", "--bad", "1.0.0", "--good", "1.1.0",
                      "--scenario", str(scenario)], tmp_path, wheelhouse)
    assert proc.returncode == 1
    assert data["first_fixed"] is None
    assert "no fix to find" in proc.stdout


def test_fds_metric_sees_descriptors_kept(wheelhouse, tmp_path):
    scenario = write_frame_scenario(tmp_path / "fds", "toyfds")
    proc, data = run(["--package", "toyfds", "--good", "1.0.0", "--bad", "2.0.0",
                      "--metric", "fds", "--scenario", str(scenario)], tmp_path, wheelhouse)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    trials = {t["version"]: t for t in data["trials"]}
    assert trials["2.0.0"]["signal"] == "fds" and trials["2.0.0"]["verdict"] == "leaking"
    assert trials["2.0.0"]["value"] > 900  # one descriptor per request
    assert trials["2.0.0"]["unit"] == "descriptors/1k requests"
    assert trials["2.0.0"]["growth_kib_per_1k"] is None  # not memory
    assert trials["1.0.0"]["verdict"] == "stable"
    rows = trials["2.0.0"]["series"]["rows"]
    assert rows[-1][4] - rows[0][4] >= 0.9 * (rows[-1][0] - rows[0][0])  # one per request


def test_held_metric_sees_what_growth_calls_a_plateau(wheelhouse, tmp_path):
    scenario = write_toy_scenario(tmp_path / "toy")
    base = ["--package", "leakytoy", "--check", "1.0.0", "--check", TOY_PLATEAU,
            "--scenario", str(scenario)]
    _, growth = run(base, tmp_path, wheelhouse)
    by_growth = {t["version"]: t["verdict"] for t in growth["trials"]}
    assert by_growth == {"1.0.0": "stable", TOY_PLATEAU: "stable"}
    proc, held = run([*base, "--metric", "held", "--threshold", "2048"], tmp_path, wheelhouse)
    by_held = {t["version"]: t for t in held["trials"]}
    assert by_held[TOY_PLATEAU]["signal"] == "held"
    assert by_held[TOY_PLATEAU]["verdict"] == "leaking"  # ~4 MiB more held than 1.0.0
    assert by_held[TOY_PLATEAU]["value"] > 2 and by_held[TOY_PLATEAU]["unit"] == "MiB held"
    # The reference is measured against its own halves, not declared stable.
    assert by_held["1.0.0"]["verdict"] == "stable"
    assert "the reference's late half against its early half" in by_held["1.0.0"]["reason"]
    assert proc.returncode == 0


def test_python_matrix_measures_bounds_on_each_then_bisects(wheelhouse, tmp_path):
    pythons = [i for i in interpreters.discover() if i.minor in ("3.11", "3.12")]
    pythons = list({i.minor: i for i in pythons}.values())
    if len(pythons) < 2:
        require(False, "needs Python 3.11 and 3.12")
    for interp in pythons:
        fill_wheelhouse(wheelhouse, str(interp.path))
    scenario = write_toy_scenario(tmp_path / "toy")
    spec = ",".join(i.version for i in pythons)
    proc, data = run(["--package", "leakytoy", "--good", "1.3.0", "--bad", "1.5.0",
                      "--confirm", "0", "--scenario", str(scenario)], tmp_path, wheelhouse,
                     python=spec)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [r["python"] for r in data["results"]] == [i.version for i in pythons]
    for result in data["results"]:
        assert (result["last_good"], result["first_bad"]) == ("1.3.0", "1.4.0")
    assert "Python     bound        verdict" in proc.stdout
    # Both bounds on every Python come first (the table), then the bisection.
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip().startswith(("1.3.0", "1.5.0",
                                                                            "1.4.0"))]
    assert [ln.split()[0] for ln in lines[:4]] == ["1.3.0", "1.3.0", "1.5.0", "1.5.0"]
