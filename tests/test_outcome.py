"""Exit codes and the reproduce line, from outcomes built as data (no processes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bisect_leak.bisection.search import SearchResult, SearchStatus
from bisect_leak.environments.interpreters import Interpreter
from bisect_leak.errors import ExitCode
from bisect_leak.judge.verdict import Assessment, Signal, Verdict
from bisect_leak.measure.trial import TrialResult
from bisect_leak.planning.plan import Plan
from bisect_leak.run.outcome import Outcome, PythonOutcome, describe
from bisect_leak.run.passes import checks_exit
from bisect_leak.run.runner import overall_exit

PY = Interpreter(Path("/usr/bin/python3"), "3.11.7")


def py_with(*verdicts: Verdict, code: ExitCode = ExitCode.ANSWER) -> PythonOutcome:
    py = PythonOutcome(interpreter=PY, exit_code=code)
    for i, v in enumerate(verdicts):
        py.trials[f"1.{i}.0"] = TrialResult(version=f"1.{i}.0", verdict=v)
    return py


@pytest.mark.parametrize(("codes", "expected"), [
    ([ExitCode.ANSWER, ExitCode.ANSWER], ExitCode.ANSWER),
    ([ExitCode.ANSWER, ExitCode.INFRASTRUCTURE], ExitCode.INFRASTRUCTURE),  # was 0
    ([ExitCode.ANSWER, ExitCode.NO_ANSWER], ExitCode.NO_ANSWER),
    ([ExitCode.NO_ANSWER, ExitCode.INFRASTRUCTURE], ExitCode.INFRASTRUCTURE),
    ([], ExitCode.NO_ANSWER),
])
def test_every_python_must_answer_for_exit_0(codes, expected):
    assert overall_exit([py_with(code=c) for c in codes]) is expected


@pytest.mark.parametrize(("verdicts", "expected"), [
    ([Verdict.STABLE, Verdict.LEAKING], ExitCode.ANSWER),
    ([Verdict.STABLE, Verdict.INCONCLUSIVE], ExitCode.NO_ANSWER),  # was 0
    ([Verdict.INCONCLUSIVE, Verdict.INCONCLUSIVE], ExitCode.NO_ANSWER),
    ([Verdict.INCONCLUSIVE, Verdict.ERROR], ExitCode.INFRASTRUCTURE),
])
def test_checks_exit_0_only_when_every_version_was_decided(verdicts, expected):
    assert checks_exit(py_with(*verdicts)) is expected


def found(last_old: str, first_new: str) -> SearchResult:
    return SearchResult(SearchStatus.FOUND, last_old, first_new, (),
                        ((last_old, Verdict.LEAKING), (first_new, Verdict.STABLE)),
                        ((last_old, Verdict.LEAKING), (first_new, Verdict.STABLE)))


def test_held_fix_reproduce_line_puts_the_reference_first():
    # With --fixed the good bound (the newer release) is the held reference; with --check it
    # is the first version: the reproduce line must measure the same way.
    plan = Plan(fixed=True, good="0.110.0", bad="0.109.2", metric=Signal.HELD)
    py = PythonOutcome(interpreter=PY, search=found("0.109.2", "0.110.0"))
    line = Outcome(plan=plan).reproduce(py)
    assert line.index("--check 0.110.0") < line.index("--check 0.109.2")
    growth = Outcome(plan=Plan(fixed=True, good="0.110.0", bad="0.109.2")).reproduce(py)
    assert growth.index("--check 0.109.2") < growth.index("--check 0.110.0")


def test_describe_without_a_figure_never_crashes():
    held = TrialResult("1.0.0", Verdict.INCONCLUSIVE, assessment=Assessment(
        Verdict.INCONCLUSIVE, Signal.HELD, None, None, None, None, "too few samples"))
    assert describe(held) == "inconclusive (too few samples)"
    decided = TrialResult("1.0.0", Verdict.LEAKING, assessment=Assessment(
        Verdict.LEAKING, Signal.FDS, 300.0, 290.0, 310.0, None, "rising"))
    assert describe(decided) == "leaking (+300.0 descriptors/1k requests, interval +290.0..+310.0)"
