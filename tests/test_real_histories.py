"""Real histories (issue 16), offline, on toy git repos with one trap each (tests/
toyhistories.py): side-branch tags, layout moves, git-versioned builds with submodules,
odd paths in the working tree, a dirty HEAD named by branch, one resolution day per range.
"""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path

import pytest
import toyhistories
import toyrepo
from conftest import CLI, describe_run, require

from bisect_leak.candidates import commits
from bisect_leak.candidates.commits import FileChange
from bisect_leak.candidates.repo import GitError, Repo
from bisect_leak.environments import wheels as builds
from bisect_leak.environments.env import uv_binary
from bisect_leak.environments.store import Store


@pytest.fixture(scope="module")
def side(tmp_path_factory: pytest.TempPathFactory) -> toyhistories.History:
    return toyhistories.side_branch(tmp_path_factory.mktemp("side") / "leakyrepo")


@pytest.fixture(scope="module")
def moved(tmp_path_factory: pytest.TempPathFactory) -> toyhistories.History:
    return toyhistories.layout_move(tmp_path_factory.mktemp("moved") / "leakyrepo")


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return toyrepo.write_scenario(tmp_path_factory.mktemp("hist-scenario") / "toyrepo")


def _run(cli: CLI, scenario: Path, repo: Path, tmp: Path, *more: str) -> tuple[
        subprocess.CompletedProcess, dict]:
    out = tmp / "out.json"
    args = ["--package", toyrepo.NAME, "--scenario", str(scenario), "--find-links",
            str(cli.wheelhouse), "--no-index", "--python", str(cli.python), "--cache-dir",
            str(tmp / "cache"), "--repo", str(repo), "--json", str(out), *more]
    proc = cli.run(args, cwd=tmp)
    return proc, json.loads(out.read_text()) if out.exists() else {}


# -- 2. the older bound on a side branch --------------------------------------------------


def test_first_containing_finds_the_merge_that_brought_a_side_branch_in(
        side: toyhistories.History) -> None:
    repo = Repo.open(side.path)
    s = side.shas
    assert repo.first_containing(s["r1"], s["c3"]) == s["m2"]
    assert repo.first_containing(s["c1"], s["c3"]) == s["c1"]  # on the line: itself
    assert repo.first_containing(s["c0"], s["c3"]) == s["c0"]
    # the trap: a first-parent range from the side-branch tag holds c1, which lacks its fix
    assert [c.sha for c in repo.first_parent(s["r1"], s["c3"])] == [s["c1"], s["m2"], s["c3"]]


def test_side_branch_bound_starts_from_its_merge_and_says_so(
        cli: CLI, side: toyhistories.History, scenario: Path, tmp_path: Path) -> None:
    proc, data = _run(cli, scenario, side.path, tmp_path, "--good", side.shas["r1"],
                      "--bad", side.shas["c3"], "--confirm", "0")
    assert proc.returncode == 0, describe_run(proc)
    # before issue 16: c1 (the main line before the merge, leaking for want of the fix)
    assert data["first_bad_commit"]["sha"] == side.shas["c3"], describe_run(proc)
    assert data["last_good_commit"]["sha"] == side.shas["m2"]
    measured = {t["commit"]["sha"] for t in data["commits"]["trials"]}
    assert side.shas["c1"] not in measured
    said = proc.stdout + proc.stderr
    assert "is on a side branch" in said and f"through merge {side.short('m2')}" in said
    assert data["commits"]["range"].startswith(f"{side.short('m2')} (merging ")


STARLETTE = Path(os.environ.get("BISECT_LEAK_STARLETTE_BUNDLE", Path(__file__).resolve()
                                .parents[2] / "shared" / "repos" / "starlette.bundle"))


def test_starlettes_side_branch_tag_starts_from_its_merge(tmp_path: Path) -> None:
    """Real history: Starlette's 0.2.0 reached master through a merge's second parent."""
    require(STARLETTE.exists(), f"no starlette bundle at {STARLETTE}")
    clone = tmp_path / "starlette"
    subprocess.run(["git", "clone", "--quiet", "--bare", str(STARLETTE), str(clone)],
                   check=True, timeout=300)
    repo = Repo.open(clone)
    old, new = repo.resolve("0.2.0", "--good"), repo.resolve("0.2.1", "--bad")
    start = repo.first_containing(old, new)
    assert start != old and repo.commit(start).is_merge
    assert repo.is_ancestor(old, start) and not repo.is_ancestor(old, f"{start}^1")
    assert repo.first_containing(repo.resolve("0.13.6", "x"), repo.resolve("0.13.7", "x")) == (
        repo.resolve("0.13.6", "x"))


# -- 3. a layout move inside the range; 1. one resolution day per range ---------------------


