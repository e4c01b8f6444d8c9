"""From release to commit on real history: uvicorn 0.13.4 -> 0.14.0 (uvicorn#1226), cold vs warm.

Clones ``shared/repos/uvicorn.bundle`` beside the checkout (or ``--bundle``) into a temp
dir and runs

    bisect-leak --package 'uvicorn[standard]' --repo CLONE --good 0.13.4 --bad 0.14.0
                --with uvloop==0.15.2 --python 3.8 --scenario tcp-ping --metric fds

twice: cold (fresh bisect-leak cache and fresh uv cache), then warm (the same caches: every
trial and every built wheel from the cache). Prints the commits in range, the candidates
after the installed-files filter, the commits measured against the goal
(log2(candidates) + 3), wall times, and the wheel build time per commit, cold and warm.

Not a test: it prints figures. Usage: python bench/commits.py [--extra ARGS] [--keep DIR]
"""

from __future__ import annotations

import argparse
import math
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import ROOT, Banner, fmt, median, read_json, run_cli, table

sys.path.insert(0, str(ROOT))

from bisect_leak.candidates import commits  # noqa: E402
from bisect_leak.candidates.repo import Repo  # noqa: E402

BUNDLE = Path(__file__).resolve().parents[2] / "shared" / "repos" / "uvicorn.bundle"
COMMAND = ["--package", "uvicorn[standard]", "--good", "0.13.4", "--bad", "0.14.0",
           "--with", "uvloop==0.15.2", "--python", "3.8", "--scenario", "tcp-ping",
           "--metric", "fds"]


def history(clone: Path) -> tuple[int, int, int]:
    """(first-parent commits in range, all commits in range, candidates)."""
    repo = Repo.open(clone)
    old, new = repo.resolve("0.13.4", "old"), repo.resolve("0.14.0", "new")
    first_parent = repo.first_parent(old, new)
    every = subprocess.run(["git", "-C", str(clone), "rev-list", "--count", f"{old}..{new}"],
                           capture_output=True, text=True, check=True).stdout.strip()
    roots = commits.package_roots(repo.paths(new), "uvicorn")
    chosen = commits.candidates(first_parent[:-1], roots)
    return len(first_parent), int(every), len(chosen) + 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=BUNDLE)
    parser.add_argument("--extra", default="", help="more CLI arguments, e.g. '--requests 2000'")
    parser.add_argument("--keep", type=Path, help="keep the clone and caches here")
    args = parser.parse_args()
    extra = shlex.split(args.extra)
    banner = Banner("bench/commits.py: uvicorn 0.13.4 -> 0.14.0 down to the commit",
                    [f"command: bisect-leak {shlex.join(COMMAND + extra)} --repo CLONE",
                     "timings are noisy when others share the machine: compare the ratios"])
    work = args.keep or Path(tempfile.mkdtemp(prefix="bisect-leak-bench-commits-"))
    work.mkdir(parents=True, exist_ok=True)
    clone = work / "uvicorn"
    if not clone.exists():
        subprocess.run(["git", "clone", "--quiet", str(args.bundle), str(clone)], check=True)
    in_range, every, candidates = history(clone)
    runs = {}
    for name in ("cold", "warm"):
        out = work / f"{name}.json"
        proc, wall = run_cli([*COMMAND, *extra, "--repo", clone, "--cache-dir", work / "cache",
                              "--json", out], cwd=work, uv_cache=work / "uv-cache")
        data = read_json(out) or {}
        runs[name] = (proc, wall, data)
        print(f"-- {name}: exit {proc.returncode}, {wall:.0f} s")
        print("\n".join(proc.stdout.strip().splitlines()[-12:]))
        print(flush=True)
    level = runs["cold"][2].get("commits", {})
    measured = len(level.get("trials", []))
    goal = math.log2(candidates) + 3
    rows = [
        ["first-parent commits in range (all commits)", f"{in_range} ({every})"],
        ["candidates after the installed-files filter", str(candidates)],
        ["commits measured (cold run)", f"{measured}  (goal <= log2({candidates}) + 3 = "
                                        f"{goal:.1f}: {'met' if measured <= goal else 'MISSED'})"],
    ]
    for name, (proc, wall, data) in runs.items():
        builds = (data.get("commits") or {}).get("build_seconds", {})
        built = [v for v in builds.values()]
        answer = (data.get("first_bad_commit") or {})
        rows.append([f"{name}: wall time, exit code", f"{wall:.1f} s, exit {proc.returncode}"])
        rows.append([f"{name}: wheel build per commit (median, max)",
                     f"{fmt(median(built), '.2f')} s, {fmt(max(built, default=None), '.2f')} s"
                     f" over {len(built)}"])
        rows.append([f"{name}: first bad commit",
                     f"{answer.get('sha', '-')[:10]} {answer.get('subject', '')}"])
        lines = (data.get("commits") or {}).get("lines") or []
        if lines:  # with --extra '--inspect': the changed line that allocates what grows
            first = lines[0]
            via = first.get("via") or {}
            rows.append([f"{name}: line answer (first row)",
                         f"{first['path']}:{first['line']} {first['code'].strip()[:50]} "
                         f"({first['kib']:.0f} KiB, in diff: {first['in_diff']}"
                         + (f", via {via.get('path')}:{via.get('line')}" if via else "") + ")"])
    cold_wall, warm_wall = runs["cold"][1], runs["warm"][1]
    rows.append(["warm / cold wall time", f"{warm_wall / cold_wall:.3f}  (goal: warm < 60 s: "
                                          f"{'met' if warm_wall < 60 else 'MISSED'})"])
    print(table(["figure", "value"], rows))
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)
    banner.end()


if __name__ == "__main__":
    main()
