"""The ASGI app of a report: which code block defines it, merged with the snippets it needs,
made importable as ``app:app``, and what in it cannot run on this machine."""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass

from bisect_leak.fromreport import indent
from bisect_leak.fromreport.markdown import Block

#: constructors whose result is an ASGI app
APP_CLASSES = {"FastAPI", "Starlette", "Starlite", "Litestar", "Quart", "Sanic"}
#: what needs a service or an account that a scenario on 127.0.0.1 does not have
_REMOTE_URL = re.compile(r"\b(postgres(ql)?|mysql|mariadb|mongodb(\+srv)?|redis|amqp|kafka|"
                         r"mssql|oracle)(\+\w+)?://[^\s'\"]*")
_REMOTE_IMPORTS = {
    "boto3": "AWS (boto3)", "botocore": "AWS (botocore)", "google.cloud": "Google Cloud",
    "azure": "Azure", "openai": "the OpenAI API", "sentence_transformers":
    "a model downloaded by sentence-transformers", "transformers": "a Hugging Face model",
    "torch": "PyTorch (large; models)", "tensorflow": "TensorFlow (large; models)",
    "motor": "MongoDB (motor)", "asyncpg": "PostgreSQL (asyncpg)", "psycopg2": "PostgreSQL",
    "aioredis": "Redis", "redis": "Redis", "elasticsearch": "Elasticsearch",
}
_ABS_PATH = re.compile(r"""open\(\s*['"]((/|[A-Za-z]:\\)[^'"]+)['"]""")


@dataclass(frozen=True)
class AppSource:
    """The app module to write, and what was decided about it."""

    code: str
    kind: str  # "FastAPI", "Starlette", ..., "raw ASGI", "factory", or "" (none found)
    name: str  # the variable holding the app in the report ("app", "api", ...)
    block_line: int = 0
    notes: tuple[str, ...] = ()
    blockers: tuple[str, ...] = ()  # what cannot run locally, named, not guessed
    undefined: tuple[str, ...] = ()  # names used but defined nowhere in the report

    @property
    def found(self) -> bool:
        return bool(self.kind)


@dataclass(frozen=True)
class _Parsed:
    block: Block
    code: str
    tree: ast.Module
    notes: tuple[str, ...]


def find(blocks: list[Block]) -> AppSource:
    """The block that defines an ASGI app (the last such, as reports refine their code),
    with definitions it uses from the other Python blocks put in front of it."""
    parsed = [p for p in map(_parse, blocks) if p is not None]
    for p in reversed(parsed):
        kind, name = _app_in(p.tree)
        if kind:
            return _build(p, kind, name, [q for q in parsed if q is not p])
    for p in reversed(parsed):
        completed = _complete_cut_off(p)
        if completed is not None:
            return _build(completed, "Starlette", "app", [q for q in parsed if q is not p])
    for p in reversed(parsed):
        served = _serve_loop(p)
        if served is not None:
            return _build(served, SCRIPT, "app", [q for q in parsed if q is not p])
    notes = ["no code block defines an ASGI app (FastAPI(), Starlette(), "
             "`async def app(scope, receive, send)` or a factory returning one)"]
    if not parsed:
        notes.append("no Python code block parses")
    return AppSource("", "", "", notes=tuple(notes))


def _parse(block: Block) -> _Parsed | None:
    if not block.maybe_python:
        return None
    repaired = indent.repair(block.code)
    if not repaired.ok:
        return None
    return _Parsed(block, repaired.code, ast.parse(repaired.code), repaired.notes)


SCRIPT = "script"  # a reproduction script whose loop body is served by a generated route
_NOISE = re.compile(r"^(print|gc\.|objgraph|tracemalloc|psutil|time\.sleep|process\.)")


def _serve_loop(p: _Parsed) -> _Parsed | None:
    """A script that repeats something in a top-level loop (``while True: f()``, ``for _ in
    range(N): ...``): that body, once, becomes the endpoint of a generated FastAPI app."""
    loop = next((n for n in p.tree.body if isinstance(n, (ast.While, ast.For))
                 and _repeats(n)), None)
    if loop is None:
        return None
    body = [s for s in loop.body if not _NOISE.match(ast.unparse(s))]
    if not body:
        return None
    rest = [n for n in p.tree.body if n is not loop and n.lineno < loop.lineno
            and not _NOISE.match(ast.unparse(n))]
    endpoint = "\n".join("    " + line for s in body for line in ast.unparse(s).splitlines())
    code = ("\n".join(ast.unparse(n) for n in rest) + "\n\n"
            "from fastapi import FastAPI  # added: the report's loop, served\n\n"
            "app = FastAPI()\n\n\n@app.get('/')\ndef repeated():\n"
            f"{endpoint}\n    return {{'ok': True}}\n")
    note = (f"the report's code is a script repeating a loop (line {loop.lineno} of its "
            "block): served its body once per request from a generated FastAPI route, GET /")
    return _Parsed(p.block, code, ast.parse(code), p.notes + (note,))


