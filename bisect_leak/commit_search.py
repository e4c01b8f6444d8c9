"""From release to commit (``--repo``): commit-ish bounds and checks, the commit bisection.

A candidate is a release (a wheel from the index) or a commit (a wheel built from its
exported tree, :mod:`builds`); :class:`CommitProber` is the release prober with
``installed()`` answering a built wheel and the commit's date, so the search, the verdicts
and the results cache are the same. Commits are walked along first-parent history: on a
main branch that takes squash or merge commits, each step is one pull request, its change
against its first parent (a merge: the whole PR). Commits that change no installed file are
never measured.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from packaging.utils import canonicalize_name

from bisect_leak import builds, commits, releases, replication, resolution
from bisect_leak.commits import WORKTREE, Commit
from bisect_leak.errors import BadInput, ExitCode
from bisect_leak.outcome import PythonOutcome, describe
from bisect_leak.plan import Plan, Resolve
from bisect_leak.prober import Prober
from bisect_leak.repo import GitError, Repo, now
from bisect_leak.search import Bisection, SearchStatus, regression_states
from bisect_leak.trial import TrialResult
from bisect_leak.verdict import Verdict

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


@dataclass
class CommitLevel:
    """The commit-level search (or checks) of one Python."""

    repo: Path
    py: PythonOutcome  # trials labelled by short sha (or WORKTREE), the search over them
    commits: dict[str, Commit] = field(default_factory=dict)  # label -> commit
    range_text: str = ""
    in_range: int = 0  # first-parent commits between the bounds
    candidates: int = 0  # of those, the ones that change installed files
    roots: tuple[str, ...] = ()
    build_seconds: dict[str, float] = field(default_factory=dict)  # 0.0 when cached
    message: str = ""
    exit_code: ExitCode = ExitCode.NO_ANSWER

    def answer(self) -> Commit | None:
        s = self.py.search
        if s is None or s.status is not SearchStatus.FOUND or s.first_new is None:
            return None
        return self.commits.get(s.first_new)


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


# -- the prober of commits ---------------------------------------------------------------


class CommitProber(Prober):
    """Measures commits: each one's tree built into a wheel, then the release path."""

    def __init__(self, base: Prober, repo: Repo, level: CommitLevel):
        super().__init__(base.plan, base.scenario, base.settings, base.store, base.reporter,
                         level.py, releases.Selection(()), pin_uploads=base.pin_uploads)
        self.repo = repo
        self.level = level
        self.sources: dict[str, tuple[str, datetime]] = {}  # label -> (tree, date)
        self.snapshot: datetime | None = None  # issue 16: one resolution day for them all
        self.wheels: dict[str, Path] = {}

    def add(self, label: str, tree: str, date: datetime, commit: Commit) -> None:
        self.sources[label] = (tree, date)
        self.level.commits[label] = commit

    def installed(self, version: str) -> tuple[str, datetime | None]:
        plan = self.plan
        return (f"{plan.name}{plan.extras} @ {self.wheels[version].as_uri()}",
                self.day(version))

    def day(self, version: str) -> datetime:
        return (self.snapshot or self.sources[version][1]).astimezone(timezone.utc)

    def day_name(self, version: str) -> str:
        return "the newest commit measured" if self.snapshot else f"commit {version}'s date"

    def freeze_snapshot(self) -> None:
        """Every commit added so far resolved as of one day (issue 16), and say which."""
        self.snapshot = resolution.snapshot(d for _, d in self.sources.values())
        chosen = self.as_of(next(iter(self.sources))) if self.sources else None
        if chosen is not None:
            self.reporter.info(f"dependencies of every commit resolved as of "
                               f"{chosen.exclude_newer[:10]}: {chosen.why}")

    def wheel_spec(self, label: str) -> builds.WheelSpec:
        tree, _ = self.sources[label]
        plan = self.plan
        chosen = self.as_of(label) if plan.resolve is Resolve.RELEASE_DATE else None
        exclude = chosen.exclude_newer if chosen else None
        sha = self.level.commits[label].sha
        return builds.WheelSpec(
            tree=tree, project=canonicalize_name(plan.name),
            python=str(self.py.interpreter.path), python_version=self.py.interpreter.version,
            index_url=plan.index_url,
            find_links=str(plan.find_links.resolve()) if plan.find_links else None,
            no_index=plan.no_index, exclude_newer=exclude,
            version=self.repo.pretend_version(sha if sha != WORKTREE else "HEAD"))

    def probe(self, version: str) -> TrialResult:
        if version in self.py.trials:
            return self.py.trials[version]
        if version not in self.wheels:
            commit = self.level.commits[version]
            began = time.monotonic()
            try:
                self.wheels[version] = builds.wheel(
                    self.wheel_spec(version), self.repo, self.store,
                    on_build=lambda: self.reporter.progress(
                        f"building a wheel of {self.plan.name} at {version} ({commit.subject})"))
            except (builds.BuildError, GitError) as exc:
                self.level.build_seconds[version] = time.monotonic() - began
                result = TrialResult(version=version, verdict=Verdict.ERROR,
                                     error=f"build failed: {exc}",
                                     stderr_tail=getattr(exc, "tail", ""))
                self.py.trials[version] = result
                self.reporter.trial(result, self.py.interpreter.version)
                return result
            self.level.build_seconds[version] = time.monotonic() - began
        return super().probe(version)


