"""The package's layering (README, "How it is built"), read from the source with ``ast``:
imports run down the layers only, pure modules do no I/O, one module starts processes, and
the code that runs inside target envs imports only the standard library."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "bisect_leak"

#: lowest first; a module may import from its own layer and the layers before it
LAYERS = (
    ("errors", "processes"),
    ("judge", "bisection"),
    ("candidates",),
    ("planning",),
    ("environments",),
    ("measure",),
    ("run",),
    ("reporting",),
    ("map", "fromreport"),
    ("commands",),
)
#: data in, data out: no processes, sockets, clocks of the machine or files written
PURE = ("judge", "bisection", "candidates.commits", "candidates.candidate", "candidates.lines",
        "environments.freeze", "map.grid")
IMPURE_IMPORTS = {"subprocess", "socket", "psutil", "httpx", "bisect_leak.processes",
                  "threading", "shutil"}


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[0] == "measure" and len(parts) > 1 and parts[1] == "probe":
            continue  # runs inside the target env: checked below
        name = ".".join(p for p in parts if p != "__init__")
        found[name] = path
    return found


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports, absolute (``bisect_leak.x.y`` or a top-level name)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if node.module == "bisect_leak":
                names |= {f"bisect_leak.{a.name}" for a in node.names}
    return names


def layer(module: str) -> int:
    top = module.split(".")[0]
    for i, tops in enumerate(LAYERS):
        if top in tops:
            return i
    return -1  # __init__, __main__: the package itself


@pytest.mark.parametrize("module", sorted(m for m in modules() if layer(m) >= 0))
def test_imports_run_down_the_layers_only(module):
    own = layer(module)
    upward = [name for name in imports(modules()[module])
              if name.startswith("bisect_leak.") and layer(name[len("bisect_leak."):]) > own]
    assert not upward, f"{module} (layer {own}) imports from a higher layer: {upward}"


def test_every_module_is_in_a_layer():
    loose = [m for m in modules() if layer(m) < 0 and m not in ("", "__main__")]
    assert not loose, f"modules outside the layering: {loose}"


def test_no_import_cycles():
    graph = {m: {n[len("bisect_leak."):] for n in imports(p) if n.startswith("bisect_leak.")}
             for m, p in modules().items()}
    state: dict[str, int] = {}

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for n in graph.get(m, ()):
            if n not in graph:
                continue
            assert state.get(n) != 1, f"import cycle: {' -> '.join([*path, m, n])}"
            if n not in state:
                visit(n, [*path, m])
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m, [])


@pytest.mark.parametrize("module", sorted(m for m in modules()
                                          if any(m == p or m.startswith(p + ".") for p in PURE)))
def test_pure_modules_do_no_io(module):
    bad = imports(modules()[module]) & IMPURE_IMPORTS
    assert not bad, f"{module} is pure but imports {bad}"


def test_only_one_module_starts_processes():
    starters = sorted(m for m, p in modules().items()
                      if {"subprocess", "multiprocessing"} & imports(p))
    assert starters == ["processes"]


def test_the_probe_imports_only_the_standard_library():
    """...and uvicorn, the server it starts in-process, which every target env holds."""
    allowed = set(sys.stdlib_module_names) | {"uvicorn"}
    for path in (PACKAGE / "measure" / "probe").glob("*.py"):
        outside = {n.split(".")[0] for n in imports(path)} - allowed
        assert not outside, f"{path.name} runs inside target envs but imports {outside}"
