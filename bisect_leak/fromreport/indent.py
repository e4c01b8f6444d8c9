"""Indentation repair of Python whose indentation was lost, and of code cut off at the end.

The rules read block structure from the lines themselves: a line ending in ``:`` opens a
block; ``return``/``raise``/``pass``/``break``/``continue`` close the innermost one;
``elif``/``else``/``except``/``finally`` go back to their opener; imports and top-level
names used as decorators (``@app.get``) go back to column 0; a ``def`` right after an
opener nests, otherwise it goes back to the enclosing class (or the module). ``ast``
has the last word: a result that does not parse is not returned as repaired.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

_CLOSERS = re.compile(r"^(return|raise|pass|break|continue)\b")
_DEF = re.compile(r"^(async\s+def|def|class)\s")
_TOP_NAME = re.compile(r"^@(\w+)\.")
_ASSIGN = re.compile(r"^(\w+)\s*(:[^=]+)?=[^=]")
MAX_TRIM = 25  # lines dropped at the most from a code block cut off at its end


@dataclass(frozen=True)
class Repaired:
    code: str
    ok: bool  # parses
    notes: tuple[str, ...] = ()


def parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return True


def repair(code: str) -> Repaired:
    """The code as it is when it parses; else re-indented (when flattened) and/or with a
    cut-off end dropped; ``ok`` False when nothing makes it parse."""
    if parses(code):
        return Repaired(code, True)
    notes: list[str] = []
    candidate = code
    if _flattened(code):
        candidate = reindent(code)
        notes.append("the code had lost its indentation: re-indented from its block "
                     "structure (check the function bodies)")
        if parses(candidate):
            return Repaired(candidate, True, tuple(notes))
    trimmed, dropped = trim(candidate)
    if dropped:
        notes.append(f"the code block is cut off: dropped its last {dropped} line(s), "
                     "which did not parse")
        return Repaired(trimmed, True, tuple(notes))
    return Repaired(code, False, tuple(notes) + ("the code does not parse as Python",))


def _flattened(code: str) -> bool:
    lines = [ln for ln in code.splitlines() if ln.strip()]
    opens = sum(1 for ln in lines if _code_part(ln).rstrip().endswith(":"))
    indented = sum(1 for ln in lines if ln[:1] in (" ", "\t"))
    return opens > 0 and indented < opens


def trim(code: str) -> tuple[str, int]:
    """Drop lines from the end until the code parses (at most MAX_TRIM); (code, dropped)."""
    lines = code.rstrip("\n").splitlines()
    for dropped in range(1, min(MAX_TRIM, len(lines) - 1) + 1):
        candidate = "\n".join(lines[:-dropped]) + "\n"
        if parses(candidate) and _has_code(candidate):
            return candidate, dropped
    return code, 0


def _has_code(code: str) -> bool:
    return bool(ast.parse(code).body)


def _code_part(line: str) -> str:
    """The line without a trailing comment (strings are not tracked: good enough here)."""
    return re.sub(r"\s+#.*$", "", line) if not line.lstrip().startswith("#") else ""


def reindent(code: str) -> str:
    """Indentation rebuilt from the block structure of flattened lines (four spaces)."""
    lines = [ln.strip() for ln in code.splitlines()]
    top_names = {m.group(1) for ln in lines if (m := _TOP_NAME.match(ln))}
    out: list[str] = []
    stack: list[tuple[str, int]] = []  # (keyword, level) of each open block
    level, depth, prev_opened = 0, 0, False
    for s in lines:
        if not s:
            out.append("")
            continue
        if depth > 0:  # inside brackets opened on an earlier line
            out.append("    " * (level + 1) + s)
            depth = max(0, depth + _bracket_delta(s))
            continue
        word = s.split(None, 1)[0].rstrip(":")
        level, stack = _place(s, word, level, stack, prev_opened, top_names)
        if word == "return" and stack and stack[-1][0] in ("for", "while") and \
                not prev_opened:  # a return after a loop's body ends the loop first
            level = stack.pop()[1]
        out.append("    " * level + s)
        code = _code_part(s)
        depth = max(0, _bracket_delta(code))
        prev_opened = False
        if code.endswith(":") and depth == 0:
            stack.append((word, level))
            level += 1
            prev_opened = True
        elif _CLOSERS.match(s) and depth == 0 and stack:
            level = stack.pop()[1]
    return "\n".join(out) + "\n"


def _place(s: str, word: str, level: int, stack: list[tuple[str, int]], prev_opened: bool,
           top_names: set[str]) -> tuple[int, list[tuple[str, int]]]:
    """The level of one line and the blocks still open before it."""
    stack = list(stack)
    if word in ("elif", "else", "except", "finally"):
        wanted = {"elif": ("if", "elif"), "else": ("if", "elif", "for", "while", "try", "except"),
                  "except": ("try", "except"), "finally": ("try", "except", "else")}[word]
        while stack and stack[-1][0] not in wanted:
            stack.pop()
        if stack:
            return stack.pop()[1], stack
        return level, stack
    if prev_opened:
        return level, stack
    assign = _ASSIGN.match(s)
    if word in ("import", "from") or (assign and assign.group(1) in top_names) \
            or _TOP_NAME.match(s) or s.startswith("if __name__"):
        return 0, []
    if _DEF.match(s) or s.startswith("@"):
        while stack and stack[-1][0] != "class":
            stack.pop()
        return (stack[-1][1] + 1 if stack else 0), stack
    return level, stack


def _bracket_delta(code: str) -> int:
    code = re.sub(r"(\"[^\"]*\"|'[^']*')", "", code)
    return sum(code.count(c) for c in "([{") - sum(code.count(c) for c in ")]}")
