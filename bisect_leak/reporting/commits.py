"""The commit level in the reports: terminal lines, JSON fields, the Markdown commit table."""

from __future__ import annotations

import shlex

from packaging.utils import canonicalize_name

from bisect_leak.bisection.search import SearchStatus
from bisect_leak.candidates import commits
from bisect_leak.candidates.commits import WORKTREE, Commit, FileChange
from bisect_leak.candidates.lines import render as render_lines
from bisect_leak.environments import freeze
from bisect_leak.reporting.table import trial_row
from bisect_leak.run.outcome import Outcome, PythonOutcome


def _commit(level: PythonOutcome, label: str | None) -> Commit | None:
    cand = level.candidates.get(label) if label else None
    return cand.commit if cand is not None else None


def _repo(level: PythonOutcome) -> str:
    assert level.range is not None
    return str(level.range.repo)


def commit_json(level: PythonOutcome, label: str | None) -> dict | None:
    c = _commit(level, label)
    if c is None:
        return None
    roots = level.range.roots if level.range else ()
    changed = commits.installed_changes(c, roots) if c.sha != WORKTREE else c.files
    show = (f"git -C {shlex.quote(_repo(level))} diff HEAD" if c.sha == WORKTREE
            else f"git -C {shlex.quote(_repo(level))} show {c.sha}")
    return {"sha": c.sha, "subject": c.subject, "date": c.date.isoformat(), "pr": c.pr,
            "files": [f.as_dict() for f in changed], "show": show}


def json_fields(outcome: Outcome, py: PythonOutcome) -> dict:
    """The commit-level fields of one Python's JSON (nothing without ``--repo``)."""
    level = py.commits
    if level is None:
        return {}
    s = level.search
    found = s is not None and s.status is SearchStatus.FOUND
    plan = outcome.plan
    old_key, new_key = ("last_leaking_commit", "first_fixed_commit") if plan.fixed else (
        "last_good_commit", "first_bad_commit")
    return {
        new_key: commit_json(level, s.first_new) if found and s else None,
        old_key: commit_json(level, s.last_old) if found and s else None,
        "commits": {
            "repo": _repo(level),
            "range": level.range.text,
            "history": "first-parent",
            "in_range": level.range.in_range,
            "candidates": level.range.candidates,
            "measured": sum(1 for t in level.trials.values() if not t.from_cache),
            "probed": len(level.trials),
            "status": s.status.value if s else ("checked" if plan.checks else "not-run"),
            "message": level.message,
            "exit_code": int(level.exit_code),
            "unknown_between": list(s.unknown_between) if s else [],
            "build_seconds": {k: round(v, 2) for k, v in level.build_seconds.items()},
            "reproduce": reproduce(outcome, level, py),
            "culprit": level.culprit_message or None,
            "freeze_diff": [c.as_dict() for c in env_changes(outcome, level, py)],
            "resolved_as_of": level.resolved_as_of,
            "resolved_why": level.resolved_why,
            **(level.lines.json_fields() if level.lines is not None else {}),
            "trials": [dict(t.to_dict(), commit=commit_json(level, v))
                       for v, t in level.trials.items()],
        },
    }


def reproduce(outcome: Outcome, level: PythonOutcome, py: PythonOutcome | None = None) -> str:
    """The commit pair again (or every check, releases first), by full sha, with --repo."""
    if not level.trials:
        return ""
    s = level.search
    labels = [s.last_old, s.first_new] if s and s.found else list(level.trials)
    trials = dict(py.trials) if py is not None and s is None else {}
    for label in labels:
        if label:
            sha = level.candidates[label].commit.sha
            trials[sha if sha != WORKTREE else WORKTREE] = level.trials[label]
    shadow = PythonOutcome(interpreter=level.interpreter, trials=trials)
    return outcome.reproduce(shadow)  # the plan's flags carry --repo


