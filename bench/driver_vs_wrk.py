"""bisect-leak's own load driver vs wrk against one uvicorn hello app, interleaved.

Builds one env with uv (``bisect_leak.environments.env.build``), starts the app under that env's
uvicorn with ``bisect_leak.measure.server.Server``, then alternates

    wrk -t1 -cC -dSs http://127.0.0.1:PORT/
    Driver(127.0.0.1, PORT, [GET /], concurrency=C).run(10**9, S)

for the same S seconds, R rounds each (wrk, driver, wrk, driver, ...), and prints the
requests per second (medians), the driver/wrk ratio, and the CPU each side burnt.

``--app fastapi``: FastAPI + uvicorn from the package index, the built-in ``hello``
scenario's app. ``--app toy``: the raw ASGI ``leakytoy`` 1.0.0 from the offline toy
wheelhouse of ``tests/toy.py`` (a faster server, so the load generator matters more).

On a 2-core machine the server and the load generator compete for CPU: the figures are
a side-by-side ratio, not either tool's capacity.

Not a test: it prints figures. Needs wrk (``apt-get update && apt-get install -y wrk``).
Usage: python bench/driver_vs_wrk.py [--app fastapi|toy] [--rounds 3] [--seconds 5]
"""

from __future__ import annotations

import argparse
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from _common import SCENARIOS, Banner, default_wheelhouse, fmt, median, ratio, table, toy

from bisect_leak.environments import env as envs
from bisect_leak.measure.load import Driver
from bisect_leak.measure.server import HOST, Server, ServerError
from bisect_leak.planning.scenario import Request

TARGET = 0.8


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--app", choices=("fastapi", "toy"), default="fastapi",
                   help="fastapi hello from the index, or the toy raw ASGI app (default fastapi)")
    p.add_argument("--rounds", type=int, default=3, help="rounds per side (default 3)")
    p.add_argument("--seconds", type=float, default=5.0, help="length of a round (default 5)")
    p.add_argument("--concurrency", type=int, default=16, help="connections (default 16)")
    p.add_argument("--warmup", type=float, default=2.0,
                   help="seconds of unmeasured load from each side first (default 2)")
    p.add_argument("--python", help="target interpreter path (default: tests/toy.base_python())")
    p.add_argument("--wheelhouse", type=Path, default=default_wheelhouse(),
                   help="toy wheelhouse for --app toy (default: %(default)s)")
    return p.parse_args()


def main() -> int:
    args = parse_args()
    wrk = shutil.which("wrk")
    if wrk is None:
        print("wrk not found on PATH. On Debian/Ubuntu: apt-get update && apt-get install -y wrk",
              file=sys.stderr)
        return 2
    t = toy()
    python = Path(args.python) if args.python else t.base_python()
    banner = Banner(
        f"load driver vs wrk: {args.app} hello app, {args.concurrency} connections, "
        f"{args.seconds:g} s rounds",
        [f"target python {python}",
         f"{psutil.cpu_count()} cores: the server and the load generator compete for CPU, "
         "so these are side-by-side ratios, not capacities"])
    work = Path(tempfile.mkdtemp(prefix="bisect-leak-bench-wrk-"))
    server: Server | None = None
    try:
        spec, app_dir = env_spec(args, t, python, work)
        began = time.monotonic()
        freeze, installer = envs.build(spec, work / "env")
        wanted = ("fastapi", "starlette", "uvicorn", "leakytoy")
        print(f"   env built with {installer} in {time.monotonic() - began:.1f} s: "
              + ", ".join(f for f in freeze if f.split("==")[0].lower() in wanted), flush=True)
        server = Server(work / "env" / "bin" / "python", app_dir)
        server.start(timeout=60)
        print(f"   server pid {server.pid} on {HOST}:{server.port}", flush=True)
        rows = compare(args, wrk, server)
    except (envs.EnvBuildError, ServerError) as exc:
        print(f"failed: {exc}\n{getattr(exc, 'tail', '') or getattr(exc, 'stderr_tail', '')}",
              file=sys.stderr)
        return 3
    finally:
        if server is not None:
            server.close()
        shutil.rmtree(work, ignore_errors=True)
    print_results(args, rows)
    banner.end()
    return 0