def test_layout_move_keeps_the_leak_before_the_move_a_candidate_all_as_of_one_day(
        cli: CLI, moved: toyhistories.History, scenario: Path, tmp_path: Path) -> None:
    proc, data = _run(cli, scenario, moved.path, tmp_path, "--good", moved.shas["c0"],
                      "--bad", moved.shas["c4"], "--confirm", "0")
    assert proc.returncode == 0, describe_run(proc)
    said = proc.stdout + proc.stderr
    # before issue 16: only src/leakyrepo/ counted, so c1 was no candidate and the move
    # commit c3 was named
    assert data["first_bad_commit"]["sha"] == moved.shas["c1"], describe_run(proc)
    level = data["commits"]
    assert level["candidates"] == 3  # c1, c3, and the bad bound c4 (c2 is docs)
    assert "leakyrepo/, src/leakyrepo/" in said
    # one resolution day: before issue 16 each commit as of its own date (02-02 .. 02-06)
    days = level["resolved_as_of"]
    assert len(days) >= 3
    assert set(days.values()) == {"2024-02-06T12:00:00Z"}  # the newest commit, plus a day
    assert "dependencies of every commit resolved as of 2024-02-06" in said
    assert level["freeze_diff"] == []
    assert f"envs differ only in {toyrepo.NAME} itself" in proc.stdout


# -- 4. git-versioned projects, submodules --------------------------------------------------


def test_git_versioned_commit_builds_with_a_pretend_version_and_its_submodule(
        cli: CLI, tmp_path: Path) -> None:
    hist = toyhistories.git_versioned(tmp_path / "leakyrepo", tmp_path / "vendored")
    repo = Repo.open(hist.path)
    sha = hist.shas["c2"]
    assert repo.pretend_version(sha) == f"1.0.1.dev2+g{sha[:10]}"
    assert repo.submodules(sha) == [("leakyrepo/vendored", hist.shas["v0"])]
    uv = uv_binary()
    assert uv
    spec = builds.WheelSpec(tree=repo.tree(sha), project="leakyrepo",
                            python=str(cli.python), python_version="3", no_index=True,
                            version=repo.pretend_version(sha))
    store = Store(tmp_path / "cache").open()
    # before issue 16: "setuptools-scm was unable to detect version", and no vendored/
    wheel = builds.wheel(spec, repo, store)
    assert wheel.name == f"leakyrepo-1.0.1.dev2+g{sha[:10]}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as whl:
        assert "leakyrepo/vendored/__init__.py" in whl.namelist()
    bare = Repo.open(_bare_clone(hist.path, tmp_path / "bare.git"))
    with pytest.raises(GitError, match="submodule leakyrepo/vendored .* `git "
                                              "submodule update --init"):
        bare.export(sha, tmp_path / "export")


def _bare_clone(src: Path, dest: Path) -> Path:
    subprocess.run(["git", "clone", "--quiet", "--bare", str(src), str(dest)], check=True,
                   timeout=60)
    return dest


# -- 6. the working tree: odd paths, HEAD by another name, text diffs ----------------------


def test_worktree_paths_with_spaces_and_text_changes(moved: toyhistories.History,
                                                     tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(moved.path), str(clone)], check=True,
                   timeout=60)
    (clone / "src" / "leakyrepo" / "a b.py").write_text("x = 1\ny = 2\n")
    (clone / "src" / "leakyrepo" / "__init__.py").write_text("# emptied\n")
    repo = Repo.open(clone)
    dirty = repo.dirty_paths()
    assert sorted(dirty) == ["src/leakyrepo/__init__.py", "src/leakyrepo/a b.py"]
    roots = commits.package_roots(repo.paths("HEAD"), "leakyrepo")
    assert all(commits.installs(p, roots) for p in dirty)  # "\"src/..." did not match
    changes = repo.worktree_changes(repo.worktree_tree())
    added = {c.path: c for c in changes}
    assert added["src/leakyrepo/a b.py"] == FileChange("src/leakyrepo/a b.py", 2, 0)
    assert "binary" not in added["src/leakyrepo/a b.py"].stat()
    assert added["src/leakyrepo/__init__.py"].added == 1


def test_a_dirty_head_named_by_its_branch_is_refused(cli: CLI, moved: toyhistories.History,
                                                     scenario: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(moved.path), str(clone)], check=True,
                   timeout=60)
    (clone / "src" / "leakyrepo" / "a b.py").write_text("# uncommitted\n")
    for name in ("main", moved.shas["c4"][:12]):
        proc, _ = _run(cli, scenario, clone, tmp_path, "--check", name)
        assert proc.returncode == 2, describe_run(proc)
        assert "uncommitted changes to installed files (src/leakyrepo/a b.py)" in proc.stderr
        assert not (tmp_path / "cache").exists()
