"""The offline toy bisection, cold vs warm, and requests per verdict (sequential vs fixed).

Part 1 runs the real CLI on the toy wheelhouse of ``tests/toy.py``:

    bisect-leak --package leakytoy --good 1.0.0 --bad 1.5.0 --scenario TOY
                --find-links WHEELHOUSE --no-index --python BASE --json OUT --cache-dir C

interleaved per repetition as

- cold:      fresh bisect-leak cache (C) and fresh uv cache (UV_CACHE_DIR);
- warm:      the same two caches again (every trial comes from the results cache);
- warm-envs: the same caches with --no-cache (envs reused, every trial measured again).

and prints the wall time and the time by phase (from the JSON: resolve, then env,
server_start, load, classify summed over the trials measured in that run).

Part 2 measures the toy versions 1.0.0, 1.1.0, 1.3.0, 1.4.0 with ``--check`` once with the
scenario's sequential rule (first verdict after 8,000 measured requests, more only while
undecided) and once with ``--requests 24000`` (= the scenario's max: a fixed length, no early
stop), and prints the requests each verdict took and whether the verdicts agree.

Not a test: it prints figures. Usage: python bench/toy_bisect.py [--reps 3] [--help]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from _common import (
    PHASES,
    Banner,
    default_wheelhouse,
    fmt,
    median,
    phase_split,
    ratio,
    read_json,
    run_cli,
    table,
    toy,
    trials,
)

MODES = ("cold", "warm", "warm-envs")
CHECKS = ("1.0.0", "1.1.0", "1.3.0", "1.4.0")
FIXED_REQUESTS = 24000  # the toy scenario's max_requests


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reps", type=int, default=3, help="repetitions of cold/warm (default 3)")
    p.add_argument("--wheelhouse", type=Path, default=default_wheelhouse(),
                   help="toy wheelhouse, filled if needed (uvicorn downloaded once) "
                        "(default: %(default)s)")
    p.add_argument("--python", help="target interpreter path (default: tests/toy.base_python())")
    p.add_argument("--work-dir", type=Path,
                   help="where caches and JSON go (default: a temp dir, removed at the end)")
    p.add_argument("--verdict-reps", type=int, default=1,
                   help="repetitions of the sequential/fixed --check pair (default 1)")
    p.add_argument("--skip-verdicts", action="store_true", help="only the cold/warm part")
    p.add_argument("--timeout", type=float, default=900.0, help="per CLI run, seconds")
    return p.parse_args()


def main() -> int:
    args = parse_args()
    t = toy()
    python = Path(args.python) if args.python else t.base_python()
    banner = Banner("toy bisection: cold vs warm cache; requests per verdict",
                    [f"target python {python}", f"wheelhouse {args.wheelhouse}"])
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="bisect-leak-bench-toy-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        t.fill_wheelhouse(args.wheelhouse, str(python))
        scenario = t.write_toy_scenario(work / "toy")
        base = ["--package", "leakytoy", "--scenario", scenario,
                "--find-links", args.wheelhouse, "--no-index", "--python", python]
        code = bisect_part(args, work, base + ["--good", "1.0.0", "--bad", "1.5.0"])
        if not args.skip_verdicts:
            code = max(code, verdict_part(args, work, base))
    finally:
        if args.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)
    banner.end()
    return code


def bisect_part(args, work: Path, argv: list) -> int:
    runs: dict[str, list[dict]] = {m: [] for m in MODES}
    answers = set()
    failed = 0
    for rep in range(args.reps):
        cache, uv_cache = work / f"cache-{rep}", work / f"uv-cache-{rep}"
        for mode in MODES:
            out = work / f"bisect-{rep}-{mode}.json"
            extra = ["--no-cache"] if mode == "warm-envs" else []
            proc, wall = run_cli([*argv, "--cache-dir", cache, "--json", out, *extra],
                                 cwd=work, uv_cache=uv_cache, timeout=args.timeout)
            data = read_json(out)
            split = phase_split(data)
            runs[mode].append({"wall": wall, "exit": proc.returncode, **split})
            if data is not None:
                answers.add((data.get("last_good"), data.get("first_bad")))
            if proc.returncode != 0:
                failed += 1
                print(f"   rep {rep} {mode}: exit {proc.returncode}\n"
                      + "\n".join(proc.stderr.strip().splitlines()[-5:]), file=sys.stderr)
            print(f"   rep {rep + 1}/{args.reps} {mode:<9} {wall:6.1f} s  exit "
                  f"{proc.returncode}  trials measured {split['measured']}, "
                  f"cached {split['cached']}", flush=True)
    print()
    cols = ["wall", "resolve", *PHASES, "trial_rest"]
    rows = []
    for mode in MODES:
        r = runs[mode]
        rows.append([mode, *(fmt(median([x[c] for x in r]), ".2f") for c in cols),
                     fmt(median([x["measured"] for x in r]), ".0f"),
                     fmt(median([x["cached"] for x in r]), ".0f"),
                     ",".join(str(x["exit"]) for x in r)])
    print(f"toy bisection 1.0.0..1.5.0, medians of {args.reps} (seconds; phases summed over the "
          "trials measured in the run):")
    print(table(["mode", *cols, "measured", "cached", "exits"], rows))
    cold = median([x["wall"] for x in runs["cold"]])
    print()
    for mode in MODES[1:]:
        print(f"ratio {mode}/cold wall time: "
              f"{fmt(ratio(median([x['wall'] for x in runs[mode]]), cold), '.3f')}")
    print("answers (last good, first bad): "
          + "; ".join(f"{g} / {b}" for g, b in sorted(answers, key=str)))
    print("trial_rest = trial total - listed phases (memory sampling between rounds, "
          "server stop); wall also holds interpreter start-up and env prefetch overlap")
    print("env = time a trial waited for its env: builds overlap earlier trials (prefetch)")
    print("warm still measures 1.2.0 (broken on purpose): error verdicts are never cached")
    print()
    return 1 if failed else 0


def verdict_part(args, work: Path, base: list) -> int:
    cache, uv_cache = work / "cache-checks", work / "uv-cache-checks"
    checks = [a for v in CHECKS for a in ("--check", v)]
    sides = {"sequential": [], f"fixed {FIXED_REQUESTS}": ["--requests", FIXED_REQUESTS]}
    results: dict[str, list[dict]] = {s: [] for s in sides}
    failed = 0
    for rep in range(args.verdict_reps):
        for side, extra in sides.items():
            out = work / f"checks-{rep}-{side.split()[0]}.json"
            proc, wall = run_cli([*base, *checks, "--cache-dir", cache, "--no-cache",
                                  "--json", out, *extra], cwd=work, uv_cache=uv_cache,
                                 timeout=args.timeout)
            data = read_json(out)
            if proc.returncode != 0:
                failed += 1
                print(f"   {side}: exit {proc.returncode}\n"
                      + "\n".join(proc.stderr.strip().splitlines()[-5:]), file=sys.stderr)
            results[side].append({"wall": wall, "exit": proc.returncode,
                                  "trials": trials(data)})
            print(f"   rep {rep + 1}/{args.verdict_reps} {side:<12} {wall:6.1f} s  exit "
                  f"{proc.returncode}", flush=True)
    print()
    rows = []
    verdicts: dict[str, list[tuple[str, ...]]] = {}
    for side, runs in results.items():
        per_verdict, measured, load_s = [], [], []
        verdicts[side] = []
        for run in runs:
            ts = run["trials"]
            if not ts:
                continue
            per_verdict.append(sum(x["requests"] for x in ts) / len(ts))
            measured.append(sum(x["requests"] - x["warmup"] for x in ts) / len(ts))
            load_s.append(sum(x.get("phases", {}).get("load", 0.0) for x in ts) / len(ts))
            verdicts[side].append(tuple(f"{x['version']}={x['verdict']}" for x in ts))
        rows.append([side, fmt(median(per_verdict), ",.0f"), fmt(median(measured), ",.0f"),
                     fmt(median(load_s), ".2f"),
                     " ".join(verdicts[side][0]) if verdicts[side] else "-"])
    print(f"requests per verdict, --check {' '.join(CHECKS)} (median of {args.verdict_reps}; "
          "requests include the 2,000 warm-up):")
    print(table(["rule", "req/verdict", "measured/verdict", "load s/verdict", "verdicts"], rows))
    seq, fixed = (results[s] for s in sides)
    seq_req = median([sum(x["requests"] for x in r["trials"]) / len(r["trials"])
                      for r in seq if r["trials"]])
    fixed_req = median([sum(x["requests"] for x in r["trials"]) / len(r["trials"])
                        for r in fixed if r["trials"]])
    print()
    print(f"ratio sequential/fixed requests per verdict: {fmt(ratio(seq_req, fixed_req), '.3f')}")
    all_verdicts = {v for vs in verdicts.values() for v in vs}
    same = len(all_verdicts) == 1
    print(f"verdicts the same under both rules: {'yes' if same else 'NO'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
