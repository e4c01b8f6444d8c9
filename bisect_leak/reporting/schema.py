"""The JSON of a run (``--json``): one object per Python, the trials, the commit level.

Keep old fields; add, do not rename (``../shared/design.md``). A trial's own fields are its
``TrialResult.to_dict`` (also the results cache's format).
"""

from __future__ import annotations

import json
from pathlib import Path

from bisect_leak.bisection.search import SearchStatus
from bisect_leak.reporting import commits as commit_report
from bisect_leak.reporting.markdown import freeze_changes
from bisect_leak.run.outcome import Outcome, PythonOutcome


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
        "rounds": py.rounds,
        "other_signals": [dict(vars(d), text=d.describe()) for d in py.other_signals],
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
    if py.lines is not None:  # --inspect (issue 16)
        data.update(py.lines.json_fields())
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
