"""``bisect-leak scenario from-report``: real reports (tests/data/reports/) to scenario
properties, the pure pieces on small inputs, and the smoke check on the toy wheelhouse."""

from __future__ import annotations

import ast
import json
from datetime import date
from pathlib import Path

import pytest

from bisect_leak.errors import BadInput
from bisect_leak.fromreport import (
    app,
    check,
    draft,
    indent,
    load,
    markdown,
    routes,
    server,
    syntax,
    versions,
    weight,
)
from bisect_leak.fromreport import write as writing
from bisect_leak.planning import scenario

REPORTS = Path(__file__).parent / "data" / "reports"
REPORT_NAMES = sorted(p.stem for p in REPORTS.glob("*.md"))


def test_at_least_ten_real_reports_each_with_its_url_and_expectations():
    assert len(REPORT_NAMES) >= 10
    for name in REPORT_NAMES:
        text = (REPORTS / f"{name}.md").read_text()
        assert text.startswith("<!-- https://github.com/"), name
        assert (REPORTS / f"{name}.expected.json").is_file(), name


def test_known_answers_say_who_found_them_and_which_flags_were_added():
    """bench/reports.py --bisect runs the printed command plus ``known.add``: bounds,
    pins, metric or Python only, never another scenario or load."""
    known = {n: json.loads((REPORTS / f"{n}.expected.json").read_text()).get("known")
             for n in REPORT_NAMES}
    known = {n: k for n, k in known.items() if k}
    assert {"uvicorn-1226", "uvicorn-1564", "fastapi-4649", "pydantic-8397"} <= set(known)
    allowed = {"--fixed", "--bad", "--good", "--with", "--python", "--metric", "--resolve",
               "--threshold", "--package"}
    for name, k in known.items():
        assert k["answer"] and k["by"] and k["add_why"], name
        assert {a for a in k["add"] if a.startswith("--")} <= allowed, name


@pytest.mark.parametrize("name", REPORT_NAMES)
def test_real_report(name: str, tmp_path: Path):
    """The app found, the routes, the requirements and the suggested versions; a report with
    an app gives a folder that scenario.load accepts."""
    text = (REPORTS / f"{name}.md").read_text()
    want = json.loads((REPORTS / f"{name}.expected.json").read_text())
    d = draft.build(text, f"{name}.md")
    s = d.suggestion
    assert d.app.kind == want["app"]
    assert [[r.method, r.path] for r in d.routes] == want["routes"]
    assert list(d.requirements) == want["requirements"]
    assert (s.package, s.bad, s.good, s.python) == (want["package"], want["bad"],
                                                    want["good"], want["python"])
    assert list(s.pins) == want["pins"]
    assert (s.extras, s.metric) == (want["extras"], want["metric"])
    assert [p.split(":")[0] for p in d.problems()] == want["problems"]
    if not d.app.found:
        with pytest.raises(BadInput, match="nothing written"):
            writing.write(d, tmp_path / "out")
        assert not (tmp_path / "out").exists()
        return
    assert d.load.connection.value == want["connection"]
    folder = writing.write(d, tmp_path / "out")
    sc = scenario.load(folder)
    assert [(r.method, r.path) for r in sc.requests] == [tuple(r) for r in want["routes"]]
    assert sc.load.connection.value == want["connection"]
    assert sc.python == want["scenario_python"]
    compile((folder / "app.py").read_text(), "app.py", "exec")


#: uvicorn's releases around the reports, with their upload times on PyPI
UVICORN_PAGE = {"name": "uvicorn", "files": [
    {"filename": f"uvicorn-{v}-py3-none-any.whl", "upload-time": t, "yanked": y}
    for v, t, y in (("0.14.0", "2021-06-01T09:34:11Z", False),
                    ("0.15.0", "2021-08-13T17:04:11Z", False),
                    ("0.16.0", "2021-12-08T11:42:51Z", False),
                    ("0.17.0", "2022-01-14T10:45:40Z", True),
                    ("0.18.2", "2022-06-27T11:52:30Z", False),
                    ("0.18.3", "2022-08-24T13:51:20Z", False),
                    ("0.19.0rc1", "2022-07-01T00:00:00Z", False))]}


