"""Quick checks of the toy wheelhouse helper in tests/toy.py."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest
from toy import (
    TOY_BROKEN,
    TOY_CACHE_SLOTS,
    TOY_FIRST_BAD,
    TOY_LAST_GOOD,
    TOY_PLATEAU,
    TOY_PRE,
    TOY_VERSIONS,
    base_python,
    build_toy_wheels,
    fill_wheelhouse,
    record_hash,
    toy_wheel,
    write_toy_scenario,
)

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib


def test_versions_table_is_consistent():
    versions = [t.version for t in TOY_VERSIONS]
    assert versions == ["1.0.0", "1.1.0", "1.2.0", "1.3.0", "1.4.0rc1", "1.4.0", "1.5.0"]
    by_version = {t.version: t for t in TOY_VERSIONS}
    assert by_version[TOY_BROKEN].broken
    assert by_version[TOY_PLATEAU].behaviour == "plateau"
    assert not by_version[TOY_LAST_GOOD].leaks
    assert by_version[TOY_FIRST_BAD].leaks and by_version[TOY_PRE].leaks
    assert by_version[TOY_PRE].prerelease and not by_version[TOY_FIRST_BAD].prerelease
    first_leak = next(t for t in TOY_VERSIONS if t.leaks and not t.prerelease)
    assert first_leak.version == TOY_FIRST_BAD


def test_wheels_are_valid(tmp_path):
    paths = build_toy_wheels(tmp_path)
    expected = [f"leakytoy-{t.version}-py3-none-any.whl" for t in TOY_VERSIONS]
    assert [p.name for p in paths] == expected
    for toy, path in zip(TOY_VERSIONS, paths):
        dist_info = f"leakytoy-{toy.version}.dist-info"
        with zipfile.ZipFile(path) as zf:
            assert zf.testzip() is None
            names = zf.namelist()
            assert sorted(names) == sorted(
                [
                    "leakytoy/__init__.py",
                    f"{dist_info}/METADATA",
                    f"{dist_info}/WHEEL",
                    f"{dist_info}/RECORD",
                ]
            )
            metadata = zf.read(f"{dist_info}/METADATA").decode()
            assert "Metadata-Version: 2.1\n" in metadata
            assert "Name: leakytoy\n" in metadata
            assert f"Version: {toy.version}\n" in metadata
            assert "Requires-Python: >=3.7\n" in metadata
            wheel = zf.read(f"{dist_info}/WHEEL").decode()
            for line in ("Wheel-Version: 1.0", "Root-Is-Purelib: true", "Tag: py3-none-any"):
                assert line in wheel.splitlines()
            assert any(line.startswith("Generator: ") for line in wheel.splitlines())

            record = zf.read(f"{dist_info}/RECORD").decode().splitlines()
            rows = dict(line.split(",", 1) for line in record if line)
            assert set(rows) == set(names)
            assert rows[f"{dist_info}/RECORD"] == ","
            for name in names:
                if name.endswith("/RECORD"):
                    continue
                data = zf.read(name)
                digest, size = rows[name].split(",")
                assert digest == record_hash(data)
                assert "=" not in digest[len("sha256=") :]
                assert int(size) == len(data)

            source = zf.read("leakytoy/__init__.py").decode()
            compile(source, "leakytoy/__init__.py", "exec")
            assert f'__version__ = "{toy.version}"' in source
    # deterministic: a second build gives the same bytes
    again = build_toy_wheels(tmp_path / "again")
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in paths]


def test_module_source_parses_as_python37(tmp_path):
    import ast

    for path in build_toy_wheels(tmp_path):
        with zipfile.ZipFile(path) as zf:
            source = zf.read("leakytoy/__init__.py").decode()
        ast.parse(source, feature_version=(3, 7))


def test_scenario_folder(tmp_path):
    folder = write_toy_scenario(tmp_path / "toy")
    assert folder == tmp_path / "toy"
    assert "from leakytoy import app" in (folder / "app.py").read_text()
    data = tomllib.loads((folder / "scenario.toml").read_text())
    assert data["requirements"] == ["httptools"]  # from the wheelhouse, beside uvicorn
    assert data["python"] == ">=3.7"
    assert data["load"] == {
        "warmup": 1000,
        "requests": 4000,
        "max_requests": 16000,
        "concurrency": 8,
        "connection": "keep-alive",
        "sample_every": 250,
    }
    assert data["request"] == [{"method": "GET", "path": "/"}]


# Runs in a subprocess with the wheel on sys.path: imports leakytoy from the zip, goes through
# lifespan, serves N fake requests (with a two-part body) and reports what it kept.
_DRIVER = textwrap.dedent(
    """
    import asyncio, json, sys
    sys.path.insert(0, sys.argv[1])
    n = int(sys.argv[2])
    try:
        import leakytoy
    except ImportError as exc:
        print(json.dumps({"import_error": str(exc)}))
        raise SystemExit(0)
    assert leakytoy.__file__.startswith(sys.argv[1]), leakytoy.__file__

    async def call(scope, incoming):
        sent = []
        queue = list(incoming)

        async def receive():
            return queue.pop(0)

        async def send(message):
            sent.append(message)

        await leakytoy.app(scope, receive, send)
        return sent

    async def main():
        out = {"version": leakytoy.__version__, "leak": [], "cache": []}
        life = await call(
            {"type": "lifespan", "asgi": {"version": "3.0"}},
            [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}],
        )
        out["lifespan"] = [m["type"] for m in life]
        scope = {"type": "http", "asgi": {"version": "3.0"}, "method": "GET", "path": "/",
                 "headers": [], "query_string": b""}
        body = [{"type": "http.request", "body": b"ab", "more_body": True},
                {"type": "http.request", "body": b"c", "more_body": False}]
        for _ in range(n):
            sent = await call(scope, body)
            out["leak"].append(len(leakytoy._LEAK))
            out["cache"].append(len(leakytoy._CACHE))
        start, resp = sent
        headers = dict((k.decode(), v.decode()) for k, v in start["headers"])
        out["status"] = start["status"]
        out["headers"] = headers
        out["body"] = resp["body"].decode()
        out["body_ok"] = int(headers["content-length"]) == len(resp["body"])
        out["more_body"] = resp.get("more_body", False)
        print(json.dumps(out))

    asyncio.run(main())
    """
)


@pytest.fixture(scope="module")
def toy_wheels(tmp_path_factory):
    dest = tmp_path_factory.mktemp("toywheels")
    build_toy_wheels(dest)
    return dest


def _drive(wheel: Path, n: int) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", _DRIVER, str(wheel), str(n)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.parametrize("toy", TOY_VERSIONS, ids=lambda t: t.version)
def test_app_behaviour_in_process(toy_wheels, toy):
    n = TOY_CACHE_SLOTS + 300 if toy.behaviour == "plateau" else 300
    out = _drive(toy_wheel(toy_wheels, toy.version), n)
    if toy.broken:
        assert out == {"import_error": f"leakytoy {toy.version} is broken on purpose"}
        return
    assert out["version"] == toy.version
    assert out["lifespan"] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert out["status"] == 200
    assert out["headers"]["content-type"] == "text/plain"
    assert out["body"] == f"hello from leakytoy {toy.version}"
    assert out["body_ok"] and not out["more_body"]
    if toy.leaks:
        assert out["leak"] == list(range(1, n + 1))  # one more chunk per request
        assert set(out["cache"]) == {0}
    elif toy.behaviour == "plateau":
        assert out["cache"][:TOY_CACHE_SLOTS] == list(range(1, TOY_CACHE_SLOTS + 1))
        assert set(out["cache"][TOY_CACHE_SLOTS:]) == {TOY_CACHE_SLOTS}
        assert set(out["leak"]) == {0}
    else:
        assert set(out["leak"]) == {0} and set(out["cache"]) == {0}


# -- offline install from a real wheelhouse (downloads uvicorn once) ---------------------------


def _run(cmd, env=None, timeout=120):
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    assert proc.returncode == 0, f"{cmd}\n{proc.stdout}\n{proc.stderr}"
    return proc


def _uv_env(tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PIP_"))}
    env["UV_CACHE_DIR"] = str(tmp_path / "uv-cache")
    env["UV_NO_CONFIG"] = "1"
    env["UV_OFFLINE"] = "1"
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, deadline: float) -> bytes:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                return resp.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.mark.index
def test_offline_install_from_wheelhouse(tmp_path):
    python = str(base_python())
    wheelhouse = fill_wheelhouse(tmp_path / "wheelhouse", python)
    assert list(wheelhouse.glob("uvicorn-*.whl"))
    (marker,) = wheelhouse.glob(".uvicorn+httptools-downloaded-*.json")
    assert list(wheelhouse.glob("httptools-*.whl"))
    # the marker makes a second call skip the download (a download rewrites the marker)
    before = (marker.stat().st_mtime_ns, sorted(p.name for p in wheelhouse.iterdir()))
    fill_wheelhouse(wheelhouse, python)
    assert (marker.stat().st_mtime_ns, sorted(p.name for p in wheelhouse.iterdir())) == before

    env = _uv_env(tmp_path)
    venv = tmp_path / "venv"
    _run(["uv", "venv", "--python", python, str(venv)], env=env)
    vpython = str(venv / "bin" / "python")

    def install(spec: str) -> None:
        _run(
            [
                "uv",
                "pip",
                "install",
                "--python",
                vpython,
                "--no-index",
                "--find-links",
                str(wheelhouse),
                spec,
                "uvicorn",
            ],
            env=env,
        )

    install(f"leakytoy=={TOY_FIRST_BAD}")
    out = _run([vpython, "-c", "import leakytoy, uvicorn; print(leakytoy.__version__)"])
    assert out.stdout.strip() == TOY_FIRST_BAD

    # the app really serves under that env's uvicorn
    port = _free_port()
    server = subprocess.Popen(
        [
            vpython,
            "-m",
            "uvicorn",
            "leakytoy:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        body = _get(f"http://127.0.0.1:{port}/", time.monotonic() + 15)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        server.stderr.close()
    assert body == f"hello from leakytoy {TOY_FIRST_BAD}".encode()

    install(f"leakytoy=={TOY_PRE}")
    out = _run([vpython, "-c", "import leakytoy; print(leakytoy.__version__)"])
    assert out.stdout.strip() == TOY_PRE

    install(f"leakytoy=={TOY_BROKEN}")
    proc = subprocess.run(
        [vpython, "-c", "import leakytoy"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode != 0
    assert f"ImportError: leakytoy {TOY_BROKEN} is broken on purpose" in proc.stderr
