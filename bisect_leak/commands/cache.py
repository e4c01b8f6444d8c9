"""``bisect-leak cache``: see what the cache holds and free it, oldest envs first."""

from __future__ import annotations

from pathlib import Path

import click

from bisect_leak.environments.store import Store


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


@click.group(invoke_without_command=True)
@click.option("--cache-dir", type=click.Path(path_type=Path), default=Path("cache"),
              show_default=True)
@click.pass_context
def cache_command(ctx: click.Context, cache_dir: Path) -> None:
    """List the cache's envs and results with their sizes."""
    ctx.obj = cache_dir
    if ctx.invoked_subcommand is None:
        if not (cache_dir / "index.sqlite").exists():
            click.echo(f"{cache_dir}: empty")
            return
        entries = Store(cache_dir).open().entries()
        for e in entries:
            click.echo(f"{e.kind:<7} {e.key}  {_size(e.size_bytes):>10}  {e.label}")
        total = sum(e.size_bytes for e in entries)
        envs = sum(1 for e in entries if e.kind == "env")
        click.echo(f"{envs} env(s), {len(entries) - envs} result(s), {_size(total)} in {cache_dir}")


@cache_command.command("clean")
@click.option("--keep", default="0", metavar="SIZE",
              help="Keep this much of the newest envs, e.g. 2GiB (default: free everything).")
@click.pass_obj
def clean(cache_dir: Path, keep: str) -> None:
    """Free envs, least recently used first."""
    if not (cache_dir / "index.sqlite").exists():
        click.echo(f"{cache_dir}: nothing to clean")
        return
    removed = Store(cache_dir).open().clean(keep_bytes=_parse_size(keep))
    freed = sum(e.size_bytes for e in removed)
    click.echo(f"removed {len(removed)} env(s), {_size(freed)} freed")


def _parse_size(text: str) -> int:
    units = {"": 1, "b": 1, "kib": 2**10, "mib": 2**20, "gib": 2**30, "k": 2**10, "m": 2**20,
             "g": 2**30}
    number = text.rstrip("bBkKmMgGiI")
    unit = text[len(number):].lower()
    try:
        return int(float(number) * units[unit])
    except (ValueError, KeyError):
        raise click.BadParameter(f"{text!r} is not a size such as 500MiB or 2GiB") from None
