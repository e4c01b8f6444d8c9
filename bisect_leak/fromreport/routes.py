"""Routes read from the app's AST, each turned into one request with sample values."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

_METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}
DEFAULT_UPLOAD = 300_000
_SAMPLES = {"int": 1, "float": 1.5, "str": "a", "bool": True, "bytes": "a",
            "UUID": "00000000-0000-0000-0000-000000000001", "date": "2024-01-01",
            "datetime": "2024-01-01T00:00:00"}


@dataclass(frozen=True)
class Route:
    """One request to send, and where it came from."""

    method: str
    path: str  # with parameters filled
    template: str  # as declared, e.g. /items/{item_id}
    endpoint: str = ""
    json: dict | None = None
    form: dict | None = None
    file: dict | None = None  # {field, name, size}
    why: tuple[str, ...] = field(default=())


def find(tree: ast.Module, kind: str, upload_size: int | None = None) -> list[Route]:
    """Every route the module declares, in source order; a raw ASGI app (or an app with
    none found) gets ``GET /``."""
    prefixes = _router_prefixes(tree)
    mounts = _mounts(tree)
    funcs = {n.name: n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef,
                                                                  ast.AsyncFunctionDef))}
    models = _models(tree)
    found: list[Route] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for dec in node.decorator_list:
                found += _from_decorator(dec, node, prefixes, models, upload_size)
        elif isinstance(node, ast.Call):
            found += _from_call(node, funcs, prefixes, mounts, models, upload_size)
    found.sort(key=lambda r: _line_of(tree, r.endpoint))
    unique = list({(r.method, r.path): r for r in found}.values())
    if not unique:
        why = "a raw ASGI app answers any path" if kind == "raw ASGI" else \
            "no route found in the code: GET / (the app's own 404 or its middleware)"
        return [Route("GET", "/", "/", why=(why,))]
    return unique


def _line_of(tree: ast.Module, name: str) -> int:
    for n in ast.walk(tree):
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name:
            return n.lineno
    return 10**9


def _const(node: ast.AST | None) -> object:
    return node.value if isinstance(node, ast.Constant) else None


def _kw(call: ast.Call, name: str) -> ast.AST | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _router_prefixes(tree: ast.Module) -> dict[str, str]:
    """Router variable -> the prefix of its routes: APIRouter(prefix=...) plus the prefix
    of the include_router call that mounts it."""
    own: dict[str, str] = {}
    for n in ast.walk(tree):
        if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call) and \
                isinstance(n.targets[0], ast.Name):
            f = n.value.func
            if (isinstance(f, ast.Name) and f.id == "APIRouter") or \
                    (isinstance(f, ast.Attribute) and f.attr == "APIRouter"):
                own[n.targets[0].id] = str(_const(_kw(n.value, "prefix")) or "")
    for n in ast.walk(tree):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and \
                n.func.attr == "include_router" and n.args and isinstance(n.args[0], ast.Name):
            name = n.args[0].id
            own[name] = str(_const(_kw(n, "prefix")) or "") + own.get(name, "")
    return own


def _mounts(tree: ast.Module) -> dict[str, str]:
    """Sub-app variable -> mount path (``app.mount("/v1", sub)`` or ``Mount("/v1", sub)``)."""
    found: dict[str, str] = {}
    for n in ast.walk(tree):
        if isinstance(n, ast.Call) and len(n.args) >= 2 and isinstance(n.args[1], ast.Name):
            f = n.func
            if (isinstance(f, ast.Attribute) and f.attr == "mount") or \
                    (isinstance(f, ast.Name) and f.id == "Mount"):
                found[n.args[1].id] = str(_const(n.args[0]) or "")
    return found


def _from_decorator(dec: ast.AST, fn, prefixes, models, upload) -> list[Route]:
    if isinstance(dec, ast.Call) and isinstance(dec.func, ast.Name) and \
            dec.func.id in _METHODS:  # Starlite / Litestar: @post("/path")
        dec = ast.Call(ast.Attribute(ast.Name("_"), dec.func.id), dec.args, dec.keywords)
    if not (isinstance(dec, ast.Call) and isinstance(dec.func, ast.Attribute)):
        return []
    attr, owner = dec.func.attr, dec.func.value
    path = _const(dec.args[0]) if dec.args else _const(_kw(dec, "path"))
    if not isinstance(path, str):
        return []
    if attr in _METHODS:
        methods = [attr.upper()]
    elif attr in ("api_route", "route"):
        methods = _methods(_kw(dec, "methods")) or ["GET"]
    else:
        return []
    prefix = prefixes.get(owner.id, "") if isinstance(owner, ast.Name) else ""
    return [_route(m, prefix + path, fn, models, upload) for m in methods[:1]]


def _from_call(call: ast.Call, funcs, prefixes, mounts, models, upload) -> list[Route]:
    f = call.func
    name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
    if name not in ("Route", "add_api_route", "add_route") or len(call.args) < 2:
        return []
    path, target = _const(call.args[0]), call.args[1]
    if not isinstance(path, str) or not isinstance(target, ast.Name):
        return []
    prefix = ""
    if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
        prefix = prefixes.get(f.value.id, "") + mounts.get(f.value.id, "")
    methods = _methods(_kw(call, "methods")) or ["GET"]
    fn = funcs.get(target.id)
    return [_route(methods[0], prefix + path, fn, models, upload, target.id)]


def _methods(node: ast.AST | None) -> list[str]:
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return [str(_const(e)).upper() for e in node.elts if isinstance(_const(e), str)]
    return []


def _models(tree: ast.Module) -> dict[str, dict]:
    """Pydantic models of the module: name -> sample JSON (fields with sample values)."""
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    samples: dict[str, dict] = {}

    def sample(name: str, seen: tuple[str, ...]) -> dict:
        cls = classes[name]
        body: dict = {}
        for item in cls.body:
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                if item.value is not None and _const(item.value) is not None:
                    body[item.target.id] = _const(item.value)
                    continue
                body[item.target.id] = _value(item.annotation, classes, seen, sample)
        return body

    for name, cls in classes.items():
        bases = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in cls.bases}
        if bases & ({"BaseModel"} | set(classes)):
            samples[name] = sample(name, (name,))
    return samples


def _value(ann: ast.AST, classes, seen, sample):
    if isinstance(ann, ast.Constant) and isinstance(ann.value, str):  # "Foo" forward ref
        ann = ast.Name(ann.value)
    if isinstance(ann, ast.Name):
        if ann.id in classes and ann.id not in seen:
            return sample(ann.id, seen + (ann.id,))
        return _SAMPLES.get(ann.id, "a")
    if isinstance(ann, ast.Subscript):
        outer = ann.value.id if isinstance(ann.value, ast.Name) else \
            getattr(ann.value, "attr", "")
        if outer in ("list", "List", "set", "Set", "tuple", "Tuple", "Sequence"):
            return []
        if outer in ("dict", "Dict", "Mapping"):
            return {}
        if outer == "Optional":
            return None
        inner = ann.slice.elts[0] if isinstance(ann.slice, ast.Tuple) else ann.slice
        return _value(inner, classes, seen, sample)
    return "a"


def _route(method, template, fn, models, upload, endpoint: str = "") -> Route:
    endpoint = endpoint or (fn.name if fn is not None else "")
    why: list[str] = []
    path = template
    params = {a.arg: a for a in (fn.args.args if fn is not None else [])}
    for name in re.findall(r"{(\w+)(?::\w+)?}", template):
        ann = params[name].annotation if name in params else None
        value = _SAMPLES.get(ann.id, "a") if isinstance(ann, ast.Name) else "1"
        path = re.sub(r"\{" + re.escape(name) + r"(?::\w+)?\}", str(value), path)
        why.append(f"path parameter {name} = {value}")
    json_body = form = file = None
    query: list[str] = []
    if fn is not None:
        defaults = dict(zip([a.arg for a in fn.args.args][::-1], fn.args.defaults[::-1]))
        for arg in fn.args.args:
            ann = arg.annotation
            ann_name = ann.id if isinstance(ann, ast.Name) else getattr(ann, "attr", "")
            default = defaults.get(arg.arg)
            dflt = _call_of(default)
            if ann_name == "UploadFile" or dflt == "File":
                size = upload or DEFAULT_UPLOAD
                file = {"field": arg.arg, "name": "a.bin", "size": size}
                why.append(f"{arg.arg}: UploadFile, sent a {size:,}-byte file")
            elif dflt == "Form":
                form = {**(form or {}), arg.arg: str(_SAMPLES.get(ann_name, "a"))}
            elif ann_name in models:
                json_body = models[ann_name]
                why.append(f"{arg.arg}: JSON built from the model {ann_name}")
            elif arg.arg not in re.findall(r"{(\w+)", template) and default is None and \
                    ann_name in _SAMPLES:
                query.append(f"{arg.arg}={_SAMPLES[ann_name]}")
    if query:
        path += "?" + "&".join(query)
        why.append("required query parameters: " + ", ".join(query))
    if form is not None and file is None:
        why.append("form fields: " + ", ".join(form))
    return Route(method, path, template, endpoint, json_body, form if file is None else None,
                 file, tuple(why))


def _call_of(node: ast.AST | None) -> str:
    if isinstance(node, ast.Call):
        f = node.func
        return f.id if isinstance(f, ast.Name) else getattr(f, "attr", "")
    return ""


def first_named(routes: list[Route], text: str) -> list[Route]:
    """The route the report's prose names (a path in backticks or quotes, or after a
    method) first; the others keep their order."""
    def mentioned(r: Route) -> bool:
        t = r.template
        if t == "/":
            return False
        return bool(re.search(r"(?<![\w/])" + re.escape(t) + r"(?![\w/])", text))
    named = [r for r in routes if mentioned(r)]
    return named + [r for r in routes if r not in named]
