"""From release to commit (``--repo``): commit-ish bounds and checks, the commit-level pass.

The commit level is a second pass of the same pipeline (:mod:`passes`) over finer
candidates: each commit (or the working tree) is a :class:`Candidate` whose wheel is built
from its exported tree. Every candidate of a pass resolves its dependencies at one date,
the newest candidate's, so adjacent candidates differ only in the package's own tree.
Commits are walked along first-parent history: on a main branch that takes squash or merge
commits, each step is one pull request, its change against its first parent (a merge: the
whole PR). Commits that change no installed file are never measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from packaging.utils import canonicalize_name

from bisect_leak.candidates import candidate, commits
from bisect_leak.candidates.candidate import Candidate
from bisect_leak.candidates.commits import WORKTREE, Commit
from bisect_leak.candidates.repo import Repo, now
from bisect_leak.environments import resolution
from bisect_leak.errors import BadInput, ExitCode
from bisect_leak.planning.plan import Plan
from bisect_leak.run import inspection, parallel, passes
from bisect_leak.run.executors import Executor
from bisect_leak.run.outcome import CommitRange, PythonOutcome
from bisect_leak.run.prober import Prober

HEAD_SPELLINGS = ("HEAD", "@")


@dataclass(frozen=True)
class Ref:
    """A bound or check as the user wrote it, and what it names in the repo."""

    text: str
    flag: str
    sha: str | None  # None for WORKTREE
    release: str | None = None  # the release it stands for (a version bound: its tag)
    tag: str | None = None


@dataclass(frozen=True)
class RepoPlan:
    """The ``--repo`` part of a run, validated before anything is measured or written."""

    repo: Repo
    good: Ref | None = None
    bad: Ref | None = None
    release_checks: tuple[str, ...] = ()
    commit_checks: tuple[Ref, ...] = ()

    @property
    def commit_bounds(self) -> bool:
        """A bound names a commit: the commits between the bounds are bisected directly."""
        return any(r is not None and r.release is None for r in (self.good, self.bad))


# -- validation ------------------------------------------------------------------------


def prepare(plan: Plan) -> RepoPlan:
    """Open the repo, check it holds the package, resolve every commit-ish: BadInput else."""
    assert plan.repo is not None
    repo = Repo.open(plan.repo)
    head = repo.head()
    if head is None:
        raise BadInput(f"--repo {repo.path} has no commits; pass a clone of {plan.name}")
    good = bad = None
    release_checks: list[str] = []
    commit_checks: list[Ref] = []
    if plan.checks:
        for text in plan.checks:
            if commits.is_release_text(text):
                release_checks.append(text)
            else:
                commit_checks.append(_ref(repo, text, "--check"))
    else:
        good = _ref(repo, plan.good or "", "--good")
        bad = _ref(repo, plan.bad or "", "--bad")
        # a tag missing for a release bound: say so before measuring anything
        good, bad = (_require_tag(repo, plan.name, r) if r.release else r for r in (good, bad))
        if not (good.release and bad.release):
            old, new = (bad, good) if plan.fixed else (good, bad)
            _check_order(repo, old, new, plan.fixed)
    newest = next((r.sha for r in (bad, good, *commit_checks) if r is not None and r.sha), head)
    _check_project(repo, plan.name, newest)
    _check_head_clean(repo, plan, [r for r in (good, bad, *commit_checks) if r is not None])
    return RepoPlan(repo, good, bad, tuple(release_checks), tuple(commit_checks))


def _ref(repo: Repo, text: str, flag: str) -> Ref:
    if text == WORKTREE:
        if repo.bare:
            raise BadInput(f"{flag} {WORKTREE}: --repo {repo.path} is a bare repository with "
                           "no working tree; pass a clone with one")
        return Ref(text, flag, None)
    if commits.is_release_text(text):
        return Ref(text, flag, None, release=text)
    return Ref(text, flag, repo.resolve(text, flag))


def _require_tag(repo: Repo, name: str, ref: Ref) -> Ref:
    assert ref.release is not None
    found = repo.tag_commit(ref.release)
    if found is None:
        raise BadInput(
            f"no tag for {name} {ref.release} ({ref.flag}) in {repo.path} (looked for "
            f"{commits.tag_spellings(ref.release)} and similar); fetch the tags "
            f"(git fetch --tags) or give the commit itself as {ref.flag} SHA")
    return Ref(ref.text, ref.flag, found[1], ref.release, found[0])


def _check_order(repo: Repo, old: Ref, new: Ref, fixed: bool) -> None:
    if old.sha is None:
        raise BadInput(f"{old.flag} {WORKTREE}: the working tree can only be the newer bound "
                       f"({'--good with --fixed' if fixed else '--bad'}) or a --check")
    new_sha = new.sha or repo.resolve("HEAD", new.flag)
    if old.sha == new_sha:
        raise BadInput(f"{old.flag} {old.text} and {new.flag} {new.text} are the same commit: "
                       "give two different ones")
    if not repo.is_ancestor(old.sha, new_sha):
        raise BadInput(f"{old.flag} {old.text} is not an ancestor of {new.flag} {new.text}: "
                       "the older bound must come first in the history"
                       + ("" if fixed else "; to find where a leak was fixed, pass --fixed"))


def _check_project(repo: Repo, name: str, treeish: str) -> None:
    declared = repo.project_name(treeish)
    if declared is not None and canonicalize_name(declared) != canonicalize_name(name):
        raise BadInput(f"--repo {repo.path} is a clone of {declared!r} (its metadata says so), "
                       f"not of {name}: pass a clone of {name}, or --package {declared}")


def _check_head_clean(repo: Repo, plan: Plan, refs: list[Ref]) -> None:
    """HEAD while installed files have uncommitted changes is ambiguous: say which to use."""
    if any(r.text == WORKTREE for r in refs):
        return  # HEAD's commit beside WORKTREE: the user tells the two apart on purpose
    head = repo.head()
    if not any(r.text in HEAD_SPELLINGS or (r.sha is not None and r.sha == head)
               for r in refs):
        return
    roots = commits.package_roots(repo.paths("HEAD"), plan.name)
    dirty = [p for p in repo.dirty_paths() if commits.installs(p, roots)]
    if dirty:
        raise BadInput(
            f"the working tree of {repo.path} has uncommitted changes to installed files "
            f"({', '.join(dirty[:3])}{', ...' if len(dirty) > 3 else ''}) that HEAD does not "
            f"hold: commit or stash them, or pass {WORKTREE} to measure them")


# -- the commit-level pass -------------------------------------------------------------


def _new_pass(base: Prober, repo: Repo, ordered: list[Candidate]) -> Prober:
    """A commit-level pass on ``base``'s Python over ``ordered`` candidates (oldest first),
    one prober over them, all resolved at one date (the newest candidate's), so that
    adjacent candidates' envs differ only in the package's own tree."""
    cands = {c.label: c for c in ordered}
    py = PythonOutcome(interpreter=base.py.interpreter, versions=list(cands), candidates=cands,
                       range=CommitRange(repo.path))
    base.py.commits = py
    day = resolution.snapshot(c.date for c in cands.values() if c.date is not None)
    if base.plan.as_of:  # a --check run of a round: the pass's own date
        day = datetime.fromisoformat(base.plan.as_of).astimezone(timezone.utc)
    prober = base.at(py, repo, snapshot=day)
    chosen = prober.as_of(next(iter(cands))) if cands else None
    if chosen is not None:
        base.reporter.info(f"dependencies of every commit resolved as of "
                           f"{chosen.exclude_newer[:10]}: {chosen.why}")
    return prober


def _candidate(repo: Repo, ref: Ref) -> Candidate:
    if ref.sha is None:
        tree = repo.worktree_tree()
        commit = Commit(WORKTREE, "the working tree with its uncommitted changes", now(),
                        ("HEAD",), repo.worktree_changes(tree))
        return candidate.from_commit(commit, tree)
    return candidate.from_commit(repo.commit(ref.sha), repo.tree(ref.sha))


def _no_pass(base: Prober, repo: Repo, message: str) -> None:
    py = PythonOutcome(interpreter=base.py.interpreter, range=CommitRange(repo.path),
                       message=message)
    base.py.commits = py


# -- checks --------------------------------------------------------------------------


def check(plan: Plan, rp: RepoPlan, base: Prober) -> PythonOutcome | None:
    """Measure each commit-ish ``--check``, after the release checks."""
    if not rp.commit_checks:
        return None
    prober = _new_pass(base, rp.repo, [_candidate(rp.repo, r) for r in rp.commit_checks])
    py = prober.py
    py.exit_code, py.message = passes.check(prober, py.versions)
    if plan.inspect:  # what grows in each, and with a leaking and a stable one, the lines
        inspection.inspect(prober)
    return py


# -- the search ------------------------------------------------------------------------


def bisect_releases(plan: Plan, rp: RepoPlan, base: Prober, scenario: str,
                    executor: Executor | None = None) -> PythonOutcome:
    """After a release bisection: the commits between the last good and first bad tags."""
    s = base.py.search
    assert s is not None and s.last_old and s.first_new
    refs = []
    for version, flag in ((s.last_old, "last"), (s.first_new, "first")):
        found = rp.repo.tag_commit(version)
        if found is None:
            _no_pass(base, rp.repo, (
                f"commit bisection not run: no tag for {plan.name} {version} in {rp.repo.path} "
                f"(looked for {commits.tag_spellings(version)} and similar); run again with "
                f"--good/--bad as the commits of {s.last_old} and {s.first_new}"))
            return base.py.commits
        refs.append(Ref(version, flag, found[1], version, found[0]))
    if not rp.repo.is_ancestor(refs[0].sha or "", refs[1].sha or ""):
        _no_pass(base, rp.repo, (
            f"commit bisection not run: tag {refs[0].tag} is not an ancestor of tag "
            f"{refs[1].tag} (a release branch?); run again with --good/--bad as commits on "
            "one line of history"))
        return base.py.commits
    return bisect(plan, rp.repo, base, refs[0], refs[1], scenario, executor)


def bisect(plan: Plan, repo: Repo, base: Prober, old: Ref, new: Ref, scenario: str,
           executor: Executor | None = None) -> PythonOutcome:
    """Bisect the first-parent commits from ``old`` to ``new`` that change installed files;
    both bounds are built from source and measured first."""
    new_sha = new.sha or repo.resolve("HEAD", new.flag)
    old = _on_first_parent_line(repo, base, old, new_sha)
    assert old.sha is not None
    history = repo.first_parent(old.sha, new_sha)
    roots = repo.package_roots((old.sha, new_sha), plan.name)  # a layout move: both bounds
    middle = history if new.sha is None else history[:-1]
    chosen = commits.candidates(middle, roots)
    prober = _new_pass(base, repo, [
        _candidate(repo, old), *(candidate.from_commit(c, repo.tree(c.sha)) for c in chosen),
        _candidate(repo, new)])
    py = prober.py
    py.range = CommitRange(
        repo.path, f"{_bound_text(old)}..{_bound_text(new)}",
        in_range=len(history) + (1 if new.sha is None else 0),
        candidates=len(chosen) + 1, roots=roots)  # the new bound is a change too
    base.reporter.info(
        f"commits {py.range.text}: {py.range.in_range} on the first-parent history, "
        f"{len(chosen)} between the bounds change installed files "
        f"({', '.join(roots) or 'no package folder found: all but docs/tests'}, "
        "build metadata)")
    if executor is None:
        search = passes.drive(prober, passes.searcher(plan, py))
    else:
        search = parallel.bisect(plan, prober, executor)
    passes.settle(plan, scenario, prober, search, executor)
    if plan.inspect and py.exit_code is ExitCode.ANSWER:  # the pair inspected: line answer
        inspection.inspect(prober)
    return py


def _on_first_parent_line(repo: Repo, base: Prober, old: Ref, new_sha: str) -> Ref:
    """``old`` itself, or, when it lies on a side branch of ``new``'s first-parent line, the
    merge that brought it in (said in the output): its first parent lacks ``old``'s changes,
    so a first-parent range from ``old`` would blame them on a main-line commit."""
    start = repo.first_containing(old.sha or "", new_sha)
    if start == old.sha:
        return old
    merge = repo.commit(start)
    base.reporter.info(
        f"{old.flag} {old.text} is on a side branch: it reached the first-parent history "
        f"through merge {merge.short} ({merge.subject[:60]}); the commit search starts from "
        f"that merge (to search inside the branch, pass --good/--bad on its own line)")
    return Ref(old.text, old.flag, start, tag=f"{merge.short} (merging {_bound_text(old)})")


def _bound_text(ref: Ref) -> str:
    if ref.tag:
        return ref.tag
    return ref.sha[:10] if ref.sha else WORKTREE