@pytest.mark.parametrize("name,day,bad,python", [
    ("uvicorn-1226", "2021-11-20", "0.15.0", "3.8"),
    ("uvicorn-1564", "2022-07-10", "0.18.2", "3.9")])
def test_a_report_naming_no_version_gets_bad_from_its_date(name, day, bad, python,
                                                            monkeypatch, tmp_path):
    """The newest final, unyanked release on the report's (earliest) date, and (no Python
    named) the Python out a year before that release; offline or from a wheelhouse, none."""
    from bisect_leak.candidates import releases

    monkeypatch.setattr(releases, "fetch_index", lambda package, url: UVICORN_PAGE)
    d = draft.build((REPORTS / f"{name}.md").read_text(), f"{name}.md")
    assert (d.suggestion.bad, str(d.reported)) == ("", day)
    got = check.dated(d, check.Where(tmp_path))
    assert got.suggestion.bad == bad and f"--bad {bad}" in got.command("DIR")
    assert f"the newest uvicorn release on {day}" in got.suggestion.why[-2]
    assert got.suggestion.python == python and f"--python {python}" in got.command("DIR")
    assert check.dated(d, check.Where(tmp_path, no_index=True)) == d


def test_a_report_naming_its_version_keeps_it(monkeypatch, tmp_path):
    from bisect_leak.candidates import releases

    def unreachable(*args):
        raise AssertionError("the index is not asked")

    monkeypatch.setattr(releases, "fetch_index", unreachable)
    d = draft.build((REPORTS / "uvicorn-1902.md").read_text(), "uvicorn-1902.md")
    assert check.dated(d, check.Where(tmp_path)) == d
    assert versions.current_at(releases.parse_simple_json(UVICORN_PAGE),
                               d.reported) == "0.18.3"
    assert [versions.python_of_era(date.fromisoformat(day)) for day in (
        "2019-01-01", "2021-08-13", "2022-06-27", "2023-11-01")] == ["3.7", "3.8", "3.9", "3.11"]


def test_the_seed_gives_the_issues_example_command():
    text = (REPORTS / "fastapi-4649.md").read_text()
    d = draft.build(text, "fastapi-4649.md")
    assert d.command("DIR") == ("bisect-leak --scenario DIR --good 0.65.2 --bad 0.74.1 "
                                "--python 3.7 --with uvicorn==0.17.6")
    # the reporter ran 3.10.1; a later comment: "I can reproduce it on Python 3.7.13, but
    # it's not reproducible from 3.8+"
    assert "--python 3.7: the Python the thread reproduces the leak on" in d.suggestion.why
    assert versions.python_named("We cannot reproduce it on Python 3.11. Python 3.8 here") \
        == ("3.8", False)
    assert versions.python_named("We cannot reproduce on Python 3.8. Python 3.8 here") \
        == ("3.8", False)  # named, not said to reproduce
    assert "lost its indentation" in " ".join(d.app.notes)
    toml = writing.render_toml(d)
    assert "re-indented" in toml and "--bad 0.74.1: the fastapi version" in toml


def test_uvicorn_reports_suggest_its_c_implementations_and_their_signal():
    """uvicorn#1226 (TCP pings): uvicorn[standard], --metric fds and a short load; #1564
    (names no load tool): one request per connection; #1902 names h11: plain uvicorn."""
    tcp = draft.build((REPORTS / "uvicorn-1226.md").read_text(), "uvicorn-1226.md")
    assert tcp.command("DIR") == ("bisect-leak --scenario DIR --package 'uvicorn[standard]' "
                                  "--metric fds --bad VERSION --good VERSION")
    assert (tcp.load.warmup, tcp.load.requests, tcp.load.max_requests) == (1000, 5000, 15000)
    state = draft.build((REPORTS / "uvicorn-1564.md").read_text(), "uvicorn-1564.md")
    assert state.load.connection is scenario.Connection.NEW_CONNECTION
    assert "--package 'uvicorn[standard]'" in state.command("DIR")
    assert "imports no framework" not in " ".join(state.notes)
    h11 = draft.build((REPORTS / "uvicorn-1902.md").read_text(), "uvicorn-1902.md")
    assert "--package uvicorn " in h11.command("DIR")


