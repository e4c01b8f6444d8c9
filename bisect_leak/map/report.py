"""What a map shows: a line per cell with progress, a Markdown table with its flips, JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

from bisect_leak.judge.units import UNITS
from bisect_leak.map.grid import Cell
from bisect_leak.map.mapping import CellResult, MapOutcome, Mode
from bisect_leak.measure.trial import TrialResult
from bisect_leak.run.outcome import describe

SHORT = {"leaking": "LEAK", "stable": "ok", "inconclusive": "?", "error": "error"}
JOBS_NOTE = ("--jobs runs trials side by side on shared cores: each trial's load runs slower, "
             "but memory is sampled per request served, not per second, so the samples and "
             "verdicts keep their meaning; timings in the JSON (seconds, load) do not compare "
             "with a one-at-a-time run")


def value_unit(t: TrialResult) -> tuple[float | None, str | None]:
    """The figure that decided the verdict, in its signal's unit."""
    a = t.assessment
    if a is None or a.growth_kib_per_1k is None:
        return None, None
    return a.growth_kib_per_1k, UNITS.get(a.signal)


class MapTerminal:
    """A line per finished cell on stdout with the map's progress; progress on stderr."""

    def __init__(self, out: TextIO | None = None, err: TextIO | None = None):
        self.out, self.err = out or sys.stdout, err or sys.stderr

    def progress(self, text: str) -> None:
        print(f"  {text}", file=self.err, flush=True)

    def info(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def cell(self, result: CellResult, status: str) -> None:
        c = result.cell
        where = "cached" if result.from_cache else result.where
        print(f"{c.candidate:>12}  py{c.row.python:<8} {c.row.scenario:<14} "
              f"{describe(result.trial)}  [{where}; {status}]", file=self.out, flush=True)


def _column(outcome: MapOutcome, cell: Cell) -> str:
    r = outcome.cells.get(cell)
    if r is None:
        return "·"
    value, _ = value_unit(r.trial)
    word = SHORT[r.trial.verdict.value]
    return word if value is None else f"{word} {value:+.1f}"


def candidates(outcome: MapOutcome) -> list[str]:
    """Every release of any row, oldest first."""
    seen: dict[str, int] = {}
    for r in outcome.rows:
        for i, v in enumerate(r.versions):
            seen.setdefault(v, i)
    from packaging.version import Version
    return sorted(seen, key=Version)


def markdown(outcome: MapOutcome) -> str:
    plan = outcome.plan
    unit = UNITS[plan.base.metric]
    lines = [f"# Leak map: {plan.base.name} {plan.old} .. {plan.new}", "",
             f"Mode: {plan.mode.value}; cells: {len(outcome.cells)} "
             f"({outcome.measured} measured, {len(outcome.cells) - outcome.measured} from "
             f"the cache); ran {outcome.where}; {outcome.seconds:.0f} s. "
             f"Figures: {unit} (threshold "
             f"{outcome.rows[0].prober.settings.threshold:g})." if outcome.rows else "", ""]
    rows = outcome.rows
    lines.append("| release | " + " | ".join(r.row.label for r in rows) + " |")
    lines.append("|---|" + "---|" * len(rows))
    for v in candidates(outcome):
        cols = [_column(outcome, Cell(v, r.row)) if v in r.versions else "n/a" for r in rows]
        lines.append(f"| {v} | " + " | ".join(cols) + " |")
    lines += ["", "`LEAK` leaking, `ok` stable, `?` inconclusive, `·` not measured, `n/a` not "
              "in range on that Python.", "", "## Flips", ""]
    lines += [f"- {f.text()}" for f in outcome.flips] or ["- none: every row keeps one verdict "
                                                           "where it was measured"]
    if plan.mode is Mode.EDGES:
        lines += ["", "## What --edges can miss", "",
                  "Only both ends of each row, and the middle of every interval whose ends "
                  "differ, were measured: a leak that comes and goes between two equal ends "
                  "can be missed."]
        lines += [f"- {n}" for n in outcome.notes]
    errors = [r for r in outcome.cells.values() if r.trial.verdict.value == "error"]
    if errors:
        lines += ["", "## Errors (not verdicts about the package)", ""]
        lines += [f"- {r.cell.candidate} on {r.cell.row.label}: {r.trial.reason}" for r in errors]
    return "\n".join(lines) + "\n"


def to_json(outcome: MapOutcome) -> dict:
    plan = outcome.plan
    cells = []
    for r in outcome.rows:
        for v in r.versions:
            res = outcome.cells.get(Cell(v, r.row))
            if res is None:
                continue
            value, unit = value_unit(res.trial)
            a = res.trial.assessment
            cells.append({
                "candidate": v, "python": r.row.python, "scenario": r.row.scenario,
                "verdict": res.trial.verdict.value, "value": value, "unit": unit,
                "interval": [a.low, a.high] if a else None, "reason": res.trial.reason,
                "from_cache": res.from_cache, "where": res.where,
                "seconds": res.seconds, "trial": res.trial_data})
    return {
        "package": plan.base.name + plan.base.extras, "from": plan.old, "to": plan.new,
        "mode": plan.mode.value, "metric": plan.base.metric.value,
        "pythons": sorted({r.row.python for r in outcome.rows}),
        "scenarios": list(dict.fromkeys(r.row.scenario for r in outcome.rows)),
        "rows": [{"python": r.row.python, "scenario": r.row.scenario, "versions": r.versions,
                  "skipped": [{"version": v, "reason": why} for v, why in r.skipped]}
                 for r in outcome.rows],
        "cells": cells,
        "flips": [f.as_dict() for f in outcome.flips],
        "notes": outcome.notes,
        "where": outcome.where, "measured": outcome.measured,
        "interrupted": outcome.interrupted, "exit_code": int(outcome.exit_code),
        "seconds": round(outcome.seconds, 1),
    }


def write(text: str, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


def write_json(outcome: MapOutcome, path: Path) -> None:
    write(json.dumps(to_json(outcome), indent=1) + "\n", path)
