"""Memory against requests served, one line per tested version (optional: matplotlib)."""

from __future__ import annotations

from pathlib import Path

from bisect_leak.judge.classify import memory_figure
from bisect_leak.run.outcome import Outcome, PythonOutcome

INSTALL_HINT = "pip install 'bisect-leak[plot]'"


def available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def draw(outcome: Outcome, png: Path) -> list[Path]:
    """Write ``png`` and an SVG beside it; returns the paths (empty without matplotlib)."""
    if not available():
        return []
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = [py for py in outcome.results if py.trials]
    fig, axes = plt.subplots(len(results) or 1, 1, figsize=(9, 4.2 * max(1, len(results))),
                             squeeze=False)
    for ax, py in zip(axes[:, 0], results):
        _panel(ax, outcome, py)
    fig.tight_layout()
    svg = png.with_suffix(".svg")
    fig.savefig(png, dpi=110)
    fig.savefig(svg)
    plt.close(fig)
    return [png, svg]


def _panel(ax, outcome: Outcome, py: PythonOutcome) -> None:
    strong = set()
    if py.search and py.search.last_old and py.search.first_new:
        strong = {py.search.last_old, py.search.first_new}
    warmup = outcome.settings.load.warmup if outcome.settings else 0
    ax.axvspan(0, warmup / 1000, color="0.92", label="warm-up (discarded)")
    order = {v: i for i, v in enumerate(py.versions)}
    figure = "memory"  # no trial with samples (all error): an empty panel that says so
    for t in sorted(py.trials.values(), key=lambda t: order.get(t.version, 0)):
        if not t.samples:
            continue
        figure, kib = memory_figure(t.samples)
        xs = [s.requests / 1000 for s in t.samples]
        ys = [k / 1024 for k in kib]
        bold = t.version in strong or not strong
        ax.plot(xs, ys, linewidth=2.4 if bold else 0.9, alpha=1.0 if bold else 0.45,
                label=f"{t.version} ({t.verdict.value})")
    ax.set_xlabel("requests served (thousands)")
    ax.set_ylabel(f"{figure} (MiB)")
    if not any(t.samples for t in py.trials.values()):
        ax.text(0.5, 0.5, "no samples: every trial failed (see the table)", ha="center",
                transform=ax.transAxes)
    name = outcome.plan.name
    scenario = outcome.scenario.name if outcome.scenario else outcome.plan.scenario
    ax.set_title(f"{name} under '{scenario}', Python {py.interpreter.version}")
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
