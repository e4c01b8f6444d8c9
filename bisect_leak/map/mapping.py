"""A leak map: every release x Python x scenario (``--every``), or the edges of each row and
the flips between them (``--edges``), measured through the results cache by an executor."""

from __future__ import annotations

import enum
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol

from bisect_leak import processes
from bisect_leak.candidates import candidate, releases
from bisect_leak.environments import interpreters
from bisect_leak.environments.store import Store
from bisect_leak.errors import BadInput, ExitCode
from bisect_leak.judge.verdict import Signal, Verdict
from bisect_leak.map import grid as mapplan
from bisect_leak.map.grid import Cell, Flip, Row
from bisect_leak.measure.trial import TrialResult
from bisect_leak.planning import scenario as scenarios
from bisect_leak.planning.plan import Plan
from bisect_leak.run import parallel, remote, runner
from bisect_leak.run.executors import DaskExecutor, Executor, Job, LocalExecutor, require_dask
from bisect_leak.run.outcome import PythonOutcome
from bisect_leak.run.prober import Prober

CELL_SLACK = 900.0  # seconds a cell may take beyond its scenario's load limit (env build)


class Mode(str, enum.Enum):
    EVERY = "every"
    EDGES = "edges"


@dataclass(frozen=True)
class MapPlan:
    """The map's own options; ``base`` carries the bisect's options it shares."""

    base: Plan  # package, withs, pre, metric, threshold, resolve, index, cache, outputs
    old: str
    new: str
    scenarios: tuple[str, ...] = ("hello",)
    mode: Mode = Mode.EDGES
    jobs: int = 1
    dask: str | None = None
    confirm: int = 1  # each flip's two cells measured this many more times, afresh


@dataclass
class CellResult:
    cell: Cell
    trial: TrialResult
    trial_data: dict
    from_cache: bool
    where: str  # "cache", "here", or the worker's host
    seconds: float


@dataclass
class MapRow:
    row: Row
    scenario: scenarios.Scenario
    prober: Prober  # for the results cache keys only: cells run as --check subprocesses
    versions: list[str]
    skipped: list[tuple[str, str]]
    python: tuple[str, ...]  # for --python: this path; on a worker without it, the version


@dataclass
class MapOutcome:
    plan: MapPlan
    rows: list[MapRow] = field(default_factory=list)
    cells: dict[Cell, CellResult] = field(default_factory=dict)
    flips: list[Flip] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    where: str = ""
    exit_code: ExitCode = ExitCode.ANSWER
    interrupted: bool = False
    seconds: float = 0.0
    measured: int = 0  # cells measured by this run (not from a cache)
    _known: dict[Row, dict[str, Verdict]] = field(default_factory=dict)

    def known(self, row: Row) -> dict[str, Verdict]:
        """The verdicts of a row's cells so far (the planner's view)."""
        return self._known.setdefault(row, {})

    def add(self, result: CellResult) -> None:
        self.cells[result.cell] = result
        self.known(result.cell.row)[result.cell.candidate] = result.trial.verdict


class MapReporter(Protocol):
    def progress(self, text: str) -> None: ...
    def info(self, text: str) -> None: ...
    def cell(self, result: CellResult, status: str) -> None: ...


class _Quiet:
    """The probers' reporter: they only compute keys here."""

    def progress(self, text: str) -> None: ...
    def info(self, text: str) -> None: ...
    def trial(self, result: TrialResult, python: str) -> None: ...


def execute(plan: MapPlan, reporter: MapReporter, *,
            fetch: Callable[[str, str], dict] = releases.fetch_index) -> MapOutcome:
    """Plan the rows, run the cells, find the flips. Interrupts: exit 130, cells kept."""
    began = time.monotonic()
    outcome = MapOutcome(plan=plan)
    processes.stopping.clear()
    executor: Executor | None = None
    try:
        if plan.dask:
            require_dask()  # before anything is written
        outcome.rows = _rows(plan, reporter, fetch)
        executor = _executor(plan, outcome.rows)
        outcome.where = executor.where
        _run(plan, outcome, executor, reporter)
        _conclude(outcome)
        _replicate_flips(plan, outcome, executor, reporter)
    except KeyboardInterrupt:
        cancelled = executor.cancel() if executor is not None else 0
        stopped = processes.interrupt()
        outcome.interrupted = True
        outcome.exit_code = ExitCode.INTERRUPTED
        _conclude(outcome)
        outcome.exit_code = ExitCode.INTERRUPTED
        reporter.info(f"interrupted: {len(outcome.cells)} cell(s) kept, {cancelled} pending "
                      f"cancelled, {stopped} local process group(s) stopped; "
                      "run again to resume from the cache")
    finally:
        if executor is not None:
            executor.close()
        processes.stop_all()
        outcome.seconds = time.monotonic() - began
    return outcome