def test_uvicorn_flavour_and_metric_from_words():
    assert server.uvicorn_extras("run with --loop uvloop").value == "[standard]"
    assert server.uvicorn_extras("pip freeze: h11==0.14.0").value == ""
    assert server.uvicorn_extras("it leaks").value == "[standard]"
    assert server.metric(scenario.Connection.CONNECT_AND_CLOSE).value == "fds"
    assert server.metric(scenario.Connection.KEEP_ALIVE).value == ""
    assert server.metric(scenario.Connection.NEW_CONNECTION, heavy=True).value == "held"
    assert server.metric(scenario.Connection.CONNECT_AND_CLOSE, heavy=True).value == "fds"
    assert load.read("it leaks", False, server=True).connection.value == "new-connection"
    assert load.read("wrk -c 8 http://x/", False, server=True).connection.value == \
        "keep-alive"
    assert load.read("it leaks", False).connection.value == "keep-alive"


def test_a_big_object_per_request_is_cut_to_fit_and_the_load_shortened():
    """uvicorn#1564 builds ~34 MiB a request (5.4 GB held by 0.18.2 after 240 requests):
    cut to ~100 KiB, said so in app.py, the request-state scenario's short load, and
    --metric held (0.18.2's sawtooth is inconclusive on the growth signal)."""
    d = draft.build((REPORTS / "uvicorn-1564.md").read_text(), "uvicorn-1564.md")
    assert "request.state.test = [x for x in range(2844)]" in d.app.code
    assert "cut to 2,844" in writing.render_app(d)
    assert (d.load.warmup, d.load.requests, d.load.max_requests, d.load.concurrency) == (
        3000, 10000, 30000, 8)
    assert d.suggestion.metric == "held" and "--metric held" in d.command("DIR")


@pytest.mark.parametrize("code,cut", [
    ("async def f():\n    return b'x' * 5_000_000\n", "return b'x' * 102400"),
    ("def f():\n    return list(range(1, 10**3 + 200_000))\n", "range(1, 2844)"),
    ("async def f():\n    return bytearray(10**8)\n", "bytearray(102400)"),
    ("def f():\n    return bytes(int(1e8))\n", "bytes(102400)"),
    ("def f():\n    return [0] * (2 << 20)\n", "[0] * (12800)"),
    ("def f():\n    return [0] * (10**100)\n", None),  # not a size: left as written
    ("def f(n):\n    return [0] * (n * 10**7)\n", None),  # not all literals
    ("def f():\n    return bytearray(10**3)\n", None),  # small
    ("def f():\n    for i in range(10_000_000):\n        pass\n", None),  # a loop
    ("BIG = [0] * 10_000_000\n", None),  # the module's own, made once
    ("def f():\n    return [0] * 1000\n", None),  # small
])
def test_weight_cuts_only_big_sizes_in_literals_built_per_call(code, cut):
    got = weight.scale(code)
    assert (got.heavy, got.code) == ((True, got.code) if cut else (False, code))
    if cut:
        assert cut in got.code and ast.parse(got.code)


@pytest.mark.parametrize("code,want", [
    ("x = 1\n", ">=3.7"),
    ("if (n := 1):\n    pass\n", ">=3.8"),
    ("def f(items: list[int]):\n    pass\n", ">=3.9"),
    ("async def f(q: str | None = None) -> dict:\n    pass\n", ">=3.10"),
    ("match x:\n    case 1:\n        pass\n", ">=3.10"),
])
def test_the_scenarios_python_is_what_the_code_needs(code, want):
    assert syntax.lowest(ast.parse(code)).specifier == want


