"""Rendering a draft as ``app.py`` and ``scenario.toml`` (pure), and writing the folder."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from bisect_leak.errors import BadInput
from bisect_leak.fromreport.draft import Draft


def _toml(value) -> str:
    """A TOML value: strings, numbers, booleans, lists and inline tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if value is None:
        return '""'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    return json.dumps(str(value))


def _key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() else json.dumps(k)


def _comment(lines) -> list[str]:
    return [f"# {ln}" for ln in lines]


def render_toml(draft: Draft) -> str:
    """``scenario.toml``: the keys, and as comments what was decided and why."""
    first = draft.routes[0] if draft.routes else None
    description = f"From {draft.source or 'a report'}: {draft.title}"[:200]
    if first:
        description += f" ({first.method} {first.template})"
    out = [f"description = {_toml(description)}", f"mirrors = {_toml(draft.source)}",
           f"requirements = {_toml(list(draft.requirements))}",
           f"python = {_toml(draft.python.specifier)}", ""]
    out += _comment(["Written by `bisect-leak scenario from-report`; what it decided and why:"])
    out += _comment(f"- {n}" for n in (*draft.app.notes, *draft.notes, draft.python.why,
                                       *draft.suggestion.why))
    out += _comment(f"- PROBLEM: {p}" for p in draft.problems())
    out += _comment([f"- suggested: {draft.command('THIS_FOLDER')}", ""])
    out += ["", "[load]"] + [f"{k} = {_toml(v)}" for k, v in draft.load.table().items()]
    out += _comment(f"- {w}" for w in draft.load.why)
    for route in draft.routes:
        out += ["", "[[request]]"] + _comment(route.why)
        out += [f"method = {_toml(route.method)}", f"path = {_toml(route.path)}"]
        for key in ("json", "form", "file"):
            value = getattr(route, key)
            if value is not None:
                out.append(f"{key} = {_toml(value)}")
    return "\n".join(out) + "\n"


def render_app(draft: Draft) -> str:
    """``app.py``: the report's app as repaired and merged, under a header saying so."""
    header = [f'"""The app of {draft.source or "a leak report"}, as `bisect-leak scenario '
              'from-report` made it importable as ``app:app``.', ""]
    header += [f"- {n}" for n in draft.app.notes]
    header += [f"- PROBLEM: {p}" for p in draft.problems()]
    header += ['"""', "", ""]
    return "\n".join(header) + draft.app.code.rstrip("\n") + "\n"


def write(draft: Draft, folder: Path, *, force: bool = False) -> Path:
    """Write the folder whole or not at all (a temp folder renamed into place)."""
    if not draft.app.found:
        raise BadInput(f"{draft.source or 'the report'}: {draft.app.notes[0]}; nothing written")
    folder = folder.absolute()
    if folder.exists() and any(folder.iterdir()) and not force:
        raise BadInput(f"{folder} exists and is not empty: choose another -o DIR")
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        (tmp / "app.py").write_text(render_app(draft))
        (tmp / "scenario.toml").write_text(render_toml(draft))
        if folder.exists():
            shutil.rmtree(folder)
        tmp.rename(folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder
