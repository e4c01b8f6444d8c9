"""Bad input through the real CLI: exit 2, one ``bisect-leak:`` line naming the problem, and
nothing written (the cache dir is not created). Infrastructure failures: exit 3.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from conftest import CLI, describe_run

TOY_BOUNDS = ["--good", "1.0.0", "--bad", "1.5.0"]

TOML_HEAD = 'description = "written by a test"\nrequirements = []\n'


def error_lines(proc: subprocess.CompletedProcess) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.startswith("bisect-leak:")]


def assert_one_error(proc: subprocess.CompletedProcess, code: int, *needles: str) -> str:
    """Exit ``code``, exactly one ``bisect-leak:`` line holding every needle, no traceback."""
    assert proc.returncode == code, describe_run(proc)
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = error_lines(proc)
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def toy_without(cli: CLI, cache: Path, *flags: str) -> list[str]:
    """The toy arguments less some flags (each with its value, but --no-index)."""
    args = cli.toy_args(cache)
    out, skip = [], False
    for i, arg in enumerate(args):
        if skip:
            skip = False
            continue
        if arg in flags:
            skip = arg != "--no-index" and i + 1 < len(args)
            continue
        out.append(arg)
    return out


def write_scenario(folder: Path, toml: str, app: str | None = None) -> Path:
    folder.mkdir(parents=True)
    (folder / "app.py").write_text(app or "from leakytoy import app  # noqa: F401\n")
    (folder / "scenario.toml").write_text(toml)
    return folder


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    hits = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    return hits[occurrence - 1]


@pytest.fixture
def cli(offline_cli: CLI) -> CLI:
    """Bad input is answered before any env is built: no wheel download needed."""
    return offline_cli


@pytest.fixture
def cache(tmp_path) -> Path:
    """A cache dir that must not exist after bad input."""
    return tmp_path / "fresh-cache"


def run_bad(cli: CLI, tmp_path: Path, cache: Path, args: list[str], code: int, *needles: str
            ) -> str:
    proc = cli.run(args, cwd=tmp_path)
    line = assert_one_error(proc, code, *needles)
    assert not cache.exists(), f"{cache} was created for bad input"
    return line


# -- releases and bounds -------------------------------------------------------------------


def test_unknown_package(cli, tmp_path, cache):
    args = [*toy_without(cli, cache, "--package"), "--package", "nosuchpkg", *TOY_BOUNDS]
    run_bad(cli, tmp_path, cache, args, 2, "nosuchpkg")


def test_unknown_version_names_the_nearest(cli, tmp_path, cache):
    args = [*cli.toy_args(cache), "--good", "1.0.1", "--bad", "1.5.0"]
    line = run_bad(cli, tmp_path, cache, args, 2, "1.0.1", "--good")
    assert "1.0.0" in line and "1.1.0" in line


def test_unknown_check_version_names_the_nearest(cli, tmp_path, cache):
    args = [*cli.toy_args(cache), "--check", "1.9.0"]
    line = run_bad(cli, tmp_path, cache, args, 2, "1.9.0", "--check")
    assert "1.5.0" in line


def test_not_a_version(cli, tmp_path, cache):
    args = [*cli.toy_args(cache), "--good", "one", "--bad", "1.5.0"]
    run_bad(cli, tmp_path, cache, args, 2, "'one'", "--good")


def test_good_equal_to_bad(cli, tmp_path, cache):
    args = [*cli.toy_args(cache), "--good", "1.3.0", "--bad", "1.3.0"]
    run_bad(cli, tmp_path, cache, args, 2, "1.3.0", "--good", "--bad")


def test_good_newer_than_bad_mentions_fixed(cli, tmp_path, cache):
    args = [*cli.toy_args(cache), "--good", "1.5.0", "--bad", "1.0.0"]
    run_bad(cli, tmp_path, cache, args, 2, "newer", "--fixed")


def test_fixed_with_bad_newer_than_good(cli, tmp_path, cache):
    args = [*cli.toy_args(cache), "--fixed", "--good", "1.0.0", "--bad", "1.5.0"]
    run_bad(cli, tmp_path, cache, args, 2, "--fixed", "older")


# -- interpreters, scenarios, paths --------------------------------------------------------


def test_python_not_found_lists_found_versions(cli, tmp_path, cache):
    args = [*toy_without(cli, cache, "--python"), "--python", "3.99", *TOY_BOUNDS]
    line = run_bad(cli, tmp_path, cache, args, 2, "3.99", "found")
    found = line.split("found:", 1)[1]
    assert re.search(r"\b3\.\d+\.\d+\b", found), line


def test_python_path_that_is_not_python(cli, tmp_path, cache):
    fake = tmp_path / "python3-not-really"
    fake.write_text("not an interpreter\n")
    args = [*toy_without(cli, cache, "--python"), "--python", str(fake), *TOY_BOUNDS]
    run_bad(cli, tmp_path, cache, args, 2, str(fake))


def test_scenario_that_does_not_exist_lists_builtins(cli, tmp_path, cache):
    missing = tmp_path / "no-such-scenario"
    args = [*toy_without(cli, cache, "--scenario"), "--scenario", str(missing), *TOY_BOUNDS]
    run_bad(cli, tmp_path, cache, args, 2, str(missing), "hello")


def test_scenario_folder_without_app(cli, tmp_path, cache):
    folder = tmp_path / "no-app"
    folder.mkdir()
    (folder / "scenario.toml").write_text(TOML_HEAD)
    args = [*toy_without(cli, cache, "--scenario"), "--scenario", str(folder), *TOY_BOUNDS]
    run_bad(cli, tmp_path, cache, args, 2, "app.py")


def test_scenario_unknown_key_names_key_and_line(cli, tmp_path, cache):
    toml = TOML_HEAD + "\n[load]\nwarmup = 10\nbogus = 3\n"
    folder = write_scenario(tmp_path / "unknown-key", toml)
    args = [*toy_without(cli, cache, "--scenario"), "--scenario", str(folder), *TOY_BOUNDS]
    run_bad(cli, tmp_path, cache, args, 2, "load.bogus",
            f"scenario.toml:{line_of(toml, 'bogus')}:")


def test_scenario_wrong_type_names_key_and_line(cli, tmp_path, cache):
    toml = TOML_HEAD + '\n[load]\nrequests = 100\nwarmup = "lots"\n'
    folder = write_scenario(tmp_path / "wrong-type", toml)
    args = [*toy_without(cli, cache, "--scenario"), "--scenario", str(folder), *TOY_BOUNDS]
    run_bad(cli, tmp_path, cache, args, 2, "load.warmup",
            f"scenario.toml:{line_of(toml, 'warmup')}:")


def test_scenario_error_in_second_request_points_at_its_line(cli, tmp_path, cache):
    toml = (TOML_HEAD + '\n[[request]]\nmethod = "GET"\npath = "/"\n'
            '\n[[request]]\nmethod = "GET"\npath = "nope"\n')
    folder = write_scenario(tmp_path / "second-request", toml)
    args = [*toy_without(cli, cache, "--scenario"), "--scenario", str(folder), *TOY_BOUNDS]
    run_bad(cli, tmp_path, cache, args, 2, "request[1].path",
            f"scenario.toml:{line_of(toml, 'path', 2)}:")


def test_scenario_malformed_toml_names_the_line(cli, tmp_path, cache):
    toml = TOML_HEAD + "[load\nwarmup = 1\n"
    folder = write_scenario(tmp_path / "malformed", toml)
    args = [*toy_without(cli, cache, "--scenario"), "--scenario", str(folder), *TOY_BOUNDS]
    run_bad(cli, tmp_path, cache, args, 2, "scenario.toml",
            f"line {line_of(toml, '[load')}")


def test_wheelhouse_that_does_not_exist(cli, tmp_path, cache):
    missing = tmp_path / "no-wheelhouse"
    args = [*toy_without(cli, cache, "--find-links"), "--find-links", str(missing),
            *TOY_BOUNDS]
    run_bad(cli, tmp_path, cache, args, 2, str(missing), "--find-links")


def test_cache_dir_not_writable(cli, tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("a file, not a folder\n")
    cache = a_file / "sub"
    args = [*cli.toy_args(cache), *TOY_BOUNDS]
    proc = cli.run(args, cwd=tmp_path)
    assert_one_error(proc, 2, str(cache), "--cache-dir")
    assert a_file.read_text() == "a file, not a folder\n"


# -- options -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "-5"])
def test_threshold_must_be_positive(cli, tmp_path, cache, value):
    args = [*cli.toy_args(cache), *TOY_BOUNDS, "--threshold", value]
    run_bad(cli, tmp_path, cache, args, 2, "--threshold")


@pytest.mark.parametrize(("flag", "value"), [("--requests", "0"), ("--concurrency", "0"),
                                           ("--warmup", "-1")])
def test_counts_must_be_at_least_one(cli, tmp_path, cache, flag, value):
    args = [*cli.toy_args(cache), *TOY_BOUNDS, flag, value]
    run_bad(cli, tmp_path, cache, args, 2, flag)


@pytest.mark.parametrize(("extra", "needle"), [
    (["--inspect", "--inspect-frames", "0"], "give 1 to 64"),
    (["--inspect-frames", "12"], "add --inspect"),
])
def test_inspect_frames_in_range_and_with_inspect(cli, tmp_path, cache, extra, needle):
    args = [*cli.toy_args(cache), *TOY_BOUNDS, *extra]
    run_bad(cli, tmp_path, cache, args, 2, "--inspect-frames", needle)


def test_requests_that_can_never_decide_are_refused_with_the_numbers(cli, tmp_path, cache):
    """Issue 15: --requests rescales the rule's guards past what max_requests allows."""
    args = [*cli.toy_args(cache), *TOY_BOUNDS, "--requests", "100000"]
    line = run_bad(cli, tmp_path, cache, args, 2, "can never decide", "raise load.max_requests")
    assert re.search(r"needs [\d,]+ measured requests", line), line


