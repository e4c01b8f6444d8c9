"""Test support: a toy package ``leakytoy`` and an offline wheelhouse for end-to-end tests.

``build_toy_wheels`` writes pure-Python wheels of ``leakytoy`` by hand (no build backend,
no network); each version's ``leakytoy.app`` is a dependency-free ASGI 3 app with a known
memory behaviour (see ``TOY_VERSIONS``). ``fill_wheelhouse`` adds binary wheels of uvicorn
and its dependencies for a given interpreter, so that

    uv pip install --no-index --find-links WHEELHOUSE leakytoy==X uvicorn

works with no network. ``write_toy_scenario`` writes a matching scenario folder.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

TOY_NAME = "leakytoy"

STABLE = "stable"
BROKEN = "broken"
PLATEAU = "plateau"
LEAK = "leak"

#: bytes kept per request by the leaking versions
TOY_CHUNK = 1024
#: number of cache slots the plateauing version fills before it goes flat, and their size:
#: ~8 MiB, half filled in the toy scenario's 1,000-request warm-up, full 1,000 requests after
#: it, so the whole measured window holds it (the held signal's median sees all of it)
TOY_CACHE_SLOTS = 2000
TOY_PLATEAU_CHUNK = 4096


@dataclass(frozen=True)
class ToyVersion:
    version: str
    behaviour: str  # one of STABLE, BROKEN, PLATEAU, LEAK
    summary: str

    @property
    def leaks(self) -> bool:
        return self.behaviour == LEAK

    @property
    def broken(self) -> bool:
        return self.behaviour == BROKEN

    @property
    def prerelease(self) -> bool:
        return any(tag in self.version for tag in ("a", "b", "rc", "dev"))

    @property
    def wheel_name(self) -> str:
        return f"{TOY_NAME}-{self.version}-py3-none-any.whl"


#: every toy release, oldest first
TOY_VERSIONS: tuple[ToyVersion, ...] = (
    ToyVersion("1.0.0", STABLE, "stable"),
    ToyVersion("1.1.0", PLATEAU, "fills a bounded cache (~8 MiB), then flat"),
    ToyVersion("1.2.0", BROKEN, "broken: importing it raises ImportError"),
    ToyVersion("1.3.0", STABLE, "stable"),
    ToyVersion("1.4.0rc1", LEAK, "pre-release that leaks 1 KiB per request"),
    ToyVersion("1.4.0", LEAK, "leaks 1 KiB per request"),
    ToyVersion("1.5.0", LEAK, "leaks 1 KiB per request"),
)
TOY_BY_VERSION: dict[str, ToyVersion] = {v.version: v for v in TOY_VERSIONS}

TOY_LAST_GOOD = "1.3.0"
TOY_FIRST_BAD = "1.4.0"
TOY_BROKEN = "1.2.0"
TOY_PLATEAU = "1.1.0"
TOY_PRE = "1.4.0rc1"

TOY_SCENARIO_TOML = """\
description = "Toy ASGI app from the test wheelhouse."
requirements = ["httptools"]
python = ">=3.7"

[load]
warmup = 1000
requests = 4000
max_requests = 16000
concurrency = 8
connection = "keep-alive"
sample_every = 250

