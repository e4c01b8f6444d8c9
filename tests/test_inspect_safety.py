"""--inspect never harms the server: inspected trials, again and again, on 3.8 and 3.12.

The launcher once walked ``gc.get_objects()`` / ``gc.get_referents()`` from its control thread
and asked modules for their referents: on CPython 3.12.1 that left the next collection
looping forever, and once killed the server (SIGABRT). Here a real server under the launcher
(the toy's leaking release, h11 and httptools) runs the inspected trial many times, and takes
baselines and diffs while requests are in flight; it must stay up and name what grows.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
from conftest import require
from toy import TOY_FIRST_BAD, fill_wheelhouse, find_python, write_toy_scenario

from bisect_leak.environments.env import EnvSpec
from bisect_leak.environments.store import Store
from bisect_leak.judge.verdict import Verdict
from bisect_leak.measure import inspector, trial
from bisect_leak.measure.load import Driver
from bisect_leak.measure.server import HOST, Server, free_port
from bisect_leak.planning import scenario
from bisect_leak.run import inspection

pytestmark = pytest.mark.index  # uvicorn's and httptools' wheels, downloaded once

TRIALS = 2  # inspected trials per Python and parser
PAIRS = 8  # baseline/diff pairs taken under load on one server


def _python(minor: str):
    path = find_python(minor)
    if path is None:
        require(False, f"no Python {minor} found for the inspect safety test")
    return path


@pytest.fixture(params=["3.8", "3.12"])
def toy_env(request, tmp_path_factory, uv_cache, monkeypatch):
    python = _python(request.param)
    wheelhouse = fill_wheelhouse(tmp_path_factory.mktemp(f"wh-safe-{request.param}"),
                                 str(python), extra=("httptools",))
    monkeypatch.setenv("UV_CACHE_DIR", str(uv_cache))
    store = Store(tmp_path_factory.mktemp("safe-cache")).open()

    def env(parser: str):
        reqs = (f"leakytoy=={TOY_FIRST_BAD}", "uvicorn", *(("httptools",) if parser else ()))
        return store.env(EnvSpec(python=str(python), python_version=request.param,
                                 requirements=reqs, find_links=str(wheelhouse), no_index=True))
    return env


@pytest.mark.parametrize("parser", ["", "httptools"], ids=["h11", "httptools"])
def test_inspected_trials_never_crash_the_server(toy_env, parser, tmp_path):
    env = toy_env(parser)
    assert any(line.startswith("httptools==") for line in env.freeze) == bool(parser)
    sc = scenario.load(write_toy_scenario(tmp_path / "toy"))
    short = replace(sc.load, warmup=500, requests=1500, max_requests=1500, sample_every=250)
    for n in range(TRIALS):
        frames = (2, 16)[n]  # --inspect-frames reaches the launcher inside the env
        settings = inspection.settings_for(trial.Settings(load=short), frames)
        result = trial.run(env, TOY_FIRST_BAD, sc, settings)
        assert result.inspect["frames"] == frames
        depths = [len(f) for kept in result.inspect["stacks"].values() for _, f in kept]
        assert depths and max(depths) <= frames and (frames > 2 or max(depths) == 2)
        assert result.verdict is not Verdict.ERROR, (result.reason, result.stderr_tail)
        grown = {name: delta for name, delta, _ in result.inspect["types"]}
        assert grown.get("bytearray", 0) >= 1500, result.inspect  # one per traced request
        site, size, _, code = result.inspect["sites"][0]
        assert "leakytoy" in site and size >= 1500 * 1024, result.inspect
        assert code == "_LEAK.append(bytearray(1024))"  # the line that keeps them


@pytest.mark.parametrize("parser", ["", "httptools"], ids=["h11", "httptools"])
def test_collections_while_requests_are_in_flight(toy_env, parser, tmp_path):
    env = toy_env(parser)
    sc = scenario.load(write_toy_scenario(tmp_path / "toy"))
    control = free_port()
    with Server(env.python, sc.path, launcher=inspector.LAUNCHER,
                launcher_args=("--control-port", str(control))) as server:
        server.start(timeout=60)
        stop = threading.Event()
        sent = []

        def load() -> None:
            driver = Driver(HOST, server.port, sc.requests, concurrency=8, io_timeout=10)
            try:
                while not stop.is_set():
                    sent.append(driver.run(200, 30).sent)
            finally:
                driver.close()

        def mid_load() -> None:  # a round finished and the next one is under way
            seen = len(sent)
            for _ in range(600):
                if len(sent) > seen or not loader.is_alive():
                    return
                stop.wait(0.05)

        loader = threading.Thread(target=load)
        loader.start()
        try:
            for _ in range(PAIRS):
                mid_load()
                inspector.ask(control, "baseline", timeout=60)
                mid_load()
                answer = inspector.ask(control, "diff", timeout=60)
                assert "types" in answer and "sites" in answer
        finally:
            stop.set()
            loader.join(60)
        server.check_alive()
        assert server.exit_code() is None, server.stderr_tail()
        assert len(sent) >= 2 * PAIRS and min(sent) == 200  # every round answered in full
    server.close()
