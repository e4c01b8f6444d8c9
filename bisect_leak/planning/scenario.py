"""Scenario folders: ``app.py`` exposing ``app`` and ``scenario.toml`` declaring the load."""

from __future__ import annotations

import enum
import hashlib
import importlib.resources
import json
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from bisect_leak.errors import BadInput
from bisect_leak.judge.classify import Guards

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib



def _builtin_dir() -> Path:
    """The built-in scenarios: package data of ``bisect_leak.scenarios`` (the repository's
    top-level ``scenarios/``), found the same way in a wheel and in an editable install."""
    try:
        root = importlib.resources.files("bisect_leak.scenarios")
    except ModuleNotFoundError:  # run from a source tree that was never installed
        return Path(__file__).resolve().parents[2] / "scenarios"
    # Installed packages are unpacked on disk: the server runs in the folder itself.
    return Path(str(root)).resolve()


BUILTIN_DIR = _builtin_dir()


class Connection(str, enum.Enum):
    """How the driver uses connections."""

    KEEP_ALIVE = "keep-alive"
    NEW_CONNECTION = "new-connection"  # one request per connection, closed by the client
    CONNECT_AND_CLOSE = "connect-and-close"  # connect, half-close, close: no request sent


@dataclass(frozen=True)
class Request:
    method: str = "GET"
    path: str = "/"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    expect: int | None = None  # the status this request is meant to get (e.g. 500)


@dataclass(frozen=True)
class Load:
    warmup: int = 20000
    requests: int = 30000  # measured after warm-up before the first verdict
    max_requests: int = 120000  # measured after warm-up at the most
    concurrency: int = 16
    connection: Connection = Connection.KEEP_ALIVE
    sample_every: int = 1000
    max_seconds: float = 300.0  # the whole trial's load, warm-up included
    request_timeout: float = 10.0  # one request's deadline: a hung server cannot hang us
    # The verdict rule's guards, in requests after warm-up (0: scaled from ``requests``):
    hold: int = 0  # caches cleared at least this often are never called leaking
    flat: int = 0  # leaks stepping up at least this often are never called stable
    fill: int = 0  # bounded fills with a time constant up to this are never called leaking
    # Past max_requests, up to this many after warm-up, while the rule says how many more
    # might decide (0: never past max_requests):
    extend_to: int = 0

    @property
    def guards(self) -> Guards:
        scaled = Guards.for_first_look(self.requests)
        return replace(scaled, hold=self.hold or scaled.hold, flat=self.flat or scaled.flat,
                       fill=self.fill or scaled.fill)


@dataclass(frozen=True)
class Scenario:
    name: str
    path: Path
    description: str
    requirements: tuple[str, ...]
    python: str  # a specifier such as ">=3.7"
    load: Load
    requests: tuple[Request, ...]
    mirrors: str = ""
    digest: str = field(default="", compare=False)

    @property
    def app_module(self) -> str:
        return "app:app"

    def supports(self, python_version: str) -> bool:
        return not self.python or SpecifierSet(self.python).contains(python_version)


_TOP_KEYS = {"description", "mirrors", "requirements", "python", "load", "request"}
_LOAD_KEYS = set(Load.__dataclass_fields__)
_REQUEST_KEYS = {"method", "path", "headers", "body", "json", "form", "file", "expect"}


def builtin_names() -> list[str]:
    if not BUILTIN_DIR.is_dir():
        return []
    return sorted(p.name for p in BUILTIN_DIR.iterdir() if (p / "scenario.toml").is_file())


def resolve(name_or_dir: str) -> Scenario:
    """A built-in scenario by name, or a user's folder by path."""
    candidate = Path(name_or_dir)
    if (BUILTIN_DIR / name_or_dir / "scenario.toml").is_file() and "/" not in name_or_dir:
        return load(BUILTIN_DIR / name_or_dir)
    if candidate.is_dir():
        return load(candidate)
    names = ", ".join(builtin_names()) or "none"
    raise BadInput(
        f"scenario {name_or_dir!r} is neither a built-in scenario nor a folder; "
        f"built-in: {names} (or pass a folder holding app.py and scenario.toml)"
    )