FLAT = """\
from fastapi import FastAPI, Depends
app = FastAPI()
class Cache:
def __init__(self):
self.items = {}
def get(self, key):
if key in self.items:
return self.items[key]
else:
return None
def dep():
try:
yield 1
except ValueError:
raise
finally:
pass
@app.get("/items/{item_id}")
async def item(item_id: int, x=Depends(dep)):
data = {
"id": item_id,
}
for k in range(3):
data[k] = k
return data
"""


def test_indent_rebuilds_blocks_of_flattened_code():
    fixed = indent.repair(FLAT)
    assert fixed.ok and fixed.notes
    tree = ast.parse(fixed.code)
    names = [n.name for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef,
                                                         ast.AsyncFunctionDef))]
    assert names == ["Cache", "dep", "item"]
    cache = tree.body[2]
    assert [f.name for f in cache.body] == ["__init__", "get"]
    assert isinstance(cache.body[1].body[0], ast.If) and cache.body[1].body[0].orelse
    item = tree.body[-1]
    assert isinstance(item.body[-1], ast.Return) and isinstance(item.body[1], ast.For)


def test_indent_leaves_valid_code_alone_and_trims_a_cut_off_end():
    assert indent.repair("x = 1\n") == indent.Repaired("x = 1\n", True)
    cut = indent.repair("import os\n\n\ndef f():\n    return 1\n\n\napp = Foo(\n    rou\n")
    assert cut.ok and "cut off" in cut.notes[0]
    assert "rou" not in cut.code


def test_markdown_blocks_fenced_and_unfenced():
    fenced = markdown.blocks("text\n```python\nimport x\n```\nmore\n```\n$ ls\n```\n")
    assert [(b.lang, b.code) for b in fenced] == [("python", "import x\n"), ("", "$ ls\n")]
    loose = markdown.blocks("Example Code\nfrom x import y\napp = y()\nDescription\nWords.\n")
    assert [b.code for b in loose] == ["from x import y\napp = y()\n"]


ROUTES = """\
from fastapi import APIRouter, FastAPI, File, Form, UploadFile
from pydantic import BaseModel
from starlette.routing import Mount, Route


class Item(BaseModel):
    name: str
    price: float
    tags: list[str]
    owner: "Owner"


class Owner(BaseModel):
    id: int


app = FastAPI()
router = APIRouter(prefix="/items")


@router.get("/{item_id}")
async def read(item_id: int, q: str):
    return {}


@router.post("/")
async def create(item: Item):
    return item


@app.post("/upload")
async def upload(file: UploadFile = File(...)):
    return {}


@app.post("/login")
def login(user: str = Form(...), password: str = Form(...)):
    return {}


async def health(request):
    return None


app.add_api_route("/health", health, methods=["HEAD"])
app.include_router(router, prefix="/v1")
sub = FastAPI()
sub.add_route("/ping", health)
app.mount("/sub", sub)
"""


def test_routes_from_the_ast():
    found = routes.find(ast.parse(ROUTES), "FastAPI", upload_size=1234)
    got = {(r.method, r.path): r for r in found}
    assert set(got) == {("GET", "/v1/items/1?q=a"), ("POST", "/v1/items/"),
                        ("POST", "/upload"), ("POST", "/login"), ("HEAD", "/health"),
                        ("GET", "/sub/ping")}
    assert got["POST", "/v1/items/"].json == {"name": "a", "price": 1.5, "tags": [],
                                              "owner": {"id": 1}}
    assert got["POST", "/upload"].file == {"field": "file", "name": "a.bin", "size": 1234}
    assert got["POST", "/login"].form == {"user": "a", "password": "a"}


