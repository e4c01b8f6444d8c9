"""Against the real package index: FastAPI releases around 0.68.2/0.69.0 on Python 3.7.

These assert what is true of the tool (every trial has a verdict, the recorded freezes, the
exit code agrees with the result), never a verdict we hope for.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import require

from bisect_leak.environments import interpreters

pytestmark = pytest.mark.index

VERDICTS = {"leaking", "stable", "inconclusive", "error"}


@pytest.fixture(scope="module")
def python37() -> str:
    found = [i for i in interpreters.discover() if i.minor == "3.7"]
    if not found:
        require(False, "no Python 3.7 on this machine")
    return found[0].version


def run(args: list[str], tmp_path, timeout: float = 900):
    out = tmp_path / "result.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bisect_leak", *args, "--cache-dir", str(tmp_path / "cache"),
         "--json", str(out)],
        capture_output=True, text=True, timeout=timeout, cwd=tmp_path,
    )
    assert out.exists(), proc.stderr
    return proc, json.loads(out.read_text())


def test_bisection_on_the_index_records_the_starlette_move(python37, tmp_path):
    """One run of the real case (each real case runs once): 0.68.2..0.69.0 on Python 3.7."""
    proc, data = run(["--good", "0.68.2", "--bad", "0.69.0", "--python", python37,
                      "--warmup", "5000", "--requests", "5000",  # the suite's budget
                      "--report", str(tmp_path / "result.md")],
                     tmp_path)
    told = proc.stdout + proc.stderr
    trials = {t["version"]: t for t in data["trials"]}
    assert set(trials) == {"0.68.2", "0.69.0"} and data["versions"] == ["0.68.2", "0.69.0"]
    assert all(t["verdict"] in VERDICTS for t in trials.values())
    assert "starlette==0.14.2" in trials["0.68.2"]["freeze"]
    assert "starlette==0.15.0" in trials["0.69.0"]["freeze"]
    assert not any(p.startswith("anyio==") for p in trials["0.68.2"]["freeze"])
    assert any(p.startswith("anyio==") for p in trials["0.69.0"]["freeze"])
    # Nothing of bisect-leak's own is in the env under test.
    assert not any(p.lower().startswith(("bisect-leak", "bisect_leak", "psutil", "httpx"))
                   for t in trials.values() for p in t["freeze"])
    # Answer or not, what changed between the two envs is named.
    diff = data["freeze_diff"]
    assert {"name": "starlette", "before": "0.14.2", "after": "0.15.0"} in diff
    assert any(c["name"] == "anyio" and c["before"] is None for c in diff)
    report = (tmp_path / "result.md").read_text()
    assert "`starlette 0.14.2 → 0.15.0`" in report and "anyio" in report
    (line,) = [ln for ln in proc.stdout.splitlines() if "envs of 0.68.2 and 0.69.0 differ" in ln]
    assert "starlette 0.14.2 → 0.15.0" in line and "anyio" in line, told
    assert data["python"] == python37
    # Dependencies of their day: each env resolved as of its release date.
    assert set(data["resolved_as_of"]) == {"0.68.2", "0.69.0"}
    for t in trials.values():
        if t["verdict"] != "error":
            assert t["requests"] >= 5000 + 5000 and t["warmup"] == 5000
            assert t["samples"][0][0] == 0
    # The exit code agrees with the answer. Measured here: both stable under hello (no leak
    # to bisect): exit 1 with that message. An error verdict is exit 3 and never an answer.
    verdicts = {v: t["verdict"] for v, t in trials.items()}
    if "error" in verdicts.values():
        assert proc.returncode == 3, told
    elif verdicts == {"0.68.2": "stable", "0.69.0": "stable"}:
        assert proc.returncode == 1, told
        assert data["first_bad"] is None
        assert data["message"].startswith("no leak to bisect: 0.69.0 is stable")
    else:
        assert data["first_bad"] == "0.69.0" and proc.returncode == 0, data["message"]
    assert "reproduce" in data and "--check" in data["reproduce"]


def test_env_without_uv_builds_on_python37(python37, tmp_path):
    """The fallback installer (venv + pip) on the oldest Python the tool drives."""
    from bisect_leak.environments import env as envs

    interp = interpreters.choose(python37, interpreters.discover())
    spec = envs.EnvSpec(python=str(interp.path), python_version=interp.version,
                        requirements=("fastapi==0.69.0", "uvicorn"))
    freeze, installer = envs.build(spec, tmp_path / "env", uv="")
    assert installer == "venv+pip"
    assert "fastapi==0.69.0" in freeze and "starlette==0.15.0" in freeze
    assert (tmp_path / "env" / "bin" / "python").exists()
