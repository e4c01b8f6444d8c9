"""Scenario folders (planning.scenario) and request encoding (measure.load)."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bisect_leak.errors import BadInput
from bisect_leak.measure.load import encode
from bisect_leak.planning import scenario
from bisect_leak.planning.scenario import Connection, Load, Request

APP = "async def app(scope, receive, send):\n    pass\n"


def write(folder: Path, toml: str, app: str | None = APP) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scenario.toml").write_text(textwrap.dedent(toml).lstrip())
    if app is not None:
        (folder / "app.py").write_text(app)
    return folder


def load_error(folder: Path) -> str:
    with pytest.raises(BadInput) as err:
        scenario.load(folder)
    return str(err.value)


def headers_of(request: Request) -> dict[str, str]:
    return dict(request.headers)


VALID = """
description = "posts things"
mirrors = "example#1"
requirements = ["fastapi", "python-multipart"]
python = ">=3.8"

[load]
warmup = 100
requests = 200
max_requests = 600
concurrency = 4
connection = "new-connection"
sample_every = 50
max_seconds = 30

[[request]]
method = "post"
path = "/items"
headers = { "X-Token" = "abc", Accept = "application/json" }
json = { name = "widget", tags = ["a", "b"], price = 1.5 }

[[request]]
method = "POST"
path = "/login"
form = { user = "ann", password = "s3cret&x" }

[[request]]
method = "POST"
path = "/upload"
file = { field = "doc", name = "a.bin", size = 1000 }