def _worktree_commit(repo: Repo) -> Commit:
    files = repo.worktree_changes(repo.worktree_tree())
    return Commit(WORKTREE, "the working tree with its uncommitted changes", now(),
                  ("HEAD",), files)


def _new_level(plan: Plan, base: Prober, repo: Repo) -> tuple[CommitLevel, CommitProber]:
    py = PythonOutcome(interpreter=base.py.interpreter)
    level = CommitLevel(repo=repo.path, py=py)
    base.py.commits = level  # the hook on PythonOutcome (outcome.py)
    return level, CommitProber(base, repo, level)


def _add_ref(prober: CommitProber, repo: Repo, ref: Ref) -> str:
    if ref.sha is None:
        commit = _worktree_commit(repo)
        prober.add(WORKTREE, repo.worktree_tree(), commit.date, commit)
        return WORKTREE
    commit = repo.commit(ref.sha)
    prober.add(commit.short, repo.tree(ref.sha), commit.date, commit)
    return commit.short


# -- checks --------------------------------------------------------------------------


def check(plan: Plan, rp: RepoPlan, base: Prober) -> CommitLevel | None:
    """Measure each commit-ish ``--check``, after the release checks."""
    if not rp.commit_checks:
        return None
    level, prober = _new_level(plan, base, rp.repo)
    for ref in rp.commit_checks:
        label = _add_ref(prober, rp.repo, ref)
        level.py.versions.append(label)
    prober.freeze_snapshot()
    for label in level.py.versions:
        _announce(prober, label)
        prober.probe(label)
    errors = any(t.verdict is Verdict.ERROR for t in level.py.trials.values())
    level.exit_code = ExitCode.INFRASTRUCTURE if errors else ExitCode.ANSWER
    level.message = "; ".join(f"{_name(level, v)} {describe(t)}"
                              for v, t in level.py.trials.items())
    return level


# -- the search ------------------------------------------------------------------------


def bisect_releases(plan: Plan, rp: RepoPlan, base: Prober) -> CommitLevel:
    """After a release bisection: the commits between the last good and first bad tags."""
    s = base.py.search
    assert s is not None and s.last_old and s.first_new
    refs = []
    for version, flag in ((s.last_old, "last"), (s.first_new, "first")):
        found = rp.repo.tag_commit(version)
        if found is None:
            level, _ = _new_level(plan, base, rp.repo)
            level.message = (
                f"commit bisection not run: no tag for {plan.name} {version} in {rp.repo.path} "
                f"(looked for {commits.tag_spellings(version)} and similar); run again with "
                f"--good/--bad as the commits of {s.last_old} and {s.first_new}")
            level.exit_code = ExitCode.NO_ANSWER
            return level
        refs.append(Ref(version, flag, found[1], version, found[0]))
    if not rp.repo.is_ancestor(refs[0].sha or "", refs[1].sha or ""):
        level, _ = _new_level(plan, base, rp.repo)
        level.message = (
            f"commit bisection not run: tag {refs[0].tag} is not an ancestor of tag "
            f"{refs[1].tag} (a release branch?); run again with --good/--bad as commits on "
            "one line of history")
        level.exit_code = ExitCode.NO_ANSWER
        return level
    return bisect(plan, rp.repo, base, refs[0], refs[1])