def test_the_route_the_report_names_comes_first():
    found = routes.find(ast.parse(ROUTES), "FastAPI")
    first = routes.first_named(found, "Memory piles up on every POST to /upload.")
    assert (first[0].method, first[0].template) == ("POST", "/upload")
    assert first[0].file["size"] == routes.DEFAULT_UPLOAD


def test_load_from_the_reports_words():
    assert load.read("wrk -t4 -c 100 -d30s http://x/", False).concurrency == 64
    ab = load.read("ab -n 10000 -c 10 http://127.0.0.1:8000/", False)
    assert (ab.concurrency, ab.connection.value) == (10, "new-connection")
    assert load.read("k8s tcp ping health checks", False).connection.value == \
        "connect-and-close"
    assert load.upload_size("uploading a 10MB file each time") == (10_000_000, "10MB")
    assert load.upload_size("it used 10MB of memory") == (None, "")


def test_versions_named_in_text():
    text = ("I run fastapi==0.81.0 with uvicorn 0.18.3 on Python 3.9.7. "
            "With FastAPI 0.70.0 there was no leak.\nstarlette version: 0.19.1")
    got = {(m.package, m.version) for m in versions.mentions(text)}
    assert {("fastapi", "0.81.0"), ("uvicorn", "0.18.3"), ("fastapi", "0.70.0"),
            ("starlette", "0.19.1")} <= got
    s = versions.suggest(text, "fastapi", ["fastapi", "starlette"])
    assert s.args() == ["--good", "0.70.0", "--bad", "0.81.0", "--python", "3.9",
                        "--with", "uvicorn==0.18.3", "--with", "starlette==0.19.1"]


def test_blockers_are_named_not_guessed():
    code = ('import boto3\nfrom fastapi import FastAPI\napp = FastAPI()\n'
            'DB = "postgresql://u:p@db:5432/x"\n')
    found = app.find([markdown.Block(code, "python")])
    assert found.blockers == ("a service at postgresql://u:p@db:5432/x", "AWS (boto3) "
                              "(import boto3)")


def test_factory_and_other_names_become_app():
    factory = app.find([markdown.Block(
        "from fastapi import FastAPI\ndef create_app():\n    return FastAPI()\n", "python")])
    assert factory.kind == "factory" and factory.code.rstrip().endswith(
        "app = create_app()  # added: the report's factory, called once")
    named = app.find([markdown.Block("from starlette.applications import Starlette\n"
                                     "api = Starlette()\n", "python")])
    assert (named.kind, named.name) == ("Starlette", "api") and "app = api" in named.code


def test_snippets_split_over_blocks_are_merged():
    models = "from pydantic import BaseModel\n\nclass Item(BaseModel):\n    name: str\n"
    main = ("from fastapi import FastAPI\napp = FastAPI()\n\n@app.post('/i')\n"
            "def make(item: Item):\n    return item\n")
    found = app.find([markdown.Block(models, "python"), markdown.Block(main, "python")])
    assert found.undefined == () and "merged from other code blocks" in found.notes[1]
    assert found.code.index("class Item") < found.code.index("app = FastAPI()")


def test_fixes_for_failures_are_read_from_stderr():
    assert "requirements" in check.fix_for("ModuleNotFoundError: No module named 'orjson'")
    assert "define `lifespan`" in check.fix_for("NameError: name 'lifespan' is not defined")
    assert "stream" in check.fix_for_status("nothing within 10 s", "")
    assert "path" in check.fix_for_status("404", "")
    assert "--with h11==0.14.0" in check.fix_for_build("No solution found", ("h11==0.14.0",))


def test_env_requirements_like_a_bisection():
    sc = scenario.load(scenario.BUILTIN_DIR / "upload")
    assert check.env_requirements("fastapi", "0.74.1", sc, ("uvicorn==0.17.6",)) == (
        "fastapi==0.74.1", "python-multipart", "uvicorn==0.17.6")


# --- the command, in-process (the smoke check starts its env build and server as children)