def env_spec(args, t, python: Path, work: Path) -> tuple[envs.EnvSpec, Path]:
    version = subprocess.run([str(python), "-c", "import platform; print(platform."
                              "python_version())"], capture_output=True, text=True,
                             check=True).stdout.strip()
    if args.app == "fastapi":
        return envs.EnvSpec(python=str(python), python_version=version,
                            requirements=("fastapi", "uvicorn")), SCENARIOS / "hello"
    t.fill_wheelhouse(args.wheelhouse, str(python))
    spec = envs.EnvSpec(python=str(python), python_version=version,
                        requirements=("leakytoy==1.0.0", "uvicorn"),
                        find_links=str(args.wheelhouse), no_index=True)
    return spec, t.write_toy_scenario(work / "toy")


def server_cpu(server: Server) -> float:
    proc = psutil.Process(server.pid)
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            times = p.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def run_wrk(wrk: str, port: int, concurrency: int, seconds: float) -> dict:
    argv = [wrk, "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s",
            f"http://{HOST}:{port}/"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()}")
    out = done.stdout
    rps = float(re.search(r"Requests/sec:\s*([\d.]+)", out).group(1))
    total = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    bad = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", out)
    errors = re.search(r"Socket errors:(.*)", out)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"rps": rps, "requests": int(total.group(1)) if total else 0, "wall": wall,
            "cpu": cpu, "failures": (int(bad.group(1)) if bad else 0),
            "note": errors.group(1).strip() if errors else ""}


def run_driver(port: int, concurrency: int, seconds: float) -> dict:
    driver = Driver(HOST, port, (Request(method="GET", path="/"),), concurrency=concurrency,
                    io_timeout=10.0)
    try:
        cpu0 = time.process_time()
        done = driver.run(10**9, seconds)
        cpu = time.process_time() - cpu0
    finally:
        driver.close()
    return {"rps": done.ok / done.seconds if done.seconds else 0.0, "requests": done.ok,
            "wall": done.seconds, "cpu": cpu, "failures": done.failures + done.unexpected,
            "note": done.last_failure}


def compare(args, wrk: str, server: Server) -> dict[str, list[dict]]:
    sides = {
        "wrk": lambda s: run_wrk(wrk, server.port, args.concurrency, s),
        "driver": lambda s: run_driver(server.port, args.concurrency, s),
    }
    for fn in sides.values():  # warm both paths (imports, JIT-free caches, server pools)
        fn(args.warmup)
    rows: dict[str, list[dict]] = {name: [] for name in sides}
    for rnd in range(args.rounds):
        for name, fn in sides.items():
            cpu0 = server_cpu(server)
            r = fn(args.seconds)
            r["server_cpu"] = server_cpu(server) - cpu0
            server.check_alive()
            rows[name].append(r)
            print(f"   round {rnd + 1}/{args.rounds} {name:<6} {r['rps']:9,.0f} req/s  "
                  f"{r['requests']:,} ok in {r['wall']:.2f} s, failures {r['failures']}"
                  + (f" ({r['note']})" if r["note"] else ""), flush=True)
    return rows


def print_results(args, rows: dict[str, list[dict]]) -> None:
    print()
    out = []
    for name, rs in rows.items():
        out.append([
            name, fmt(median([r["rps"] for r in rs]), ",.0f"),
            fmt(min(r["rps"] for r in rs), ",.0f"), fmt(max(r["rps"] for r in rs), ",.0f"),
            fmt(median([100 * r["cpu"] / r["wall"] for r in rs]), ".0f"),
            fmt(median([1e6 * r["cpu"] / r["requests"] for r in rs if r["requests"]]), ".0f"),
            fmt(median([100 * r["server_cpu"] / r["wall"] for r in rs]), ".0f"),
            str(sum(r["failures"] for r in rs)),
        ])
    print(f"{args.app} hello, {args.concurrency} connections, {args.rounds} x "
          f"{args.seconds:g} s per side, interleaved:")
    print(table(["side", "req/s median", "min", "max", "gen CPU %", "gen CPU us/req",
                 "server CPU %", "failures"], out))
    r = ratio(median([x["rps"] for x in rows["driver"]]), median([x["rps"] for x in rows["wrk"]]))
    verdict = "meets" if r >= TARGET else "below"
    print()
    print(f"ratio driver/wrk req/s: {fmt(r, '.3f')} ({verdict} the {TARGET} target)")
    pairs = [ratio(d["rps"], w["rps"]) for w, d in zip(rows["wrk"], rows["driver"])]
    print("per-round ratios driver/wrk: " + ", ".join(fmt(x, ".3f") for x in pairs)
          + f" (median {fmt(median(pairs), '.3f')})")
    print("gen = the load generator (wrk process, or this Python process for the driver); "
          "CPU % of one core")


if __name__ == "__main__":
    sys.exit(main())
