"""--culprit on a toy framework whose leak comes in with a dependency (offline)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from toy import base_python, fill_wheelhouse
from toydeps import build_dep_wheels, write_frame_scenario

pytestmark = pytest.mark.index  # fills the wheelhouse's uvicorn wheels once


@pytest.mark.parametrize("metric", [[], ["--metric", "held", "--threshold", "1024"]],
                         ids=["growth", "held"])
def test_culprit_names_the_dependency_that_turns_the_leak_on(metric, tmp_path_factory,
                                                             tmp_path):
    wheelhouse = fill_wheelhouse(tmp_path_factory.mktemp("wh-culprit"), str(base_python()))
    build_dep_wheels(wheelhouse)
    scenario = write_frame_scenario(tmp_path / "frame")
    out, report = tmp_path / "out.json", tmp_path / "report.md"
    env = dict(os.environ, UV_CACHE_DIR=str(tmp_path / "uv"))
    proc = subprocess.run(
        [sys.executable, "-m", "bisect_leak", "--package", "toyframe", "--good", "1.0.0",
         "--bad", "1.1.0", "--python", str(base_python()), "--scenario", str(scenario),
         "--find-links", str(wheelhouse), "--no-index", "--cache-dir", str(tmp_path / "c"),
         "--culprit", "--json", str(out), "--report", str(report), *metric],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(out.read_text())
    assert (data["last_good"], data["first_bad"]) == ("1.0.0", "1.1.0")
    assert {"name": "toycore", "before": "1.0.0", "after": "2.0.0"} in data["freeze_diff"]
    by_name = {t["change"]["name"]: t for t in data["culprit"]["trials"]}
    assert by_name["toycore"]["pin"] == "toycore==1.0.0"
    assert by_name["toycore"]["verdict"] == "stable"  # judged, held against the good bound too
    assert by_name["toycore"]["trial"]["signal"] == ("held" if metric else "growth")
    assert "toycore==1.0.0" in by_name["toycore"]["trial"]["freeze"]
    assert by_name["toyextra"]["verdict"] is None and "cannot be set back" in \
        by_name["toyextra"]["note"]
    assert data["culprit"]["message"].startswith("culprit: toycore 1.0.0 → 2.0.0")
    assert "culprit: toycore" in proc.stdout
    assert "Which dependency carries it" in report.read_text()