RAW_REPORT = """\
Memory grows with every request under uvicorn (--http h11).
Example Code
async def app(scope, receive, send):
if scope["type"] != "http":
return
await send({"type": "http.response.start", "status": 200, "headers": []})
await send({"type": "http.response.body", "body": b"ok"})
Description
Run it and send 1M requests with `wrk -c 4 http://127.0.0.1:8000/`.
"""


def run_command(argv: list[str], capsys) -> tuple[int, str, str]:
    from bisect_leak.commands import main as cli

    with pytest.raises(SystemExit) as exit_info:
        cli.main(["scenario", "from-report", *argv])
    out = capsys.readouterr()
    return exit_info.value.code, out.out, out.err


def test_command_without_check_writes_the_folder_and_prints_the_command(tmp_path, capsys):
    report = tmp_path / "report.md"
    report.write_text((REPORTS / "fastapi-4649.md").read_text())
    code, out, _ = run_command([str(report), "-o", str(tmp_path / "s"), "--no-check"], capsys)
    assert code == 0
    assert "run: bisect-leak --scenario " + str(tmp_path / "s") in out
    assert scenario.load(tmp_path / "s").requirements == ("fastapi",)


def test_command_bad_input_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch):
    code, _, err = run_command([str(tmp_path / "missing.md"), "-o", str(tmp_path / "s")],
                               capsys)
    assert code == 2 and "neither a file" in err and len(err.strip().splitlines()) == 1
    no_app = tmp_path / "no-app.md"
    no_app.write_text("It leaks. No code here.\n")
    code, _, err = run_command([str(no_app), "-o", str(tmp_path / "s")], capsys)
    assert code == 2 and "nothing written" in err and not (tmp_path / "s").exists()

    import httpx

    def unreachable(*args, **kwargs):
        raise httpx.ConnectError("no network")

    monkeypatch.setattr(httpx.Client, "get", unreachable)
    code, _, err = run_command(["https://github.com/encode/uvicorn/issues/1226", "-o",
                                str(tmp_path / "s")], capsys)
    assert code == 2 and "cannot fetch encode/uvicorn#1226" in err


def test_smoke_check_offline_on_the_toy_wheelhouse(tmp_path, capsys, toy_wheelhouse,
                                                   base_python):
    """A flattened raw ASGI app: the env is uvicorn from the wheelhouse; the server starts
    and GET / answers; then an app that calls a name the report never defines fails with
    the fix to try."""
    where = ["--no-index", "--find-links", str(toy_wheelhouse), "--python", str(base_python),
             "--cache-dir", str(tmp_path / "cache")]
    report = tmp_path / "raw.md"
    report.write_text(RAW_REPORT)
    code, out, err = run_command([str(report), "-o", str(tmp_path / "ok"), *where], capsys)
    assert code == 0, out + err
    assert "GET /: 200" in out and "smoke check: passed" in out
    assert scenario.load(tmp_path / "ok").load.concurrency == 4

    report.write_text(RAW_REPORT.replace('await send({"type": "http.response.start"',
                                         'await helper(scope)\nawait send({"type": '
                                         '"http.response.start"'))
    code, out, err = run_command([str(report), "-o", str(tmp_path / "bad"), *where], capsys)
    assert code == 1, out + err
    assert "uses names the report never defines: helper" in out
    assert "GET /: 500" in out and "fix to try: define `helper` in app.py" in out


def test_command_reads_stdin_and_keeps_an_existing_folder(tmp_path, capsys, monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(RAW_REPORT))
    code, out, _ = run_command(["-", "-o", str(tmp_path / "s"), "--no-check"], capsys)
    assert code == 0 and "raw ASGI app" in out
    before = (tmp_path / "s" / "app.py").read_text()
    monkeypatch.setattr("sys.stdin", io.StringIO(RAW_REPORT))
    code, _, err = run_command(["-", "-o", str(tmp_path / "s"), "--no-check"], capsys)
    assert code == 2 and "not empty" in err
    assert (tmp_path / "s" / "app.py").read_text() == before