def load(folder: Path) -> Scenario:
    """Parse and validate a scenario folder; every mistake is one BadInput line."""
    folder = folder.resolve()
    toml_path = folder / "scenario.toml"
    if not (folder / "app.py").is_file():
        raise BadInput(f"scenario folder {folder} has no app.py (it must define an ASGI `app`)")
    if not toml_path.is_file():
        raise BadInput(f"scenario folder {folder} has no scenario.toml")
    text = toml_path.read_text()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{toml_path}: malformed TOML: {exc}") from None

    def fail(key: str, problem: str) -> BadInput:
        line = _line_of(text, key)
        where = f"{toml_path}:{line}" if line else str(toml_path)
        return BadInput(f"{where}: key '{key}' {problem}")

    for key in data:
        if key not in _TOP_KEYS:
            raise fail(key, f"is not known (known keys: {', '.join(sorted(_TOP_KEYS))})")
    python = data.get("python", "")
    try:
        SpecifierSet(str(python))
    except InvalidSpecifier:
        raise fail("python", "must be a version specifier such as \">=3.7\"") from None
    requirements = data.get("requirements", [])
    if not isinstance(requirements, list) or not all(isinstance(r, str) for r in requirements):
        raise fail("requirements", "must be a list of requirement strings")
    load_data = data.get("load", {})
    if not isinstance(load_data, dict):
        raise fail("load", "must be a table")
    load_ = Load(**_load_keys(load_data, fail))
    if load_.concurrency < 1 or load_.sample_every < 1 or load_.requests < 1:
        raise fail("load", "needs concurrency, sample_every and requests of at least 1")
    if load_.max_requests < load_.requests:
        raise fail("load.max_requests", "must be at least load.requests")
    if load_.extend_to and load_.extend_to < load_.max_requests:
        raise fail("load.extend_to", f"must be 0 (off) or at least load.max_requests "
                   f"({load_.max_requests:,})")
    needed = load_.guards.needed(load_.sample_every)
    if load_.max_requests < needed:
        raise fail("load.max_requests", f"must be at least {needed:,}: the verdict rule needs "
                   "that many requests after warm-up to call a version stable or leaking")
    raw_requests = data.get("request", [{"method": "GET", "path": "/"}])
    if not isinstance(raw_requests, list) or not raw_requests:
        raise fail("request", "must be one or more [[request]] tables")
    requests = tuple(_request(r, i, fail) for i, r in enumerate(raw_requests))
    digest = hashlib.sha256(
        json.dumps(
            {"toml": text, "app": (folder / "app.py").read_text()}, sort_keys=True
        ).encode()
    ).hexdigest()[:16]
    return Scenario(
        name=folder.name,
        path=folder,
        description=str(data.get("description", "")),
        requirements=tuple(requirements),
        python=str(python),
        load=load_,
        requests=requests,
        mirrors=str(data.get("mirrors", "")),
        digest=digest,
    )


def _load_keys(load_data: dict, fail) -> dict[str, Any]:
    """The ``[load]`` table's keys, each checked for its type."""
    kwargs: dict[str, Any] = {}
    for key, value in load_data.items():
        if key not in _LOAD_KEYS:
            raise fail(f"load.{key}", f"is not known (known: {', '.join(sorted(_LOAD_KEYS))})")
        if key == "connection":
            try:
                kwargs[key] = Connection(value)
            except ValueError:
                options = ", ".join(c.value for c in Connection)
                raise fail("load.connection", f"must be one of {options}") from None
        elif key in ("max_seconds", "request_timeout"):
            if not isinstance(value, (int, float)) or value <= 0:
                raise fail(f"load.{key}", "must be a positive number")
            kwargs[key] = float(value)
        else:
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise fail(f"load.{key}", "must be a whole number >= 0")
            kwargs[key] = value
    return kwargs


