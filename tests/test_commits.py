"""The pure part of --repo: PR numbers, the installed-files filter, tags, project names."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bisect_leak.candidates import commits
from bisect_leak.candidates.commits import Commit, FileChange


@pytest.mark.parametrize(("subject", "pr"), [
    ("Fix the thing (#1332)", 1332),
    ("Add docs warning about reload and debug flags (#949) (#1045) (#1047)", 1047),
    ("Merge pull request #12 from someone/branch", 12),
    ("Revert \"Ensure connection is closed (#1332)\" (#1345)", 1345),
    ("version 0.13.4", None),
    ("Bump #3 to #4", None),  # a bare "#3" is not a PR reference
])
def test_pr_number(subject: str, pr: int | None) -> None:
    assert commits.pr_number(subject) == pr


ROOTS = ("uvicorn/",)


@pytest.mark.parametrize(("path", "installed"), [
    ("uvicorn/protocols/http/h11_impl.py", True),
    ("uvicorn/py.typed", True),
    ("setup.py", True),
    ("pyproject.toml", True),
    ("setup.cfg", True),
    ("MANIFEST.in", True),
    ("README.md", False),
    ("docs/deployment.md", False),
    ("tests/test_main.py", False),
    ("uvicorn/tests/test_inner.py", False),  # tests shipped inside the package folder
    ("requirements.txt", False),  # development pins, not install_requires
    (".github/workflows/test.yml", False),
    ("scripts/lint", False),
    ("uvicornx/__init__.py", False),  # a folder that only starts like the package
])
def test_installs_with_a_package_folder(path: str, installed: bool) -> None:
    assert commits.installs(path, ROOTS) is installed


def test_installs_without_a_package_folder_counts_all_but_docs_and_tests() -> None:
    assert commits.installs("lib/thing.py", ())
    assert not commits.installs("docs/index.md", ())
    assert not commits.installs("tests/test_x.py", ())
    assert not commits.installs("CHANGELOG.md", ())
    assert not commits.installs(".github/x.yml", ())


def test_package_roots_finds_flat_src_and_single_module_layouts() -> None:
    assert commits.package_roots(["uvicorn/__init__.py", "tests/x.py"], "uvicorn") == (
        "uvicorn/",)
    assert commits.package_roots(["src/my_pkg/__init__.py"], "My-Pkg") == ("src/my_pkg/",)
    assert commits.package_roots(["six.py", "setup.py"], "six") == ("six.py",)
    assert commits.package_roots(["docs/index.md"], "uvicorn") == ()


def _commit(sha: str, *paths: str) -> Commit:
    when = datetime(2021, 5, 1, tzinfo=timezone.utc) + timedelta(hours=len(sha))
    return Commit(sha * 40, f"change {sha}", when, (),
                  tuple(FileChange(p, 1, 0) for p in paths))


def test_candidates_drop_docs_and_tests_only_commits_and_keep_order() -> None:
    history = [
        _commit("a", "docs/index.md"),
        _commit("b", "uvicorn/main.py", "tests/test_main.py"),
        _commit("c", "tests/test_main.py"),
        _commit("d", "setup.py"),
        _commit("e", "README.md", "CHANGELOG.md"),
    ]
    chosen = commits.candidates(history, ROOTS)
    assert [c.sha[0] for c in chosen] == ["b", "d"]
    assert [f.path for f in commits.installed_changes(chosen[0], ROOTS)] == ["uvicorn/main.py"]


def test_parse_log_reads_numstat_binary_files_and_merges_oldest_first() -> None:
    text = ("\x1e" + "b" * 40 + "\x1f" + "a" * 40 + " " + "f" * 40
            + "\x1f2021-06-01T11:30:02+02:00\x1fMerge pull request #7 from x/y\n\n"
            "3\t1\tuvicorn/main.py\n-\t-\tdocs/logo.png\n"
            "\x1e" + "a" * 40 + "\x1f" + "0" * 40
            + "\x1f2021-05-31T23:04:17-07:00\x1fTidy (#5)\n\n1\t0\tsetup.cfg\n")
    older, newer = commits.parse_log(text)
    assert older.sha == "a" * 40 and older.pr == 5 and not older.is_merge
    assert newer.is_merge and newer.pr == 7
    assert newer.files == (FileChange("uvicorn/main.py", 3, 1), FileChange("docs/logo.png",
                                                                            None, None))
    assert newer.date.utcoffset() == timedelta(hours=2)


@pytest.mark.parametrize(("tags", "version", "tag"), [
    (["0.13.4", "0.14.0"], "0.14.0", "0.14.0"),
    (["v0.13.4", "v0.14.0"], "0.14.0", "v0.14.0"),
    (["uvicorn-0.14.0", "0.14.1"], "0.14.0", "uvicorn-0.14.0"),
    (["release-2.0"], "2.0.0", "release-2.0"),  # equal as versions
    (["0.14.0rc1", "0.14.1"], "0.14.0", None),
    (["v0.14.0", "0.14.0"], "0.14.0", "0.14.0"),  # exact spelling wins, shortest first
    (["0.17.0.post1", "0.17.0"], "0.17.0.post1", "0.17.0.post1"),
])
def test_tag_for(tags: list[str], version: str, tag: str | None) -> None:
    assert commits.tag_for(tags, version) == tag


def test_project_name_from_pyproject_setup_cfg_or_setup_py() -> None:
    assert commits.project_name('[project]\nname = "starlette"\n', None, None) == "starlette"
    assert commits.project_name(None, "[metadata]\nname = foo-bar\n", None) == "foo-bar"
    setup_py = 'import re\nname = "x"\nsetup(\n    name="uvicorn",\n    version=v,\n)\n'
    assert commits.project_name(None, "[flake8]\nmax = 1\n", setup_py) == "uvicorn"
    assert commits.project_name("[tool.black]\n", None, None) is None


def test_release_text_versus_commit_ish() -> None:
    assert commits.is_release_text("0.14.0") and commits.is_release_text("v0.14.0")
    for text in ("HEAD", "main", "87da6cf4", "HEAD~3", commits.WORKTREE, "0.14.0^"):
        assert not commits.is_release_text(text)


# -- issue 16: real histories ---------------------------------------------------------------


def test_status_z_keeps_paths_with_spaces_and_skips_rename_sources() -> None:
    # `git status --porcelain` (no -z) would print "M  \"pkg/a b.py\"": quoted, which the
    # old parser kept, quotes and all
    text = " M pkg/a b.py\0R  pkg/new name.py\0pkg/old name.py\0?? pkg/ünï.py\0"
    assert commits.parse_status_z(text) == ["pkg/a b.py", "pkg/new name.py", "pkg/ünï.py"]
    assert commits.parse_status_z("") == []


def test_numstat_counts_text_files_and_marks_binary_ones() -> None:
    text = "3\t1\tpkg/a b.py\n-\t-\tlogo.png\n\nnot numstat\n"
    assert commits.parse_numstat(text) == [FileChange("pkg/a b.py", 3, 1),
                                           FileChange("logo.png", None, None)]


def test_package_roots_of_both_bounds_keep_a_layout_move() -> None:
    before = ["uvicorn/__init__.py", "uvicorn/main.py", "setup.py"]
    after = ["src/uvicorn/__init__.py", "src/uvicorn/main.py", "pyproject.toml"]
    roots = commits.package_roots_of([before, after], "uvicorn")
    assert roots == ("uvicorn/", "src/uvicorn/")
    moved_before = Commit("a" * 40, "Leak (#1)", datetime(2024, 1, 1, tzinfo=timezone.utc),
                          files=(FileChange("uvicorn/main.py", 1, 0),))
    assert commits.candidates([moved_before], roots) == [moved_before]
    assert commits.candidates([moved_before], commits.package_roots(after, "uvicorn")) == []


@pytest.mark.parametrize(("described", "version"), [
    ("v1.2.0-3-gabcdef0123", "1.2.1.dev3+g0123456789"),
    ("v1.2.0-0-gabcdef0123", "1.2.0"),
    ("anyio-4.3.0-12-gabcdef0123", "4.3.1.dev12+g0123456789"),
    ("0.17.0.post1-2-gabc", "0.17.0.post3+g0123456789"),
    ("1.0rc1-2-gabc", "1.0rc1.post2+g0123456789"),
    ("nightly-2-gabc", "0.0.0.dev0+g0123456789"),
    (None, "0.0.0.dev0+g0123456789"),
])
def test_pretend_version_from_git_describe(described: str | None, version: str) -> None:
    from packaging.version import Version

    got = commits.pretend_version(described, "0123456789abcdef")
    assert got == version
    assert str(Version(got)) == got  # valid PEP 440, as setuptools-scm needs


def test_git_versioned_projects_are_recognised() -> None:
    assert commits.git_versioned('[tool.setuptools_scm]\n', None, None)
    assert commits.git_versioned('[build-system]\nrequires = ["hatchling", "hatch-vcs"]\n'
                                 '[tool.hatch.version]\nsource = "vcs"\n', None, None)
    assert commits.git_versioned(None, None, "setup(use_scm_version=True)")
    assert not commits.git_versioned('[project]\nname = "x"\nversion = "1"\n', None, None)
