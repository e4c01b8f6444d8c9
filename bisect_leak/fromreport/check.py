"""The smoke check: the scenario's server starts in the suggested env and every request
answers once, as expected. Reuses the cache's envs, ``server.Server`` and ``load``'s wire
format; each failure comes with the fix to try (``fix_for``, pure)."""

from __future__ import annotations

import asyncio
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bisect_leak.candidates import releases
from bisect_leak.environments import interpreters
from bisect_leak.environments.env import EnvBuildError, EnvSpec
from bisect_leak.environments.store import Store
from bisect_leak.errors import BadInput, InfrastructureError
from bisect_leak.fromreport import versions
from bisect_leak.fromreport.draft import Draft
from bisect_leak.measure import load
from bisect_leak.measure.server import HOST, Server, ServerError
from bisect_leak.planning import scenario
from bisect_leak.run.prober import RESOLVE_MARGIN, is_exact_pin

REQUEST_TIMEOUT = 10.0


@dataclass(frozen=True)
class Failure:
    what: str
    fix: str
    detail: str = ""


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    env: tuple[str, ...] = ()  # the requirements installed
    answers: tuple[tuple[str, str], ...] = ()  # (request, status or error)
    failures: tuple[Failure, ...] = field(default=())


@dataclass(frozen=True)
class Where:
    """Where envs come from: the cache and the index options of a run."""

    cache_dir: Path
    index_url: str | None = None
    find_links: Path | None = None
    no_index: bool = False
    python: str = ""  # a version or a path; "" = the suggested one, else this Python


def env_requirements(package: str, bad: str, sc: scenario.Scenario,
                     pins: tuple[str, ...]) -> tuple[str, ...]:
    """The package at the suggested version, the scenario's requirements, the pins, uvicorn
    (the same shape as a bisection's env; pure)."""
    def name(r: str) -> str:
        return re.split(r"[<>=!~\[ ;]", r, maxsplit=1)[0].lower().replace("_", "-")
    pinned = {name(p) for p in pins} | {name(package)}
    reqs = [f"{package}=={bad}" if bad else package]
    reqs += [r for r in sc.requirements if name(r) not in pinned]
    reqs += [p for p in pins if name(p) != name(package)]
    if not any(name(r) == "uvicorn" for r in reqs):
        reqs.append("uvicorn")
    return tuple(reqs)


def run_all(folder: Path, package: str, bounds: tuple[str, ...], pins: tuple[str, ...],
            python: str, where: Where, announce=lambda bound, latest: None,
            ) -> tuple[list[tuple[str, CheckResult]], bool]:
    """The check at each suggested bound (--bad, then --good; the latest when none),
    resolved as of the release's day as a bisection does. When a pin needs dependencies
    newer than that day, every bound is checked again as of today and the second value
    says --resolve latest is needed."""
    results: dict[str, CheckResult] = {}
    latest = False
    for bound in distinct(bounds):
        announce(bound, latest)
        result = run(folder, package, bound, pins, python, where, latest=latest)
        if not result.ok and not latest and _needs_latest(result):
            again = run(folder, package, bound, pins, python, where, latest=True)
            if again.ok:
                latest, result = True, again
                for earlier in results:
                    announce(earlier, True)
                    results[earlier] = run(folder, package, earlier, pins, python, where,
                                           latest=True)
        results[bound] = result
    return list(results.items()), latest


def _needs_latest(result: CheckResult) -> bool:
    return any("--resolve latest" in f.fix for f in result.failures)


def run(folder: Path, package: str, bad: str, pins: tuple[str, ...], python: str,
        where: Where, *, latest: bool = False) -> CheckResult:
    sc = scenario.load(folder)
    interp = interpreters.find(where.python or python or sys.executable)
    reqs = env_requirements(package, bad, sc, pins)
    exclude_newer = None if latest else _resolved_as_of(package, bad, where)
    spec = EnvSpec(python=str(interp.path), python_version=interp.version, requirements=reqs,
                   overrides=tuple(r for r in reqs if "==" in r),
                   index_url=where.index_url,
                   find_links=str(where.find_links.resolve()) if where.find_links else None,
                   no_index=where.no_index, exclude_newer=exclude_newer,
                   exempt=tuple(sorted({_name(p) for p in pins if is_exact_pin(p)}))
                   if exclude_newer else ())
    try:
        env = Store(where.cache_dir).open().env(spec)
    except EnvBuildError as exc:
        return CheckResult(False, reqs, failures=(Failure(
            f"the env did not build on Python {interp.version}: {exc}",
            fix_for_build(exc.tail, pins), exc.tail),))
    server = Server(env.python, folder)
    try:
        server.start(timeout=60.0)
        if sc.load.connection is scenario.Connection.CONNECT_AND_CLOSE:
            answers = asyncio.run(_ping(server.port))
        else:
            answers = asyncio.run(_send_each(sc.requests, server.port))
    except ServerError as exc:
        return CheckResult(False, reqs, failures=(Failure(
            f"the server did not start: {exc}", fix_for(exc.stderr_tail), exc.stderr_tail),))
    finally:
        tail = server.stderr_tail()
        server.close()
    failures = [Failure(f"{req} answered {got}", fix_for_status(got, tail), tail)
                for req, got, ok in answers if not ok]
    return CheckResult(not failures, reqs, tuple((r, g) for r, g, _ in answers),
                       tuple(failures))


def distinct(bounds: tuple[str, ...]) -> list[str]:
    """The versions to check: each bound given once, or "" (the latest) when none is."""
    return list(dict.fromkeys(b for b in bounds if b)) or [""]


