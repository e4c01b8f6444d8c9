"""--repo end to end, offline: a toy git history with a leak merged at a known commit.

See tests/toyrepo.py for the history: docs- and tests-only commits that must never be
measured, a commit that does not build, and the leak arriving in a merged PR (#7).
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path

import pytest
import toyrepo
from conftest import CLI, describe_run, trial_lines

from bisect_leak.environments.env import uv_binary


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> toyrepo.ToyRepo:
    return toyrepo.make(tmp_path_factory.mktemp("toyrepo") / "leakyrepo")


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory, cli_runner: CLI,
               repo: toyrepo.ToyRepo) -> Path:
    """The toy wheelhouse (uvicorn and its dependencies) plus the two tagged releases."""
    dest = tmp_path_factory.mktemp("repo-wheelhouse")
    for wheel in cli_runner.wheelhouse.glob("*.whl"):
        if not wheel.name.startswith("leakytoy-"):
            shutil.copy(wheel, dest)
    uv = uv_binary()
    assert uv, "uv is a dependency of bisect-leak"
    toyrepo.build_release_wheels(repo, dest, uv, str(cli_runner.python))
    return dest


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return toyrepo.write_scenario(tmp_path_factory.mktemp("repo-scenario") / "toyrepo")


def _args(cli: CLI, wheelhouse: Path, scenario: Path, cache: Path, repo: Path,
          *more: str) -> list[str]:
    return ["--package", toyrepo.NAME, "--scenario", str(scenario), "--find-links",
            str(wheelhouse), "--no-index", "--python", str(cli.python), "--cache-dir",
            str(cache), "--repo", str(repo), *more]


def _clone(repo: toyrepo.ToyRepo, dest: Path, at: str) -> Path:
    subprocess.run(["git", "clone", "--quiet", str(repo.path), str(dest)], check=True,
                   timeout=60)
    subprocess.run(["git", "-C", str(dest), "checkout", "--quiet", at], check=True, timeout=60)
    return dest


def test_release_pair_then_the_merged_pr_that_leaks(cli: CLI, repo: toyrepo.ToyRepo,
                                                    wheelhouse: Path, scenario: Path,
                                                    tmp_path: Path) -> None:
    cache, out, md = tmp_path / "cache", tmp_path / "out.json", tmp_path / "report.md"
    args = _args(cli, wheelhouse, scenario, cache, repo.path, "--good", "1.0.0", "--bad",
                 "1.1.0", "--json", str(out), "--report", str(md), "--culprit", "--confirm", "0")
    proc = cli.run(args, cwd=tmp_path)
    assert proc.returncode == 0, describe_run(proc)
    data = json.loads(out.read_text())
    assert (data["last_good"], data["first_bad"]) == ("1.0.0", "1.1.0")
    bad, good = data["first_bad_commit"], data["last_good_commit"]
    assert bad["sha"] == repo.shas["m8"], describe_run(proc)
    assert bad["pr"] == 7 and bad["subject"].startswith("Merge pull request #7")
    assert bad["date"] == "2024-01-11T12:00:00+02:00"
    assert [f["path"] for f in bad["files"]] == ["leakyrepo/__init__.py"]
    assert repo.shas["m8"] in bad["show"] and bad["show"].startswith("git -C ")
    assert good["sha"] == repo.shas["c6"]
    level = data["commits"]
    assert (level["range"], level["history"], level["in_range"]) == (
        "v1.0.0..1.1.0", "first-parent", 10)
    assert level["candidates"] == 7  # c2 c4 c5 c6 m8 c9, and the 1.1.0 commit
    by_sha = {t["commit"]["sha"]: t for t in level["trials"]}
    never = {repo.shas[s] for s in ("c1", "c3", "c7", "f1", "f2")}  # docs, tests, branch
    assert not never & set(by_sha), "a docs/tests-only or merged-branch commit was measured"
    assert by_sha[repo.shas["c0"]]["verdict"] == "stable"
    assert by_sha[repo.shas["c10"]]["verdict"] == "leaking"
    assert by_sha[repo.shas["m8"]]["verdict"] == "leaking"
    broken = by_sha[repo.shas["c5"]]  # the bisection lands on it first, and steps around
    assert broken["verdict"] == "error" and broken["reason"].startswith("build failed")
    assert "build:gone" in broken["stderr_tail"] or "gone" in broken["reason"]
    assert len(level["trials"]) <= math.log2(level["candidates"]) + 3
    # --culprit at commit level: both commits' envs differ only in the package itself
    assert level["culprit"].startswith("only the package itself changed")
    assert level["freeze_diff"] == []
    # terminal: the release lines, then the commit lines; the answer names the commit
    versions = [m.group("version") for m in trial_lines(proc.stdout)]
    assert versions[:2] == ["1.0.0", "1.1.0"]
    assert repo.short("m8") in versions
    assert f"first bad commit: {repo.short('m8')} Merge pull request #7" in proc.stdout
    assert "leakyrepo/__init__.py | +" in proc.stdout
    report = md.read_text()
    assert report.index("| 1.1.0 |") < report.index("### Commits v1.0.0..1.1.0")
    assert f"`{repo.short('m8')}`" in report and "| #7 |" in report
    # warm: nothing measured or built again but the commit that does not build
    again = cli.run(args, cwd=tmp_path)
    assert again.returncode == 0, describe_run(again)
    warm = json.loads(out.read_text())
    assert warm["first_bad_commit"]["sha"] == repo.shas["m8"]
    fresh = [t["version"] for t in warm["commits"]["trials"]
             if not t["from_cache"] and t["verdict"] != "error"]
    assert fresh == []


def test_commit_bounds_head_and_worktree(cli: CLI, repo: toyrepo.ToyRepo, wheelhouse: Path,
                                         scenario: Path, tmp_path: Path) -> None:
    clone = _clone(repo, tmp_path / "clone", repo.shas["c6"])
    cache, out = tmp_path / "cache", tmp_path / "out.json"
    # commit-ish bounds: a release tag and a sha; no release stage
    proc = cli.run(_args(cli, wheelhouse, scenario, cache, clone, "--good", "1.0.0", "--bad",
                         repo.shas["c9"], "--confirm", "0", "--json", str(out)), cwd=tmp_path)
    assert proc.returncode == 0, describe_run(proc)
    data = json.loads(out.read_text())
    assert data["first_bad_commit"]["sha"] == repo.shas["m8"]
    assert data["trials"] == []  # no release measured
    # the working tree (HEAD = c6, stable) with the leak pasted in, against a release and HEAD
    (clone / "leakyrepo" / "__init__.py").write_text(toyrepo.module("1.0.0", "leak"))
    proc = cli.run(_args(cli, wheelhouse, scenario, cache, clone, "--check", "1.0.0",
                         "--check", repo.shas["c6"], "--check", "WORKTREE", "--json",
                         str(out)), cwd=tmp_path)
    assert proc.returncode == 0, describe_run(proc)
    data = json.loads(out.read_text())
    assert [t["verdict"] for t in data["trials"]] == ["stable"]
    verdicts = {t["version"]: t["verdict"] for t in data["commits"]["trials"]}
    assert verdicts == {repo.short("c6"): "stable", "WORKTREE": "leaking"}
    assert data["commits"]["reproduce"].count("--check") == 3
    assert f"--check 1.0.0 --check {repo.shas['c6']} --check WORKTREE" in (
        data["commits"]["reproduce"])
    status = subprocess.run(["git", "-C", str(clone), "status", "--porcelain"],
                            capture_output=True, text=True, check=True).stdout
    assert status.strip() == "M leakyrepo/__init__.py"  # the user's tree and index untouched


BAD_INPUTS = {
    "not a repo": (lambda r, t: t, ["--good", "1.0.0", "--bad", "1.1.0"],
                   "is not a git repository"),
    "unknown commit": (lambda r, t: r, ["--good", "1.0.0", "--bad", "no-such-branch"],
                       "is not a commit in"),
    "missing tag": (lambda r, t: r, ["--good", "0.9.0", "--bad", "1.1.0"],
                    "no tag for leakyrepo 0.9.0 (--good)"),
    "worktree as the old bound": (lambda r, t: r, ["--good", "WORKTREE", "--bad", "1.1.0"],
                                  "can only be the newer bound"),
    "bounds out of order": (lambda r, t: r, ["--good", "1.1.0", "--bad", "HEAD~3"],
                            "is not an ancestor of"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
        case: str, cli: CLI, repo: toyrepo.ToyRepo, wheelhouse: Path, scenario: Path,
        tmp_path: Path) -> None:
    where, extra, says = BAD_INPUTS[case]
    plain = tmp_path / "plain"
    plain.mkdir()
    cache = tmp_path / "cache"
    proc = cli.run(_args(cli, wheelhouse, scenario, cache, where(repo.path, plain), *extra),
                   cwd=tmp_path)
    assert proc.returncode == 2, describe_run(proc)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], describe_run(proc)
    assert not cache.exists()


def test_another_package_and_a_dirty_head_are_bad_input(cli: CLI, repo: toyrepo.ToyRepo,
                                                        wheelhouse: Path, scenario: Path,
                                                        tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    args = _args(cli, wheelhouse, scenario, cache, repo.path, "--check", "HEAD")
    args[1] = "leakytoy"  # --package: the repo's metadata names leakyrepo
    proc = cli.run(args, cwd=tmp_path)
    assert proc.returncode == 2 and "is a clone of 'leakyrepo'" in proc.stderr, (
        describe_run(proc))
    clone = _clone(repo, tmp_path / "clone", "main")
    (clone / "leakyrepo" / "__init__.py").write_text("# edited\n")
    (clone / "NOTES.md").write_text("not installed\n")
    proc = cli.run(_args(cli, wheelhouse, scenario, cache, clone, "--check", "HEAD"),
                   cwd=tmp_path)
    assert proc.returncode == 2, describe_run(proc)
    assert "uncommitted changes to installed files (leakyrepo/__init__.py)" in proc.stderr
    assert "WORKTREE" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not cache.exists()
