"""The options the bisection and the map share, declared once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from bisect_leak.judge.verdict import Signal
from bisect_leak.planning.plan import Resolve

_SHARED = [
    click.option("--warmup", type=int, metavar="N",
                 help="Requests before measuring starts (the scenario's load.warmup)."),
    click.option("--requests", type=int, metavar="N",
                 help="Requests measured after warm-up before the first verdict."),
    click.option("--concurrency", type=int, metavar="N", help="Open connections."),
    click.option("--metric", type=click.Choice([s.value for s in Signal]), default="growth",
                 show_default=True, help="The signal that decides the verdict."),
    click.option("--threshold", type=float, metavar="KIB",
                 help="Growth in KiB per 1,000 requests after warm-up that counts as a leak."),
    click.option("--resolve", type=click.Choice([r.value for r in Resolve]),
                 default="release-date", show_default=True,
                 help="Resolve other dependencies as of each release's date, or the latest."),
    click.option("--index-url", metavar="URL", help="A PEP 691 package index."),
    click.option("--find-links", type=click.Path(path_type=Path), metavar="DIR",
                 help="A folder of wheels to take releases from."),
    click.option("--no-index", is_flag=True, help="Use only --find-links: fully offline."),
    click.option("--cache-dir", type=click.Path(path_type=Path), default=Path("cache"),
                 show_default=True, help="Where envs and results are kept."),
    click.option("--jobs", type=int, default=1, show_default=True, metavar="N",
                 help="Trials measured at once on this machine (rounds of N candidates)."),
    click.option("--dask", metavar="tcp://HOST:PORT",
                 help="Measure on a Dask cluster's workers (one trial per worker)."),
]


def run_options(command: Callable) -> Callable:
    """Load, signal, resolution, index, cache and worker options, in this order in --help."""
    for option in reversed(_SHARED):
        command = option(command)
    return command