def _rows(plan: MapPlan, reporter: MapReporter, fetch) -> list[MapRow]:
    base = plan.base
    base.validate_options()
    if plan.jobs < 1:
        raise BadInput(f"--jobs {plan.jobs}: give a whole number of at least 1")
    if plan.confirm < 0:
        raise BadInput(f"--confirm {plan.confirm}: give 0 (no replication) or more")
    found = [scenarios.resolve(s) for s in plan.scenarios]
    names = [sc.name for sc in found]
    for name in names:
        if names.count(name) > 1:
            raise BadInput(f"two --scenario entries are named {name!r}: a map tells scenarios "
                           "by name; give each once (rename a folder)")
    pythons = base.pythons or (f"{sys.version_info[0]}.{sys.version_info[1]}",)
    interps = list({i.version: i for i in map(interpreters.find, pythons)}.values())
    for sc in found:
        for interp in interps:
            if not sc.supports(interp.version):
                raise BadInput(f"scenario {sc.name!r} runs on Python {sc.python}; "
                               f"Python {interp.version} is not: choose another --python")
    reporter.progress(f"listing releases of {base.name}")
    available = runner.available_releases(base, fetch)
    selections = [releases.select(available, base.name, plan.old, plan.new,
                                  python_version=i.version, pre=base.pre,
                                  old_name="--from", new_name="--to") for i in interps]
    pins = runner.pin_days(base, fetch)  # exact --with pins pull a release's day forward
    store = Store(base.cache_dir).open()  # input is valid: now write
    rows = []
    for interp, selection in zip(interps, selections):
        for version, why in selection.skipped:
            reporter.info(f"skipping {base.name} {version} on Python {interp.version}: {why}")
        for sc, arg in zip(found, plan.scenarios):
            row_plan = replace(base, scenario=_scenario_arg(sc, arg))
            py = PythonOutcome(interpreter=interp, versions=selection.versions,
                               candidates=candidate.from_selection(selection))
            prober = Prober(row_plan, sc, runner.settings_for(row_plan, sc), store, _Quiet(), py,
                            pin_uploads=pins)
            python = (str(interp.path), interp.version) if plan.dask else (str(interp.path),)
            rows.append(MapRow(Row(interp.version, sc.name), sc, prober, selection.versions,
                               list(selection.skipped), python))
    return rows


def _scenario_arg(sc: scenarios.Scenario, given: str) -> str:
    """A built-in by name (it exists on every worker), a folder by absolute path."""
    return given if sc.path.parent == scenarios.BUILTIN_DIR.resolve() else str(sc.path)


def _executor(plan: MapPlan, rows: list[MapRow]) -> Executor:
    longest = max((r.scenario.load.max_seconds for r in rows), default=300.0)
    timeout = longest + CELL_SLACK
    if plan.dask:
        return DaskExecutor(plan.dask, timeout)
    return LocalExecutor(plan.base.cache_dir, timeout, plan.jobs)


def _wanted(plan: MapPlan, outcome: MapOutcome) -> list[Cell]:
    pick = mapplan.next_every if plan.mode is Mode.EVERY else mapplan.next_edges
    cells = []
    for r in outcome.rows:
        cells += [Cell(v, r.row) for v in pick(r.versions, outcome.known(r.row))]
    return cells


def _run(plan: MapPlan, outcome: MapOutcome, executor: Executor,
         reporter: MapReporter) -> None:
    rows = {r.row: r for r in outcome.rows}
    running: dict[Cell, Job] = {}
    missed: set[Cell] = set()  # looked up in the cache: not there
    clock = _Clock(executor.slots)
    while True:
        for cell in _wanted(plan, outcome):
            if cell in running or cell in outcome.cells:
                continue
            cached = None if cell in missed else _cached(rows[cell.row], cell)
            missed.add(cell)
            if cached is not None:
                _record(outcome, cached, reporter, clock, plan)
                continue
            if len(running) >= executor.slots and not plan.dask:
                continue  # a local executor takes only what it can run now
            job = Job(cell, tuple(_check_args(plan, rows[cell.row], cell.candidate)),
                      rows[cell.row].python, _task_name(cell))
            running[cell] = job
            executor.submit(job)
            reporter.progress(f"measuring {cell.candidate} on {cell.row.label} "
                              f"({executor.where})")
        if not running:
            if not _wanted(plan, outcome):
                return
            continue  # cache hits opened new intervals
        job, raw = executor.next_done()
        cell = job.key
        del running[cell]
        result = _from_run(rows[cell.row], cell, raw, write=bool(plan.dask))
        outcome.measured += 1
        clock.add(result.seconds)
        _record(outcome, result, reporter, clock, plan)


