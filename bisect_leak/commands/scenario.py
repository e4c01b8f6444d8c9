"""``bisect-leak scenario from-report REPORT -o DIR``: the click shell (read, draft, write,
smoke check, print the command to run)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bisect_leak.errors import BadInput, ExitCode

GITHUB_ISSUE = r"^https://github\.com/([\w.-]+)/([\w.-]+)/(issues|pull)/(\d+)"
FETCH_TIMEOUT = 20.0


def read_report(where: str) -> tuple[str, str]:
    """(text, source) of a Markdown file, ``-`` (stdin) or a GitHub issue URL."""
    import re

    if where == "-":
        return sys.stdin.read(), "stdin"
    m = re.match(GITHUB_ISSUE, where)
    if m:
        return fetch_issue(*m.group(1, 2, 4)), where
    path = Path(where)
    if not path.is_file():
        raise BadInput(f"report {where!r} is neither a file, '-' nor a GitHub issue URL")
    return path.read_text(errors="replace"), path.name


def fetch_issue(owner: str, repo: str, number: str) -> str:
    """The issue's title, body and comments from api.github.com, as Markdown."""
    import httpx

    base = f"https://api.github.com/repos/{owner}/{repo}/issues/{number}"
    headers = {"accept": "application/vnd.github+json"}
    try:
        with httpx.Client(timeout=FETCH_TIMEOUT, headers=headers) as client:
            issue = client.get(base)
            issue.raise_for_status()
            comments = client.get(base + "/comments", params={"per_page": 100})
            comments.raise_for_status()
    except httpx.HTTPError as exc:
        raise BadInput(f"cannot fetch {owner}/{repo}#{number} from api.github.com "
                       f"({type(exc).__name__}): save the issue as Markdown and pass the file"
                       ) from None
    data = issue.json()
    parts = [f"# {data.get('title', '')}", data.get("body") or ""]
    parts += [f"{c.get('user', {}).get('login', '')} · comment\n{c.get('body') or ''}"
              for c in comments.json()]
    return "\n\n".join(parts)


@click.group()
def scenario_command() -> None:
    """Scenario folders."""


@scenario_command.command("from-report")
@click.argument("report")
@click.option("-o", "--output", "output", type=click.Path(path_type=Path), required=True,
              metavar="DIR", help="The scenario folder to write.")
@click.option("--check/--no-check", default=True, show_default=True,
              help="Start the server in the suggested env and send every request once.")
@click.option("--force", is_flag=True, help="Replace DIR if it exists.")
@click.option("--cache-dir", type=click.Path(path_type=Path), default=Path("cache"),
              show_default=True)
@click.option("--python", default="", metavar="VERSION|PATH",
              help="Check on this Python instead of the report's.")
@click.option("--index-url", default=None)
@click.option("--find-links", type=click.Path(path_type=Path), default=None)
@click.option("--no-index", is_flag=True)
def from_report(report: str, output: Path, check: bool, force: bool, cache_dir: Path,
                python: str, index_url: str | None, find_links: Path | None,
                no_index: bool) -> None:
    """Write a scenario folder from a leak report (Markdown file, - or a GitHub issue URL)."""
    from bisect_leak.fromreport import check as checks
    from bisect_leak.fromreport import draft as drafts
    from bisect_leak.fromreport import write

    text, source = read_report(report)
    where = checks.Where(cache_dir, index_url, find_links, no_index, python)
    draft = checks.dated(drafts.build(text, source), where)
    folder = write.write(draft, output, force=force)
    click.echo(f"wrote {folder}/app.py and scenario.toml")
    for note in (*draft.app.notes, *draft.notes, *draft.load.why, *draft.suggestion.why):
        click.echo(f"  - {note}")
    for problem in draft.problems():
        click.echo(f"  ! {problem}")
    for route in draft.routes:
        click.echo(f"  request: {route.method} {route.path}")
    exit_code, extra = ExitCode.ANSWER, []
    if check:
        exit_code, extra = _check(draft, folder, cache_dir, python, index_url, find_links,
                                  no_index)
    click.echo(f"run: {' '.join([draft.command(str(folder)), *extra])}")
    sys.exit(int(exit_code))


def _check(draft, folder: Path, cache_dir: Path, python: str, index_url, find_links,
           no_index: bool) -> tuple[ExitCode, list[str]]:
    from bisect_leak.fromreport import check

    s = draft.suggestion
    where = check.Where(cache_dir, index_url, find_links, no_index, python)

    def announce(bound: str, latest: bool) -> None:
        click.echo(f"smoke check: {s.target}{'==' + bound if bound else ''} "
                   f"{' '.join(s.pins)} on Python {python or s.python or 'the current one'}"
                   + (", resolved as of today" if latest else "") + " ...")

    checked, latest = check.run_all(folder, s.target, (s.bad, s.good), s.pins, s.python,
                                    where, announce)
    if latest:
        click.echo("  the pins need dependencies newer than the release's day: "
                   "--resolve latest added to the command")
    for bound, result in checked:
        for request, got in result.answers:
            click.echo(f"  {s.target}{'==' + bound if bound else ''}: {request}: {got}")
        for failure in result.failures:
            click.echo(f"  FAILED: {failure.what}")
            if failure.detail:
                click.echo("    " + failure.detail.strip().replace("\n", "\n    "))
            click.echo(f"  fix to try: {failure.fix}")
    ok = all(result.ok for _, result in checked)
    click.echo("smoke check: " + ("passed" if ok else "failed"))
    extra = ["--resolve", "latest"] if latest else []
    return (ExitCode.ANSWER if ok else ExitCode.NO_ANSWER), extra
