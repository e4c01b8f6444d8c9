"""A report's text in, a scenario draft out: pure, every decision with its reason."""

from __future__ import annotations

import ast
import re
import shlex
from dataclasses import dataclass, field, replace
from datetime import date

from bisect_leak.fromreport import app as apps
from bisect_leak.fromreport import load as loads
from bisect_leak.fromreport import markdown, requirements, routes, server, syntax, versions, weight

#: the package under test, by what the app imports (first match)
_UNDER_TEST = ("fastapi", "starlette", "starlite", "litestar", "sse-starlette")
#: trackers whose package is the one under test when the report was filed there
_TRACKERS = ("fastapi", "starlette", "uvicorn", "pydantic", "sse-starlette", "orjson",
             "anyio", "h11", "httptools", "uvloop", "python-multipart")
_GITHUB = re.compile(r"https://github\.com/[\w.-]+/([\w.-]+)/(?:issues|pull|discussions)/\d+")


def tracker(text: str, source: str) -> str:
    """The repository a report was filed in (its URL, or the first URL of its text)."""
    m = _GITHUB.search(source) or _GITHUB.search(text[:500])
    return m.group(1).lower() if m else ""


@dataclass(frozen=True)
class Draft:
    """Everything the scenario folder will say, and why."""

    source: str  # where the report came from (path or URL)
    app: apps.AppSource
    routes: tuple[routes.Route, ...] = ()
    load: loads.LoadPlan = field(default_factory=loads.LoadPlan)
    requirements: tuple[str, ...] = ()
    suggestion: versions.Suggestion = field(default_factory=lambda: versions.Suggestion(""))
    notes: tuple[str, ...] = ()
    title: str = ""
    python: syntax.Lowest = field(default_factory=syntax.Lowest)
    reported: date | None = None  # the report's date (its earliest), for --bad when unnamed

    @property
    def runnable(self) -> bool:
        """Found an app, and nothing in it is known to need what is not here."""
        return self.app.found and not self.app.blockers and not self.app.undefined

    def problems(self) -> list[str]:
        out = list(self.app.notes[:1]) if not self.app.found else []
        out += [f"needs {b}: not available to a local scenario" for b in self.app.blockers]
        if self.app.undefined:
            out.append("uses names the report never defines: " + ", ".join(self.app.undefined)
                       + " (define them in app.py)")
        return out

    def command(self, folder: str) -> str:
        args = ["bisect-leak", "--scenario", folder, *self.suggestion.args()]
        if not self.suggestion.bad:
            args += ["--bad", "VERSION"]
        if not self.suggestion.good:
            args += ["--good", "VERSION"]
        return shlex.join(args)


def build(text: str, source: str = "") -> Draft:
    """The draft of the scenario for one report."""
    title = next((ln.strip("# ").strip() for ln in text.splitlines()
                  if ln.strip() and not ln.startswith("<!--")), "")
    app = apps.find(markdown.blocks(text))
    if not app.found:
        filed_in = tracker(text, source)
        package = filed_in if filed_in in _TRACKERS else "fastapi"
        return Draft(source, app, title=title, suggestion=versions.suggest(text, package, []),
                     reported=versions.report_date(text))
    scaled = weight.scale(app.code)
    app = replace(app, code=scaled.code, notes=app.notes + scaled.notes)
    tree = ast.parse(app.code)
    prose = markdown.prose(text)
    size, size_words = loads.upload_size(prose)
    found = routes.first_named(routes.find(tree, app.kind, size), prose)
    reqs, req_notes = requirements.from_imports(tree)
    package = next((p for p in _UNDER_TEST if p in reqs), "uvicorn")
    notes = list(req_notes)
    if app.kind == apps.SCRIPT:
        library = [r for r in reqs if r != "fastapi"]
        if "fastapi" not in reqs:
            reqs.append("fastapi")
        package = library[0] if library else "fastapi"
        notes.append(f"the package under test: {package}, the library the script exercises")
    filed_in = tracker(text, source)
    if filed_in in _TRACKERS and filed_in != package:
        package = filed_in
        notes.append(f"the package under test: {package}, whose tracker the report was filed in")
    if package == "uvicorn" and filed_in != "uvicorn":
        notes.append("the app imports no framework: the package under test is uvicorn")
    if any(r.file for r in found):
        notes.append(f"upload size {size:,} bytes: the report's \"{size_words}\"" if size
                     else f"upload size {routes.DEFAULT_UPLOAD:,} bytes: the report names none")
    if found and found[0].template != "/" and found[0].template in prose:
        notes.append(f"{found[0].method} {found[0].template} first: the report names it")
    plan = loads.read(prose, uploads=any(r.file for r in found), server=package == "uvicorn")
    if scaled.heavy:
        plan = loads.lighter(plan, "a request allocates ~100 KiB: a shorter load, 8 at a time")
    return Draft(
        source=source, app=app, routes=tuple(found), load=plan, requirements=tuple(reqs),
        suggestion=_server_flags(versions.suggest(text, package, reqs), text, plan,
                                 scaled.heavy),
        notes=tuple(notes), title=title, python=syntax.lowest(tree),
        reported=versions.report_date(text),
    )


def _server_flags(s: versions.Suggestion, text: str, plan: loads.LoadPlan, heavy: bool
                  ) -> versions.Suggestion:
    """uvicorn's extras when it is under test, and the metric the connections and the
    request's weight call for."""
    why = list(s.why)
    extras = server.uvicorn_extras(text) if s.package == "uvicorn" else server.Choice("", "")
    metric = server.metric(plan.connection, heavy)
    why += [c.why for c in (extras, metric) if c.why]
    return replace(s, extras=extras.value, metric=metric.value, why=tuple(why))
