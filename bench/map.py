"""The toy leak map three ways: here one at a time, here with --jobs 2, on a 2-worker Dask
cluster on 127.0.0.1. Cells, wall time, ratio to sequential, and whether the maps agree.

Each run starts from an empty bisect-leak cache (the uv cache is shared, so env builds are
warm for all three alike, after a first untimed run fills it):

    bisect-leak map --package maptoy --from 1.0.0 --to 1.5.0 --python BASE,SECOND
        --scenario TOY --every --find-links WHEELHOUSE --no-index --cache-dir C
        [--jobs 2 | --dask tcp://127.0.0.1:PORT]

The Dask cluster is ``dask scheduler`` and two ``dask worker --nthreads 1 --resources
trial=1`` on this machine, started before the timed run and stopped after it.

Not a test: it prints figures. Usage: python bench/map.py [--scenarios 1]
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import (
    TESTS,
    Banner,
    cli_env,
    default_wheelhouse,
    fmt,
    ratio,
    run_cli,
    table,
    toy,
)

sys.path.insert(0, str(TESTS))
import maptoy  # noqa: E402

from bisect_leak.environments import interpreters  # noqa: E402


def pythons() -> list[interpreters.Interpreter]:
    base = interpreters.query(toy().base_python())
    others = {i.minor: i for i in interpreters.discover() if i.minor != base.minor}
    second = next(others[m] for m in ("3.12", "3.11", "3.13", "3.10") if m in others)
    return [base, second]


def start_cluster(root: Path, uv_cache: Path) -> tuple[str, list[subprocess.Popen]]:
    dask = str(Path(sys.executable).parent / "dask")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    env = cli_env(uv_cache)
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], cwd=root, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)]
    for name in ("wa", "wb"):
        procs.append(subprocess.Popen(
            [dask, "worker", address, "--host", "127.0.0.1", "--name", name, "--nthreads", "1",
             "--no-nanny", "--resources", "trial=1", "--no-dashboard"], cwd=root,
            env={**env, "BISECT_LEAK_CACHE_DIR": str(root / f"{name}-cache")},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    from distributed import Client

    with Client(address, timeout=60) as client:
        client.wait_for_workers(2, timeout=60)
    return address, procs


def stop(procs: list[subprocess.Popen]) -> None:
    for p in reversed(procs):
        p.terminate()
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=1, choices=(1, 2))
    opts = parser.parse_args()
    pys = pythons()
    banner = Banner("bench/map.py: the toy map here, --jobs 2, and on 2 Dask workers",
                    [f"Pythons {', '.join(p.version for p in pys)}; scenarios "
                     f"{opts.scenarios}; the machine may be shared: see the load average"])
    wheelhouse = default_wheelhouse()
    for p in pys:
        toy().fill_wheelhouse(wheelhouse, str(p.path))
    maptoy.build_wheels(wheelhouse, pys[1].minor)
    with tempfile.TemporaryDirectory(prefix="bisect-leak-bench-map-") as tmp:
        root = Path(tmp)
        scen = [maptoy.write_scenario(root / "toy"), maptoy.write_scenario(root / "toyb", "/b")]
        uv_cache = root / "uv-cache"
        base = ["map", "--package", maptoy.NAME, "--from", maptoy.VERSIONS[0],
                "--to", maptoy.VERSIONS[-1], "--every",
                "--python", ",".join(str(p.path) for p in pys),
                "--scenario", ",".join(map(str, scen[:opts.scenarios])),
                "--find-links", str(wheelhouse), "--no-index"]

        def run(name: str, extra: list[str]) -> tuple[float, dict | None]:
            cache = root / f"cache-{name}"
            out = root / f"{name}.json"
            proc, wall = run_cli([*base, "--cache-dir", cache, "--json", out, *extra],
                                 cwd=root, uv_cache=uv_cache)
            if proc.returncode != 0:
                print(f"   {name}: exit {proc.returncode}\n{proc.stderr[-2000:]}")
            return wall, json.loads(out.read_text()) if out.exists() else None

        run("warm-up-uv-cache", [])  # untimed: fills the uv cache for all three
        results = {"sequential": run("sequential", []), "--jobs 2": run("jobs2", ["--jobs", "2"])}
        started = time.monotonic()
        address, procs = start_cluster(root, uv_cache)
        print(f"   cluster up in {time.monotonic() - started:.1f} s (not counted)", flush=True)
        try:
            results["dask, 2 workers"] = run("dask", ["--dask", address])
        finally:
            stop(procs)
        maps = {k: _cells(d) for k, (_, d) in results.items()}
        reference = maps["sequential"]
        seq_wall = results["sequential"][0]
        rows = [[name, str(len(maps[name])), fmt(wall), fmt(ratio(wall, seq_wall), ".2f"),
                 "yes" if maps[name] == reference and reference else "NO"]
                for name, (wall, _) in results.items()]
        print(table(["how", "cells", "wall s", "ratio to sequential", "same map"], rows))
        shutil.rmtree(uv_cache, ignore_errors=True)
    banner.end()


def _cells(data: dict | None) -> dict:
    if data is None:
        return {}
    return {(c["candidate"], c["python"], c["scenario"]): c["verdict"] for c in data["cells"]}


if __name__ == "__main__":
    main()
