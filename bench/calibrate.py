"""The verdict rule's measured error rates over the generative model of server memory.

Pure: no servers. Each series is drawn by ``tests/memmodel.py`` (family, window, parameters,
noise), runs through the real round-by-round trial loop, and its verdict is compared with the
model's truth for the window observed when the verdict was given.

    python bench/calibrate.py [--series N] [--seed S] [--jobs J] [--show-wrong] [--reasons]
                              [--follow-advice]

``--follow-advice`` runs each decidable series left inconclusive again, as long as its reason
said might decide it (``more_requests``, what ``load.extend_to`` allows), and tables what that
decided, judged against the truth for the longer window.
"""

from __future__ import annotations

import argparse
import collections
import functools
import multiprocessing
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import memmodel  # noqa: E402
from _common import Banner, table  # noqa: E402
from scipy.stats import beta  # noqa: E402


def upper95(wrong: int, total: int) -> float:
    """The upper end of the two-sided 95% Clopper–Pearson interval on a rate."""
    return 1.0 if total == 0 else (1.0 if wrong == total else beta.ppf(0.975, wrong + 1,
                                                                      total - wrong))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0, help="the first seed")
    parser.add_argument("--show-wrong", action="store_true")
    parser.add_argument("--jobs", type=int, default=1, help="processes (same figures)")
    parser.add_argument("--reasons", action="store_true",
                        help="per window, which guards left decidable series inconclusive")
    parser.add_argument("--follow-advice", action="store_true",
                        help="run each undecided decidable series as long as its reason asks")
    args = parser.parse_args()
    banner = Banner("bench/calibrate.py: the verdict rule over the generative model",
                    [f"{args.series:,} series from seed {args.seed}"])
    rows = collections.defaultdict(list)
    stopped: collections.Counter = collections.Counter()
    followed: collections.Counter = collections.Counter()
    seeds = range(args.seed, args.seed + args.series)
    judge = functools.partial(_judge, follow=args.follow_advice)
    with multiprocessing.Pool(max(args.jobs, 1)) as pool:
        for seed, family, row, reason, after in pool.imap(judge, seeds, chunksize=25):
            rows[family].append(row)
            if after:
                followed[(row[3],) + after] += 1
            verdict, truth, measured = row[0], row[1], row[2] - row[4].warmup
            if verdict == "inconclusive" and truth in DECIDABLE:
                stopped[(row[3], truth.value, guards_of(reason))] += 1
            if args.show_wrong and memmodel.wrong(verdict, truth):
                print(f"WRONG seed {seed} {family} {row[3]} truth {truth.value}: {verdict} at "
                      f"{measured:,}: {reason}\n  {memmodel.generate(seed)}", file=sys.stderr)
    out = [_row(fam, rows[fam]) for fam in sorted(rows)]
    out.append(_row("all", [r for fam in rows.values() for r in fam]))
    print(table(["family", "series", "leaking / stable / inconclusive", "false leak (95% up)",
                 "false stable (95% up)", "inconclusive of decidable",
                 "median requests (decided)"], out))
    every = [r for fam in rows.values() for r in fam]
    print("truths: " + ", ".join(f"{t.value} {sum(r[1] is t for r in every)}"
                                 for t in memmodel.Truth))
    for name in dict.fromkeys(r[3] for r in every):
        decidable = [r for r in every if r[3] == name
                     and r[1] in (memmodel.Truth.BOUNDED, memmodel.Truth.LEAKING)]
        undecided = sum(r[0] == "inconclusive" for r in decidable)
        print(f"window {name}: inconclusive of decidable {undecided}/{len(decidable)} "
              f"({undecided / max(len(decidable), 1):.1%})")
    if args.reasons:
        _print_reasons(stopped)
    if args.follow_advice:
        _print_followed(followed)
    hello = [r for r in every if r[3] == "hello"]
    for truth, verdict in ((memmodel.Truth.BOUNDED, "stable"),
                           (memmodel.Truth.LEAKING, "leaking")):
        spent = [r[2] for r in hello if r[1] is truth and r[0] == verdict]
        if spent:
            print(f"hello window, {truth.value} called {verdict}: median "
                  f"{statistics.median(spent):,.0f} requests (warm-up included), n={len(spent)}")
    banner.end()