[[request]]
path = "/raw"
body = "plain text"
expect = 500
"""


# --- valid scenarios --------------------------------------------------------------------


def test_valid_scenario_load_settings(tmp_path):
    s = scenario.load(write(tmp_path / "posts", VALID))
    assert s.name == "posts"
    assert s.path == (tmp_path / "posts").resolve()
    assert s.description == "posts things"
    assert s.mirrors == "example#1"
    assert s.requirements == ("fastapi", "python-multipart")
    assert s.python == ">=3.8"
    assert s.app_module == "app:app"
    assert s.load == Load(
        warmup=100, requests=200, max_requests=600, concurrency=4,
        connection=Connection.NEW_CONNECTION, sample_every=50, max_seconds=30.0,
    )
    assert isinstance(s.load.max_seconds, float)
    assert len(s.requests) == 4
    assert re.fullmatch(r"[0-9a-f]{16}", s.digest)


def test_json_body_and_headers(tmp_path):
    req = scenario.load(write(tmp_path / "s", VALID)).requests[0]
    assert req.method == "POST"  # upper-cased
    assert req.path == "/items"
    assert json.loads(req.body) == {"name": "widget", "tags": ["a", "b"], "price": 1.5}
    headers = headers_of(req)
    assert headers["x-token"] == "abc"  # header names lower-cased
    assert headers["accept"] == "application/json"
    assert headers["content-type"] == "application/json"


def test_form_body(tmp_path):
    req = scenario.load(write(tmp_path / "s", VALID)).requests[1]
    assert parse_qs(req.body.decode()) == {"user": ["ann"], "password": ["s3cret&x"]}
    assert b"&x" not in req.body  # the ampersand in a value is escaped
    assert headers_of(req)["content-type"] == "application/x-www-form-urlencoded"


def test_file_upload_is_multipart_of_the_requested_size(tmp_path):
    req = scenario.load(write(tmp_path / "s", VALID)).requests[2]
    ctype = headers_of(req)["content-type"]
    assert ctype.startswith("multipart/form-data; boundary=")
    boundary = ctype.split("boundary=", 1)[1].encode()
    head, sep, rest = req.body.partition(b"\r\n\r\n")
    assert sep
    assert head.startswith(b"--" + boundary + b"\r\n")
    assert b'name="doc"' in head
    assert b'filename="a.bin"' in head
    closing = b"\r\n--" + boundary + b"--\r\n"
    assert rest.endswith(closing)
    payload = rest[: -len(closing)]
    assert len(payload) == 1000
    assert len(req.body) == len(head) + 4 + 1000 + len(closing)


@settings(max_examples=30, deadline=None)
@given(size=st.integers(0, 5000))
def test_multipart_payload_length_property(tmp_path_factory, size):
    folder = tmp_path_factory.mktemp("upload")
    toml = f"""
    [[request]]
    method = "POST"
    file = {{ size = {size} }}
    """
    req = scenario.load(write(folder, toml)).requests[0]
    boundary = headers_of(req)["content-type"].split("boundary=", 1)[1].encode()
    closing = b"\r\n--" + boundary + b"--\r\n"
    payload = req.body.partition(b"\r\n\r\n")[2][: -len(closing)]
    assert len(payload) == size
    assert b'name="file"' in req.body  # the defaults
    assert b'filename="upload.bin"' in req.body


def test_raw_body_and_expect(tmp_path):
    req = scenario.load(write(tmp_path / "s", VALID)).requests[3]
    assert req.method == "GET"
    assert req.body == b"plain text"
    assert req.expect == 500
    assert "content-type" not in headers_of(req)


def test_minimal_scenario_uses_defaults(tmp_path):
    s = scenario.load(write(tmp_path / "s", 'requirements = ["starlette"]\n'))
    assert s.load == Load()
    assert s.requests == (Request(method="GET", path="/"),)
    assert s.description == ""
    assert s.python == ""


# --- resolve ----------------------------------------------------------------------------


def test_builtin_hello_resolves_by_name():
    assert "hello" in scenario.builtin_names()
    s = scenario.resolve("hello")
    assert s.name == "hello"
    assert s.path == scenario.BUILTIN_DIR / "hello"
    assert "fastapi" in s.requirements
    assert s.requests[0].path == "/"
    assert s.load.connection is Connection.KEEP_ALIVE


def test_resolve_a_folder_by_path(tmp_path):
    folder = write(tmp_path / "mine", VALID)
    assert scenario.resolve(str(folder)) == scenario.load(folder)


def test_resolve_unknown_name_lists_builtins(tmp_path):
    with pytest.raises(BadInput) as err:
        scenario.resolve(str(tmp_path / "no-such-scenario"))
    message = str(err.value)
    assert "no-such-scenario" in message
    assert "built-in: " in message
    for name in scenario.builtin_names():
        assert name in message
    with pytest.raises(BadInput, match="hello"):
        scenario.resolve("helo")


# --- folder and TOML mistakes -----------------------------------------------------------


def test_missing_app_py(tmp_path):
    folder = write(tmp_path / "s", VALID, app=None)
    message = load_error(folder)
    assert "app.py" in message
    assert str(folder.resolve()) in message


def test_missing_scenario_toml(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "app.py").write_text(APP)
    assert "no scenario.toml" in load_error(folder)


def test_malformed_toml_names_the_file(tmp_path):
    folder = write(tmp_path / "s", "[load\nwarmup = 1\n")
    message = load_error(folder)
    assert str(folder.resolve() / "scenario.toml") in message
    assert "malformed TOML" in message


def test_unknown_top_level_key_names_key_and_line(tmp_path):
    folder = write(tmp_path / "s", """
    description = "x"
    requirements = ["fastapi"]
    timeout = 5
    """)
    toml_path = folder.resolve() / "scenario.toml"
    message = load_error(folder)
    assert message.startswith(f"{toml_path}:3: key 'timeout' is not known")
    assert "requirements" in message  # the known keys are listed


def test_unknown_load_key_names_key_and_line(tmp_path):
    folder = write(tmp_path / "s", """
    requirements = ["fastapi"]

    [load]
    warmup = 100
    ramp = 3
    """)
    toml_path = folder.resolve() / "scenario.toml"
    message = load_error(folder)
    assert message.startswith(f"{toml_path}:5: key 'load.ramp' is not known")
    assert "sample_every" in message


def test_unknown_request_key(tmp_path):
    folder = write(tmp_path / "s", """
    [[request]]
    path = "/"
    query = "a=1"
    """)
    pattern = r"scenario\.toml:3: key 'request\[0\]\.query' is not known"
    assert re.search(pattern, load_error(folder))


def test_bad_connection_lists_options(tmp_path):
    folder = write(tmp_path / "s", """
    [load]
    connection = "pipelined"
    """)
    message = load_error(folder)
    assert "scenario.toml:2: key 'load.connection'" in message
    for option in ("keep-alive", "new-connection", "connect-and-close"):
        assert option in message


def test_max_requests_below_requests(tmp_path):
    folder = write(tmp_path / "s", """
    [load]
    requests = 500
    max_requests = 100
    """)
    message = load_error(folder)
    assert "scenario.toml:3: key 'load.max_requests'" in message
    assert "at least load.requests" in message


def test_requests_above_default_max_requests(tmp_path):
    folder = write(tmp_path / "s", "[load]\nrequests = 200000\n")
    assert "load.max_requests" in load_error(folder)


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("warmup = -1", "load.warmup"),
        ("warmup = true", "load.warmup"),
        ("concurrency = 2.5", "load.concurrency"),
        ('sample_every = "10"', "load.sample_every"),
        ("max_seconds = 0", "load.max_seconds"),
    ],
)
def test_bad_load_numbers(tmp_path, line, key):
    folder = write(tmp_path / "s", f"[load]\n{line}\n")
    assert f"key '{key}'" in load_error(folder)


def test_zero_concurrency(tmp_path):
    folder = write(tmp_path / "s", "[load]\nconcurrency = 0\n")
    assert "at least 1" in load_error(folder)


@pytest.mark.parametrize(
    ("bodies", "second"),
    [
        ('body = "x"\njson = { a = 1 }', "json"),
        ('json = { a = 1 }\nform = { b = "2" }', "form"),
        ("form = { b = '2' }\nfile = { size = 10 }", "file"),
    ],
)
def test_two_bodies_in_one_request(tmp_path, bodies, second):
    folder = write(tmp_path / "s", f'[[request]]\nmethod = "POST"\n{bodies}\n')
    message = load_error(folder)
    assert f"key 'request[0].{second}'" in message
    assert "give one body" in message


def test_bad_path_and_expect(tmp_path):
    folder = write(tmp_path / "a", '[[request]]\npath = "items"\n')
    assert "must be a string starting with /" in load_error(folder)
    folder = write(tmp_path / "b", '[[request]]\nexpect = 42\n')
    assert "key 'request[0].expect'" in load_error(folder)


def test_requirements_must_be_strings(tmp_path):
    folder = write(tmp_path / "s", "requirements = [1, 2]\n")
    assert "key 'requirements'" in load_error(folder)


# --- digest -----------------------------------------------------------------------------


def test_digest_is_stable_and_changes_with_app_and_toml(tmp_path):
    folder = write(tmp_path / "s", VALID)
    first = scenario.load(folder).digest
    assert scenario.load(folder).digest == first
    (folder / "app.py").write_text(APP + "# a change\n")
    changed_app = scenario.load(folder).digest
    assert changed_app != first
    (folder / "scenario.toml").write_text((folder / "scenario.toml").read_text() + "\n# note\n")
    assert scenario.load(folder).digest not in (first, changed_app)


# --- load.encode ------------------------------------------------------------------------


def test_encode_get():
    request = Request(method="GET", path="/", headers=(("accept", "application/json"),))
    wire = encode(request, "127.0.0.1", 8000, close=False)
    assert wire == (
        b"GET / HTTP/1.1\r\n"
        b"host: 127.0.0.1:8000\r\n"
        b"accept: application/json\r\n"
        b"\r\n"
    )
    assert b"content-length" not in wire
    assert b"connection: close" not in wire


def test_encode_get_with_close():
    wire = encode(Request(path="/items?q=1"), "localhost", 9001, close=True)
    assert wire == b"GET /items?q=1 HTTP/1.1\r\nhost: localhost:9001\r\nconnection: close\r\n\r\n"


@pytest.mark.parametrize("close", [False, True])
def test_encode_post_with_body(close):
    body = json.dumps({"name": "widget"}).encode()
    request = Request(
        method="POST", path="/items", headers=(("content-type", "application/json"),), body=body
    )
    wire = encode(request, "127.0.0.1", 8000, close=close)
    head, sep, rest = wire.partition(b"\r\n\r\n")
    assert sep
    assert rest == body
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0] == "POST /items HTTP/1.1"
    assert "host: 127.0.0.1:8000" in lines
    assert "content-type: application/json" in lines
    assert f"content-length: {len(body)}" in lines
    assert ("connection: close" in lines) is close


def test_encode_post_without_body_sends_zero_length():
    wire = encode(Request(method="POST", path="/ping"), "127.0.0.1", 8000, close=False)
    assert wire.endswith(b"content-length: 0\r\n\r\n")


def test_encode_scenario_upload(tmp_path):
    req = scenario.load(write(tmp_path / "s", VALID)).requests[2]
    wire = encode(req, "127.0.0.1", 8000, close=False)
    head, _, rest = wire.partition(b"\r\n\r\n")
    assert rest == req.body
    assert f"content-length: {len(req.body)}".encode() in head.split(b"\r\n")


@given(body=st.binary(max_size=2000), method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]))
def test_encode_content_length_matches_body(body, method):
    wire = encode(Request(method=method, path="/x", body=body), "127.0.0.1", 8000, close=False)
    head, _, rest = wire.partition(b"\r\n\r\n")
    assert rest == body
    lengths = [line for line in head.split(b"\r\n") if line.startswith(b"content-length:")]
    if body or method in ("POST", "PUT"):
        assert lengths == [f"content-length: {len(body)}".encode()]
    else:
        assert lengths == []


def test_max_requests_too_small_for_the_rule_names_what_it_needs(tmp_path):
    # first look 3000: a rise must be held 3000 over 2000, a flat stretch is 5000 (+2 samples)
    folder = write(tmp_path / "s", "[load]\nrequests = 3000\nmax_requests = 4000\n"
                                   "sample_every = 100\n")
    message = load_error(folder)
    assert "scenario.toml:3: key 'load.max_requests' must be at least 5,200" in message


def test_guards_can_be_set_and_default_to_the_first_look(tmp_path):
    folder = write(tmp_path / "s", "[load]\nrequests = 3000\nmax_requests = 20000\n"
                                   "hold = 4000\n")
    guards = scenario.load(folder).load.guards
    assert (guards.hold, guards.flat, guards.fill, guards.span) == (4000, 5000, 8000, 2000)


def test_extend_to_below_max_requests_is_refused(tmp_path):
    folder = write(tmp_path / "s", "[load]\nmax_requests = 120000\nextend_to = 60000\n")
    message = load_error(folder)
    assert "scenario.toml:3: key 'load.extend_to' must be 0 (off) or at least" in message
