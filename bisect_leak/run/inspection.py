"""``--inspect``: once the answer is known, re-run its versions briefly under the launcher.

The search's trials run plain uvicorn, so inspecting costs nothing while bisecting. After the
answer, the last good and the first bad (with ``--check``, each version checked that got a
verdict) run once more: the scenario's warm-up untraced, then a window of ``WINDOW``
requests between the launcher's baseline (type counts; tracemalloc starts, 8 frames) and
its diff (what was allocated in the window and is still alive, by line with its heaviest
stacks; counts again). For a found pair, :mod:`line_answer` then names the changed lines
that allocate what grows.

Why 2,000 requests: a leak of one object per request shows as +2,000 objects of its type,
while a keep-alive server's objects in flight are bounded by its concurrency (the toy's
stable release: +176 int, +51 TimerHandle); a leak at the default threshold (25 bytes per
request) leaves about 49 KiB at its line, against 4-7 KiB at the busiest stable lines. A
longer window names nothing more and costs more: tracemalloc slows every allocation
(2-3x per request on 3.12 with h11), and 5,000 requests made a toy bisection 1.6x slower.
One frame names the allocating line, which for a kept object is the line that keeps it;
the line answer needs the stack up to the package's own code (a helper, a dependency or
asyncio allocates; a changed call in the package leads there). On uvicorn 0.14.0's leak
the changed calls sat 1-3 frames above the allocation, so 8 frames; each extra frame makes
every allocation dearer, about linearly (25 frames made the toy's window 13x slower than
one frame on 3.12, 8 frames about 4x: probe/launcher.py has the figures).
"""

from __future__ import annotations

from dataclasses import replace

from bisect_leak.environments.env import EnvBuildError
from bisect_leak.judge.verdict import Verdict
from bisect_leak.measure import inspector, trial
from bisect_leak.measure.trial import Settings
from bisect_leak.planning.plan import INSPECT_FRAMES
from bisect_leak.run import line_answer
from bisect_leak.run.prober import Prober

WINDOW = 2000  # requests traced after the warm-up (see the module docstring)


def settings_for(settings: Settings, frames: int = INSPECT_FRAMES) -> Settings:
    """The short inspected run: the scenario's warm-up, then the window alone, tracing
    ``frames`` frames per allocation."""
    window = min(settings.load.requests, WINDOW)
    load = replace(settings.load, requests=window, max_requests=window)
    return replace(settings, load=load, inspect=True, inspect_frames=frames)


def targets(prober: Prober) -> list[str]:
    """The versions worth naming what grows in: the answer's pair, or the checked versions."""
    py = prober.py
    if py.search is not None:
        found = py.search.found and py.search.last_old and py.search.first_new
        return [py.search.last_old, py.search.first_new] if found else []
    return [v for v, t in py.trials.items() if t.verdict is not Verdict.ERROR]


def inspect(prober: Prober) -> None:
    """Attach what grows (``TrialResult.inspect``) to each target's trial, and say it; for a
    found pair, the changed lines that allocate it (``PythonOutcome.lines``, issue 16)."""
    settings = settings_for(prober.settings, prober.plan.inspect_frames)
    python = prober.py.interpreter.version
    for version in targets(prober):
        label = f"{prober.plan.name} {version} on Python {python}"
        prober.reporter.progress(f"inspecting {label}: {settings.load.warmup:,} warm-up "
                                 f"+ {settings.load.requests:,} traced requests")
        found = _inspect_one(prober, version, settings)
        prober.py.trials[version].inspect = found
        if "types" in found:
            prober.reporter.info(f"{version} on Python {python}: {inspector.describe(found)}")
        else:
            prober.reporter.info(f"{version} on Python {python}: inspection failed: "
                                 f"{found.get('error', 'no answer')}")
    prober.py.lines = line_answer.for_pair(prober)


def _inspect_one(prober: Prober, version: str, settings: Settings) -> dict:
    try:
        env = prober.store.env(prober.spec(version))
    except EnvBuildError as exc:
        return {"error": f"env build failed: {exc}"}
    run = trial.run(env, version, prober.scenario, settings, progress=prober.reporter.progress)
    found = dict(run.inspect or {})
    if run.verdict is Verdict.ERROR:
        found.setdefault("error", run.reason)
        found["stderr_tail"] = run.stderr_tail
    found.update(warmup=settings.load.warmup, window=settings.load.requests,
                 requests=run.requests, seconds=round(run.seconds, 2))
    return found
