"""``bisect-leak map``: parse, build a MapPlan, make one call, write the outputs."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bisect_leak.commands.options import run_options
from bisect_leak.errors import BadInput
from bisect_leak.judge.verdict import Signal
from bisect_leak.planning.plan import Plan, Resolve


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(p.strip() for spec in values for p in spec.split(",") if p.strip())


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--package", default="fastapi", show_default=True,
              help="The package whose releases are mapped; extras allowed.")
@click.option("--from", "old", required=True, metavar="VERSION", help="The oldest release.")
@click.option("--to", "new", required=True, metavar="VERSION", help="The newest release.")
@click.option("--python", "pythons", multiple=True, metavar="VERSION[,VERSION]|PATH",
              help="Target Python(s), as for the bisection. Default: the running Python.")
@click.option("--scenario", "scenario_names", multiple=True, metavar="NAME|DIR[,...]",
              help="Scenario(s), a comma list or repeated. Default: hello.")
@click.option("--every", "mode", flag_value="every", help="Measure every release in range.")
@click.option("--edges", "mode", flag_value="edges", default=True,
              help="Both ends of each row, then bisect where they differ (default).")
@click.option("--with", "withs", multiple=True, metavar="PIN", help="Pin another package.")
@click.option("--pre", is_flag=True, help="Include pre-releases between the bounds.")
@run_options
@click.option("--confirm", type=int, default=1, show_default=True, metavar="N",
              help="Measure both cells of every flip N more times, afresh.")
@click.option("--json", "json_path", type=click.Path(path_type=Path), metavar="PATH",
              help="Write every cell, its trial, and the flips as JSON.")
@click.option("--report", "report_path", type=click.Path(path_type=Path), metavar="PATH.md",
              help="Write the Markdown table (and PATH.png/.svg with the plot extra).")
def map_command(old: str, new: str, pythons: tuple[str, ...], scenario_names: tuple[str, ...],
                mode: str, metric: str, resolve: str, jobs: int, dask: str | None, confirm: int,
                **options) -> None:
    """Map leaks over releases x Pythons x scenarios, here or on a Dask cluster."""
    from bisect_leak.map import mapping
    from bisect_leak.map import report as mapreport

    if dask and jobs != 1:
        raise BadInput("--jobs is for cells run here; with --dask each worker runs one "
                       "trial per 'trial' resource")
    base = Plan(pythons=_split(pythons), metric=Signal(metric), resolve=Resolve(resolve),
                withs=tuple(options.pop("withs")), **options)
    plan = mapping.MapPlan(base=base, old=old, new=new,
                           scenarios=_split(scenario_names) or ("hello",),
                           mode=mapping.Mode(mode), jobs=jobs, dask=dask,
                           confirm=confirm)
    for path in (base.json_path, base.report_path):
        if path is not None:
            try:
                path.absolute().parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise BadInput(f"cannot write {path}: {exc.strerror}; choose another path"
                               ) from None
    terminal = mapreport.MapTerminal()
    if jobs > 1:
        terminal.info(f"note: {mapreport.JOBS_NOTE}")
    outcome = mapping.execute(plan, terminal)
    text = mapreport.markdown(outcome)
    terminal.info("\n" + text)
    if base.json_path:
        mapreport.write_json(outcome, base.json_path)
    if base.report_path:
        mapreport.write(text, base.report_path)
        from bisect_leak.map import heatmap

        for path in heatmap.draw(outcome, base.report_path.with_suffix(".png")):
            terminal.info(f"heatmap: {path}")
    sys.exit(int(outcome.exit_code))