def _repeats(loop: ast.While | ast.For) -> bool:
    if isinstance(loop, ast.While):
        return isinstance(loop.test, ast.Constant) and bool(loop.test.value)
    it = loop.iter
    return isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range"


def _cut(p: _Parsed) -> bool:
    return any("cut off" in n for n in p.notes)


def _complete_cut_off(p: _Parsed) -> _Parsed | None:
    """A Starlette app whose ``Starlette(...)`` call was cut off: rebuilt from the module's
    endpoints (functions taking ``request``) and its BaseHTTPMiddleware subclasses."""
    if not _cut(p) or "Starlette" not in _imported(p.tree):
        return None
    endpoints = [n.name for n in p.tree.body if isinstance(n, (ast.FunctionDef,
                 ast.AsyncFunctionDef)) and [a.arg for a in n.args.args] == ["request"]]
    middleware = [n.name for n in p.tree.body if isinstance(n, ast.ClassDef) and any(
        isinstance(b, ast.Name) and b.id == "BaseHTTPMiddleware" for b in n.bases)]
    if not endpoints:
        return None
    routes = ", ".join(f'Route("/{e}", {e})' for e in endpoints)
    mws = ", ".join(f"Middleware({m})" for m in middleware)
    extra = "from starlette.routing import Route\n" if "Route" not in _imported(p.tree) else ""
    if mws and "Middleware" not in _imported(p.tree):
        extra += "from starlette.middleware import Middleware\n"
    code = (p.code + "\n" + extra + f"\n# rebuilt: the report's Starlette(...) call is cut off\n"
            f"app = Starlette(routes=[{routes}]" + (f", middleware=[{mws}])" if mws else ")")
            + "\n")
    note = (f"the report's `Starlette(...)` call is cut off: rebuilt as Starlette(routes=["
            f"{routes}]" + (f", middleware=[{mws}]" if mws else "") + ") from the endpoints "
            "and middleware the code defines (a guess: check it against the report)")
    return _Parsed(p.block, code, ast.parse(code), p.notes + (note,))


def _imported(tree: ast.Module) -> set[str]:
    return {(a.asname or a.name) for n in tree.body if isinstance(n, (ast.Import,
            ast.ImportFrom)) for a in n.names}


def _complete_raw(p: _Parsed, name: str) -> _Parsed:
    """A raw ASGI app cut off after ``http.response.start``: the body message added."""
    fn = next(n for n in p.tree.body if isinstance(n, ast.AsyncFunctionDef) and n.name == name)
    if not _cut(p) or "http.response.body" in p.code or "http.response.start" not in p.code:
        return p
    lines = p.code.rstrip("\n").splitlines()
    pad = " " * (fn.body[0].col_offset)
    end = fn.end_lineno or len(lines)
    lines.insert(end, f"{pad}await send({{'type': 'http.response.body', 'body': b''}})"
                 "  # added: cut off in the report")
    code = "\n".join(lines) + "\n"
    note = ("the raw app is cut off after `http.response.start`: added an empty "
            "`http.response.body` so that each response ends")
    return _Parsed(p.block, code, ast.parse(code), p.notes + (note,))


def _app_in(tree: ast.Module) -> tuple[str, str]:
    """(kind, variable) of the app a module defines at top level, or ("", "")."""
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Call):
            cls = _call_name(node.value)
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if cls in APP_CLASSES and isinstance(targets[0], ast.Name):
                return cls, targets[0].id
    for node in tree.body:
        if isinstance(node, ast.AsyncFunctionDef) and \
                [a.arg for a in node.args.args][-3:] == ["scope", "receive", "send"]:
            return "raw ASGI", node.name
        if isinstance(node, ast.ClassDef) and any(
                isinstance(f, ast.AsyncFunctionDef) and f.name == "__call__" and
                [a.arg for a in f.args.args][-3:] == ["scope", "receive", "send"]
                for f in node.body):
            if not any(isinstance(n, ast.Assign) and isinstance(n.value, ast.Call)
                       and _call_name(n.value) == node.name for n in tree.body):
                continue
            return "raw ASGI", _instance_of(tree, node.name)
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and \
                not node.args.args and any(isinstance(n, ast.Call) and
                                           _call_name(n) in APP_CLASSES for n in ast.walk(node)):
            return "factory", node.name
    return "", ""


