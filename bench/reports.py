"""Real leak reports to scenarios: for each report in tests/data/reports/, what
``bisect-leak scenario from-report`` finds (app, routes, requirements) and whether its
scenario runs without edits (the smoke check passes; the package index is allowed).

Not a test: it prints a table. Each smoke check builds one env (cached in --cache-dir).
Usage: python bench/reports.py [--cache-dir DIR] [--no-check] [--python VERSION]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, TESTS, Banner, table

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
    return p.parse_args()


def one(path: Path, out: Path, args: argparse.Namespace) -> list[str]:
    d = draft.build(path.read_text(), path.name)
    routes = " ".join(f"{r.method} {r.path}" for r in d.routes) or "-"
    row = [path.stem, d.app.kind or "none", routes, ",".join(d.requirements) or "-"]
    if not d.app.found:
        return row + ["no: no app", "-", d.command("DIR")]
    folder = write.write(d, out / path.stem, force=True)
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
    reports = sorted(REPORTS.glob("*.md"))
    banner = Banner("real leak reports -> scenarios (scenario from-report)",
                    [f"{len(reports)} reports in {REPORTS}", f"cache: {args.cache_dir}"])
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as tmp:
        for path in reports:
            rows.append(one(path, Path(tmp), args))
            print(" | ".join(rows[-1]), flush=True)
    print()
    print(table(["report", "app", "routes", "requirements", "runs without edits", "s",
                 "suggested command"], rows))
    runs = sum(1 for r in rows if r[4] == "yes")
    print(f"\n{runs} of {len(rows)} reports give a scenario that runs without edits")
    banner.end()


if __name__ == "__main__":
    main()