def summary_lines(outcome: Outcome, py: PythonOutcome) -> list[str]:
    """The commit-level lines of the terminal summary."""
    level = py.commits
    if level is None:
        return []
    lines = []
    if level.range.text:
        lines.append(f"commits {level.range.text} (first-parent): {level.range.in_range} in range, "
                     f"{level.range.candidates} change installed files, "
                     f"{len(level.trials)} measured")
    if level.message and not outcome.plan.checks:  # checks: already in the release line
        lines.append(level.message)
    answer = level.answer.commit if level.answer else None
    if answer is not None:
        data = commit_json(level, answer.short if answer.sha != WORKTREE else WORKTREE)
        assert data is not None
        for f in data["files"]:
            lines.append(f"  {FileChange(**f).stat()}")
        lines.append(f"  show with: {data['show']}")
        changes = env_changes(outcome, level)
        if changes:
            lines.append("  envs differ in: " + ", ".join(str(c) for c in changes))
        else:
            lines.append(f"  envs differ only in {outcome.plan.name} itself (every other "
                         "package the same version)")
    if answer is None and outcome.plan.checks:
        changes = env_changes(outcome, level, py)
        if changes:
            lines.append("  envs of the first and last check differ in: "
                         + ", ".join(str(c) for c in changes))
    if level.lines is not None:  # --inspect: the answer's pair or two checks (issue 16)
        lines += ["  " + text for text in render_lines(level.lines, "commit")]
    if level.culprit_message:
        lines.append(f"  {level.culprit_message}")
    if level.trials:
        lines.append(f"  reproduce with: {reproduce(outcome, level, py)}")
    return lines


def markdown_lines(outcome: Outcome, py: PythonOutcome) -> list[str]:
    """The commit table of the Markdown report (below the release table)."""
    level = py.commits
    if level is None:
        return []
    title = (f"Commits {level.range.text} (first-parent history)" if level.range.text
             else "Commits checked")
    out = ["", f"### {title}", ""]
    if level.range.text:
        out.append(f"{level.range.in_range} commits in range, {level.range.candidates} change "
                   f"installed files ({', '.join(level.range.roots) or 'all but docs/tests'}, "
                   f"build metadata), {len(level.trials)} measured.")
        out.append("")
    out += ["| commit | subject | PR | verdict | figure | requests | RSS MiB | threads | s |",
            "|---|---|---|---|---|---|---|---|---|"]
    for label, t in level.trials.items():
        c = level.candidates[label].commit
        row = trial_row(t).split("|")[2:]  # drop the version column
        pr = f"#{c.pr}" if c.pr else ""
        subject = c.subject.replace("|", "\\|")[:70]
        out.append(f"| `{label}` | {subject} | {pr} |" + "|".join(row))
    out += [""] + [f"- `{label}`: {t.reason}" for label, t in level.trials.items()
                   if t.reason]
    if level.message:
        out += ["", f"**{level.message}**"]
    answer = level.answer.commit if level.answer else None
    if answer is not None:
        data = commit_json(level, answer.short if answer.sha != WORKTREE else WORKTREE)
        assert data is not None
        out += ["", "Installed files it changed:", ""]
        out += [f"- `{FileChange(**f).stat()}`" for f in data["files"]]
        out += ["", f"`{data['show']}`"]
    if level.lines is not None:  # --inspect (issue 16)
        out += ["", f"Against the diff ({level.lines.against}):", "", "```",
                *render_lines(level.lines, "commit"), "```"]
    return out


def env_changes(outcome: Outcome, level: PythonOutcome,
                py: PythonOutcome | None = None) -> list[freeze.Change]:
    """Dependencies that differ between the last good and first bad commit's envs, or with
    checks between the first check's env (a release's, when one is checked) and the last
    commit's (the package itself, a built wheel each, left out)."""
    s = level.search
    if s is not None and s.found:
        before, after = level.trials[s.last_old], level.trials[s.first_new]
    elif s is None and outcome.plan.checks:
        checked = [t for t in (*(py.trials.values() if py else ()), *level.trials.values())
                   if t.freeze]
        if len(checked) < 2:
            return []
        before, after = checked[0], checked[-1]
    else:
        return []
    name = canonicalize_name(outcome.plan.name)
    return [c for c in freeze.diff(before.freeze, after.freeze) if c.name != name]
