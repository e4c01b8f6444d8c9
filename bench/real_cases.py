"""The real leak reports of issue #3, run end to end against the index: one table.

Usage: python bench/real_cases.py [--cache-dir DIR] [--only NAME]. Takes ~10 minutes cold.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASES = {
    "uvicorn-1226-fix": ["--package", "uvicorn[standard]", "--fixed", "--bad", "0.14.0",
                         "--good", "0.17.2", "--with", "uvloop==0.15.2", "--python", "3.8",
                         "--scenario", "tcp-ping", "--metric", "fds"],
    "uvicorn-1226-h11": ["--package", "uvicorn", "--check", "0.13.4", "--check", "0.14.0",
                         "--python", "3.8", "--scenario", "tcp-ping", "--metric", "growth"],
    "fastapi-11191-held": ["--fixed", "--bad", "0.109.2", "--good", "0.110.0", "--python",
                           "3.11", "--scenario", "yield-dependency-error", "--metric", "held"],
    "fastapi-11191-growth": ["--fixed", "--bad", "0.109.2", "--good", "0.110.0", "--python",
                             "3.11", "--scenario", "yield-dependency-error"],
    "seed-hello": ["--good", "0.65.2", "--bad", "0.75.0", "--python", "3.7,3.8",
                   "--scenario", "hello"],
    "seed-middleware": ["--good", "0.65.2", "--bad", "0.75.0", "--python", "3.7,3.8",
                        "--scenario", "middleware"],
}


def describe(t: dict) -> str:
    g = t["value"]
    figure = "-" if g is None else f"{g:+.1f}"
    again = "".join(f", again {r['verdict']}({r['value']:+.1f})" if r["value"] is not None
                    else f", again {r['verdict']}" for r in t.get("runs", []))
    return f"{t['version']}={t['verdict']}({figure}{again})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cache-dir", type=Path)
    parser.add_argument("--only", choices=sorted(CASES), action="append")
    ns = parser.parse_args()
    cache = ns.cache_dir or Path(tempfile.mkdtemp(prefix="bench-real-"))
    print(f"load average at start: {os.getloadavg()[0]:.2f}; cache {cache}")
    for name in ns.only or CASES:
        out = cache / f"{name}.json"
        start = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "bisect_leak", *CASES[name],
                               "--cache-dir", str(cache), "--json", str(out)],
                              capture_output=True, text=True, timeout=3600)
        took = time.monotonic() - start
        data = json.loads(out.read_text()) if out.exists() else {"results": []}
        print(f"\n== {name}: exit {proc.returncode}, {took:.0f} s wall")
        for result in data.get("results", [data]):
            print(f"  Python {result.get('python')}: {result.get('message')}")
            print("    " + ", ".join(describe(t) for t in result.get("trials", [])))
    print(f"\nload average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