def _instance_of(tree: ast.Module, cls: str) -> str:
    for n in tree.body:
        if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call) and \
                _call_name(n.value) == cls and isinstance(n.targets[0], ast.Name):
            return n.targets[0].id
    return ""


def _call_name(call: ast.Call) -> str:
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""


def _build(p: _Parsed, kind: str, name: str, others: list[_Parsed]) -> AppSource:
    if kind == "raw ASGI" and any(isinstance(n, ast.AsyncFunctionDef) and n.name == name
                                  for n in p.tree.body):
        p = _complete_raw(p, name)
    notes = list(p.notes)
    merged, merged_notes = _merge(p, others)
    notes += merged_notes
    code, run_notes = _without_server_run(merged)
    notes += run_notes
    if kind == "factory":
        code += f"\n\napp = {name}()  # added: the report's factory, called once\n"
        notes.append(f"the app comes from the factory `{name}()`: added `app = {name}()`")
    elif name != "app":
        code += f"\n\napp = {name}  # added: bisect-leak serves `app:app`\n"
        notes.append(f"the report's app is `{name}`: added `app = {name}`")
    notes.insert(0, f"the app: a {kind} app from the code block at line {p.block.line}")
    tree = ast.parse(code)
    return AppSource(code, kind, name, p.block.line, tuple(notes), blockers(code, tree),
                     undefined_names(tree))


def _merge(p: _Parsed, others: list[_Parsed]) -> tuple[str, list[str]]:
    """Definitions (classes, functions, assignments) from other blocks that the app block
    uses without defining, put in front of it; imports they need come along."""
    missing = set(undefined_names(p.tree))
    taken: list[str] = []
    picked: list[ast.stmt] = []
    for q in others:
        for node in q.tree.body:
            defined = _defines(node)
            if defined & missing:
                picked.append(node)
                taken += sorted(defined & missing)
                missing -= defined
    if not picked:
        return p.code, []
    imports = [n for q in others for n in q.tree.body if isinstance(n, (ast.Import,
                                                                        ast.ImportFrom))]
    front = "\n".join(ast.unparse(n) for n in imports + picked)
    note = f"merged from other code blocks of the report: {', '.join(taken)}"
    return front + "\n\n\n" + p.code, [note]


def _defines(node: ast.stmt) -> set[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, ast.Assign):
        return {t.id for t in node.targets if isinstance(t, ast.Name)}
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return {node.target.id}
    return set()


def _without_server_run(code: str) -> tuple[str, list[str]]:
    """Top-level ``uvicorn.run(...)`` would block the import: dropped (a ``__main__`` guard
    is harmless and stays)."""
    tree = ast.parse(code)
    lines = code.splitlines()
    drop: list[tuple[int, int]] = []
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and \
                _call_name(node.value) == "run":
            drop.append((node.lineno, node.end_lineno or node.lineno))
    if not drop:
        return code, []
    for start, end in reversed(drop):
        del lines[start - 1:end]
    return "\n".join(lines) + "\n", ["dropped a top-level `.run(...)` call: bisect-leak "
                                     "starts the server itself"]


def undefined_names(tree: ast.Module) -> tuple[str, ...]:
    """Names loaded somewhere that nothing in the module binds (nor builtins)."""
    bound = set(dir(builtins)) | {"__name__", "__file__"}
    loaded: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                loaded.setdefault(node.id, node.lineno)
            else:
                bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return tuple(sorted((n for n in loaded if n not in bound), key=loaded.get))


def blockers(code: str, tree: ast.Module) -> tuple[str, ...]:
    """What the app needs that a local scenario does not have, named."""
    found = [f"a service at {m.group(0)}" for m in _REMOTE_URL.finditer(code)]
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) \
                else [node.module or ""]
            for name in names:
                for prefix, what in _REMOTE_IMPORTS.items():
                    if name == prefix or name.startswith(prefix + "."):
                        found.append(f"{what} (import {name})")
    found += [f"a local file {m.group(1)}" for m in _ABS_PATH.finditer(code)]
    return tuple(dict.fromkeys(found))
