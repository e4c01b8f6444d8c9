"""The commit level in the reports: terminal lines, JSON fields, the Markdown commit table."""

from __future__ import annotations

import shlex

from packaging.utils import canonicalize_name

from bisect_leak import commits, freeze
from bisect_leak.commit_search import CommitLevel
from bisect_leak.commits import WORKTREE, FileChange
from bisect_leak.outcome import Outcome, PythonOutcome
from bisect_leak.search import SearchStatus


def commit_json(level: CommitLevel, label: str | None) -> dict | None:
    c = level.commits.get(label) if label else None
    if c is None:
        return None
    changed = commits.installed_changes(c, level.roots) if c.sha != WORKTREE else c.files
    show = (f"git -C {shlex.quote(str(level.repo))} diff HEAD" if c.sha == WORKTREE
            else f"git -C {shlex.quote(str(level.repo))} show {c.sha}")
    return {"sha": c.sha, "subject": c.subject, "date": c.date.isoformat(), "pr": c.pr,
            "files": [f.as_dict() for f in changed], "show": show}


def json_fields(outcome: Outcome, py: PythonOutcome) -> dict:
    """The commit-level fields of one Python's JSON (nothing without ``--repo``)."""
    level: CommitLevel | None = getattr(py, "commits", None)
    if level is None:
        return {}
    s = level.py.search
    found = s is not None and s.status is SearchStatus.FOUND
    plan = outcome.plan
    old_key, new_key = ("last_leaking_commit", "first_fixed_commit") if plan.fixed else (
        "last_good_commit", "first_bad_commit")
    return {
        new_key: commit_json(level, s.first_new) if found and s else None,
        old_key: commit_json(level, s.last_old) if found and s else None,
        "commits": {
            "repo": str(level.repo),
            "range": level.range_text,
            "history": "first-parent",
            "in_range": level.in_range,
            "candidates": level.candidates,
            "measured": sum(1 for t in level.py.trials.values() if not t.from_cache),
            "probed": len(level.py.trials),
            "status": s.status.value if s else ("checked" if plan.checks else "not-run"),
            "message": level.message,
            "exit_code": int(level.exit_code),
            "unknown_between": list(s.unknown_between) if s else [],
            "build_seconds": {k: round(v, 2) for k, v in level.build_seconds.items()},
            "reproduce": reproduce(outcome, level, py),
            "culprit": level.py.culprit_message or None,
            "freeze_diff": [c.as_dict() for c in env_changes(outcome, level, py)],
            "resolved_as_of": level.py.resolved_as_of,
            "resolved_why": level.py.resolved_why,
            "trials": [dict(t.to_dict(), commit=commit_json(level, v))
                       for v, t in level.py.trials.items()],
        },
    }


def reproduce(outcome: Outcome, level: CommitLevel, py: PythonOutcome | None = None) -> str:
    """The commit pair again (or every check, releases first), by full sha, with --repo."""
    if not level.py.trials:
        return ""
    s = level.py.search
    labels = [s.last_old, s.first_new] if s and s.found else list(level.py.trials)
    trials = dict(py.trials) if py is not None and s is None else {}
    for label in labels:
        if label:
            sha = level.commits[label].sha
            trials[sha if sha != WORKTREE else WORKTREE] = level.py.trials[label]
    shadow = PythonOutcome(interpreter=level.py.interpreter, trials=trials)
    return outcome.reproduce(shadow) + f" --repo {shlex.quote(str(level.repo))}"


def summary_lines(outcome: Outcome, py: PythonOutcome) -> list[str]:
    """The commit-level lines of the terminal summary."""
    level: CommitLevel | None = getattr(py, "commits", None)
    if level is None:
        return []
    lines = []
    if level.range_text:
        lines.append(f"commits {level.range_text} (first-parent): {level.in_range} in range, "
                     f"{level.candidates} change installed files, "
                     f"{len(level.py.trials)} measured")
    if level.message and not outcome.plan.checks:  # checks: already in the release line
        lines.append(level.message)
    answer = level.answer()
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
    if level.py.culprit_message:
        lines.append(f"  {level.py.culprit_message}")
    if level.py.trials:
        lines.append(f"  reproduce with: {reproduce(outcome, level, py)}")
    return lines


def markdown_lines(outcome: Outcome, py: PythonOutcome) -> list[str]:
    """The commit table of the Markdown report (below the release table)."""
    level: CommitLevel | None = getattr(py, "commits", None)
    if level is None:
        return []
    from bisect_leak.evidence import trial_row

    title = (f"Commits {level.range_text} (first-parent history)" if level.range_text
             else "Commits checked")
    out = ["", f"### {title}", ""]
    if level.range_text:
        out.append(f"{level.in_range} commits in range, {level.candidates} change installed "
                   f"files ({', '.join(level.roots) or 'all but docs/tests'}, build "
                   f"metadata), {len(level.py.trials)} measured.")
        out.append("")
    out += ["| commit | subject | PR | verdict | figure | requests | RSS MiB | threads | s |",
            "|---|---|---|---|---|---|---|---|---|"]
    for label, t in level.py.trials.items():
        c = level.commits[label]
        row = trial_row(t).split("|")[2:]  # drop the version column
        pr = f"#{c.pr}" if c.pr else ""
        subject = c.subject.replace("|", "\\|")[:70]
        out.append(f"| `{label}` | {subject} | {pr} |" + "|".join(row))
    out += [""] + [f"- `{label}`: {t.reason}" for label, t in level.py.trials.items()
                   if t.reason]
    if level.message:
        out += ["", f"**{level.message}**"]
    answer = level.answer()
    if answer is not None:
        data = commit_json(level, answer.short if answer.sha != WORKTREE else WORKTREE)
        assert data is not None
        out += ["", "Installed files it changed:", ""]
        out += [f"- `{FileChange(**f).stat()}`" for f in data["files"]]
        out += ["", f"`{data['show']}`"]
    return out


def env_changes(outcome: Outcome, level: CommitLevel,
                py: PythonOutcome | None = None) -> list[freeze.Change]:
    """Dependencies that differ between the last good and first bad commit's envs, or with
    checks between the first check's env (a release's, when one is checked) and the last
    commit's (the package itself, a built wheel each, left out)."""
    s = level.py.search
    if s is not None and s.found:
        before, after = level.py.trials[s.last_old], level.py.trials[s.first_new]
    elif s is None and outcome.plan.checks:
        checked = [t for t in (*(py.trials.values() if py else ()), *level.py.trials.values())
                   if t.freeze]
        if len(checked) < 2:
            return []
        before, after = checked[0], checked[-1]
    else:
        return []
    name = canonicalize_name(outcome.plan.name)
    return [c for c in freeze.diff(before.freeze, after.freeze) if c.name != name]