DECIDABLE = (memmodel.Truth.BOUNDED, memmodel.Truth.LEAKING)
# What each test of the rule said when it did not decide (classify.py's reasons), in order.
LEAK_GUARDS = (("a rise must be held", "not held long enough yet"),
               ("no held rise", "no held rise"), ("a fill or cache that stopped", "stopped"),
               ("could be wandering", "within give-backs"), ("no clear rise", "no clear rise"),
               ("slower since", "slowing in the tail"),
               ("slower than before", "slower than before"), ("fell below it", "dropped since"))
FLAT_GUARDS = (("not yet flat", "not flat long enough yet"), ("swings", "swings"),
               ("not yet confirmed", "unconfirmed"), (" rose ", "a stretch rose"),
               ("(up to", "slope range"))


def guards_of(reason: str) -> str:
    """Which leak test and which flat test stopped an undecided series."""
    leak, _, flat = reason.partition("; ")
    name = [next((n for m, n in LEAK_GUARDS if m in leak), "?"),
            next((n for m, n in FLAT_GUARDS if m in flat), "?")]
    return f"leak: {name[0]} / stable: {name[1]}"


def _print_reasons(stopped: collections.Counter) -> None:
    print("inconclusive among decidable, by window, truth and the tests that stopped them:")
    for (window, truth, guards), count in sorted(stopped.items(),
                                                 key=lambda kv: (kv[0][0], -kv[1])):
        print(f"  {window:<22} {truth:<8} {count:>5}  {guards}")


def _print_followed(followed: collections.Counter) -> None:
    total = sum(followed.values())
    print(f"decidable series left inconclusive, run again as long as their reason asks "
          f"({total}):")
    for (window, verdict, wrong), count in sorted(followed.items()):
        print(f"  {window:<22} {verdict:<12} {count:>5}" + ("  WRONG" if wrong else ""))
    decided = sum(c for (_, v, _), c in followed.items() if v != "inconclusive")
    wrong = sum(c for (_, _, w), c in followed.items() if w)
    print(f"  decided {decided}/{total} ({decided / max(total, 1):.1%}), wrong {wrong}")


def _judge(seed: int, follow: bool = False) -> tuple:
    model = memmodel.generate(seed)
    result, truth = memmodel.outcome(model, seed)
    verdict = result.verdict.value
    after = None
    if follow and verdict == "inconclusive" and truth in DECIDABLE:
        more = (result.assessment.more_requests if result.assessment else None) or 0
        again, truth_then = memmodel.judged(memmodel.extended(model, more), seed)[:2]
        after = (again if more else "no advice", memmodel.wrong(again, truth_then))
    return seed, model.family, (verdict, truth, result.requests, model.window.name,
                                model.window), result.reason, after


def _row(family: str, rows: list) -> list[str]:
    bounded = [r for r in rows if r[1] is memmodel.Truth.BOUNDED]
    leaking = [r for r in rows if r[1] is memmodel.Truth.LEAKING]
    stepping = [r for r in rows if r[1] is memmodel.Truth.STEPPING]
    false_leak = sum(r[0] == "leaking" for r in bounded)
    false_stable = sum(r[0] == "stable" for r in leaking + stepping)
    decidable = bounded + leaking
    undecided = sum(r[0] == "inconclusive" for r in decidable)
    counts = " / ".join(str(sum(r[0] == v for r in rows)) for v in
                        ("leaking", "stable", "inconclusive"))
    spent = [r[2] for r in rows if r[0] in ("leaking", "stable")]
    return [family, str(len(rows)), counts,
            f"{false_leak}/{len(bounded)} (≤{upper95(false_leak, len(bounded)):.2%})",
            f"{false_stable}/{len(leaking + stepping)} "
            f"(≤{upper95(false_stable, len(leaking + stepping)):.2%})",
            f"{undecided}/{len(decidable)} ({undecided / max(len(decidable), 1):.1%})",
            f"{statistics.median(spent):,.0f}" if spent else "-"]


if __name__ == "__main__":
    main()
