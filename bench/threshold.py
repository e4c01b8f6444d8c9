"""Figures behind the default threshold: stable hello world vs a deliberate 1 KiB/request leak.

Runs the real CLI (``--check``) on Python 3.7 and 3.12 and prints each trial's growth after
warm-up. Not a test: it prints figures. Usage: python bench/threshold.py [CACHE_DIR]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CASES = [
    ("3.7", "hello", ["0.65.2", "0.68.2", "0.69.0", "0.75.0"]),
    ("3.7", str(HERE / "leak1k"), ["0.69.0"]),
    ("3.12", "hello", ["0.110.0", "0.115.0"]),
    ("3.12", str(HERE / "leak1k"), ["0.115.0"]),
]


def main() -> None:
    cache = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())
    print(f"{'python':<7} {'scenario':<8} {'version':<8} {'verdict':<13} "
          f"{'KiB/1k':>9} {'late':>8} {'requests':>9} {'RSS MiB':>15} {'s':>6}")
    for python, scenario, versions in CASES:
        out = cache / f"threshold-{python}-{Path(scenario).name}.json"
        argv = [sys.executable, "-m", "bisect_leak", "--python", python, "--scenario", scenario,
                "--cache-dir", str(cache), "--no-cache", "--json", str(out)]
        for v in versions:
            argv += ["--check", v]
        start = time.monotonic()
        subprocess.run(argv, capture_output=True, text=True, timeout=1800)
        took = time.monotonic() - start
        for t in json.loads(out.read_text())["trials"]:
            rows = t["series"]["rows"]
            rss = f"{rows[0][1] / 2**20:.1f}→{rows[-1][1] / 2**20:.1f}" if rows else "-"
            growth = t["value"]
            late = t["late_kib_per_1k"]
            print(f"{python:<7} {Path(scenario).name:<8} {t['version']:<8} {t['verdict']:<13} "
                  f"{growth if growth is None else f'{growth:+.1f}':>9} "
                  f"{late if late is None else f'{late:+.1f}':>8} {t['requests']:>9,} "
                  f"{rss:>15} {t['seconds']:>6.1f}")
        print(f"  ({took:.0f} s wall for this row group)")


if __name__ == "__main__":
    main()
