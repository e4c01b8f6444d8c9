"""The install a user gets: the wheel (built from the sdist) in a fresh venv, run elsewhere.

Not the editable install the rest of the suite uses: ``python -m build`` makes the sdist and
builds the wheel from it, the wheel goes into a new venv outside the checkout, and the
``bisect-leak`` of that venv runs from a temp folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import describe_run
from toy import TOY_FIRST_BAD

ROOT = Path(__file__).resolve().parent.parent
BUILTINS = sorted(p.name for p in (ROOT / "scenarios").iterdir()
                  if (p / "scenario.toml").is_file())

pytestmark = pytest.mark.index  # the build and the venv take their dependencies from the index


def _run(argv: list, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, **kwargs)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """``bisect-leak`` of a fresh venv holding the wheel built from the sdist."""
    dist = tmp_path_factory.mktemp("dist")
    built = _run([sys.executable, "-m", "build", "--outdir", dist, ROOT], timeout=600)
    assert built.returncode == 0, describe_run(built)
    wheel = next(dist.glob("bisect_leak-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    for name in BUILTINS:
        assert f"bisect_leak/scenarios/{name}/scenario.toml" in names
        assert f"bisect_leak/scenarios/{name}/app.py" in names
    for module in (ROOT / "bisect_leak").rglob("*.py"):  # pyproject lists packages by name
        if "__pycache__" not in module.parts:
            assert module.relative_to(ROOT).as_posix() in names, f"{module} not in the wheel"
    venv = tmp_path_factory.mktemp("user") / "venv"
    made = _run([sys.executable, "-m", "venv", venv], timeout=120)
    assert made.returncode == 0, describe_run(made)
    pip = _run([venv / "bin" / "python", "-m", "pip", "install", "-q", wheel], timeout=900)
    assert pip.returncode == 0, describe_run(pip)
    return venv / "bin" / "bisect-leak"


def test_wheel_lists_every_builtin_scenario_from_another_folder(installed, tmp_path):
    proc = _run([installed, "--list-scenarios"], cwd=tmp_path, timeout=60)
    assert proc.returncode == 0, describe_run(proc)
    listed = [line.split()[0] for line in proc.stdout.splitlines() if line.strip()]
    assert listed == BUILTINS


def test_wheel_checks_the_toy_offline_from_another_folder(installed, cli, tmp_path):
    out = tmp_path / "out.json"
    proc = _run([installed, *cli.toy_args(tmp_path / "cache"), "--check", TOY_FIRST_BAD,
                 "--json", out], cwd=tmp_path, env=cli.env, timeout=300)
    assert proc.returncode == 0, describe_run(proc)
    assert "leaking (+" in proc.stdout, describe_run(proc)


def test_wheel_finds_the_default_scenario(installed, cli, tmp_path):
    """The issue's failure: 'hello' was "neither a built-in scenario nor a folder" (exit 2).
    Offline, FastAPI is not in the wheelhouse: the env build fails (exit 3), the scenario
    was found."""
    args = [a for a in cli.toy_args(tmp_path / "cache") if a != str(cli.scenario)]
    args.remove("--scenario")
    proc = _run([installed, *args, "--check", TOY_FIRST_BAD], cwd=tmp_path, env=cli.env,
                timeout=300)
    assert proc.returncode == 3, describe_run(proc)
    assert "env build failed" in proc.stdout + proc.stderr, describe_run(proc)
    assert "neither a built-in scenario" not in proc.stderr


def test_ruff_is_clean():
    proc = _run([sys.executable, "-m", "ruff", "check", ROOT], cwd=ROOT, timeout=120,
                env=dict(os.environ, NO_COLOR="1"))
    assert proc.returncode == 0, describe_run(proc)
