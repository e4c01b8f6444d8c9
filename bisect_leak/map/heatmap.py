"""The map as a heatmap: releases down, Python x scenario across, colour by verdict, the
figure in each cell (optional: matplotlib, the ``plot`` extra)."""

from __future__ import annotations

from pathlib import Path

from bisect_leak.judge.units import UNITS
from bisect_leak.map.grid import Cell
from bisect_leak.map.mapping import MapOutcome
from bisect_leak.map.report import candidates, value_unit
from bisect_leak.reporting import plot

COLOURS = {"leaking": "#d7301f", "stable": "#74c476", "inconclusive": "#fec44f",
           "error": "#969696", "unmeasured": "#ffffff", "n/a": "#f0f0f0"}


def draw(outcome: MapOutcome, png: Path) -> list[Path]:
    """Write ``png`` and an SVG beside it; returns the paths (empty without matplotlib)."""
    if not plot.available() or not outcome.rows:
        return []
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch, Rectangle

    versions = candidates(outcome)
    rows = outcome.rows
    fig, ax = plt.subplots(figsize=(2.0 + 1.9 * len(rows), 1.4 + 0.34 * len(versions)))
    for y, v in enumerate(versions):
        for x, r in enumerate(rows):
            kind, text = _cell(outcome, r, v)
            ax.add_patch(Rectangle((x, y), 1, 1, facecolor=COLOURS[kind], edgecolor="white"))
            if text:
                ax.text(x + 0.5, y + 0.5, text, ha="center", va="center", fontsize=8)
    ax.set_xlim(0, len(rows))
    ax.set_ylim(len(versions), 0)
    ax.set_xticks([x + 0.5 for x in range(len(rows))])
    ax.set_xticklabels([r.row.label.replace(" / ", "\n") for r in rows], fontsize=8)
    ax.xaxis.tick_top()
    ax.set_yticks([y + 0.5 for y in range(len(versions))])
    ax.set_yticklabels(versions, fontsize=8)
    plan = outcome.plan
    threshold = rows[0].prober.settings.threshold
    ax.set_title(f"{plan.base.name} {plan.old} .. {plan.new}: {plan.base.metric.value}, "
                 f"{UNITS[plan.base.metric]} (threshold {threshold:g}; --{plan.mode.value})",
                 fontsize=9, pad=28)
    kinds = ["leaking", "stable", "inconclusive", "error", "unmeasured"]
    ax.legend(handles=[Patch(facecolor=COLOURS[k], edgecolor="0.6", label=k) for k in kinds],
              loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    fig.tight_layout()
    svg = png.with_suffix(".svg")
    fig.savefig(png, dpi=110)
    fig.savefig(svg)
    plt.close(fig)
    return [png, svg]


def _cell(outcome: MapOutcome, row, version: str) -> tuple[str, str]:
    if version not in row.versions:
        return "n/a", ""
    result = outcome.cells.get(Cell(version, row.row))
    if result is None:
        return "unmeasured", "·"
    value, _ = value_unit(result.trial)
    kind = result.trial.verdict.value
    return kind, (f"{value:+.1f}" if value is not None else kind)
