"""Real leak reports to scenarios: for each report in tests/data/reports/, what
``bisect-leak scenario from-report`` finds (app, routes, requirements) and whether its
scenario runs without edits (the smoke check passes; the package index is allowed).

Not a test: it prints a table. Each smoke check builds one env (cached in --cache-dir).
With --bisect, each report whose answer is known (``"known"`` in its expected.json) is also
bisected from its generated scenario: the printed command, plus only the flags recorded
under ``known.add`` (bounds, metric; why in ``known.add_why``), and a second table shows the
bisection's answer beside the known one. Bisections take minutes each: --only NAME.
Usage: python bench/reports.py [--cache-dir DIR] [--no-check] [--python VERSION]
                               [--bisect] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, TESTS, Banner, read_json, run_cli, table, trials

sys.path.insert(0, str(ROOT))

from bisect_leak.errors import BadInput  # noqa: E402
from bisect_leak.fromreport import check, draft, write  # noqa: E402

REPORTS = TESTS / "data" / "reports"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) /
                   "bisect-leak-bench-reports")
    p.add_argument("--no-check", action="store_true", help="Only draft: no env, no server.")
    p.add_argument("--python", default="", help="Check on this Python, not the report's.")
    p.add_argument("--bisect", action="store_true",
                   help="Also bisect from the generated scenario where the answer is known.")
    p.add_argument("--only", action="append", default=[], metavar="NAME",
                   help="Only these reports (file stems); repeatable.")
    return p.parse_args()


#: flags that take no value; every other flag takes one
_SWITCHES = {"--fixed", "--pre", "--culprit", "--inspect", "--no-cache"}


def _pairs(args: list[str]) -> list[tuple[str, str | None]]:
    out, i = [], 0
    while i < len(args):
        if args[i] in _SWITCHES:
            out.append((args[i], None))
            i += 1
        else:
            out.append((args[i], args[i + 1]))
            i += 2
    return out


def merge(suggested: list[str], added: list[str]) -> list[str]:
    """The suggested flags with the added ones on top: an added flag replaces the suggested
    one of its name (a --with, the suggested pin of its package)."""
    def key(flag: str, value: str | None) -> tuple[str, str | None]:
        return (flag, value.split("==")[0].lower()) if flag == "--with" and value else \
            (flag, None)
    extra = _pairs(added)
    replaced = {key(f, v) for f, v in extra}
    kept = [(f, v) for f, v in _pairs(suggested) if key(f, v) not in replaced]
    return [x for f, v in kept + extra for x in (f, v) if x is not None]


def answer(data: dict | None) -> str:
    """A run's answer in the words of expected.json's ``known.answer``."""
    if data is None:
        return "no JSON (see the log)"
    result = (data.get("results") or [data])[0]
    for field, words in (("first_fixed", "first fixed"), ("first_bad", "first bad")):
        if result.get(field):
            return f"{words} {result[field]}"
    return (result.get("message") or result.get("status") or "?").split("\n")[0][:100]


def bisect(path: Path, folder: Path, d, known: dict, args: argparse.Namespace) -> list[str]:
    """Bisect from the generated scenario with the recorded flags added; one table row."""
    flags = merge(d.suggestion.args(), known.get("add", []))
    out = args.cache_dir / f"bisect-{path.stem}.json"
    out.unlink(missing_ok=True)
    proc, took = run_cli(["--scenario", folder, *flags, "--cache-dir", args.cache_dir,
                          "--json", out], cwd=ROOT, timeout=3600)
    (args.cache_dir / f"bisect-{path.stem}.log").write_text(proc.stdout + proc.stderr)
    data = read_json(out)
    got = answer(data)
    same = "yes" if got == known["answer"] or got.startswith(known["answer"] + ":") else "no"
    cached = sum(1 for t in trials(data) if t.get("from_cache"))
    return [path.stem, " ".join(known.get("add", [])) or "-", got, known["answer"], same,
            f"{took:.0f}", f"{len(trials(data)) - cached}/{cached}", str(proc.returncode)]


def one(path: Path, out: Path, args: argparse.Namespace, bisected: list) -> list[str]:
    d = check.dated(draft.build(path.read_text(), path.name), check.Where(args.cache_dir))
    routes = " ".join(f"{r.method} {r.path}" for r in d.routes) or "-"
    row = [path.stem, d.app.kind or "none", routes, ",".join(d.requirements) or "-"]
    if not d.app.found:
        return row + ["no: no app", "-", d.command("DIR")]
    folder = write.write(d, out / path.stem, force=True)
    known = (read_json(path.with_name(path.stem + ".expected.json")) or {}).get("known")
    if args.bisect and known:
        bisected.append(bisect(path, folder, d, known, args))
        print(" | ".join(bisected[-1]), flush=True)
    if args.no_check:
        return row + ["(not checked)", "-", d.command("DIR")]
    began = time.monotonic()
    s = d.suggestion
    try:
        checked, latest = check.run_all(folder, s.target, (s.bad, s.good), s.pins, s.python,
                                        check.Where(args.cache_dir, python=args.python))
    except BadInput as exc:
        return row + [f"no: {exc}"[:60], "-", d.command("DIR")]
    failed = [(bound, r.failures[0]) for bound, r in checked if not r.ok]
    verdict = "yes" if not failed else \
        f"no ({failed[0][0] or 'latest'}): " + failed[0][1].what[:50]
    extra = " --resolve latest" if latest else ""
    return row + [verdict, f"{time.monotonic() - began:.0f}", d.command("DIR") + extra]


def main() -> None:
    args = parse_args()
    reports = [p for p in sorted(REPORTS.glob("*.md")) if not args.only or p.stem in args.only]
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    banner = Banner("real leak reports -> scenarios (scenario from-report)",
                    [f"{len(reports)} reports in {REPORTS}", f"cache: {args.cache_dir}"])
    rows: list[list[str]] = []
    bisected: list[list[str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as tmp:
        for path in reports:
            rows.append(one(path, Path(tmp), args, bisected))
            print(" | ".join(rows[-1]), flush=True)
    print()
    print(table(["report", "app", "routes", "requirements", "runs without edits", "s",
                 "suggested command"], rows))
    runs = sum(1 for r in rows if r[4] == "yes")
    print(f"\n{runs} of {len(rows)} reports give a scenario that runs without edits")
    if bisected:
        print()
        print(table(["report", "flags added to the printed command", "bisection's answer",
                     "known answer", "same", "s", "measured/cached", "exit"], bisected))
        same = sum(1 for r in bisected if r[4] == "yes")
        print(f"\n{same} of {len(bisected)} bisections from generated scenarios give the "
              "known answer")
    banner.end()


if __name__ == "__main__":
    main()