def _name(requirement: str) -> str:
    return canonicalize_name(Requirement(requirement).name)


def dated(d: Draft, where: Where) -> Draft:
    """The draft with --bad from the report's date when its text names no version of the
    package under test (the index's upload times; not offline, nor from a wheelhouse)."""
    if d.suggestion.bad or d.reported is None or where.no_index or where.find_links:
        return d
    try:
        found = releases.parse_simple_json(releases.fetch_index(
            d.suggestion.package, where.index_url or releases.DEFAULT_INDEX))
    except (InfrastructureError, BadInput):  # offline, or not on this index: no date bound
        return d
    bad = versions.current_at(found, d.reported)
    uploaded = next((r.uploaded.date() for r in found if str(r.version) == bad), None)
    return replace(d, suggestion=versions.dated(d.suggestion, d.reported, bad, uploaded))


def _resolved_as_of(package: str, bad: str, where: Where) -> str | None:
    """As a bisection resolves: the index as it stood a day after ``bad`` was uploaded
    (None without a version, or with a local wheelhouse)."""
    if not bad or where.no_index or where.find_links:
        return None
    name = Requirement(package).name
    found = releases.parse_simple_json(
        releases.fetch_index(name, where.index_url or releases.DEFAULT_INDEX))
    uploaded = next((r.uploaded for r in found if str(r.version) == bad), None)
    if uploaded is None:
        return None
    return (uploaded + RESOLVE_MARGIN).strftime("%Y-%m-%dT%H:%M:%SZ")


async def _ping(port: int) -> list[tuple[str, str, bool]]:
    """Connect-and-close scenarios send no request: one connection, half-closed, closed."""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port),
                                           REQUEST_TIMEOUT)
        if writer.can_write_eof():
            writer.write_eof()
        writer.close()
    except (OSError, asyncio.TimeoutError) as exc:
        return [("TCP ping", f"{type(exc).__name__}: {exc}", False)]
    return [("TCP ping (connect, half-close, close)", "accepted", True)]


async def _send_each(requests, port: int) -> list[tuple[str, str, bool]]:
    out = []
    for req in requests:
        label = f"{req.method} {req.path}"
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port),
                                                    REQUEST_TIMEOUT)
            try:
                writer.write(load.encode(req, HOST, port, close=True))
                status, _ = await asyncio.wait_for(load.read_response(reader), REQUEST_TIMEOUT)
            finally:
                writer.close()
        except asyncio.TimeoutError:
            out.append((label, f"nothing within {REQUEST_TIMEOUT:.0f} s", False))
            continue
        except (OSError, asyncio.IncompleteReadError, load.ResponseError) as exc:
            out.append((label, f"{type(exc).__name__}: {exc}", False))
            continue
        ok = status == req.expect if req.expect is not None else status < 400
        out.append((label, str(status), ok))
    return out


def fix_for(stderr: str) -> str:
    """The fix to try for a server that did not start, read from its stderr (pure)."""
    m = re.search(r"No module named '([\w.]+)'", stderr)
    if m:
        return (f"add the distribution of `{m.group(1).split('.')[0]}` to `requirements` in "
                "scenario.toml")
    m = re.search(r"NameError: name '(\w+)' is not defined", stderr)
    if m:
        return f"define `{m.group(1)}` in app.py (the report does not show it)"
    m = re.search(r"ImportError: cannot import name '(\w+)'", stderr)
    if m:
        return (f"`{m.group(1)}` does not exist in this version: pick a version the report "
                "used (--bad), or --python of the report")
    if "SyntaxError" in stderr or "IndentationError" in stderr:
        return "fix the indentation of app.py (it was repaired from the report: check it)"
    if re.search(r"Connection refused|could not connect|OperationalError", stderr):
        return "the app needs a service (database, cache): replace it with a local stand-in"
    return "read the server's stderr above; edit app.py"


def fix_for_status(got: str, stderr: str) -> str:
    """The fix to try for a request that did not answer as expected (pure)."""
    if got.startswith("nothing within"):
        return ("the endpoint does not finish a response (a stream that never ends?): give "
                "it an end, or choose another route")
    if got == "404":
        return "the path does not match a route: fix `path` in scenario.toml"
    if got in ("405",):
        return "the method does not match the route: fix `method` in scenario.toml"
    if got in ("400", "422"):
        return "the body or query does not validate: fix `json`/`form`/`path` in scenario.toml"
    if got.startswith("5") or "Error" in got:
        found = fix_for(stderr)
        if not found.startswith("read the"):
            return found
        if stderr.strip():
            return "the app fails on this request (traceback above): fix app.py, or set " \
                   "`expect` if the failure is the report's point"
        return "the app fails on this request: fix app.py, or set `expect = 500` if the " \
               "failure is the report's point"
    return "check the route in app.py against scenario.toml"


def fix_for_build(tail: str, pins: tuple[str, ...]) -> str:
    """The fix to try for an env that did not build (pure)."""
    if "exclude-newer" in tail:
        return ("a pin needs dependencies newer than the release's day: add --resolve latest "
                "to the bisect-leak command (or drop the pin)")
    if re.search(r"No solution|unsatisfiable|conflict|ResolutionImpossible", tail, re.I):
        drop = f" (drop `--with {pins[0]}` first)" if pins else ""
        return f"the versions do not go together: loosen the pins{drop} or change --python"
    if re.search(r"not find a version|No matching distribution|not found in the package",
                 tail, re.I):
        return "a requirement has no such version on this index (or for this Python): " \
               "check --bad/--with, or --python"
    return "read the installer's output above"
