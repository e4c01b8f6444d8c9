"""--repo --inspect down to the line, offline, on tests/toylines.py's history: the changed
call of an unchanged helper is named ``via`` (the helper's line is never called changed);
an allocation in the diff itself is named ``in_diff``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import toylines
import toyrepo
from conftest import CLI, describe_run


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> toyrepo.ToyRepo:
    return toylines.make(tmp_path_factory.mktemp("toylines") / "leakyrepo")


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory, cli_runner: CLI) -> Path:
    """uvicorn and its dependencies (the commits' wheels are built from the repo)."""
    dest = tmp_path_factory.mktemp("lines-wheelhouse")
    for wheel in cli_runner.wheelhouse.glob("*.whl"):
        if not wheel.name.startswith("leakytoy-"):
            shutil.copy(wheel, dest)
    return dest


def _run(cli: CLI, repo: toyrepo.ToyRepo, wheelhouse: Path, tmp_path: Path, good: str,
         bad: str, *, checks: bool = False) -> tuple[dict, str]:
    """A bisection from ``good`` to ``bad`` (its commit level's JSON), or with ``checks``
    the two commits checked (the run's JSON)."""
    scenario = toyrepo.write_scenario(tmp_path / "scenario")
    out = tmp_path / "out.json"
    which = (["--check", repo.shas[good], "--check", repo.shas[bad]] if checks else
             ["--good", repo.shas[good], "--bad", repo.shas[bad], "--confirm", "0"])
    proc = cli.run(["--package", toyrepo.NAME, "--scenario", str(scenario), "--find-links",
                    str(wheelhouse), "--no-index", "--python", str(cli.python), "--cache-dir",
                    str(tmp_path / "cache"), "--repo", str(repo.path), *which, "--inspect",
                    "--json", str(out)], cwd=tmp_path)
    assert proc.returncode == 0, describe_run(proc)
    data = json.loads(out.read_text())
    if checks:
        assert f"--check {repo.shas[good]} --check {repo.shas[bad]}" in data["reproduce"]
        return data["commits"], proc.stdout
    assert data["first_bad_commit"]["sha"] == repo.shas[bad], describe_run(proc)
    return data["commits"], proc.stdout


def test_the_changed_call_of_an_unchanged_helper(cli: CLI, repo: toyrepo.ToyRepo,
                                                 wheelhouse: Path, tmp_path: Path) -> None:
    level, stdout = _run(cli, repo, wheelhouse, tmp_path, "c0", "c1")
    rows = level["lines"]
    assert rows, describe_run_text(level, stdout)
    first = rows[0]
    call = toylines.line_of(toylines.module_text(toylines.CALL), toylines.CALL)
    assert (first["path"], first["line"]) == ("leakyrepo/keep.py", toylines.KEEP_LINE)
    assert first["in_diff"] is False  # the helper did not change
    assert first["via"] == {"path": "leakyrepo/__init__.py", "line": call, "code": "keep(1024)"}
    assert first["kib"] >= 1000  # ~2,000 requests x 1 KiB still held
    assert not any(r["in_diff"] for r in rows)
    assert level["lines_against"].startswith("git diff ")
    assert "changed lines that call what allocates what grows" in stdout
    assert f"leakyrepo/__init__.py:{call}  keep(1024)" in stdout
    assert "changed lines that allocate what grows:" not in stdout


def test_an_allocation_in_the_diff_of_two_checked_commits(cli: CLI, repo: toyrepo.ToyRepo,
                                                          wheelhouse: Path, tmp_path: Path
                                                          ) -> None:
    """--check of a stable and a leaking commit gets the line answer too (their git diff)."""
    level, stdout = _run(cli, repo, wheelhouse, tmp_path, "c2", "c3", checks=True)
    assert level["lines_against"] == f"git diff {repo.shas['c2'][:10]} {repo.shas['c3'][:10]}"
    rows = level["lines"]
    line = toylines.line_of(toylines.module_text(toylines.IN_PLACE), toylines.IN_PLACE)
    assert rows and rows[0]["in_diff"] is True, describe_run_text(level, stdout)
    assert (rows[0]["path"], rows[0]["line"], rows[0]["via"]) == (
        "leakyrepo/__init__.py", line, None)
    assert rows[0]["code"] == "_LEAK.append(bytearray(1024))" and rows[0]["kib"] >= 1000
    assert "changed lines that allocate what grows:" in stdout
    assert f"leakyrepo/__init__.py:{line}  _LEAK.append(bytearray(1024))" in stdout


def describe_run_text(level: dict, stdout: str) -> str:
    return f"{json.dumps({k: level.get(k) for k in ('lines', 'lines_note')})}\n{stdout}"
