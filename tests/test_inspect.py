"""--inspect: the stdlib launcher inside the env names what grows (oldest and newest Python)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import require
from toy import TOY_FIRST_BAD, TOY_LAST_GOOD, fill_wheelhouse, write_toy_scenario

from bisect_leak.environments import interpreters
from bisect_leak.run import inspection

pytestmark = pytest.mark.index  # downloads uvicorn wheels for each Python once


def _extremes() -> list[interpreters.Interpreter | None]:
    """The oldest and newest Python found ([None] when none is: the test then fails on CI
    rather than collect an empty, skipped parameter set)."""
    found = [i for i in interpreters.discover() if i.version_tuple[:2] >= interpreters.OLDEST]
    if not found:
        return [None]
    oldest = min(found, key=lambda i: i.version_tuple)
    newest = max(found, key=lambda i: i.version_tuple)
    return [oldest] if oldest == newest else [oldest, newest]


@pytest.mark.parametrize("interp", _extremes(), ids=lambda i: i.version if i else "none")
def test_launcher_names_the_leaking_type_and_site(interp, tmp_path_factory, tmp_path):
    require(interp is not None, "no Python 3.7 or later found")
    wheelhouse = fill_wheelhouse(tmp_path_factory.mktemp(f"wh-{interp.minor}"), str(interp.path))
    scenario = write_toy_scenario(tmp_path / "toy")
    out = tmp_path / "out.json"
    report = tmp_path / "report.md"
    env = dict(os.environ, UV_CACHE_DIR=str(tmp_path_factory.getbasetemp() / "uv-inspect"))
    proc = subprocess.run(
        [sys.executable, "-m", "bisect_leak", "--package", "leakytoy", "--confirm", "0",
         "--good", TOY_LAST_GOOD,
         "--bad", "1.5.0", "--python", str(interp.path), "--scenario", str(scenario),
         "--find-links", str(wheelhouse), "--no-index", "--cache-dir", str(tmp_path / "c"),
         "--inspect", "--json", str(out), "--report", str(report)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(out.read_text())
    trials = {t["version"]: t for t in data["trials"]}
    bad, good = trials[TOY_FIRST_BAD]["inspect"], trials[TOY_LAST_GOOD]["inspect"]
    # the search ran plain; only the answer's pair was inspected, afterwards, over the window
    assert sorted(v for v, t in trials.items() if t["inspect"]) == [TOY_LAST_GOOD, TOY_FIRST_BAD]
    assert trials["1.5.0"]["inspect"] is None
    assert bad["window"] == inspection.WINDOW and bad["warmup"] == 1000
    grown = {name: delta for name, delta, _ in bad["types"]}
    assert grown.get("bytearray", 0) >= inspection.WINDOW  # one per traced request
    assert "bytearray" not in {name for name, _, _ in good["types"]}
    assert any("leakytoy" in site and size >= inspection.WINDOW * 1024
               for site, size, *_ in bad["sites"])
    text = report.read_text()
    assert "What grows" in text and "`bytearray`" in text
    assert "`_LEAK.append(bytearray(1024))`" in text  # the line that keeps them
    assert f"{TOY_FIRST_BAD} on Python {interp.version}: grew: bytearray" in proc.stderr
    # the line answer against the two releases' installed files: the line that keeps them
    assert bad["frames"] == 8 and bad["stacks"] and bad["paths"]["purelib"]
    first = data["lines"][0]
    assert (first["path"], first["code"], first["in_diff"], first["via"]) == (
        "leakytoy/__init__.py", "_LEAK.append(bytearray(1024))", True, None)
    assert first["kib"] >= inspection.WINDOW  # 1 KiB and more kept per traced request
    assert data["lines_against"] == f"installed files of {TOY_LAST_GOOD} and {TOY_FIRST_BAD}"
    assert "changed lines that allocate what grows:" in proc.stdout
    assert "leakytoy/__init__.py:" in text.split("Against the diff (installed files")[1]
