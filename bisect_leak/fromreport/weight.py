"""What one request of a report's app allocates, and scaling it down to fit (pure).

Reports make a leak visible with a big object per request (``[x for x in range(999999)]``,
``[0] * 10_000_000``, ``bytearray(10**8)``). Kept by a leaking server, such an object
exhausts the machine long before a verdict: uvicorn 0.18.2 keeps every request's scope
until a full collection, so ``range(999999)`` (~36 MB a request) held 5.4 GB after 240
requests here. The size is cut down to ``BUDGET`` a request, in the code, and said so; the
leak keeps its shape, smaller.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

BUDGET = 100 * 1024  # bytes a request may allocate in a scenario
_MIN = 10_000  # sizes below this are never the point of the report
#: bytes per element, by how the object is built
_PER_ITEM = {"comprehension": 36, "list": 8, "bytes": 1}


@dataclass(frozen=True)
class Scaled:
    code: str
    notes: tuple[str, ...] = ()

    @property
    def heavy(self) -> bool:
        """A size was cut: the load should be as short as a leak of BUDGET a request needs."""
        return bool(self.notes)


def _range_stop(node: ast.AST):
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
            and node.func.id == "range" and 1 <= len(node.args) <= 3:
        return node.args[1] if len(node.args) > 1 else node.args[0]
    return None


def _sized(tree: ast.Module):
    """(size node, bytes per element, the expression) for each sized object built: a
    comprehension over (or a list of) ``range(N)``, ``[x] * N``, ``"x" * N``,
    ``bytearray(N)``, ``bytes(N)``, ``os.urandom(N)``, in a function (what a request runs;
    not the module's own objects). Loops over ``range(N)`` are not."""
    inside = {id(n): n for f in ast.walk(tree)
              if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
              for n in ast.walk(f)}
    for node in inside.values():
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp)):
            for gen in node.generators:
                if _range_stop(gen.iter) is not None:
                    yield _range_stop(gen.iter), "comprehension", node
        elif isinstance(node, ast.Call) and node.args:
            name = node.func.attr if isinstance(node.func, ast.Attribute) else \
                getattr(node.func, "id", "")
            if name in ("list", "tuple", "set") and _range_stop(node.args[0]) is not None:
                yield _range_stop(node.args[0]), "comprehension", node
            elif name in ("bytearray", "bytes", "urandom"):
                yield node.args[0], "bytes", node
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            for seq, n in ((node.left, node.right), (node.right, node.left)):
                if isinstance(seq, ast.List):
                    yield n, "list", node
                elif isinstance(seq, ast.Constant) and isinstance(seq.value, (str, bytes)):
                    yield n, "bytes", node


_FOLD = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
         ast.Mult: lambda a, b: a * b, ast.FloorDiv: lambda a, b: a // b if b else None,
         ast.Pow: lambda a, b: a ** b if 0 <= b <= 64 and abs(a) <= 10**6 else None,
         ast.LShift: lambda a, b: a << b if 0 <= b <= 64 else None}
_LARGEST = 10**13  # a size beyond this is not a size


def literal_size(node: ast.AST) -> int | None:
    """The integer a size written with literals comes to (``10_000_000``, ``10**8``,
    ``2 << 20``, ``int(1e8)``, ``10**3 + 200_000``), or None when it is not one."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        value = node.value
    elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "int" \
            and len(node.args) == 1 and isinstance(node.args[0], ast.Constant) \
            and type(node.args[0].value) is float and node.args[0].value.is_integer():
        value = int(node.args[0].value)
    elif isinstance(node, ast.BinOp) and type(node.op) in _FOLD:
        left, right = literal_size(node.left), literal_size(node.right)
        value = None if left is None or right is None else _FOLD[type(node.op)](left, right)
    else:
        return None
    return value if value is not None and abs(value) <= _LARGEST else None


def scale(code: str) -> Scaled:
    """The code with each size written in literals over BUDGET cut to fit it (the whole
    expression replaced by the smaller number), and a note for each."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return Scaled(code)
    lines = code.splitlines(keepends=True)
    notes = []
    edits = []
    for const, kind, node in _sized(tree):
        count = literal_size(const)
        if count is None or count < _MIN or const.lineno != const.end_lineno:
            continue
        size = count * _PER_ITEM[kind]
        if size <= BUDGET:
            continue
        smaller = max(1, BUDGET // _PER_ITEM[kind])
        edits.append((const.lineno, const.col_offset, const.end_col_offset, str(smaller)))
        notes.append(f"one request builds ~{size / 2**20:,.1f} MiB "
                     f"(`{ast.get_source_segment(code, node)}`): cut to {smaller:,} so it is "
                     f"~{BUDGET // 1024} KiB, or a leaking server that keeps it would exhaust "
                     f"memory before a verdict; the leak keeps its shape, smaller")
    for line, start, end, text in sorted(edits, reverse=True):  # offsets are in UTF-8
        old = lines[line - 1].encode()
        lines[line - 1] = (old[:start] + text.encode() + old[end:]).decode()
    return Scaled("".join(lines), tuple(notes))
