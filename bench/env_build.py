"""Env build time: uv vs venv + pip for the same FastAPI release, interleaved.

Every build is ``bisect_leak.environments.env.build(spec, TEMPDIR)`` (``uv=None``: uv; ``uv=""``:
venv + pip) for ``fastapi==0.69.0`` + ``uvicorn`` (``--requirement`` to change) on
Python 3.7 when one is found and it builds, else the Python running the
bench. Four sides, in turn each round (uv-cold, uv-warm, pip-warm, pip-cold):

- uv-cold:  ``UV_CACHE_DIR`` a fresh empty dir (downloads everything);
- uv-warm:  ``UV_CACHE_DIR`` a dir filled by one unmeasured build first;
- pip-warm: pip's normal caching, in ``PIP_CACHE_DIR`` filled by one unmeasured build first;
- pip-cold: ``PIP_NO_CACHE_DIR=1``.

Prints the median seconds per side and the uv/pip ratios (warm/warm, cold/cold).

Not a test: it prints figures. Usage: python bench/env_build.py [--rounds 3] [--help]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _common import Banner, fmt, median, ratio, table, toy

from bisect_leak.environments import env as envs
from bisect_leak.environments import interpreters
from bisect_leak.errors import BadInput

SIDES = ("uv-cold", "uv-warm", "pip-warm", "pip-cold")
TARGET = 0.2
DEFAULT_REQUIREMENTS = ("fastapi==0.69.0", "uvicorn")
PIP_CONFIGS = ("/etc/pip.conf", "~/.config/pip/pip.conf", "~/.pip/pip.conf")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=3, help="builds per side (default 3)")
    p.add_argument("--python", help="target Python: a version (3.7) or a path "
                                    "(default: 3.7 if usable, else the running Python)")
    p.add_argument("--requirement", "-r", action="append", dest="requirements",
                   help=f"a requirement (repeatable; default: {' '.join(DEFAULT_REQUIREMENTS)})")
    p.add_argument("--work-dir", type=Path,
                   help="where envs and caches go (default: a temp dir, removed at the end)")
    return p.parse_args()


@contextlib.contextmanager
def environ(changes: dict[str, str]):
    """``envs.build`` copies os.environ for its installers: set the side's variables there."""
    saved = {k: os.environ.get(k) for k in changes}
    os.environ.update(changes)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class Sides:
    def __init__(self, work: Path, spec: envs.EnvSpec):
        self.work, self.spec = work, spec
        self.uv_warm = work / "uv-warm-cache"
        self.pip_cache = work / "pip-cache"
        self.count = 0

    def build(self, side: str) -> tuple[float, str]:
        """Seconds for one build of ``side`` (the env is deleted afterwards), and an error."""
        self.count += 1
        dest = self.work / f"env-{self.count}-{side}"
        fresh = self.work / f"uv-cold-cache-{self.count}"
        changes = {
            "uv-cold": {"UV_CACHE_DIR": str(fresh)},
            "uv-warm": {"UV_CACHE_DIR": str(self.uv_warm)},
            "pip-warm": {"PIP_CACHE_DIR": str(self.pip_cache), "PIP_NO_CACHE_DIR": ""},
            "pip-cold": {"PIP_NO_CACHE_DIR": "1"},
        }[side]
        changes = {k: v for k, v in changes.items() if v}
        unset = [k for k in ("PIP_NO_CACHE_DIR",) if side == "pip-warm" and k in os.environ]
        held = {k: os.environ.pop(k) for k in unset}
        error = ""
        try:
            with environ(changes):
                start = time.monotonic()
                try:
                    envs.build(self.spec, dest, uv=None if side.startswith("uv") else "")
                except envs.EnvBuildError as exc:
                    error = f"{exc}\n{exc.tail}"
                seconds = time.monotonic() - start
        finally:
            os.environ.update(held)
            shutil.rmtree(dest, ignore_errors=True)
            shutil.rmtree(fresh, ignore_errors=True)
        return seconds, error


def choose_python(args) -> tuple[list[interpreters.Interpreter], bool]:
    """Candidates in order, and whether the choice was the user's."""
    if args.python:
        return [interpreters.find(args.python)], True
    found = []
    with contextlib.suppress(BadInput):
        found.append(interpreters.find("3.7"))
    found.append(interpreters.find(str(toy().base_python())))
    return found, False


def main() -> int:
    args = parse_args()
    requirements = tuple(args.requirements or DEFAULT_REQUIREMENTS)
    candidates, explicit = choose_python(args)
    notes = ["installer output is not shown; each env is deleted after it is timed"]
    notes += [f"pip reads {p} (uv does not)" for p in PIP_CONFIGS if Path(p).expanduser().is_file()]
    banner = Banner(f"env build: uv vs venv + pip for {' '.join(requirements)}", notes)
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="bisect-leak-bench-env-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        sides = None
        for interp in candidates:
            spec = envs.EnvSpec(python=str(interp.path), python_version=interp.version,
                                requirements=requirements)
            sides = Sides(work, spec)
            print(f"   target Python {interp.version} ({interp.path}); priming the uv and pip "
                  "caches with one unmeasured build each", flush=True)
            uv_s, uv_err = sides.build("uv-warm")
            pip_s, pip_err = sides.build("pip-warm")
            print(f"   priming: uv {uv_s:.1f} s{' FAILED' if uv_err else ''}, "
                  f"pip {pip_s:.1f} s{' FAILED' if pip_err else ''}", flush=True)
            for name, err in (("uv", uv_err), ("venv + pip", pip_err)):
                if err:
                    print(f"   {name} cannot build on Python {interp.version}:\n      "
                          + "\n      ".join(err.strip().splitlines()[-4:]), flush=True)
            if not (uv_err or pip_err):
                break
            if explicit or interp is candidates[-1]:
                print("no Python on which both installers work", file=sys.stderr)
                return 3
            print("   falling back to the next Python\n", flush=True)
        assert sides is not None
        times: dict[str, list[float]] = {s: [] for s in SIDES}
        errors = 0
        for rnd in range(args.rounds):
            for side in SIDES:
                seconds, err = sides.build(side)
                if err:
                    errors += 1
                    print(f"   {side} failed: {err.strip().splitlines()[-1]}", file=sys.stderr)
                else:
                    times[side].append(seconds)
                print(f"   round {rnd + 1}/{args.rounds} {side:<8} {seconds:6.1f} s"
                      + (" FAILED" if err else ""), flush=True)
    finally:
        if args.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)
    print()
    med = {s: median(times[s]) for s in SIDES}
    rows = [[s, fmt(med[s], ".2f"), fmt(min(times[s], default=None), ".2f"),
             fmt(max(times[s], default=None), ".2f"), str(len(times[s]))] for s in SIDES]
    print(f"env build seconds, Python {sides.spec.python_version}, "
          f"{' '.join(requirements)}, {args.rounds} rounds interleaved:")
    print(table(["side", "median s", "min", "max", "builds"], rows))
    print()
    for a, b in (("uv-warm", "pip-warm"), ("uv-cold", "pip-cold"), ("uv-cold", "pip-warm")):
        r = ratio(med[a], med[b])
        print(f"ratio {a}/{b}: {fmt(r, '.3f')}"
              + ("" if r != r else f" ({'meets' if r <= TARGET else 'above'} the {TARGET} "
                                   "target)"))
    banner.end()
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
