"""Env builds only, for the seed's own setup (issue 16): every FastAPI release from 0.65.2
to 0.75.0 on Python 3.8 with ``--with uvicorn==0.17.6`` and the default resolution.

Prints, per release, the day its dependencies are resolved as of (pulled forward by the
pin's upload day), whether the env built, how long it took, and the versions of asgiref,
pydantic, starlette and uvicorn in it. Needs the index (PyPI) and Python 3.8.

Not a test: it prints figures. Usage: python bench/seed_envs.py [--cache-dir DIR]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bisect_leak.candidates import releases
from bisect_leak.environments import env as envs
from bisect_leak.environments import interpreters, resolution
from bisect_leak.environments.store import Store
from bisect_leak.planning import scenario as scenarios
from bisect_leak.planning.plan import Plan
from bisect_leak.run import runner
from bisect_leak.run.outcome import PythonOutcome
from bisect_leak.run.prober import Prober

SHOWN = ("asgiref", "pydantic", "starlette", "uvicorn")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", type=Path, default=Path("cache"))
    args = parser.parse_args()
    plan = Plan(good="0.65.2", bad="0.75.0", withs=("uvicorn==0.17.6",), pythons=("3.8",),
                cache_dir=args.cache_dir)
    scenario = scenarios.resolve("hello")
    interp = interpreters.find("3.8")
    selection = releases.select(runner.available_releases(plan, releases.fetch_index),
                                "fastapi", "0.65.2", "0.75.0", python_version=interp.version)
    pins = resolution.pin_uploads(plan.withs, plan.effective_index)
    store = Store(plan.cache_dir).open()
    envs.uv_binary()
    py = PythonOutcome(interpreter=interp, versions=selection.versions)
    prober = Prober(plan, scenario, runner.settings_for(plan, scenario), store,
                    None, py, selection, pin_uploads=pins)  # type: ignore[arg-type]
    built = 0
    for version in selection.versions:
        spec, chosen = prober.spec(version), prober.as_of(version)
        began = time.monotonic()
        try:
            env = store.env(spec)
        except envs.EnvBuildError as exc:
            print(f"{version:>8}  as of {spec.exclude_newer}  FAILED  {exc}")
            continue
        built += 1
        shown = [f for f in env.freeze if f.split("==")[0] in SHOWN]
        print(f"{version:>8}  as of {spec.exclude_newer}  built "
              f"{time.monotonic() - began:5.1f} s  {' '.join(shown)}")
    print(f"{built}/{len(selection.versions)} envs built; "
          f"why: {chosen.why if chosen else 'no resolution date'}")


if __name__ == "__main__":
    main()
