"""The built-in scenarios: each loads, is listed, and really runs through the CLI.

The run tests go through the real ``bisect-leak`` CLI against the real package index
(``-m index``) on Python 3.11, one release per scenario, sharing one cache so the envs are
built once, each with a short load (``--warmup 500 --requests 2000``, 1000 where a request is
slow). They assert that the scenario runs (no ``error`` trial) and that the result is
consistent, never which verdict a release gets.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from bisect_leak.environments import interpreters
from bisect_leak.planning import scenario
from bisect_leak.planning.scenario import Connection

BUILTINS = scenario.builtin_names()
EXPECTED = {
    "hello", "sync", "middleware", "basehttp-replace", "upload", "streaming", "background",
    "yield-dependency-error", "request-state", "tcp-ping", "starlette-plain",
}
VERDICTS = {"leaking", "stable", "inconclusive"}  # anything but error
MEASURED = 2000  # --requests for every run but those below
#: --requests where a request is slow: upload parses 300 kB of multipart per request
#: (~250/s), tcp-ping's clients linger 50 ms per ping
MEASURED_BY = {"upload": 1000, "tcp-ping": 1000}
WARMUP = 500  # --warmup for every run: the scenarios' own warm-ups (up to 20,000) are for verdicts
FASTAPI = ("fastapi", "0.110.0")  # runs on Python 3.11; the fix release of fastapi#11191
#: (package, release) per scenario where FastAPI is not the one to check
PACKAGE = {"starlette-plain": ("starlette", "0.37.2")}
#: --concurrency per scenario: 8 keeps the trials short on a small machine; tcp-ping's
#: clients each linger 50 ms per ping, so it needs more of them to finish in seconds.
CONCURRENCY = {"tcp-ping": 32}
TIMEOUT = 300.0


def cli(args: list[str], cwd: Path, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    return subprocess.run(
        [sys.executable, "-m", "bisect_leak", *[str(a) for a in args]],
        cwd=str(cwd), env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=timeout,
    )


def described(proc: subprocess.CompletedProcess) -> str:
    return f"exit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"


# --- loading and listing (offline) ----------------------------------------------------------


def test_the_expected_scenarios_are_built_in():
    assert set(BUILTINS) >= EXPECTED, sorted(EXPECTED - set(BUILTINS))


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_scenario_loads(name):
    sc = scenario.load(scenario.BUILTIN_DIR / name)
    assert sc.name == name
    assert sc.description and "\n" not in sc.description
    assert sc.python.startswith(">=")
    assert sc.requests
    load = sc.load
    assert load.max_requests >= 3 * load.requests
    if name != "hello":
        assert 1000 <= load.warmup <= 10000
        assert 5000 <= load.requests <= 30000
        assert 8 <= load.concurrency <= 16
        assert load.sample_every in (250, 500, 1000)
    assert scenario.resolve(name) == sc


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_app_defines_app_in_the_oldest_python_it_declares(name):
    """``app.py`` parses as the oldest declared Python (3.7: no walrus, no match)."""
    sc = scenario.load(scenario.BUILTIN_DIR / name)
    oldest = min(Version(v) for v in ("3.7", "3.8", "3.9", "3.10", "3.11", "3.12")
                 if SpecifierSet(sc.python).contains(v))
    source = (scenario.BUILTIN_DIR / name / "app.py").read_text()
    tree = ast.parse(source, feature_version=(oldest.major, oldest.minor))
    names = set()
    for node in tree.body:
        if isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
    assert "app" in names


def test_specific_scenarios_declare_what_they_mirror():
    by_name = {n: scenario.load(scenario.BUILTIN_DIR / n) for n in BUILTINS}
    assert by_name["yield-dependency-error"].mirrors == "fastapi#11191"
    assert [r.expect for r in by_name["yield-dependency-error"].requests] == [500]
    assert by_name["request-state"].mirrors == "uvicorn#1564"
    tcp = by_name["tcp-ping"]
    assert tcp.mirrors == "uvicorn#1226"
    assert tcp.load.connection is Connection.CONNECT_AND_CLOSE
    assert (tcp.load.warmup, tcp.load.requests, tcp.load.sample_every,
            tcp.load.concurrency) == (1000, 5000, 250, 8)
    assert tcp.requirements == ()
    upload = by_name["upload"]
    assert "python-multipart" in upload.requirements
    (request,) = upload.requests
    assert request.method == "POST"
    assert 300000 < len(request.body) < 301000
    assert dict(request.headers)["content-type"].startswith("multipart/form-data; boundary=")
    assert by_name["starlette-plain"].requirements == ("starlette",)


def test_list_scenarios_lists_each_with_its_description(tmp_path):
    proc = cli(["--list-scenarios"], cwd=tmp_path, timeout=60)
    assert proc.returncode == 0, described(proc)
    lines = proc.stdout.splitlines()
    for name in BUILTINS:
        description = scenario.load(scenario.BUILTIN_DIR / name).description
        assert any(line.split(None, 1) == [name, description] for line in lines), (
            f"{name!r} with {description!r} not in:\n{proc.stdout}"
        )


# --- real runs against the package index ----------------------------------------------------


@pytest.fixture(scope="module")
def python311() -> str:
    found = [i for i in interpreters.discover() if i.minor == "3.11"]
    if not found:
        require(False, "no Python 3.11 on this machine")
    return found[0].version


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One bisect-leak cache for every run here: envs with the same contents are built once."""
    return tmp_path_factory.mktemp("scenario-cache")


