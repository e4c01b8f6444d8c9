"""Each real case measured N times afresh (--no-cache; envs may be reused): does every run
give each version the same verdict, and how far do the figures spread?

Cases (needs the index, Python 3.7, 3.8 and 3.11):
  seed     --check 0.65.2 --check 0.75.0 --python 3.7                       (hello, growth)
  uv1226   uvicorn[standard] --check 0.13.4 0.14.0 0.17.2, tcp-ping, fds, uvloop 0.15.2, 3.8
  fa11191  --fixed --bad 0.109.2 --good 0.110.0, yield-dependency-error, held, 3.11
           (a bisection: both bounds, plus their replications)

    python bench/repeat.py [--runs N] [--case seed --case uv1226 ...]
"""

from __future__ import annotations

import argparse
import collections
import statistics
import tempfile
from pathlib import Path

from _common import Banner, read_json, run_cli, table

CASES = {
    "seed": ["--check", "0.65.2", "--check", "0.75.0", "--python", "3.7"],
    "uv1226": ["--package", "uvicorn[standard]", "--check", "0.13.4", "--check", "0.14.0",
               "--check", "0.17.2", "--with", "uvloop==0.15.2", "--python", "3.8",
               "--scenario", "tcp-ping", "--metric", "fds"],
    "fa11191": ["--fixed", "--bad", "0.109.2", "--good", "0.110.0", "--python", "3.11",
                "--scenario", "yield-dependency-error", "--metric", "held"],
}


def runs_of(trial: dict) -> list[dict]:
    return [trial, *trial.get("runs", [])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--case", action="append", choices=sorted(CASES))
    args = parser.parse_args()
    cases = args.case or list(CASES)
    banner = Banner("bench/repeat.py: real cases measured again and again",
                    [f"{args.runs} runs of each of {', '.join(cases)}, --no-cache"])
    with tempfile.TemporaryDirectory(prefix="bisect-leak-repeat-") as work:
        work = Path(work)
        for case in cases:
            verdicts = collections.defaultdict(collections.Counter)
            figures = collections.defaultdict(list)
            codes, walls = collections.Counter(), []
            unit = {}
            for n in range(args.runs):
                out = work / f"{case}-{n}.json"
                proc, wall = run_cli([*CASES[case], "--no-cache", "--cache-dir", work / "cache",
                                      "--json", out], cwd=work)
                codes[proc.returncode] += 1
                walls.append(wall)
                data = read_json(out) or {}
                for trial in data.get("trials", []):
                    for run in runs_of(trial):
                        verdicts[trial["version"]][run["verdict"]] += 1
                        if run.get("value") is not None:
                            figures[trial["version"]].append(run["value"])
                            unit[trial["version"]] = run.get("unit")
                print(f"   {case} run {n + 1}: exit {proc.returncode}, {wall:.0f} s", flush=True)
            rows = []
            for version, counts in verdicts.items():
                total = sum(counts.values())
                top, agree = counts.most_common(1)[0]
                vals = figures[version]
                spread = (f"{min(vals):+.1f} .. {max(vals):+.1f} (median "
                          f"{statistics.median(vals):+.1f})" if vals else "–")
                rows.append([version, f"{agree} of {total} {top}",
                             ", ".join(f"{k} {v}" for k, v in counts.items()), spread,
                             unit.get(version) or ""])
            print(f"\n{case}: exit codes {dict(codes)}, wall median "
                  f"{statistics.median(walls):.0f} s")
            print(table(["version", "agreement", "all verdicts", "figure spread", "unit"], rows))
            print()
    banner.end()


if __name__ == "__main__":
    main()
