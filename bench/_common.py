"""Shared bits of the benches: banner with load average, medians, ratios, tables, the CLI.

Not a bench itself. Each bench imports it as ``_common`` (``python bench/NAME.py`` puts
``bench/`` first on ``sys.path``).
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
SCENARIOS = ROOT / "scenarios"
NAN = float("nan")


def loadavg() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f} (1/5/15 min)"


class Banner:
    """Prints what ran where at the start, and the load average again at the end."""

    def __init__(self, title: str, notes: Sequence[str] = ()):
        self.title = title
        self.started = time.monotonic()
        print(f"== {title}")
        print(f"   python {platform.python_version()} ({sys.executable}), "
              f"{os.cpu_count()} cores, {platform.machine()}")
        print(f"   load average at start: {loadavg()}")
        for note in notes:
            print(f"   {note}")
        print(flush=True)

    def end(self) -> None:
        print()
        print(f"   load average at end:   {loadavg()}")
        print(f"   bench wall time: {time.monotonic() - self.started:.0f} s", flush=True)


def median(values: Sequence[float]) -> float:
    values = [v for v in values if v is not None and not math.isnan(v)]
    return statistics.median(values) if values else NAN


def ratio(numerator: float, denominator: float) -> float:
    if math.isnan(numerator) or math.isnan(denominator) or denominator == 0:
        return NAN
    return numerator / denominator


def fmt(value, spec: str = ".1f") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, str):
        return value
    return format(value, spec)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain text table: first column left-aligned, the others right-aligned."""
    cells = [list(map(str, headers))] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        parts = [row[0].ljust(widths[0])]
        parts += [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        return "  ".join(parts).rstrip()

    out = [line(cells[0]), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells[1:]]
    return "\n".join(out)


def toy():
    """``tests/toy.py``: the offline toy wheelhouse and scenario."""
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    import toy as module

    return module


def default_wheelhouse() -> Path:
    """Kept between bench runs so that uvicorn's wheels are downloaded once per machine."""
    return Path(tempfile.gettempdir()) / "bisect-leak-bench-wheelhouse"


def cli_env(uv_cache: Path | None) -> dict[str, str]:
    """This environment, with our own uv cache when given (as the tests do)."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if uv_cache is not None:
        env["UV_CACHE_DIR"] = str(uv_cache)
    return env


def run_cli(args: Sequence[str], *, cwd: Path, uv_cache: Path | None = None,
            timeout: float = 1800.0) -> tuple[subprocess.CompletedProcess, float]:
    """``python -m bisect_leak ARGS`` to completion; returns (process, wall seconds)."""
    argv = [sys.executable, "-m", "bisect_leak", *map(str, args)]
    start = time.monotonic()
    proc = subprocess.run(argv, cwd=str(cwd), env=cli_env(uv_cache), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout)
    return proc, time.monotonic() - start


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


PHASES = ("env", "server_start", "load", "classify")


def phase_split(data: dict | None) -> dict[str, float]:
    """Seconds by phase from a run's JSON, summed over the trials measured in that run.

    Trials taken from the results cache carry the phases of the run that measured them;
    they are counted in ``cached`` and not in the sums. ``trial_rest`` is what a trial's
    total leaves over (memory sampling between rounds, server stop); ``measured`` and
    ``cached`` are trial counts.
    """
    split = {"resolve": NAN, **{p: 0.0 for p in PHASES}, "trial_rest": 0.0, "trials_total": 0.0,
             "measured": 0, "cached": 0}
    if data is None:
        return split
    split["resolve"] = data.get("resolve_seconds", NAN)
    results = data.get("results") or [data]
    for result in results:
        for t in result.get("trials", []):
            if t.get("from_cache"):
                split["cached"] += 1
                continue
            split["measured"] += 1
            phases = t.get("phases", {})
            for p in PHASES:
                split[p] += phases.get(p, 0.0)
            total = phases.get("total", 0.0)
            split["trials_total"] += total
            split["trial_rest"] += total - sum(phases.get(p, 0.0) for p in PHASES)
    return split


def trials(data: dict | None) -> list[dict]:
    if data is None:
        return []
    return [t for r in (data.get("results") or [data]) for t in r.get("trials", [])]
