"""Code blocks of a report: fenced ones, and Python that lost its fences (and indentation)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_FENCE = re.compile(r"^\s*(```+|~~~+)\s*([\w+-]*)[^\n]*$")
_PYTHON_LANGS = {"", "python", "py", "python3", "py3"}
#: lines that start Python code when no fence says so (a report whose fences were lost)
_PY_START = re.compile(
    r"^(from\s+[\w.]+\s+import\s|import\s+[\w.]+|@\w[\w.]*\(?|(async\s+)?def\s+\w+\s*\(|"
    r"class\s+\w+\s*[(:]|\w+\s*=\s*\w[\w.]*\(|#\s|return\b|await\b|if\s+__name__)"
)


@dataclass(frozen=True)
class Block:
    """One piece of code from the report."""

    code: str
    lang: str = ""
    fenced: bool = True
    line: int = 0  # where it starts in the report (1-based)

    @property
    def maybe_python(self) -> bool:
        return self.lang.lower() in _PYTHON_LANGS


def blocks(text: str) -> list[Block]:
    """Fenced code blocks, in order; where the report has none, runs of Python-looking
    lines (a page copied without its Markdown loses both fences and indentation)."""
    found: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, lang = m.group(1), m.group(2)
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence[:3]):
            body.append(lines[j])
            j += 1
        found.append(Block("\n".join(body).strip("\n") + "\n", lang, True, i + 2))
        i = j + 1
    if found:
        return found
    return _unfenced(lines)


def _unfenced(lines: list[str]) -> list[Block]:
    """Runs of lines that look like Python, started by an import, decorator or def."""
    found: list[Block] = []
    run: list[str] = []
    start = 0
    for number, line in enumerate(lines + [""]):
        stripped = line.strip()
        if run and (not stripped or _looks_like_code(stripped)):
            if stripped:
                run.append(line)
            continue
        if run:
            found.append(Block("\n".join(run) + "\n", "python", False, start + 1))
            run = []
        if stripped and _PY_START.match(stripped) and not stripped.startswith(("#", "return")):
            run, start = [line], number
    return [b for b in found if _has_statement(b.code)]


def _looks_like_code(line: str) -> bool:
    if _PY_START.match(line):
        return True
    if line.endswith((":", ",", "(", "[", "{", ")", "]", "}")) and " " not in line.rstrip(":"):
        return True
    return bool(re.match(r"^[\w.\[\]'\"]+\s*(=|\+=|-=)\s*\S", line)) or \
        bool(re.match(r"^(pass|else:|elif\s|try:|except\b|finally:|with\s|for\s|while\s|"
                      r"if\s|yield\b|raise\b|\w+\(.*\)$)", line))


def _has_statement(code: str) -> bool:
    return any(re.match(r"(from|import|def|async|class|@)\b", ln.strip())
               for ln in code.splitlines())


def prose(text: str) -> str:
    """The report without its fenced code blocks (what people wrote, not pasted)."""
    out, inside, fence = [], False, ""
    for line in text.splitlines():
        m = _FENCE.match(line)
        if m and not inside:
            inside, fence = True, m.group(1)[:3]
            continue
        if inside and line.strip().startswith(fence):
            inside = False
            continue
        if not inside:
            out.append(line)
    return "\n".join(out)