def bisect(plan: Plan, repo: Repo, base: Prober, old: Ref, new: Ref) -> CommitLevel:
    """Bisect the first-parent commits from ``old`` to ``new`` that change installed files;
    both bounds are built from source and measured first."""
    level, prober = _new_level(plan, base, repo)
    new_sha = new.sha or repo.resolve("HEAD", new.flag)
    assert old.sha is not None
    old = _on_first_parent_line(repo, base, old, new_sha)
    assert old.sha is not None
    history = repo.first_parent(old.sha, new_sha)
    level.in_range = len(history) + (1 if new.sha is None else 0)
    level.roots = repo.package_roots((old.sha, new_sha), plan.name)
    middle = history if new.sha is None else history[:-1]
    chosen = commits.candidates(middle, level.roots)
    level.candidates = len(chosen) + 1  # the new bound is a change too
    level.range_text = f"{_bound_text(old)}..{_bound_text(new)}"
    labels = [_add_ref(prober, repo, old)]
    for c in chosen:
        prober.add(c.short, repo.tree(c.sha), c.date, c)
        labels.append(c.short)
    labels.append(_add_ref(prober, repo, new))
    level.py.versions = labels
    prober.freeze_snapshot()
    base.reporter.info(
        f"commits {level.range_text}: {level.in_range} on the first-parent history, "
        f"{len(chosen)} between the bounds change installed files "
        f"({', '.join(level.roots) or 'no package folder found: all but docs/tests'}, "
        "build metadata)")
    old_state, new_state = regression_states(plan.fixed)
    search = Bisection(labels, old_state, new_state)
    while (label := search.next()) is not None:
        _announce(prober, label)
        search.record(label, prober.probe(label).verdict)
    level.py.search = search.result()
    level.exit_code, level.message = _answer(plan, level)
    if level.py.search.found:  # the commit pair measured again afresh, as releases are
        level.py.exit_code, level.py.message = level.exit_code, level.message
        replication.confirm(plan, prober)
        level.exit_code, level.message = level.py.exit_code, level.py.message
    if plan.culprit and level.exit_code is ExitCode.ANSWER:
        from bisect_leak import culprit

        culprit.find(plan, prober)  # the first bad commit with each changed dependency set back
    return level


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


def _announce(prober: CommitProber, label: str) -> None:
    commit = prober.level.commits[label]
    prober.reporter.info(f"commit {label}  {commit.date:%Y-%m-%d}  {commit.subject[:90]}")


def _name(level: CommitLevel, label: str) -> str:
    commit = level.commits.get(label)
    return f"{label} ({commit.subject[:60]})" if commit else label


def _answer(plan: Plan, level: CommitLevel) -> tuple[ExitCode, str]:
    s = level.py.search
    assert s is not None
    old_word, new_word = ("last leaking", "first fixed") if plan.fixed else (
        "last good", "first bad")
    py = level.py
    if s.status is SearchStatus.FOUND:
        c = level.commits[s.first_new]
        return ExitCode.ANSWER, (
            f"{new_word} commit: {c.sha[:10]} {c.subject}, {c.date:%Y-%m-%d} "
            f"({old_word} {s.last_old})")
    if s.status is SearchStatus.BOUND_UNKNOWN:
        errors = any(v is Verdict.ERROR for _, v in s.bounds)
        parts = [f"{_name(level, v)} {describe(py.trials.get(v))}" for v, verdict in s.bounds
                 if not verdict.known]
        return (ExitCode.INFRASTRUCTURE if errors else ExitCode.NO_ANSWER,
                "a commit bound could not be judged: " + "; ".join(parts))
    if s.status is SearchStatus.BOUNDS_CONTRADICT:
        parts = [f"{_name(level, v)} {describe(py.trials.get(v))}" for v, _ in s.bounds]
        return ExitCode.NO_ANSWER, (
            "no commit answer: built from source, the bounds do not reproduce the release "
            "verdicts: " + "; ".join(parts))
    between = ", ".join(
        f"{_name(level, v)} ({py.trials[v].verdict.value if v in py.trials else 'untested'})"
        for v in s.unknown_between)
    return ExitCode.NO_ANSWER, (
        f"narrowed to commits {s.last_old}..{s.first_new}, but {between} could not be judged; "
        "the change is in one of them")


# -- the runner's three hooks --------------------------------------------------------------


def run_checks(plan: Plan, rp: RepoPlan, prober: Prober) -> None:
    level = check(plan, rp, prober)
    if level is not None:
        py = prober.py
        py.exit_code = max(py.exit_code, level.exit_code) if py.trials else level.exit_code
        py.message = "; ".join(m for m in (py.message, level.message) if m)


def run_bounds(plan: Plan, rp: RepoPlan, prober: Prober) -> None:
    assert rp.good is not None and rp.bad is not None
    old, new = (rp.bad, rp.good) if plan.fixed else (rp.good, rp.bad)
    level = bisect(plan, rp.repo, prober, old, new)
    prober.py.exit_code = level.exit_code


def after_releases(plan: Plan, rp: RepoPlan, prober: Prober) -> None:
    level = bisect_releases(plan, rp, prober)
    prober.py.exit_code = max(prober.py.exit_code, level.exit_code)
