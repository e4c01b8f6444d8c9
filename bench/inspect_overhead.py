"""What --inspect adds to a bisection: the toy bisection with and without it, side by side.

For each Python (3.8 and 3.12 by default) and each HTTP parser (h11, uvicorn's default; and
httptools, through ``--with httptools``), the offline toy bisection ``leakytoy`` 1.0.0..1.5.0
runs with and without ``--inspect``, interleaved (A, B, A, B, ...), results cache off
(``--no-cache``; the envs are reused, built once by an untimed first run). Prints the wall
time of each side (median), their ratio (goal: at most 1.5x), and what the inspection named
in the first bad release (the toy keeps a 1 KiB ``bytearray`` per request).

Usage: python bench/inspect_overhead.py [--rounds N] [--python 3.8,3.12]. Offline after the
first run (which downloads uvicorn's and httptools' wheels into the toy wheelhouse).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from _common import Banner, default_wheelhouse, fmt, median, ratio, read_json, run_cli, table
from _common import toy as toy_module

PARSERS = {"h11": [], "httptools": ["--with", "httptools"]}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=2, help="interleaved pairs per cell (default 2)")
    p.add_argument("--python", default="3.8,3.12", help="minor versions (default 3.8,3.12)")
    p.add_argument("--wheelhouse", type=Path, default=default_wheelhouse())
    p.add_argument("--timeout", type=float, default=900.0, help="per CLI run, seconds")
    return p.parse_args()


def named(data: dict | None) -> str:
    """What the inspection says grows in the first bad release."""
    if not data:
        return "no JSON"
    first_bad = data.get("first_bad")
    for t in data.get("trials", []):
        if t["version"] == first_bad and t.get("inspect"):
            found = t["inspect"]
            if "types" not in found:
                return f"failed: {found.get('error', '?')}"[:60]
            kind = found["types"][0][0] if found["types"] else "nothing"
            site = found["sites"][0][0].split("site-packages/")[-1] if found["sites"] else "-"
            return f"{kind} at {site}"
    return "not inspected"


def main() -> int:
    args = parse_args()
    toy = toy_module()
    banner = Banner("--inspect overhead: toy bisection 1.0.0..1.5.0, with and without",
                    ["machine shared with other work: compare the ratios, not the seconds"])
    work = Path(tempfile.mkdtemp(prefix="bisect-leak-bench-inspect-"))
    rows = []
    try:
        scenario = toy.write_toy_scenario(work / "toy")
        for minor in args.python.split(","):
            python = toy.find_python(minor.strip())
            if python is None:
                rows.append([minor, "-", "-", "-", "-", "no such Python here"])
                continue
            toy.fill_wheelhouse(args.wheelhouse, str(python), extra=("httptools",))
            for parser, extra in PARSERS.items():
                base = ["--package", "leakytoy", "--good", "1.0.0", "--bad", "1.5.0",
                        "--scenario", scenario, "--find-links", args.wheelhouse, "--no-index",
                        "--python", python, "--cache-dir", work / "cache", "--no-cache", *extra]
                rows.append(cell(args, work, minor, parser, base))
                print(table(HEADERS, rows[-1:]).splitlines()[-1], flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print()
    print(table(HEADERS, rows))
    banner.end()
    return 0


HEADERS = ["python", "parser", "plain s", "--inspect s", "ratio", "inspect names (first bad)"]


def cell(args, work: Path, minor: str, parser: str, base: list) -> list[str]:
    uv_cache = work / "uv-cache"
    run_cli(base, cwd=work, uv_cache=uv_cache, timeout=args.timeout)  # builds the envs
    plain: list[float] = []
    inspected: list[float] = []
    what = ""
    for i in range(args.rounds):
        out = work / f"{minor}-{parser}-{i}.json"
        proc, seconds = run_cli(base, cwd=work, uv_cache=uv_cache, timeout=args.timeout)
        plain.append(seconds if proc.returncode == 0 else float("nan"))
        proc, seconds = run_cli([*base, "--inspect", "--json", out], cwd=work,
                                uv_cache=uv_cache, timeout=args.timeout)
        inspected.append(seconds if proc.returncode == 0 else float("nan"))
        what = named(read_json(out)) if proc.returncode == 0 else f"exit {proc.returncode}"
    a, b = median(plain), median(inspected)
    return [minor, parser, fmt(a), fmt(b), fmt(ratio(b, a), ".2f") + "x", what]


if __name__ == "__main__":
    sys.exit(main())
