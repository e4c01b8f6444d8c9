"""Resolution dates (issue 16): one snapshot per range, pins newer than the release."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

from bisect_leak.candidates import candidate, releases
from bisect_leak.environments import resolution
from bisect_leak.errors import BadInput
from bisect_leak.planning.plan import Plan, Resolve
from bisect_leak.run.prober import Prober

DATA = Path(__file__).parent / "data"
UTC = timezone.utc


def test_snapshot_is_the_newest_date_not_the_last_one() -> None:
    dates = [datetime(2024, 1, 3, tzinfo=UTC), datetime(2024, 1, 9, 23, tzinfo=UTC),
             datetime(2024, 1, 10, 1, tzinfo=timezone(timedelta(hours=5)))]  # 2024-01-09 20:00
    assert resolution.snapshot(dates) == datetime(2024, 1, 9, 23, tzinfo=UTC)
    assert resolution.snapshot([]) is None


def test_as_of_the_release_day_unless_a_pin_is_newer() -> None:
    release = datetime(2021, 6, 9, 12, tzinfo=UTC)
    plain = resolution.as_of(release, "fastapi 0.65.2's upload", {})
    assert plain is not None and plain.exclude_newer == "2021-06-10T12:00:00Z"
    assert "fastapi 0.65.2's upload (2021-06-09)" in plain.why
    old_pin = {"uvicorn==0.13.4": datetime(2021, 2, 20, tzinfo=UTC)}
    assert resolution.as_of(release, "x", old_pin) == resolution.as_of(release, "x", {})
    pins = {**old_pin, "uvicorn==0.17.6": datetime(2022, 3, 11, 17, tzinfo=UTC)}
    pulled = resolution.as_of(release, "fastapi 0.65.2's upload", pins)
    assert pulled is not None and pulled.exclude_newer == "2022-03-12T17:00:00Z"
    assert pulled.why.startswith("uvicorn==0.17.6 was uploaded 2022-03-11, after fastapi "
                                 "0.65.2's upload (2021-06-09)")
    assert resolution.as_of(None, "x", pins) is None


def _page(name: str, files: list[tuple[str, str]]) -> dict:
    return {"name": name, "files": [{"filename": f, "upload-time": t} for f, t in files]}


def test_pin_uploads_read_the_index_at_the_seam() -> None:
    asked = []

    def fetch(name: str, index: str) -> dict:
        asked.append((name, index))
        if name == "nosuch":
            raise BadInput("no package named 'nosuch'")
        return _page("uvicorn", [("uvicorn-0.17.6-py3-none-any.whl", "2022-03-11T17:01:02Z"),
                                 ("uvicorn-0.17.6.tar.gz", "2022-03-11T16:59:00Z"),
                                 ("uvicorn-0.17.5-py3-none-any.whl", "2022-02-16T00:00:00Z")])

    found = resolution.pin_uploads(["uvicorn[standard]==0.17.6", "uvloop>=0.15", "nosuch==1"],
                                   "https://example.invalid/simple", fetch)
    assert found == {"uvicorn[standard]==0.17.6": datetime(2022, 3, 11, 16, 59, tzinfo=UTC)}
    assert asked == [("uvicorn", "https://example.invalid/simple"),
                     ("nosuch", "https://example.invalid/simple")]  # >= pins are not asked


def _prober(plan: Plan, pins: dict) -> Prober:
    fastapi = releases.parse_simple_json(json.loads((DATA / "fastapi-simple.json").read_text()))
    selection = releases.Selection(tuple(fastapi))
    py = SimpleNamespace(interpreter=SimpleNamespace(path="/usr/bin/python3.8",
                                                     version="3.8.18"),
                         candidates=candidate.from_selection(selection),
                         resolved_as_of={}, resolved_why={})
    scenario = SimpleNamespace(requirements=("fastapi",))
    return Prober(plan, scenario, None, None, None, py,  # type: ignore[arg-type]
                  pin_uploads=pins)


def test_the_seeds_pin_pulls_every_old_release_forward_and_exempts_itself() -> None:
    """The seed's setup: --good 0.65.2 --bad 0.75.0 --with uvicorn==0.17.6 --python 3.8.
    Before issue 16, 0.65.2's env was resolved as of 2021-06-10 and no asgiref of then
    satisfied uvicorn 0.17.6: the good bound was an error."""
    pins = {"uvicorn==0.17.6": datetime(2022, 3, 11, 17, 1, tzinfo=UTC)}
    plan = Plan(good="0.65.2", bad="0.75.0", withs=("uvicorn==0.17.6",))
    prober = _prober(plan, pins)
    old = prober.spec("0.65.2")
    assert old.exclude_newer == "2022-03-12T17:01:00Z"
    assert old.exempt == ("uvicorn",)
    assert prober.spec("0.75.0").exclude_newer == old.exclude_newer  # 2022-03-04: before it
    uploaded = prober.py.candidates["0.80.0"].date  # after the pin: its own day
    assert uploaded is not None and uploaded > pins["uvicorn==0.17.6"]
    assert prober.spec("0.80.0").exclude_newer == (uploaded + resolution.MARGIN).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    assert "pin's day" in (prober.as_of("0.65.2") or resolution.AsOf(uploaded, "")).why
    latest = _prober(Plan(good="0.65.2", bad="0.75.0", withs=("uvicorn==0.17.6",),
                          resolve=Resolve.LATEST), pins)
    assert latest.spec("0.65.2").exclude_newer is None


def test_a_release_check_and_worktree_print_their_freeze_diff(tmp_path: Path) -> None:
    """`--check 0.17.6 --check WORKTREE`: a 2022 env and today's; before issue 16 the output
    said nothing of how they differ (one release check, one commit check)."""
    from bisect_leak.candidates import candidate as candidates
    from bisect_leak.candidates.commits import WORKTREE, Commit
    from bisect_leak.environments.interpreters import Interpreter
    from bisect_leak.judge.verdict import Verdict
    from bisect_leak.measure.trial import TrialResult
    from bisect_leak.reporting import commits as commit_report
    from bisect_leak.run.outcome import CommitRange, Outcome, PythonOutcome

    interp = Interpreter(Path("/usr/bin/python3.8"), "3.8.18")
    release = TrialResult("0.17.6", Verdict.STABLE,
                          freeze=("uvicorn==0.17.6", "h11==0.13.0", "click==8.0.4"))
    worktree = TrialResult(WORKTREE, Verdict.STABLE,
                           freeze=("uvicorn @ file:///tmp/uvicorn.whl", "h11==0.16.0",
                                   "click==8.0.4", "typing-extensions==4.12.2"))
    py = PythonOutcome(interpreter=interp, versions=["0.17.6"], trials={"0.17.6": release})
    commit = Commit(WORKTREE, "the working tree", datetime.now(UTC), ("HEAD",))
    level = PythonOutcome(interpreter=interp, trials={WORKTREE: worktree},
                          candidates={WORKTREE: candidates.from_commit(commit, "tree")},
                          range=CommitRange(tmp_path))
    py.commits = level
    outcome = Outcome(plan=Plan(package="uvicorn", checks=("0.17.6", WORKTREE),
                                repo=tmp_path))
    lines = commit_report.summary_lines(outcome, py)
    said = [line for line in lines if "differ in" in line]
    assert said == ["  envs of the first and last check differ in: h11 0.13.0 → 0.16.0, "
                    "typing-extensions 4.12.2 (added)"]
    data = commit_report.json_fields(outcome, py)["commits"]
    assert [c["name"] for c in data["freeze_diff"]] == ["h11", "typing-extensions"]
