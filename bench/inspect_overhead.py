"""What --inspect adds to a trial: the toy pair measured with and without it, interleaved.

Usage: python bench/inspect_overhead.py [--rounds N]. Offline (toy wheelhouse; the first run
downloads uvicorn wheels once).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from toy import base_python, fill_wheelhouse, write_toy_scenario  # noqa: E402


def trial_seconds(args: list[str], cache: Path, out: Path) -> dict[str, float]:
    subprocess.run([sys.executable, "-m", "bisect_leak", *args, "--cache-dir", str(cache),
                    "--no-cache", "--json", str(out)], capture_output=True, text=True,
                   timeout=600, env=dict(os.environ, UV_CACHE_DIR=str(cache / "uv")))
    return {t["version"]: t["phases"].get("load", 0.0) + t["phases"].get("server_start", 0.0)
            for t in json.loads(out.read_text())["trials"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    ns = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-inspect-"))
    wheelhouse = fill_wheelhouse(work / "wh", str(base_python()))
    scenario = write_toy_scenario(work / "toy")
    base = ["--package", "leakytoy", "--check", "1.3.0", "--check", "1.4.0", "--python",
            str(base_python()), "--scenario", str(scenario), "--find-links", str(wheelhouse),
            "--no-index"]
    plain: list[float] = []
    inspected: list[float] = []
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    for _ in range(ns.rounds):
        plain += trial_seconds(base, work / "c", work / "a.json").values()
        inspected += trial_seconds([*base, "--inspect"], work / "c", work / "b.json").values()
    a, b = statistics.median(plain), statistics.median(inspected)
    print(f"trial (server start + load of 10,000 requests), median of {len(plain)}:")
    print(f"  plain     {a:6.2f} s")
    print(f"  --inspect {b:6.2f} s   ratio {b / a:.2f}x, +{b - a:.2f} s per trial")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