def _request(raw: Any, index: int, fail) -> Request:
    key = f"request[{index}]"
    if not isinstance(raw, dict):
        raise fail(key, "must be a table")
    for k in raw:
        if k not in _REQUEST_KEYS:
            raise fail(f"{key}.{k}", f"is not known (known: {', '.join(sorted(_REQUEST_KEYS))})")
    method = str(raw.get("method", "GET")).upper()
    path = raw.get("path", "/")
    if not isinstance(path, str) or not path.startswith("/"):
        raise fail(f"{key}.path", "must be a string starting with /")
    headers = raw.get("headers", {})
    if not isinstance(headers, dict):
        raise fail(f"{key}.headers", "must be a table of strings")
    head = [(str(k).lower(), str(v)) for k, v in headers.items()]
    for name, value in head:
        try:
            (name + value).encode("latin-1")
        except UnicodeEncodeError:
            raise fail(f"{key}.headers", f"{name!r} is not latin-1: HTTP cannot carry it") from None
    bodies = [k for k in ("body", "json", "form", "file") if k in raw]
    if len(bodies) > 1:
        raise fail(f"{key}.{bodies[1]}", f"conflicts with {bodies[0]}: give one body")
    body = b""
    if "body" in raw:
        body = str(raw["body"]).encode()
    elif "json" in raw:
        body = json.dumps(raw["json"]).encode()
        head.append(("content-type", "application/json"))
    elif "form" in raw:
        from urllib.parse import urlencode

        if not isinstance(raw["form"], dict):
            raise fail(f"{key}.form", "must be a table")
        body = urlencode(raw["form"]).encode()
        head.append(("content-type", "application/x-www-form-urlencoded"))
    elif "file" in raw:
        spec = raw["file"]
        size = spec.get("size") if isinstance(spec, dict) else None
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise fail(f"{key}.file", "must be a table like {field='file', name='a.bin', size=N}")
        body, ctype = _multipart(
            str(spec.get("field", "file")), str(spec.get("name", "upload.bin")), spec["size"]
        )
        head.append(("content-type", ctype))
    expect = raw.get("expect")
    if expect is not None and (not isinstance(expect, int) or not 100 <= expect <= 599):
        raise fail(f"{key}.expect", "must be an HTTP status such as 500")
    return Request(method=method, path=path, headers=tuple(head), body=body, expect=expect)


def _multipart(field_name: str, filename: str, size: int) -> tuple[bytes, str]:
    boundary = "bisectleakboundary7MA4YWxk"
    payload = (bytes(range(256)) * (size // 256 + 1))[:size]
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field_name}\"; "
        f"filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    ).encode() + payload + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def _line_of(text: str, dotted: str) -> int | None:
    """The line of a key such as ``load.warmup`` or ``request[1].path`` (None if not found)."""
    import re

    lines = text.splitlines()
    first = 0
    parts = dotted.split(".")
    table = re.fullmatch(r"(\w+)(?:\[(\d+)\])?", parts[0])
    if len(parts) > 1 and table:
        name, index = table.group(1), int(table.group(2) or 0)
        header = re.compile(rf"^\s*\[\[?\s*{re.escape(name)}\s*\]")
        seen = -1
        for number, line in enumerate(lines):
            if header.match(line):
                seen += 1
                if seen == index:
                    first = number
                    break
    key = re.sub(r"\[\d+\]$", "", parts[-1])
    pattern = re.compile(
        rf"^\s*(\[\[?\s*{re.escape(key)}\s*\]|{re.escape(key)}\s*=)|[{{,]\s*{re.escape(key)}\s*="
    )
    for number in range(first, len(lines)):
        if pattern.search(lines[number]):
            return number + 1
    return None
