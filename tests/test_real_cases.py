"""Real leak reports, reproduced against the real index (issue #3's cases). Each real case
runs once in the suite: uvicorn#1226 at commit level (tests/test_repo_uvicorn.py); its
release-level check is bench/real_cases.py.

Measured here (2 cores): uvicorn[standard] 0.14.0 with uvloop 0.15.2 on Python 3.8 never
closed ~660-790 of every 1,000 connect-and-close clients at 8 connections (~300 at 32;
descriptors rising, RSS +37 MiB at 6k); 0.13.4 and 0.17.1+ stay flat (0.17.1's #1332
"ensure connection is closed" already fixed it; 0.17.2 reverted that and fixed it another
way). FastAPI 0.109.2 under the yield-dependency-error scenario holds ~19 MiB more than
0.110.0 (swinging, not rising: the cycle collector frees it late), so the held signal finds
the fix where a slope may not.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import require

from bisect_leak.environments import interpreters

pytestmark = pytest.mark.index


def python(minor: str) -> str:
    found = [i for i in interpreters.discover() if i.minor == minor]
    if not found:
        require(False, f"no Python {minor} on this machine")
    return found[0].version


def run(args: list[str], tmp_path) -> tuple[subprocess.CompletedProcess, dict]:
    out = tmp_path / "out.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bisect_leak", *args, "--cache-dir", str(tmp_path / "c"),
         "--json", str(out)],
        capture_output=True, text=True, timeout=900, cwd=tmp_path,
    )
    assert out.exists(), proc.stdout + proc.stderr
    return proc, json.loads(out.read_text())


def test_fastapi_11191_held_memory_finds_the_fix(tmp_path):
    proc, data = run(["--fixed", "--bad", "0.109.2", "--good", "0.110.0", "--python",
                      python("3.11"), "--scenario", "yield-dependency-error",
                      "--metric", "held"], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (data["last_leaking"], data["first_fixed"]) == ("0.109.2", "0.110.0")
    bad = next(t for t in data["trials"] if t["version"] == "0.109.2")
    assert bad["signal"] == "held" and bad["value"] > 5 and bad["unit"] == "MiB held"
    good = next(t for t in data["trials"] if t["version"] == "0.110.0")
    assert good["verdict"] == "stable" and "the reference's late half" in good["reason"]
    assert [r["verdict"] for r in bad["runs"]] == ["leaking"]  # replicated afresh
    assert data["reproduce"].index("--check 0.110.0") < data["reproduce"].index("0.109.2")
    assert bad["load"]["server_errors"] > 0 and bad["load"]["ok"] == 0  # every request a 500
    assert set(data["resolved_as_of"]) == {"0.109.2", "0.110.0"}
