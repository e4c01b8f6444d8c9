"""The bisection on many workers: rounds and wall time, on a simulated cluster and for real.

Simulated (always): the rounds planner (``bisection.rounds``) drives W workers whose trial
is a fake of fixed duration (``--trial-seconds``): a thread pool of W, or with ``--dask`` a
``distributed.LocalCluster(processes=False)`` on 127.0.0.1 with W workers each offering the
``trial=1`` resource (as ``bisect-leak map --dask`` asks). For N = 13, 60, 250 candidates
and W = 1, 3, 7, 15 it prints, over every position of the first bad candidate, the most and
the mean rounds (the replication round of ``--confirm 1`` included) against issue 17's goal
1 + ceil(log_{W+1} N) + 1, the mean trials, and the wall time of the simulated cluster at the
position that takes the most rounds.

Real (``--real``): the toy bisection (``leakytoy`` 1.0.0..1.5.0 from the toy wheelhouse of
``tests/toy.py``) sequential, with ``--jobs 2`` and on 2 Dask workers of a LocalCluster on
127.0.0.1, each cold (fresh bisect-leak cache; one uv cache shared), side by side: wall,
exit, answer, trials measured and rounds (the JSON's ``rounds``). A variant the installed
bisect-leak does not offer shows its exit code and last line of stderr.

Not a test: it prints figures. Usage: python bench/parallel.py [--trial-seconds 0.2]
[--dask] [--real [--reps N]] [--help]
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from _common import (
    Banner,
    default_wheelhouse,
    fmt,
    median,
    ratio,
    read_json,
    run_cli,
    table,
    toy,
    trials,
)

from bisect_leak.bisection.rounds import Round, RoundPlanner, goal_rounds, replication_rounds
from bisect_leak.judge.verdict import Verdict

SIZES = (13, 60, 250)
WORKERS = (1, 3, 7, 15)
CONFIRM = 1


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--trial-seconds", type=float, default=0.2,
                   help="the fake trial's duration in the simulation (default 0.2)")
    p.add_argument("--dask", action="store_true",
                   help="simulate on a distributed LocalCluster (processes=False) of W workers "
                        "instead of a thread pool")
    p.add_argument("--real", action="store_true",
                   help="also the real toy bisection: sequential, --jobs 2, 2 Dask workers")
    p.add_argument("--reps", type=int, default=1, help="repetitions of the real part")
    p.add_argument("--wheelhouse", type=Path, default=None,
                   help="toy wheelhouse (default: bench/_common.default_wheelhouse())")
    p.add_argument("--python", help="target interpreter path (default: tests/toy.base_python())")
    p.add_argument("--work-dir", type=Path,
                   help="real part: where caches and JSON go (default: a temp dir, removed)")
    p.add_argument("--timeout", type=float, default=1800.0, help="per CLI run, seconds")
    return p.parse_args()


def main() -> int:
    args = parse_args()
    banner = Banner("bisection on many workers: rounds and wall",
                    [f"fake trial {args.trial_seconds:g} s on "
                     + ("a Dask LocalCluster (processes=False)" if args.dask else "threads")])
    simulated(args)
    code = real(args) if args.real else 0
    banner.end()
    return code


# -- simulated -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bisected:
    rounds: int  # search rounds plus replication rounds
    trials: int  # trials in them (replications included)
    wall: float  # seconds; 0 when planned only
    answer: str | None


def fake_trial(verdict: str, seconds: float) -> str:
    """A trial of fixed duration that answers what it is told (the truth)."""
    time.sleep(seconds)
    return verdict


Submit = Callable[[str, float], "cf.Future"]


def bisect(n: int, first_bad: int, workers: int, submit: Submit | None,
           seconds: float) -> Bisected:
    """One bisection over ``n`` candidates, round by round: every candidate of a round is
    submitted at once and the round ends when all have answered (``submit`` None: planned
    only, the truth answered at once)."""
    versions = [f"v{i}" for i in range(n)]
    truth = {v: (Verdict.STABLE if i < first_bad else Verdict.LEAKING).value
             for i, v in enumerate(versions)}
    planner = RoundPlanner(versions, workers)
    began, count = time.monotonic(), 0
    while isinstance(step := planner.next(), Round):
        for version, verdict in _round(step.candidates, truth, submit, seconds):
            planner.record(version, Verdict(verdict))
        count += len(step.candidates)
    rounds = len(planner.rounds)
    if step.found:
        for jobs in replication_rounds((step.last_old, step.first_new), CONFIRM, workers):
            list(_round([v for v, _ in jobs], truth, submit, seconds))
            rounds, count = rounds + 1, count + len(jobs)
    wall = time.monotonic() - began if submit else 0.0
    return Bisected(rounds, count, wall, step.first_new)


def _round(candidates, truth, submit: Submit | None, seconds: float):
    if submit is None:
        return [(v, truth[v]) for v in candidates]
    futures = [(v, submit(truth[v], seconds)) for v in candidates]
    return [(v, f.result()) for v, f in futures]


def simulated(args) -> None:
    rows = []
    walls: dict[int, float] = {}
    for n in SIZES:
        for w in WORKERS:
            planned = [bisect(n, b, w, None, 0.0) for b in range(1, n)]
            worst = max(range(len(planned)), key=lambda i: planned[i].rounds)
            with _cluster(w, args.dask) as submit:
                run = bisect(n, worst + 1, w, submit, args.trial_seconds)
            assert run.answer == f"v{worst + 1}", run
            if w == 1:
                walls[n] = run.wall
            goal = goal_rounds(n, w)
            most = max(p.rounds for p in planned)
            rows.append([str(n), str(w), str(goal), str(most),
                         fmt(statistics.mean(p.rounds for p in planned), ".2f"),
                         "yes" if most <= goal else "no",
                         fmt(statistics.mean(p.trials for p in planned), ".1f"),
                         str(run.rounds), fmt(run.wall, ".2f"),
                         fmt(run.wall / args.trial_seconds, ".1f"),
                         fmt(walls[n] / run.wall, ".2f")])
            print(f"   N={n} W={w}: {run.rounds} rounds, {run.wall:.2f} s", flush=True)
    print()
    print(f"simulated cluster, fake trial {args.trial_seconds:g} s, --confirm {CONFIRM} "
          "(rounds include the replication round):")
    print(table(["N", "W", "goal", "rounds max", "rounds mean", "goal met", "trials mean",
                 "run rounds", "run wall s", "wall/trial", "speed-up vs W=1"], rows))
    print("rounds max/mean: over every position of the first bad candidate (planned);")
    print("run: the cluster at the position taking the most rounds; speed-up = W=1 wall / wall")
    print("W=1 is the sequential search (bounds one at a time): the goal formula is for W >= 2")
    print()


class _cluster:
    """``submit(verdict, seconds) -> future`` on W workers: threads, or a Dask LocalCluster."""

    def __init__(self, workers: int, dask: bool):
        self.workers, self.dask = workers, dask

    def __enter__(self) -> Submit:
        if not self.dask:
            self.pool = cf.ThreadPoolExecutor(self.workers)
            return lambda verdict, s: self.pool.submit(fake_trial, verdict, s)
        from distributed import Client, LocalCluster

        self.cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1,
                                    processes=False, protocol="tcp", host="127.0.0.1",
                                    dashboard_address=None, resources={"trial": 1})
        self.client = Client(self.cluster, set_as_default=False)
        self.client.wait_for_workers(self.workers)

        def submit(verdict: str, s: float) -> cf.Future:
            return self.client.submit(fake_trial, verdict, s, pure=False,
                                      resources={"trial": 1})

        for future in [submit("", 0.0) for _ in range(self.workers)]:  # warm: as a cluster
            future.result()  # that is up before the bisection starts
        return submit

    def __exit__(self, *exc) -> None:
        if not self.dask:
            self.pool.shutdown()
            return
        self.client.close()
        self.cluster.close()


# -- real ------------------------------------------------------------------------------------


def real(args) -> int:
    """The toy bisection sequential, with --jobs 2 and on 2 Dask workers, cold, side by side.
    Returns 1 when the sequential run (which every bisect-leak offers) failed, else 0."""
    t = toy()
    python = Path(args.python) if args.python else t.base_python()
    wheelhouse = args.wheelhouse or default_wheelhouse()
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="bisect-leak-bench-parallel-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        t.fill_wheelhouse(wheelhouse, str(python))
        scenario = t.write_toy_scenario(work / "toy")
        argv = ["--package", "leakytoy", "--scenario", scenario, "--find-links", wheelhouse,
                "--no-index", "--python", python, "--good", "1.0.0", "--bad", "1.5.0"]
        runs = _real_runs(args, work, argv)
    finally:
        if args.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)
    _real_table(runs)
    return 1 if any(r["exit"] != 0 for r in runs["sequential"]) else 0


def _real_runs(args, work: Path, argv: list) -> dict[str, list[dict]]:
    from distributed import LocalCluster

    runs: dict[str, list[dict]] = {"sequential": [], "--jobs 2": [], "2 Dask workers": []}
    uv_cache = work / "uv-cache"
    for rep in range(args.reps):
        for name in runs:
            cache = work / f"cache-{rep}-{len(runs[name])}-{name.split()[-1]}"
            out = work / f"{cache.name}.json"
            cluster = None
            extra: list = []
            if name == "--jobs 2":
                extra = ["--jobs", "2"]
            elif name == "2 Dask workers":
                os.environ["BISECT_LEAK_CACHE_DIR"] = str(cache / "worker")  # cellrun.CACHE_ENV
                cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None,
                                       resources={"trial": 1})
                extra = ["--dask", cluster.scheduler_address]
            try:
                proc, wall = run_cli([*argv, "--cache-dir", cache, "--json", out, *extra],
                                     cwd=work, uv_cache=uv_cache, timeout=args.timeout)
            finally:
                if cluster is not None:
                    cluster.close()
                    os.environ.pop("BISECT_LEAK_CACHE_DIR", None)
            data = read_json(out)
            measured = [x for x in trials(data) if not x.get("from_cache")]
            runs[name].append({
                "wall": wall, "exit": proc.returncode,
                "answer": f"{data.get('last_good')} / {data.get('first_bad')}" if data else "-",
                "trials": len(measured) + sum(len(x.get("runs", ())) for x in measured),
                "rounds": len(data["rounds"]) if data and "rounds" in data else None,
                "why": (proc.stderr.strip().splitlines() or [""])[-1]})
            print(f"   rep {rep + 1}/{args.reps} {name:<15} {wall:6.1f} s  exit "
                  f"{proc.returncode}", flush=True)
    return runs


def _real_table(runs: dict[str, list[dict]]) -> None:
    def wall(rs: list[dict]) -> float:  # runs that answered only
        return median([r["wall"] for r in rs if r["exit"] == 0])

    base = wall(runs["sequential"])
    rows, notes = [], []
    for name, rs in runs.items():
        rows.append([name, fmt(wall(rs), ".1f"), fmt(ratio(base, wall(rs)), ".2f"),
                     ",".join(str(r["exit"]) for r in rs), rs[-1]["answer"],
                     fmt(median([r["trials"] for r in rs]), ".0f"),
                     fmt(rs[-1]["rounds"], "d")])
        notes += [f"{name}: exit {r['exit']}: {r['why']}" for r in rs[-1:] if r["exit"] != 0]
    print()
    print("real toy bisection leakytoy 1.0.0..1.5.0, cold (medians of the runs that exited 0; "
          "trials include replications):")
    print(table(["variant", "wall s", "speed-up", "exits", "answer", "trials", "rounds"],
                rows))
    for note in notes:
        print(f"   {note}")


if __name__ == "__main__":
    sys.exit(main())