def _record(outcome: MapOutcome, result: CellResult, reporter: MapReporter,
            clock: _Clock, plan: MapPlan) -> None:
    outcome.add(result)
    left = len(_wanted(plan, outcome))  # the running cells among them
    reporter.cell(result, clock.status(len(outcome.cells), left, plan.mode is Mode.EVERY))


def _cached(row: MapRow, cell: Cell) -> CellResult | None:
    """The cell's trial from the results cache, under the key a bisection uses, read (and
    judged) by the prober as a bisection reads it; None unless everything it needs is there.
    It only reads: a cell is measured by the executor, never here."""
    trial = row.prober.cached(cell.candidate)
    if trial is None:
        return None
    return CellResult(cell, trial, trial.to_dict(), True, "cache", 0.0)


def _reference(row: MapRow) -> str:
    """Held memory is judged against the row's oldest release (a bisection's good bound)."""
    return row.versions[0]


def _from_run(row: MapRow, cell: Cell, raw: dict, *, write: bool) -> CellResult:
    """A finished --check: its trial, written into the local cache when it ran elsewhere."""
    trial, where = remote.trial_from_run(row.prober, cell.candidate, raw, write=write)
    cached = trial.verdict is not Verdict.ERROR and trial.from_cache
    return CellResult(cell, trial, trial.to_dict(), cached, where, raw.get("seconds", 0.0))


def _check_args(plan: MapPlan, row: MapRow, version: str) -> list[str]:
    b = row.prober.plan
    versions = [version]
    if b.metric is Signal.HELD and version != _reference(row):
        versions.insert(0, _reference(row))  # the first --check is the reference
    return b.check_args(versions, absolute=True)


def _task_name(cell: Cell) -> str:
    clean = "".join(c if c.isalnum() or c in ".-" else "_" for c in cell.row.scenario)
    return f"bisect-leak-cell-{cell.candidate}-py{cell.row.python}-{clean}-{time.time_ns()}"


def _replicate_flips(plan: MapPlan, outcome: MapOutcome, executor: Executor,
                     reporter: MapReporter) -> None:
    """Both cells of every flip measured ``confirm`` more times (together, on the executor,
    each kept in the cache as its run, as a bisection's answer pair): a flip stands only if
    every run agrees."""
    rows = {r.row: r for r in outcome.rows}
    cells = sorted({(f.row, v) for f in outcome.flips for v in (f.last_before, f.first_after)},
                   key=lambda c: (c[0].label, c[1]))
    if not plan.confirm or not cells:
        return
    for row, version in cells:  # the probers keep the runs beside the cells' first trials
        for v in (version, _reference(rows[row])):  # held memory: the reference's too
            if Cell(v, row) in outcome.cells:
                rows[row].prober.py.trials.setdefault(v, outcome.cells[Cell(v, row)].trial)
    reporter.progress(f"replicating the {len(cells)} cells of {len(outcome.flips)} flip(s)")
    by_prober = {}
    for row, version in cells:
        by_prober.setdefault(row, []).append(version)
    for row, versions in by_prober.items():
        parallel.replicate(rows[row].prober, executor, versions, plan.confirm)
    outcome.flips = [_judged_flip(f, rows[f.row].prober.py) for f in outcome.flips]


def _judged_flip(flip: Flip, py: PythonOutcome) -> Flip:
    wrong = [f"{v} was {py.trials[v].verdict.value}, run {r.run} says {r.verdict.value}"
             for v in (flip.last_before, flip.first_after) for r in py.trials[v].runs
             if r.verdict is not py.trials[v].verdict]
    return replace(flip, replicated=not wrong, disagreed="; ".join(wrong))


def _conclude(outcome: MapOutcome) -> None:
    for r in outcome.rows:
        known = outcome.known(r.row)
        outcome.flips += mapplan.flips(r.row, r.versions, known)
        if outcome.plan.mode is Mode.EDGES:
            note = mapplan.hidden_note(r.row, r.versions, known)
            if note:
                outcome.notes.append(note)
    errors = any(c.trial.verdict is Verdict.ERROR for c in outcome.cells.values())
    outcome.exit_code = ExitCode.INFRASTRUCTURE if errors else ExitCode.ANSWER


class _Clock:
    """Cells done / total and the time left, from the cells measured so far."""

    def __init__(self, slots: int):
        self.slots = max(1, slots)
        self.durations: list[float] = []

    def add(self, seconds: float) -> None:
        self.durations.append(seconds)

    def status(self, done: int, left: int, exact: bool) -> str:
        if exact:
            text = f"{done}/{done + left} cells"
        else:
            text = f"{done} cells done" + (f", {left} to go (or more)" if left else "")
        if self.durations and left:
            mean = sum(self.durations) / len(self.durations)
            text += f", about {mean * left / min(self.slots, max(left, 1)):.0f} s left"
        return text
