"""The line answer's shell without measuring: git diffs of tests/toylines.py's history, two
fake envs' installed files, against launcher answers written by hand (the stacks of the toy's
growing site as the launcher reports them)."""

from __future__ import annotations

from pathlib import Path

import pytest
import toylines
import toyrepo

from bisect_leak.candidates.repo import Repo
from bisect_leak.run import line_answer


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> toyrepo.ToyRepo:
    return toylines.make(tmp_path_factory.mktemp("toylines-git") / "leakyrepo")


def _growing(purelib: str, site_line: int, stack: list[tuple[str, int]], window: int = 2000
             ) -> dict:
    """A launcher ``diff`` answer whose top site is ``stack[0]``, ~2,000 KiB held."""
    files = sorted({f for f, _ in stack})
    key = f"{purelib}/{stack[0][0]}:{stack[0][1]}"
    frames = [[files.index(f), n] for f, n in stack]
    return {"types": [["bytearray", 2000, 2010]], "window": window,
            "sites": [[key, 2_162_000, 2000, "code"]], "frames": 25,
            "stacks": {key: [[2_162_000, frames]]}, "files": [f"{purelib}/{f}" for f in files],
            "paths": {"purelib": purelib, "platlib": purelib}}


def test_commit_diff_new_side_and_fixed_old_side(repo: toyrepo.ToyRepo) -> None:
    git = Repo.open(repo.path)
    pkg = "/env/lib/python3.12/site-packages"
    call = toylines.line_of(toylines.module_text(toylines.CALL), toylines.CALL)
    stack = [("leakyrepo/keep.py", toylines.KEEP_LINE), ("leakyrepo/__init__.py", call),
             ("leakyrepo/__init__.py", 60)]
    found = _growing(pkg, toylines.KEEP_LINE, stack)
    # the leak: c0 -> c1, the first bad's run against the new side
    answer = line_answer.line_answer(git, repo.shas["c0"], repo.shas["c1"], found,
                                     ("leakyrepo/",), fixed=False)
    row = answer.rows[0]
    assert (row.path, row.line, row.in_diff) == ("leakyrepo/keep.py", toylines.KEEP_LINE, False)
    assert (row.via.path, row.via.line, row.via.code) == ("leakyrepo/__init__.py", call,
                                                          "keep(1024)")
    assert answer.against == f"git diff {repo.shas['c0'][:10]} {repo.shas['c1'][:10]}"
    # the fix: c1 (last leaking) -> c2, the last leaking run against the old side
    fixed = line_answer.line_answer(git, repo.shas["c1"], repo.shas["c2"], found,
                                    ("leakyrepo/",), fixed=True)
    assert fixed.rows[0].via is not None and fixed.rows[0].via.line == call
    # on the new side of the fix the call is gone: nothing changed is on the stack
    wrong_side = line_answer.line_answer(git, repo.shas["c1"], repo.shas["c2"], found,
                                         ("leakyrepo/",), fixed=False)
    assert wrong_side.rows[0].via.code == "return None"  # the line number, not the call


def test_release_level_diffs_the_two_envs_installed_files(tmp_path: Path) -> None:
    envs = {}
    for label, body in (("1.0.0", "    return None"), ("1.1.0", toylines.CALL)):
        purelib = tmp_path / label / "site-packages"
        (purelib / "leakyrepo").mkdir(parents=True)
        (purelib / "leakyrepo" / "__init__.py").write_text(toylines.module_text(body))
        (purelib / "leakyrepo" / "keep.py").write_text(toylines.KEEP)
        info = purelib / f"leakyrepo-{label}.dist-info"
        info.mkdir()
        (info / "RECORD").write_text("leakyrepo/__init__.py,,\nleakyrepo/keep.py,,\n"
                                     f"leakyrepo-{label}.dist-info/RECORD,,\n")
        envs[label] = str(purelib)
    call = toylines.line_of(toylines.module_text(toylines.CALL), toylines.CALL)
    stack = [("leakyrepo/keep.py", toylines.KEEP_LINE), ("leakyrepo/__init__.py", call)]
    new = _growing(envs["1.1.0"], toylines.KEEP_LINE, stack)
    old = {"sites": [], "paths": {"purelib": envs["1.0.0"]}, "window": 2000}
    answer = line_answer.release_answer("leakyrepo", old, new, False, ("1.0.0", "1.1.0"))
    assert [(r.path, r.line, r.in_diff, r.via.line if r.via else None) for r in answer.rows] == [
        ("leakyrepo/keep.py", toylines.KEEP_LINE, False, call)]
    assert answer.against == "installed files of 1.0.0 and 1.1.0"
    gone = line_answer.release_answer("otherpkg", old, new, False, ("1.0.0", "1.1.0"))
    assert gone.rows == () and "no installed files of otherpkg" in gone.note