[[request]]
method = "GET"
path = "/"
"""

TOY_SCENARIO_APP = "from leakytoy import app  # noqa: F401\n"

# The module source is kept to Python 3.7 syntax: no walrus, no match, no runtime generics.
_MODULE_TEMPLATE = '''\
"""leakytoy {version}: {summary}. A toy ASGI 3 app for bisect-leak tests."""

__version__ = "{version}"
{broken}
_LEAK = []  # grows forever in leaking versions
_CACHE = {{}}  # bounded: at most {slots} entries in the plateau version
_COUNT = [0]  # requests served

_BODY = b"hello from leakytoy {version}"
_HEADERS = [
    (b"content-type", b"text/plain"),
    (b"content-length", str(len(_BODY)).encode("ascii")),
]


def _behave():
    n = _COUNT[0]
    _COUNT[0] = n + 1
{behaviour}


async def app(scope, receive, send):
    kind = scope["type"]
    if kind == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({{"type": "lifespan.startup.complete"}})
            elif message["type"] == "lifespan.shutdown":
                await send({{"type": "lifespan.shutdown.complete"}})
                return
    elif kind == "http":
        more_body = True
        while more_body:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            more_body = message.get("more_body", False)
        _behave()
        await send({{"type": "http.response.start", "status": 200, "headers": _HEADERS}})
        await send({{"type": "http.response.body", "body": _BODY}})
    elif kind == "websocket":
        await receive()
        await send({{"type": "websocket.close", "code": 1000}})
    else:
        raise RuntimeError("leakytoy: unsupported scope type %r" % (kind,))
'''

_BEHAVIOUR_CODE = {
    STABLE: "    return None",
    BROKEN: "    return None",
    PLATEAU: f"    _CACHE[n % {TOY_CACHE_SLOTS}] = bytearray({TOY_PLATEAU_CHUNK})",
    LEAK: f"    _LEAK.append(bytearray({TOY_CHUNK}))",
}

# Fixed timestamp so that repeated builds give byte-identical wheels.
_ZIP_DATE = (2020, 1, 1, 0, 0, 0)


def toy_module_source(toy: ToyVersion) -> str:
    """The text of ``leakytoy/__init__.py`` for one toy release."""
    broken = ""
    if toy.broken:
        broken = f'\nraise ImportError("leakytoy {toy.version} is broken on purpose")\n'
    return _MODULE_TEMPLATE.format(
        version=toy.version,
        summary=toy.summary,
        broken=broken,
        slots=TOY_CACHE_SLOTS,
        behaviour=_BEHAVIOUR_CODE[toy.behaviour],
    )


def record_hash(data: bytes) -> str:
    """``sha256=<urlsafe b64 digest without padding>`` as used in a wheel's RECORD."""
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _wheel_files(toy: ToyVersion) -> list[tuple[str, bytes]]:
    dist_info = f"{TOY_NAME}-{toy.version}.dist-info"
    metadata = (
        "Metadata-Version: 2.1\n"
        f"Name: {TOY_NAME}\n"
        f"Version: {toy.version}\n"
        f"Summary: Toy ASGI app for bisect-leak tests ({toy.summary})\n"
        "Requires-Python: >=3.7\n"
    )
    wheel = (
        "Wheel-Version: 1.0\n"
        "Generator: bisect-leak-tests (tests/toy.py)\n"
        "Root-Is-Purelib: true\n"
        "Tag: py3-none-any\n"
    )
    return [
        (f"{TOY_NAME}/__init__.py", toy_module_source(toy).encode("utf-8")),
        (f"{dist_info}/METADATA", metadata.encode("utf-8")),
        (f"{dist_info}/WHEEL", wheel.encode("utf-8")),
    ]


def _write_wheel(path: Path, toy: ToyVersion) -> None:
    files = _wheel_files(toy)
    record_name = f"{TOY_NAME}-{toy.version}.dist-info/RECORD"
    lines = [f"{name},{record_hash(data)},{len(data)}" for name, data in files]
    lines.append(f"{record_name},,")
    files.append((record_name, ("\n".join(lines) + "\n").encode("utf-8")))

    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w") as zf:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    os.replace(tmp, path)


def build_toy_wheels(dest: Path) -> list[Path]:
    """Write one ``leakytoy-{version}-py3-none-any.whl`` per toy release into ``dest``."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    paths = []
    for toy in TOY_VERSIONS:
        path = dest / toy.wheel_name
        _write_wheel(path, toy)
        paths.append(path)
    return paths


def toy_wheel(dest: Path, version: str) -> Path:
    """Path of the wheel for ``version`` inside a directory filled by ``build_toy_wheels``."""
    return Path(dest) / TOY_BY_VERSION[version].wheel_name


def write_toy_scenario(dest: Path) -> Path:
    """Write ``app.py`` and ``scenario.toml`` for the toy app into ``dest``; return ``dest``."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "app.py").write_text(TOY_SCENARIO_APP, encoding="utf-8")
    (dest / "scenario.toml").write_text(TOY_SCENARIO_TOML, encoding="utf-8")
    return dest


def base_python() -> Path:
    """A real (non-venv) interpreter for building test envs, preferably the running one's base;
    else one of the same minor version that ``bisect_leak.environments.interpreters`` finds."""
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    bindir = Path(sys.base_prefix) / "bin"
    for name in (f"python{version}", "python3", "python"):
        candidate = bindir / name
        if candidate.exists():
            return candidate
    from bisect_leak.environments import interpreters

    same = [i for i in interpreters.discover() if i.minor == version]
    return same[0].path if same else Path(sys.executable)


