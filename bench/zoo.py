"""The verdict rule over the shape zoo: truth table and requests per decided verdict, for the
rule of this checkout against the previous rule (the slope-and-late-half rule of protocol 2,
kept here verbatim as the "before" side).

Pure: no servers, no index. Each shape runs through the same round-by-round loop as a trial at
the hello defaults (20k warm-up, first look at 30k, at most 120k measured, a sample every 1k).

    python bench/zoo.py [--seeds N]
"""

from __future__ import annotations

import argparse
import collections
import math
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import memmodel as shapes  # noqa: E402
from _common import Banner, table  # noqa: E402

from bisect_leak.judge import classify  # noqa: E402
from bisect_leak.judge.theilsen import theil_sen
from bisect_leak.judge.verdict import Verdict

W, FIRST, MAX, EVERY, THR = 20_000, 30_000, 120_000, 1_000, 25.0


def old_rule(samples, final):
    """The rule before issue 9: Theil–Sen over the whole run and its late half."""
    post = [s for s in samples if s.requests >= W]
    if len(post) < 8:
        return Verdict.INCONCLUSIVE, not final
    xs = [s.requests / 1000 for s in post]
    ys = classify.memory_figure(post)[1]
    whole = theil_sen(xs, ys)
    start = min(len(post) // 2, len(post) - 5)
    late = theil_sen(xs[start:], ys[start:])
    if late.low > THR and whole.low > THR:
        return Verdict.LEAKING, False
    if late.high < THR:
        return Verdict.STABLE, False
    return Verdict.INCONCLUSIVE, not final


def new_rule(samples, final):
    a = classify.classify_growth(samples, warmup=W, guards=classify.Guards.for_first_look(FIRST),
                                 threshold=THR, final=final)
    return a.verdict, a.more_would_help


def run(shape, seed, rule):
    synthetic = shapes.Synthetic(shape, warmup=W, seed=seed)
    samples = [synthetic.sample(0)]
    served = 0
    while True:
        served += EVERY
        samples.append(synthetic.sample(served))
        if served - W >= FIRST:
            verdict, more = rule(samples, served >= W + MAX)
            if not more:
                return verdict, served


def family(shape) -> str:
    name = shape.name
    if name.startswith("staircase"):
        return "staircase " + ("≥2x" if "2x" in name or "4x" in name or "10x" in name else "")
    return name.split(",")[0].split(" ")[0] + (" leak" if shape.leak_kib_per_1k else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    banner = Banner("bench/zoo.py: the verdict rule over the shape zoo",
                    [f"{len(shapes.zoo(THR))} shapes x {args.seeds} seeds, threshold {THR:g}"])
    tally = {name: collections.Counter() for name in ("before", "after")}
    wrong = {name: collections.Counter() for name in ("before", "after")}
    spent = {name: collections.defaultdict(list) for name in ("before", "after")}
    for shape in shapes.zoo(THR):
        for seed in range(args.seeds):
            for name, rule in (("before", old_rule), ("after", new_rule)):
                verdict, served = run(shape, seed, rule)
                fam = family(shape)
                tally[name][(fam, verdict.value)] += 1
                bad = ((shape.bounded and verdict is Verdict.LEAKING)
                       or (shape.leak_kib_per_1k >= 2 * THR and verdict is Verdict.STABLE))
                wrong[name][fam] += bad
                if verdict.known and not bad:
                    kind = ("flat" if shape.name.startswith("flat,")
                            else "leak ≥10x" if shape.leak_kib_per_1k >= 10 * THR
                            and shape.name.startswith("linear") else None)
                    if kind:
                        spent[name][kind].append(served)
    families = sorted({f for f, _ in tally["after"]} | {f for f, _ in tally["before"]})
    rows = []
    for fam in families:
        cells = []
        for name in ("before", "after"):
            counts = ", ".join(f"{v} {tally[name][(fam, v)]}" for v in
                               ("leaking", "stable", "inconclusive") if tally[name][(fam, v)])
            cells.append(f"{counts} (wrong {wrong[name][fam]})")
        rows.append([fam, *cells])
    print(table(["shape family", "before: verdicts", "after: verdicts"], rows))
    print()
    rows = []
    for kind in ("flat", "leak ≥10x"):
        med = [statistics.median(spent[n][kind]) if spent[n][kind] else math.nan
               for n in ("before", "after")]
        rows.append([kind, f"{med[0]:,.0f}", f"{med[1]:,.0f}", f"{med[1] / med[0]:.2f}"])
    print(table(["requests per decided verdict (median, warm-up included)", "before", "after",
                 "after/before"], rows))
    print(f"\nwrong verdicts: before {sum(wrong['before'].values())}, "
          f"after {sum(wrong['after'].values())}")
    banner.end()


if __name__ == "__main__":
    main()