def test_no_index_needs_find_links(cli, tmp_path, cache):
    args = [*toy_without(cli, cache, "--find-links"), *TOY_BOUNDS]
    assert "--no-index" in args
    run_bad(cli, tmp_path, cache, args, 2, "--no-index", "--find-links")


def test_check_with_good(cli, tmp_path, cache):
    args = [*cli.toy_args(cache), "--check", "1.0.0", "--good", "1.0.0"]
    run_bad(cli, tmp_path, cache, args, 2, "--check")


def test_neither_bounds_nor_checks(cli, tmp_path, cache):
    run_bad(cli, tmp_path, cache, cli.toy_args(cache), 2, "--good", "--bad")


def test_package_with_a_version(cli, tmp_path, cache):
    args = [*toy_without(cli, cache, "--package"), "--package", "leakytoy==1.0.0", *TOY_BOUNDS]
    run_bad(cli, tmp_path, cache, args, 2, "--package")


# -- not bad input -------------------------------------------------------------------------


def test_app_that_fails_to_import_is_an_error_verdict(cli_runner, tmp_path):
    cli = cli_runner  # this one builds an env: it needs uvicorn's wheels
    toml = TOML_HEAD + "\n[load]\nwarmup = 100\nrequests = 800\nsample_every = 100\n"
    folder = write_scenario(tmp_path / "broken-app", toml,
                            app='raise ImportError("this app is broken on purpose")\n')
    cache = tmp_path / "cache"
    out = tmp_path / "out.json"
    args = [*toy_without(cli, cache, "--scenario"), "--scenario", str(folder),
            "--check", "1.0.0", "--json", str(out)]
    proc = cli.run(args, cwd=tmp_path)
    assert proc.returncode == 3, describe_run(proc)
    assert "Traceback (most recent call last)" not in proc.stderr
    data = json.loads(out.read_text())
    [trial] = data["trials"]
    assert trial["version"] == "1.0.0"
    assert trial["verdict"] == "error"
    assert "broken on purpose" in trial["stderr_tail"]


def test_index_unreachable_is_infrastructure(cli, tmp_path, cache):
    """Port 9 on loopback refuses at once: no other host is contacted."""
    index = "http://127.0.0.1:9/simple"
    args = ["--index-url", index, "--package", "fastapi", "--good", "0.1.0", "--bad", "0.2.0",
            "--python", str(cli.python), "--cache-dir", str(cache)]
    run_bad(cli, tmp_path, cache, args, 3, index)
