"""The seed report's real range, cold then warm: wall time, answer, trials, phase split.

Runs the real CLI against the package index:

    bisect-leak --good 0.65.2 --bad 0.75.0 --python 3.7 --json OUT --cache-dir C

first with a fresh bisect-leak cache dir C (cold), then again with the same C (warm: the
trials come from the results cache). The uv cache is the machine's usual one unless
``--fresh-uv-cache`` (then cold also downloads every wheel). ``--runs N`` repeats the
cold/warm pair N times, interleaved (cold, warm, cold, warm...), each pair on a fresh C.

Not a test: it prints figures. A cold run takes a few minutes (tens of seconds per trial).
Usage: python bench/seed.py [--runs 1] [--good 0.65.2] [--bad 0.75.0] [--python 3.7]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from _common import PHASES, Banner, fmt, median, phase_split, ratio, read_json, run_cli, table


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--good", default="0.65.2")
    p.add_argument("--bad", default="0.75.0")
    p.add_argument("--python", default="3.7")
    p.add_argument("--package", default="fastapi")
    p.add_argument("--runs", type=int, default=1, help="cold/warm pairs (default 1)")
    p.add_argument("--fresh-uv-cache", action="store_true",
                   help="give every pair its own empty UV_CACHE_DIR")
    p.add_argument("--work-dir", type=Path,
                   help="where caches and JSON go (default: a temp dir, removed at the end)")
    p.add_argument("--timeout", type=float, default=3600.0, help="per CLI run, seconds")
    return p.parse_args()


def main() -> int:
    args = parse_args()
    argv = ["--package", args.package, "--good", args.good, "--bad", args.bad,
            "--python", args.python]
    banner = Banner(f"seed range: bisect-leak {' '.join(argv)}",
                    ["uv cache: " + ("fresh per pair" if args.fresh_uv_cache
                                     else "the machine's usual one (already warm or not)")])
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="bisect-leak-bench-seed-"))
    work.mkdir(parents=True, exist_ok=True)
    runs: list[dict] = []
    try:
        for n in range(args.runs):
            cache = work / f"cache-{n}"
            uv_cache = work / f"uv-cache-{n}" if args.fresh_uv_cache else None
            for mode in ("cold", "warm"):
                out = work / f"seed-{n}-{mode}.json"
                proc, wall = run_cli([*argv, "--cache-dir", cache, "--json", out], cwd=work,
                                     uv_cache=uv_cache, timeout=args.timeout)
                data = read_json(out)
                run = {"mode": mode, "wall": wall, "exit": proc.returncode, "data": data,
                       **phase_split(data)}
                runs.append(run)
                summary = proc.stdout.strip().splitlines()[-3:]
                print(f"   run {n + 1}/{args.runs} {mode}: {wall:.1f} s, exit {proc.returncode}; "
                      f"{run['measured']} trial(s) measured, {run['cached']} cached", flush=True)
                for line in summary:
                    print(f"      | {line}")
                if data is None:
                    print("      no JSON; stderr tail:\n      "
                          + "\n      ".join(proc.stderr.strip().splitlines()[-6:]), flush=True)
    finally:
        if args.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)
    report(args, runs)
    banner.end()
    return 0 if all(r["exit"] == 0 for r in runs) else 1


def report(args, runs: list[dict]) -> None:
    print()
    cols = ["wall", "resolve", *PHASES, "trial_rest"]
    rows = []
    for r in runs:
        d = r["data"] or {}
        rows.append([r["mode"], *(fmt(r[c], ".1f") for c in cols), str(r["exit"]),
                     str(r["measured"]), str(r["cached"]),
                     f"{d.get('last_good')} / {d.get('first_bad')}"])
    print(f"{args.package} {args.good}..{args.bad} on Python {args.python} (seconds; phases "
          "summed over the trials measured in that run):")
    print(table(["mode", *cols, "exit", "measured", "cached", "last good / first bad"], rows))
    cold = median([r["wall"] for r in runs if r["mode"] == "cold"])
    warm = median([r["wall"] for r in runs if r["mode"] == "warm"])
    print()
    print(f"ratio warm/cold wall time: {fmt(ratio(warm, cold), '.3f')}")
    first = next((r for r in runs if r["mode"] == "cold" and r["data"]), None)
    if first is None:
        return
    data = first["data"]
    print(f"message: {data.get('message')}")
    print(f"status: {data.get('status')}; python {data.get('python')}; "
          f"{len(data.get('versions', []))} candidate versions; skipped "
          f"{[s['version'] for s in data.get('skipped', [])]}")
    print()
    print("trials of the first cold run, in probe order:")
    trows = []
    for t in data.get("trials", []):
        ph = t.get("phases", {})
        growth = t.get("value")
        trows.append([t["version"], t["verdict"], fmt(growth, "+.1f"), f"{t['requests']:,}",
                      fmt(ph.get("env"), ".1f"), fmt(ph.get("server_start"), ".1f"),
                      fmt(ph.get("load"), ".1f"), fmt(ph.get("total"), ".1f"),
                      fmt(t["load"]["sent"] / t["load"]["seconds"] if t["load"]["seconds"]
                          else None, ",.0f")])
    print(table(["version", "verdict", "KiB/1k", "requests", "env s", "start s", "load s",
                 "total s", "req/s"], trows))


if __name__ == "__main__":
    sys.exit(main())