def find_python(minor: str) -> Path | None:
    """An interpreter of this minor version (``3.8``), found as bisect-leak finds them."""
    from bisect_leak.environments import interpreters

    found = [i for i in interpreters.discover() if i.minor == minor]
    return found[0].path if found else None


_TAG_PROBE = (
    "import json, sys, sysconfig; print(json.dumps([sys.implementation.name, "
    "'%d.%d' % sys.version_info[:2], getattr(sys, 'abiflags', ''), sysconfig.get_platform()]))"
)


def _clean_pip_env() -> dict[str, str]:
    """The current environment without any pip settings, so that only the default index is used."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PYTHONNOUSERSITE"] = "1"
    return env


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join((text or "").strip().splitlines()[-lines:])


def _interpreter_key(python: str) -> str:
    try:
        proc = subprocess.run(
            [python, "-c", _TAG_PROBE],
            capture_output=True,
            text=True,
            timeout=60,
            env=_clean_pip_env(),
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"cannot run interpreter {python!r}: {exc}") from exc
    if proc.returncode != 0:
        raise RuntimeError(f"cannot run interpreter {python!r}:\n{_tail(proc.stderr)}")
    impl, version, abiflags, platform = json.loads(proc.stdout)
    raw = f"{impl}-{version}{abiflags}-{platform}"
    return "".join(c if c.isalnum() or c in ".-" else "_" for c in raw)


def fill_wheelhouse(dest: Path, python: str, timeout: float = 600,
                    extra: tuple[str, ...] = ()) -> Path:
    """Build the toy wheels into ``dest`` and download uvicorn's wheels for ``python`` there
    and httptools' (the toy scenarios serve through it: a toy trial takes about 2 s instead of
    the 3.3 s h11 takes, and the parser keeps no memory of its own), plus those of ``extra``
    packages.

    The download runs ``python -m pip download --only-binary=:all:`` with that interpreter
    (so tags and markers fit it), ignoring this machine's pip configuration. It is skipped
    when a marker file records an earlier download for the same kind of interpreter whose
    wheels are all still there.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    build_toy_wheels(dest)

    python = os.fspath(python)
    extra = tuple(dict.fromkeys(("httptools", *extra)))
    extras = "".join(f"+{name}" for name in extra)
    marker = dest / f".uvicorn{extras}-downloaded-{_interpreter_key(python)}.json"
    if marker.exists():
        try:
            recorded = json.loads(marker.read_text(encoding="utf-8"))
            if recorded and all((dest / name).exists() for name in recorded):
                return dest
        except (OSError, ValueError):
            pass

    before = {p.name for p in dest.glob("*.whl")}
    cmd = [
        python,
        "-m",
        "pip",
        "--isolated",
        "--disable-pip-version-check",
        "--no-input",
        "download",
        "--only-binary=:all:",
        "--dest",
        os.fspath(dest),
        "uvicorn",
        *extra,
    ]
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, env=_clean_pip_env()
        )
    except subprocess.TimeoutExpired as exc:
        stderr = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else ""
        raise RuntimeError(
            f"pip download of uvicorn for {python} timed out after {timeout:g}s:\n{_tail(stderr)}"
        ) from exc
    except OSError as exc:
        raise RuntimeError(f"cannot run {python!r} to download uvicorn: {exc}") from exc
    if proc.returncode != 0:
        raise RuntimeError(
            f"pip download of uvicorn for {python} failed (exit {proc.returncode}):\n"
            f"{_tail(proc.stderr)}"
        )

    toy_names = {toy.wheel_name for toy in TOY_VERSIONS}
    new_files = {p.name for p in dest.glob("*.whl")} - before
    downloaded = sorted((_saved_wheels(proc.stdout, dest) | new_files) - toy_names)
    if not any(name.startswith("uvicorn-") for name in downloaded):
        raise RuntimeError(
            f"pip download for {python} reported success but no uvicorn wheel is in {dest}:\n"
            f"{_tail(proc.stdout)}"
        )
    tmp = marker.with_name(marker.name + ".tmp")
    tmp.write_text(json.dumps(downloaded, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, marker)
    return dest


def _saved_wheels(stdout: str, dest: Path) -> set[str]:
    """Wheel names pip reports as saved or already present (older pips print either)."""
    names = set()
    for line in (stdout or "").splitlines():
        line = line.strip()
        for prefix in ("Saved ", "File was already downloaded "):
            if line.startswith(prefix):
                name = Path(line[len(prefix) :].strip()).name
                if name.endswith(".whl") and (dest / name).exists():
                    names.add(name)
    return names
