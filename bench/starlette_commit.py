"""A real Starlette regression down to its commit: 0.13.6 -> 0.13.7, BaseHTTPMiddleware.

Starlette 0.13.7 bounded the queue between the app and ``call_next`` (#1018, "Fix high
memory usage when using BaseHTTPMiddleware ... streaming responses"); a ``dispatch`` that
drops ``call_next``'s response leaves the app's task blocked on ``queue.put`` ("Task was
destroyed but it is pending!"), and the server holds about 2.4 MiB more (0.13.8 reverted
it, #1028). The growth signal calls it stable (a step, then flat); the held signal with a
1 MiB threshold sees it. Clones ``shared/repos/starlette.bundle`` (or ``--bundle``) and runs

    bisect-leak --package starlette --repo CLONE --good 0.13.6 --bad 0.13.7
                --scenario basehttp-replace --metric held --threshold 1024 --python 3.8

once, cold. Prints the release answer, the commit answer, what was measured, the envs' diff
at both levels (release days differ in uvicorn; the commit snapshot differs in nothing but
Starlette), and the wall time.

Not a test: it prints figures. Usage: python bench/starlette_commit.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import math
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import ROOT, Banner, read_json, run_cli, table

sys.path.insert(0, str(ROOT))

BUNDLE = Path(__file__).resolve().parents[2] / "shared" / "repos" / "starlette.bundle"
COMMAND = ["--package", "starlette", "--good", "0.13.6", "--bad", "0.13.7", "--scenario",
           "basehttp-replace", "--metric", "held", "--threshold", "1024", "--python", "3.8"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=BUNDLE)
    parser.add_argument("--keep", type=Path, help="keep the clone and caches here")
    args = parser.parse_args()
    banner = Banner("bench/starlette_commit.py: starlette 0.13.6 -> 0.13.7 down to the commit",
                    ["command: bisect-leak " + " ".join(COMMAND) + " --repo CLONE"])
    work = args.keep or Path(tempfile.mkdtemp(prefix="bisect-leak-bench-starlette-"))
    work.mkdir(parents=True, exist_ok=True)
    clone = work / "starlette"
    if not clone.exists():
        subprocess.run(["git", "clone", "--quiet", str(args.bundle), str(clone)], check=True)
    out = work / "out.json"
    proc, wall = run_cli([*COMMAND, "--repo", clone, "--cache-dir", work / "cache", "--json",
                          out], cwd=work, uv_cache=work / "uv-cache")
    print("\n".join(proc.stdout.strip().splitlines()[-14:]))
    data = read_json(out) or {}
    level = data.get("commits") or {}
    answer = data.get("first_bad_commit") or {}
    measured = len(level.get("trials", []))
    candidates = level.get("candidates") or 1
    held = {t["version"]: t.get("value") for t in level.get("trials", [])}
    rows = [
        ["release answer", f"{data.get('last_good')} -> {data.get('first_bad')}"],
        ["first bad commit", f"{answer.get('sha', '-')[:10]} {answer.get('subject', '')}"],
        ["commits in range / candidates / measured",
         f"{level.get('in_range')} / {candidates} / {measured} (goal <= "
         f"{math.log2(candidates) + 3:.1f} with replication)"],
        ["MiB held per commit", ", ".join(f"{k} {v:+.1f}" for k, v in held.items()
                                          if v is not None)],
        ["release envs differ in", ", ".join(f"{c['name']}" for c in data.get("freeze_diff",
                                                                                [])) or "-"],
        ["commit envs differ in", ", ".join(c["name"] for c in level.get("freeze_diff", []))
         or "nothing but starlette"],
        ["wall time, exit code", f"{wall:.0f} s, exit {proc.returncode}"],
    ]
    print(table(["figure", "value"], rows))
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)
    banner.end()


if __name__ == "__main__":
    main()