def run_check(scenario_arg: str, package: str, version: str, python: str, cache: Path,
              workdir: Path, concurrency: int = 8, measured: int = MEASURED
              ) -> tuple[subprocess.CompletedProcess, dict]:
    out = workdir / "out.json"
    proc = cli(["--package", package, "--check", version, "--python", python,
                "--scenario", scenario_arg, "--warmup", WARMUP, "--requests", measured,
                "--concurrency", concurrency, "--json", out, "--cache-dir", cache],
               cwd=workdir)
    assert out.exists(), described(proc)
    return proc, json.loads(out.read_text())


def assert_ran(proc: subprocess.CompletedProcess, data: dict, warmup: int,
               measured: int = MEASURED) -> dict:
    """One trial that really ran, and an exit code that agrees with the verdicts."""
    trials = data["trials"]
    assert len(trials) == 1, described(proc)
    (trial,) = trials
    errors = [t for t in trials if t["verdict"] == "error"]
    assert proc.returncode == (3 if errors else 0), described(proc)
    assert trial["verdict"] != "error", (
        f"the scenario did not run: {trial['reason']}\n{trial['stderr_tail']}"
    )
    assert trial["verdict"] in VERDICTS
    assert trial["warmup"] == warmup
    assert trial["requests"] >= warmup + measured, trial["reason"]
    assert trial["samples"][0][0] == 0
    return trial


@pytest.mark.index
@pytest.mark.parametrize("name", BUILTINS)
def test_scenario_runs_through_the_cli(name, python311, shared_cache, tmp_path):
    sc = scenario.load(scenario.BUILTIN_DIR / name)
    package, version = PACKAGE.get(name, FASTAPI)
    measured = MEASURED_BY.get(name, MEASURED)
    proc, data = run_check(name, package, version, python311, shared_cache, tmp_path,
                           concurrency=CONCURRENCY.get(name, 8), measured=measured)
    assert data["scenario"] == name
    assert data["status"] == "checked"
    trial = assert_ran(proc, data, WARMUP, measured)
    assert any(p.lower() == f"{package}=={version}" for p in trial["freeze"]), trial["freeze"]
    for requirement in sc.requirements:
        assert any(p.lower().startswith(f"{requirement}==") for p in trial["freeze"]), requirement
    load = trial["load"]
    if any(r.expect for r in sc.requests):
        # The 500s were served and expected: counted, yet no error verdict.
        assert load["server_errors"] > 0, load
        assert load["ok"] == 0, load  # every request was meant to fail
    else:
        assert load["server_errors"] == 0, load
    if sc.load.connection is Connection.CONNECT_AND_CLOSE:
        assert load["sent"] >= WARMUP + measured, load
        assert load["ok"] >= 0.99 * load["sent"], load  # clean connect-and-close cycles


# --- a user's own scenario folder ------------------------------------------------------------

USER_APP = '''\
"""A user's report: POST JSON with an API key header."""

from fastapi import FastAPI, Header, HTTPException
from pydantic import BaseModel

app = FastAPI()


class Item(BaseModel):
    name: str
    tags: list = []


@app.get("/")
async def root():
    return {"message": "Hello World"}


@app.post("/items")
async def create(item: Item, x_api_key: str = Header(None)):
    if x_api_key != "secret":
        raise HTTPException(status_code=401, detail="bad key")
    return {"name": item.name, "tags": len(item.tags)}
'''

USER_TOML = '''\
description = "A user's JSON POST with a header."
requirements = ["fastapi"]
python = ">=3.8"

[load]
warmup = 3000
requests = 10000
max_requests = 30000
concurrency = 8
connection = "keep-alive"
sample_every = 500

[[request]]
method = "POST"
path = "/items"
headers = { "x-api-key" = "secret" }
json = { name = "widget", tags = ["a", "b", "c"] }
'''


@pytest.mark.index
def test_a_user_scenario_folder_runs_through_the_cli(python311, shared_cache, tmp_path):
    folder = tmp_path / "my-report"
    folder.mkdir()
    (folder / "app.py").write_text(USER_APP)
    (folder / "scenario.toml").write_text(USER_TOML)
    sc = scenario.load(folder)
    (request,) = sc.requests
    assert ("x-api-key", "secret") in request.headers
    assert ("content-type", "application/json") in request.headers
    assert json.loads(request.body) == {"name": "widget", "tags": ["a", "b", "c"]}
    proc, data = run_check(str(folder), *FASTAPI, python311, shared_cache, tmp_path)
    assert data["scenario"] == "my-report"
    trial = assert_ran(proc, data, WARMUP)
    # The requests got through the header check and the body validation (no 401, no 422).
    assert trial["load"]["client_errors"] == 0, trial["load"]
    assert trial["load"]["ok"] >= 0.99 * trial["load"]["sent"], trial["load"]
