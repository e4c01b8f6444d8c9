"""What a run shows: progress and trial lines in the terminal, the summary, JSON."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TextIO

from bisect_leak import commit_report
from bisect_leak.classify import memory_figure
from bisect_leak.evidence import freeze_changes
from bisect_leak.outcome import Outcome, PythonOutcome, describe
from bisect_leak.search import SearchStatus
from bisect_leak.trial import TrialResult
from bisect_leak.verdict import Verdict

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
    cached = " (cached)" if t.from_cache else ""
    if t.run > 1:
        cached += f" (run {t.run}, afresh)"
    curve = sparkline(memory_figure(t.samples)[1]) if t.samples else ""
    line = (f"{t.version:>12}  py{python:<8} {describe(t):<52} "
            f"{t.requests:>8,} req {t.seconds:6.1f} s  {curve}{cached}")
    if t.inspect and "types" in t.inspect:
        from bisect_leak.inspector import describe as describe_growth

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
            lines.append("  envs differ in: " + ", ".join(str(c) for c in changes))
        if py.culprit_message:
            lines.append(f"  {py.culprit_message}")
        lines += commit_report.summary_lines(outcome, py)  # --repo (issue 10)
        if py.search and py.search.status is SearchStatus.FOUND or plan.checks and py.trials:
            lines.append(f"  reproduce with: {outcome.reproduce(py)}")
    if outcome.interrupted:
        lines.append("interrupted: finished trials are kept in the cache; run again to resume")
    tested = sum(len(py.trials) + (len(py.commits.py.trials) if py.commits else 0)
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


def python_json(outcome: Outcome, py: PythonOutcome) -> dict:
    plan = outcome.plan
    search = py.search
    last, first = (search.last_old, search.first_new) if search else (None, None)
    if search is not None and search.status is not SearchStatus.FOUND:
        last = first = None
    data: dict = {
        "package": plan.name + plan.extras,
        "python": py.interpreter.version,
        "scenario": outcome.scenario.name if outcome.scenario else plan.scenario,
    }
    if plan.fixed:
        data["last_leaking"], data["first_fixed"] = last, first
    else:
        data["last_good"], data["first_bad"] = last, first
    data.update({
        "status": search.status.value if search else ("checked" if plan.checks else None),
        "message": py.message,
        "exit_code": int(py.exit_code),
        "replicated": py.replicated,
        "metric": plan.metric.value,
        "threshold": outcome.settings.threshold if outcome.settings else None,
        "versions": py.versions,
        "skipped": [{"version": v, "reason": r} for v, r in py.skipped],
        "unknown_between": list(search.unknown_between) if search else [],
        "freeze_diff": [c.as_dict() for c in freeze_changes(py)],
        "culprit": {
            "message": py.culprit_message,
            "trials": [{"change": c.change.as_dict(), "pin": c.pin,
                        "verdict": c.verdict.value if c.verdict else None, "note": c.note,
                        "trial": c.result.to_dict() if c.result else None}
                       for c in py.culprits],
        } if plan.culprit else None,
        "overrides": py.overrides,
        "resolved_as_of": py.resolved_as_of,
        "resolved_why": py.resolved_why,
        "reproduce": outcome.reproduce(py),
        "trials": [t.to_dict() for t in py.trials.values()],
    })
    data.update(commit_report.json_fields(outcome, py))  # --repo (issue 10)
    return data


def to_json(outcome: Outcome) -> dict:
    if len(outcome.results) == 1:
        data = python_json(outcome, outcome.results[0])
    else:
        data = {"results": [python_json(outcome, py) for py in outcome.results]}
    data["resolve_seconds"] = round(outcome.resolve_seconds, 3)
    data["interrupted"] = outcome.interrupted
    data["exit_code"] = int(outcome.exit_code)
    data["seconds"] = round(outcome.seconds, 1)
    return data


def write_json(outcome: Outcome, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(to_json(outcome), indent=1) + "\n")
    tmp.replace(path)
