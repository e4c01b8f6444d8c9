"""The line answer's I/O (issue 16): after ``--inspect`` re-ran the answer's pair, the diff
between the two (``git diff`` of the two commits' trees, or the two releases' installed
files read from their envs) intersected with what grows (:mod:`bisect_leak.candidates.lines`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from packaging.utils import canonicalize_name

from bisect_leak.candidates import lines
from bisect_leak.candidates import repo as repos
from bisect_leak.candidates.lines import LineAnswer
from bisect_leak.candidates.repo import GitError, Repo
from bisect_leak.judge.verdict import Verdict
from bisect_leak.run.prober import Prober


def line_answer(repo: Repo, old: str, new: str, inspection: Mapping,
                package_dirs: Sequence[str], fixed: bool, reference: Mapping | None = None,
                labels: tuple[str, str] | None = None) -> LineAnswer:
    """The commit level: ``inspection`` is the growing run (the first bad ``new``; with
    ``fixed``, the last leaking ``old``), intersected with ``git diff old new`` (commits or
    trees) on the side that run executed; ``package_dirs``: the package folders
    (``commits.package_roots``); ``labels``: how ``old`` and ``new`` are named."""
    shown = labels or (old[:10], new[:10])
    against = f"git diff {shown[0]} {shown[1]}"
    try:
        hunks = lines.parse_diff(repos.diff_text(repo, old, new))
    except GitError as exc:
        return LineAnswer((), against, f"no diff: {exc}")
    changed = lines.changed_lines(hunks, old_side=fixed)
    inserted = lines.insertions_note(hunks) if fixed else ""
    return _answer(inspection, changed, package_dirs, reference, against, inserted)


def release_answer(project: str, old_inspection: Mapping, new_inspection: Mapping,
                   fixed: bool, labels: tuple[str, str]) -> LineAnswer:
    """The release level: the two envs' installed files of ``project`` diffed (no repo)."""
    against = f"installed files of {labels[0]} and {labels[1]}"
    trees = [_installed_sources(project, i) for i in (old_inspection, new_inspection)]
    if not all(trees):
        return LineAnswer((), against, f"no installed files of {project} found in the envs")
    hunks = lines.diff_texts(trees[0], trees[1])
    changed = lines.changed_lines(hunks, old_side=fixed)
    inserted = lines.insertions_note(hunks) if fixed else ""
    growing, reference = ((old_inspection, new_inspection) if fixed
                          else (new_inspection, old_inspection))
    return _answer(growing, changed, (), reference, against, inserted)


def _answer(inspection: Mapping, changed: Mapping, roots: Sequence[str],
            reference: Mapping | None, against: str, inserted: str = "") -> LineAnswer:
    if "sites" not in inspection:
        return LineAnswer((), against, "inspection failed: "
                          + str(inspection.get("error", "no answer")))
    rows = lines.intersect(inspection, changed, roots, reference)
    note = "" if rows else (
        f"no allocation site holds {lines.FLOOR_BYTES_PER_REQUEST} bytes per traced request "
        "at the end of the window: what leaks is not Python memory that tracemalloc sees "
        "(descriptors, native memory), or too little to name")
    if not changed:
        note = inserted or note or "the diff changes no line on this side"
    return LineAnswer(tuple(rows), against, note, int(inspection.get("frames") or 1))


def _installed_sources(project: str, inspection: Mapping) -> dict[str, str]:
    """{path relative to the install prefix: text} of the distribution's Python files."""
    name = canonicalize_name(project).replace("-", "_")
    for prefix in lines.prefixes_of(inspection):
        root = Path(prefix)
        for info in sorted(root.glob("*.dist-info")) if root.is_dir() else []:
            dist = info.name[:-len(".dist-info")].rsplit("-", 1)[0]
            if canonicalize_name(dist).replace("-", "_") != name:
                continue
            record = info / "RECORD"
            if not record.is_file():
                continue
            files = {}
            for rel in lines.record_sources(record.read_text(errors="replace")):
                path = root / rel
                if path.is_file():
                    files[rel] = path.read_text(errors="replace")
            return files
    return {}


# -- after the inspection of a found pair ---------------------------------------------------


def for_pair(prober: Prober) -> LineAnswer | None:
    """The line answer of a prober whose pair ``inspection.inspect`` has just re-run (a
    search's answer, or two ``--check`` runs of which one leaks and one is stable): for built
    candidates (commits, the working tree) the git diff of their two trees, else the two
    releases' installed files."""
    pair = _pair(prober)
    if pair is None:
        return None
    first, second, fixed = pair
    old, new = prober.py.trials[first], prober.py.trials[second]
    growing, reference = (old, new) if fixed else (new, old)
    found = growing.inspect or {}
    other = reference.inspect if reference.inspect and "sites" in reference.inspect else None
    before, after = prober.py.candidates[first], prober.py.candidates[second]
    if before.tree is not None and after.tree is not None and prober.repo is not None:
        roots = (prober.py.range.roots if prober.py.range else  # checks: from their trees
                 prober.repo.package_roots((before.tree, after.tree), prober.plan.name))
        return line_answer(prober.repo, before.tree, after.tree, found, roots, fixed, other,
                           (first, second))
    if "sites" not in found or not (old.inspect and new.inspect):
        return _answer(found, {}, (), None, f"installed files of {first} and {second}")
    return release_answer(prober.plan.name, old.inspect, new.inspect, fixed, (first, second))


def _pair(prober: Prober) -> tuple[str, str, bool] | None:
    """(old label, new label, whether the old one is the one that grows)."""
    s = prober.py.search
    if s is not None:
        found = s.found and s.last_old and s.first_new
        return (s.last_old, s.first_new, prober.plan.fixed) if found else None
    judged = [(v, t.verdict) for v, t in prober.py.trials.items()
              if t.verdict in (Verdict.LEAKING, Verdict.STABLE)]
    if len(prober.py.trials) != 2 or len(judged) != 2 or judged[0][1] is judged[1][1]:
        return None  # checks: only a leaking and a stable one make a pair to diff
    (first, verdict), (second, _) = judged
    return first, second, verdict is Verdict.LEAKING
