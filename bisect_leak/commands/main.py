"""The command line: parse, build a Plan, make one call, map the outcome to an exit code."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import click

from bisect_leak import __version__
from bisect_leak.commands.options import run_options
from bisect_leak.errors import BadInput, ExitCode, InfrastructureError
from bisect_leak.judge.verdict import Signal
from bisect_leak.planning.plan import INSPECT_FRAMES, Plan, Resolve


def _fail(code: ExitCode, message: str) -> None:
    click.echo(f"bisect-leak: {message}", err=True)
    sys.exit(int(code))


def _on_sigterm(signum, frame) -> None:
    raise KeyboardInterrupt


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--good", metavar="VERSION", help="A release without the leak.")
@click.option("--bad", metavar="VERSION", help="A release with the leak.")
@click.option("--check", "checks", multiple=True, metavar="VERSION",
              help="Measure just this version (repeatable); no search.")
@click.option("--list-scenarios", is_flag=True, help="List the built-in scenarios and exit.")
@click.option("--package", default="fastapi", show_default=True,
              help="The package whose releases are bisected; extras allowed.")
@click.option("--python", "pythons", multiple=True, metavar="VERSION[,VERSION]|PATH",
              help="Target Python(s): 3.7, 3.7.16, a path, or a comma list. "
                   "Default: the Python running bisect-leak.")
@click.option("--with", "withs", multiple=True, metavar="PIN",
              help="Pin another package in every env, e.g. uvicorn==0.17.6 (repeatable).")
@click.option("--pre", is_flag=True, help="Include pre-releases between the bounds.")
@click.option("--fixed", is_flag=True,
              help="Find the fix: --bad leaks, the later --good does not.")
@click.option("--scenario", default="hello", show_default=True, metavar="NAME|DIR",
              help="A built-in scenario or a folder with app.py and scenario.toml.")
@run_options
@click.option("--no-cache", is_flag=True, help="Measure afresh: ignore cached results.")
@click.option("--json", "json_path", type=click.Path(path_type=Path), metavar="PATH",
              help="Write the result as JSON.")
@click.option("--report", "report_path", type=click.Path(path_type=Path), metavar="PATH",
              help="Write a Markdown report.")
@click.option("--inspect", is_flag=True, help="Report which object types and sites grow.")
@click.option("--inspect-frames", type=int, default=INSPECT_FRAMES, show_default=True, metavar="N",
              help="Frames kept per traced allocation: more reach callers further up the "
                   "stack, each makes tracing slower.")
@click.option("--repo", type=click.Path(path_type=Path), metavar="PATH",
              help="A local git clone of the package: bisect on to the commit; bounds and "
                   "checks may then be any commit-ish, or WORKTREE.")
@click.option("--culprit", is_flag=True, help="Find which changed dependency carries the leak.")
@click.option("--confirm", type=int, default=1, show_default=True, metavar="N",
              help="After the search, measure the last good and first bad N more times afresh; "
                   "the answer stands only if every run agrees.")
@click.option("--as-of", hidden=True, metavar="WHEN",
              help="Resolve commits' dependencies as of this time (set by rounds).")
@click.version_option(__version__, prog_name="bisect-leak")
def command(list_scenarios: bool, pythons: tuple[str, ...], metric: str, resolve: str,
            **options) -> None:
    """Find the release in which a Python web stack started (or stopped) leaking memory."""
    if list_scenarios:
        from bisect_leak.planning import scenario

        for name in scenario.builtin_names():
            sc = scenario.load(scenario.BUILTIN_DIR / name)
            click.echo(f"{name:<24} {sc.description}")
        return
    plan = Plan(
        pythons=tuple(p.strip() for spec in pythons for p in spec.split(",") if p.strip()),
        metric=Signal(metric),
        resolve=Resolve(resolve),
        checks=tuple(options.pop("checks")),
        withs=tuple(options.pop("withs")),
        **options,
    )
    from bisect_leak.reporting import terminal as report
    from bisect_leak.run import runner

    for path in (plan.json_path, plan.report_path):
        if path is not None:
            try:
                path.absolute().parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise BadInput(
                    f"cannot write {path}: {exc.strerror}; choose another path"
                ) from None
    terminal = report.Terminal()
    outcome = runner.execute(plan, terminal)
    terminal.summary(outcome)
    if plan.json_path:
        from bisect_leak.reporting import schema

        schema.write_json(outcome, plan.json_path)
    if plan.report_path:
        from bisect_leak.reporting import markdown as evidence

        evidence.write_markdown(outcome, plan.report_path)
    sys.exit(int(outcome.exit_code))


def main(argv: list[str] | None = None) -> None:
    signal.signal(signal.SIGTERM, _on_sigterm)
    args = sys.argv[1:] if argv is None else argv
    try:
        if args[:1] == ["cache"]:
            from bisect_leak.commands.cache import cache_command

            cache_command.main(args[1:], prog_name="bisect-leak cache", standalone_mode=False)
            return
        if args[:1] == ["scenario"]:
            from bisect_leak.commands.scenario import scenario_command

            scenario_command.main(args[1:], prog_name="bisect-leak scenario",
                                  standalone_mode=False)
            return
        if args[:1] == ["map"]:
            from bisect_leak.commands.map import map_command

            map_command.main(args[1:], prog_name="bisect-leak map", standalone_mode=False)
            return
        command.main(args, prog_name="bisect-leak", standalone_mode=False)
    except BadInput as exc:
        _fail(ExitCode.BAD_INPUT, str(exc))
    except InfrastructureError as exc:
        _fail(ExitCode.INFRASTRUCTURE, str(exc))
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(int(ExitCode.BAD_INPUT))
    except click.exceptions.Abort:
        _fail(ExitCode.INTERRUPTED, "interrupted")
    except KeyboardInterrupt:
        _fail(ExitCode.INTERRUPTED, "interrupted")
    except Exception as exc:  # a bug of ours: never exit 1 ("no answer") for it
        import traceback

        traceback.print_exc()
        _fail(ExitCode.INFRASTRUCTURE, f"internal error: {type(exc).__name__}: {exc} "
              "(a bug in bisect-leak: please report it with the traceback above)")
