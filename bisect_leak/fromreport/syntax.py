"""The lowest Python an app's code runs on, read from its syntax (pure).

The scenario's ``python`` key is a constraint (a run on another Python is refused), so it
says what the code needs, not what the reporter ran: that goes to ``--python``."""

from __future__ import annotations

import ast
from dataclasses import dataclass

FLOOR = (3, 7)  # the oldest Python bisect-leak runs


@dataclass(frozen=True)
class Lowest:
    version: tuple[int, int] = FLOOR
    why: str = ""

    @property
    def specifier(self) -> str:
        return ">={}.{}".format(*self.version)


def _annotations(tree: ast.Module):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg,
                      args.kwarg):
                if a is not None and a.annotation is not None:
                    yield a.annotation
            if node.returns is not None:
                yield node.returns
        elif isinstance(node, ast.AnnAssign):
            yield node.annotation


def _needs(tree: ast.Module):
    """(version, what) for each feature newer than the floor."""
    for node in ast.walk(tree):
        if type(node).__name__ in ("Match", "MatchValue"):
            yield (3, 10), "a match statement"
        elif type(node).__name__ == "TryStar":
            yield (3, 11), "except*"
        elif isinstance(node, ast.NamedExpr):
            yield (3, 8), "an assignment expression (:=)"
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                and node.args.posonlyargs:
            yield (3, 8), "positional-only parameters"
    for ann in _annotations(tree):
        for sub in ast.walk(ann):
            if isinstance(sub, ast.BinOp) and isinstance(sub.op, ast.BitOr):
                yield (3, 10), "X | Y in an annotation (evaluated by the framework)"
            elif isinstance(sub, ast.Subscript) and isinstance(sub.value, ast.Name) \
                    and sub.value.id in ("list", "dict", "set", "tuple", "type", "frozenset"):
                yield (3, 9), f"{sub.value.id}[...] in an annotation"


def lowest(tree: ast.Module) -> Lowest:
    """The newest feature the code uses decides; none: the floor, 3.7."""
    found = sorted(_needs(tree), key=lambda vw: vw[0], reverse=True)
    if not found:
        return Lowest(FLOOR, "python >=3.7: the code uses nothing newer")
    version, what = found[0]
    return Lowest(version, "python >={}.{}: the code uses {}".format(*version, what))
