"""What a run shows: progress and trial lines in the terminal, the summary, JSON."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from bisect_leak.bisection.search import SearchStatus
from bisect_leak.candidates.lines import render as render_lines
from bisect_leak.judge.classify import memory_figure
from bisect_leak.judge.verdict import Verdict
from bisect_leak.measure.trial import TrialResult
from bisect_leak.reporting import commits as commit_report
from bisect_leak.reporting.markdown import compared_pair, freeze_changes
from bisect_leak.run.outcome import Outcome, describe

SPARK = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float], width: int = 24) -> str:
    """A compact memory curve for the terminal."""
    if not values:
        return ""
    if len(values) > width:
        step = len(values) / width
        values = [values[int(i * step)] for i in range(width)]
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0
    return "".join(SPARK[min(len(SPARK) - 1, int((v - lo) / span * len(SPARK)))] for v in values)


class Terminal:
    """Progress on stderr (rewritten in place on a TTY), one line per finished trial."""

    def __init__(self, out: TextIO | None = None, err: TextIO | None = None):
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.tty = self.err.isatty()
        self._last = 0.0
        self._pending = False

    def progress(self, text: str) -> None:
        now = time.monotonic()
        if self.tty:
            self.err.write("\r\x1b[2K" + text[:120])
            self.err.flush()
            self._pending = True
        elif now - self._last > 5.0 or not text.split(":")[-1].strip()[:1].isdigit():
            self.err.write(f"... {text}\n")
            self.err.flush()
            self._last = now

    def _clear(self) -> None:
        if self._pending:
            self.err.write("\r\x1b[2K")
            self._pending = False

    def info(self, text: str) -> None:
        self._clear()
        self.err.write(f"{text}\n")
        self.err.flush()

    def trial(self, result: TrialResult, python: str) -> None:
        self._clear()
        self.out.write(trial_line(result, python) + "\n")
        self.out.flush()

    def summary(self, outcome: Outcome) -> None:
        self._clear()
        self.out.write(summary_text(outcome))
        self.out.flush()


def trial_line(t: TrialResult, python: str) -> str:
    cached = f" (run {t.run}{'' if t.from_cache else ', afresh'})" if t.run > 1 else ""
    if t.from_cache:
        cached += " (cached)"
    curve = sparkline(memory_figure(t.samples)[1]) if t.samples else ""
    line = (f"{t.version:>12}  py{python:<8} {describe(t):<52} "
            f"{t.requests:>8,} req {t.seconds:6.1f} s  {curve}{cached}")
    if t.inspect and "types" in t.inspect:
        from bisect_leak.measure.inspector import describe as describe_growth

        line += f"\n{'':14}{describe_growth(t.inspect)[:200]}"
    if t.verdict is Verdict.ERROR and t.stderr_tail:
        last = t.stderr_tail.strip().splitlines()[-1]
        line += f"\n{'':14}{last[:150]}"
    return line


def summary_text(outcome: Outcome) -> str:
    lines = [""]
    plan = outcome.plan
    if len(outcome.results) > 1 and not plan.checks:
        lines.append(matrix_table(outcome))
    for py in outcome.results:
        if py.message:
            lines.append(py.message)
        changes = freeze_changes(py)
        if changes:
            a, b = compared_pair(py)  # type: ignore[misc]
            lines.append(f"  envs of {a.version} and {b.version} differ in: "
                         + ", ".join(str(c) for c in changes))
        if py.culprit_message:
            lines.append(f"  {py.culprit_message}")
        if py.rounds:
            lines.append(f"  {len(py.rounds)} round(s): " + " | ".join(
                ", ".join(r) for r in py.rounds))
        if py.lines is not None:  # --inspect: the changed lines that allocate what grows
            lines += ["  " + text for text in render_lines(py.lines, "release")]
        lines += commit_report.summary_lines(outcome, py)  # --repo (issue 10)
        if py.search and py.search.status is SearchStatus.FOUND or plan.checks and py.trials:
            lines.append(f"  reproduce with: {outcome.reproduce(py)}")
    if outcome.interrupted:
        lines.append("interrupted: finished trials are kept in the cache; run again to resume")
    tested = sum(len(py.trials) + (len(py.commits.trials) if py.commits else 0)
                 for py in outcome.results)
    lines.append(f"{tested} trial(s), {outcome.seconds:.0f} s, exit {int(outcome.exit_code)}")
    return "\n".join(lines) + "\n"


def matrix_table(outcome: Outcome) -> str:
    rows = ["Python     bound        verdict"]
    for py in outcome.results:
        if py.search is None:
            continue
        for version, _ in py.search.bounds:
            rows.append(f"{py.interpreter.version:<10} {version:<12} "
                        f"{describe(py.trials.get(version))}")
    return "\n".join(rows)
