"""One trial as a row of the Markdown tables (releases, commits)."""

from __future__ import annotations

from bisect_leak.judge.classify import memory_figure
from bisect_leak.judge.units import UNITS
from bisect_leak.measure.trial import TrialResult


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f}"


def trial_row(t: TrialResult) -> str:
    a = t.assessment
    figure = "–"
    if a is not None and a.growth_kib_per_1k is not None:
        figure = f"{a.growth_kib_per_1k:+.1f} ({a.low:+.1f}..{a.high:+.1f}) {UNITS[a.signal]}"
    first = t.samples[0] if t.samples else None
    last = t.samples[-1] if t.samples else None
    name, kib = memory_figure(t.samples) if t.samples else ("", [])
    memory = f"{name} {kib[0] / 1024:.1f} → {kib[-1] / 1024:.1f}" if kib else "–"
    threads = f"{first.threads} → {last.threads}" if first and last else "–"
    runs = "".join(f" / {r.verdict.value}" for r in t.runs)
    return (f"| {t.version} | **{t.verdict.value}**{runs} | {figure} | {t.requests:,} | "
            f"{memory} | {threads} | {t.seconds:.1f} |")
