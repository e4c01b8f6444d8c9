"""The line answer (pure): which changed lines allocate what grows.

Data in, data out. The inspected run of the first bad version (with ``--fixed``, the last
leaking one) reports its growing allocation sites, each with its heaviest stacks (files and
lines, innermost first, as installed in the env). Here those installed paths are mapped back
to the repository's paths (the package folders, ``src/`` layouts) and intersected with the
changed lines of a diff: the new side of the first bad's diff (``--fixed``: the old side of
the fix's diff, the side the last leaking run executed).

Each growing site gives one row per way it is reached:

- the allocating line is itself changed: ``in_diff=True``;
- else the nearest changed line on its stack, walking outward from the allocation (the
  changed call that leads to an unchanged helper's allocation): ``via`` names that line,
  and the row stays the allocating line, ``in_diff=False`` (an unchanged line is never
  called changed);
- else no changed line is on its stack: the growth comes from code the diff did not touch.
"""

from __future__ import annotations

import csv
import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

# A site grows when it still holds this many bytes per traced request at the end of the
# window (16 KiB over 2,000 requests); a leak at the default threshold (25 bytes per
# request) holds ~49 KiB at its line, the busiest stable lines 4-7 KiB (inspection.py).
FLOOR_BYTES_PER_REQUEST = 8
# ... and more than this many times what the reference run (the other version of the pair)
# held at the same code in the same file, when that run was inspected too.
OVER_REFERENCE = 2.0

HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass(frozen=True)
class Hunk:
    """One changed stretch of a file: its old side and its new side (either may be empty)."""

    old_path: str | None  # None for an added file
    new_path: str | None  # None for a deleted file
    old_start: int
    old_lines: tuple[str, ...]
    new_start: int
    new_lines: tuple[str, ...]


@dataclass(frozen=True)
class Frame:
    path: str  # as installed (absolute), or as mapped (repository path)
    line: int


@dataclass(frozen=True)
class Stack:
    bytes: int
    frames: tuple[Frame, ...]  # innermost (the allocating line) first


@dataclass(frozen=True)
class Site:
    """A line that allocated memory in the window that is still held at its end."""

    frame: Frame
    bytes: int
    code: str
    stacks: tuple[Stack, ...]


@dataclass(frozen=True)
class Via:
    path: str
    line: int
    code: str

    def as_dict(self) -> dict:
        return {"path": self.path, "line": self.line, "code": self.code}


@dataclass(frozen=True)
class Line:
    """One row of the answer (JSON ``lines``)."""

    path: str
    line: int
    code: str
    kib: float
    in_diff: bool
    via: Via | None = None

    @property
    def changed(self) -> bool:
        """The row names a changed line: the allocating one, or the call that leads to it."""
        return self.in_diff or self.via is not None

    def as_dict(self) -> dict:
        return {"path": self.path, "line": self.line, "code": self.code,
                "kib": self.kib, "in_diff": self.in_diff,
                "via": self.via.as_dict() if self.via else None}


# -- diffs ---------------------------------------------------------------------------------


def parse_diff(text: str) -> list[Hunk]:
    """The hunks of ``git diff -U0`` output (a/ and b/ prefixes, /dev/null for a side that
    does not exist)."""
    hunks: list[Hunk] = []
    old_path = new_path = None
    current: list | None = None  # [old_start, old_lines, new_start, new_lines]

    def close() -> None:
        if current is not None:
            hunks.append(Hunk(old_path, new_path, current[0], tuple(current[1]), current[2],
                              tuple(current[3])))

    for raw in text.splitlines():
        if raw.startswith("diff --git "):
            close()
            current, old_path, new_path = None, None, None
        elif current is None and raw.startswith("--- "):
            old_path = _diff_path(raw[4:], "a/")
        elif current is None and raw.startswith("+++ "):
            new_path = _diff_path(raw[4:], "b/")
        elif raw.startswith("@@"):
            close()
            m = HUNK.match(raw)
            current = [int(m.group(1)), [], int(m.group(3)), []] if m else None
        elif current is not None and raw[:1] == "-":
            current[1].append(raw[1:])
        elif current is not None and raw[:1] == "+":
            current[3].append(raw[1:])
    close()
    return hunks


def _diff_path(text: str, prefix: str) -> str | None:
    text = text.rstrip("\t")
    if text == "/dev/null":
        return None
    if text.startswith('"') and text.endswith('"'):  # git quotes unusual names C-style
        text = text[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")
        text = text.encode("latin-1").decode("utf-8", "replace")
    return text[len(prefix):] if text.startswith(prefix) else text


def diff_texts(old: Mapping[str, str], new: Mapping[str, str]) -> list[Hunk]:
    """The hunks between two trees given as {path: text} (release level: two envs'
    installed files), with the line numbers ``git diff -U0`` would give."""
    hunks = []
    for path in sorted(set(old) | set(new)):
        a = old.get(path, "").splitlines()
        b = new.get(path, "").splitlines()
        if a == b:
            continue
        matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag != "equal":
                hunks.append(Hunk(path if path in old else None, path if path in new else None,
                                  i1 + 1 if i2 > i1 else i1, tuple(a[i1:i2]),
                                  j1 + 1 if j2 > j1 else j1, tuple(b[j1:j2])))
    return hunks


def changed_lines(hunks: Iterable[Hunk], old_side: bool = False) -> dict[tuple[str, int], str]:
    """{(path, line): code} of the lines a diff changed, on its new side (or its old side:
    the lines a fix removed or rewrote). A pure insertion has no line on the old side."""
    out: dict[tuple[str, int], str] = {}
    for h in hunks:
        path, start, texts = ((h.old_path, h.old_start, h.old_lines) if old_side
                              else (h.new_path, h.new_start, h.new_lines))
        if path is None:
            continue
        for i, text in enumerate(texts):
            out[(path, start + i)] = text.strip()
    return out


def insertions_note(hunks: Iterable[Hunk], shown: int = 3) -> str:
    """Why a fix's old side has nothing to match when the fix only inserted lines: where
    it inserted them and what (the leaking version never ran them). Empty when the old
    side changed, or nothing was inserted."""
    hunks = list(hunks)
    if any(h.old_lines and h.old_path for h in hunks):
        return ""
    inserted = [h for h in hunks if h.new_lines and h.new_path]
    if not inserted:
        return ""
    where = "; ".join(f"{h.new_path}:{h.new_start} {h.new_lines[0].strip()!r}"
                      + (f" (+{len(h.new_lines) - 1} lines)" if len(h.new_lines) > 1 else "")
                      for h in inserted[:shown])
    more = f" and {len(inserted) - shown} more" if len(inserted) > shown else ""
    return (f"the fix only inserts lines, so no line of the leaking version changed to match "
            f"what grows against; it inserted {where}{more}")


# -- paths ---------------------------------------------------------------------------------


def installed_relative(path: str, prefixes: Sequence[str]) -> str | None:
    """``uvicorn/main.py`` for a file under one of the env's install prefixes (purelib,
    platlib), or under any ``site-packages/``; None for anything else (the stdlib)."""
    for prefix in prefixes:
        if prefix and path.startswith(prefix.rstrip("/") + "/"):
            return path[len(prefix.rstrip("/")) + 1:]
    marker = "/site-packages/"
    if marker in path:
        return path.rsplit(marker, 1)[1]
    return None


def repo_path(relative: str, roots: Sequence[str], known: Iterable[str] = ()) -> str | None:
    """The repository path of an installed file: through the package roots
    (``src/uvicorn/``, ``uvicorn.py``), else a known repository path that ends with it;
    None when neither names it (another distribution's file)."""
    for root in roots:
        if root.endswith("/"):
            name = root.rstrip("/").rsplit("/", 1)[-1] + "/"
            if relative.startswith(name):
                return root + relative[len(name):]
        elif relative == root.rsplit("/", 1)[-1]:
            return root
    if not roots:
        ends = sorted((p for p in known if p == relative or p.endswith("/" + relative)), key=len)
        return ends[0] if ends else None
    return None


def display_path(path: str, prefixes: Sequence[str], stdlib: Sequence[str] = ()) -> str:
    """How a file outside the repository is shown: relative to its install prefix, or as
    ``<stdlib>/asyncio/streams.py``."""
    found = installed_relative(path, prefixes)
    if found is not None:
        return found
    for prefix in stdlib:
        if prefix and path.startswith(prefix.rstrip("/") + "/"):
            return "<stdlib>/" + path[len(prefix.rstrip("/")) + 1:]
    return path


# -- the inspection's sites ----------------------------------------------------------------


def sites_of(inspection: Mapping) -> list[Site]:
    """The sites (with their stacks) of a launcher ``diff`` answer; stacks are absent from
    answers of launchers that kept one frame: then the allocating line alone."""
    files = list(inspection.get("files") or [])
    stacks = inspection.get("stacks") or {}
    out = []
    for key, size, _count, *rest in inspection.get("sites") or []:
        path, _, line = key.rpartition(":")
        frame = Frame(path, int(line))
        found = tuple(Stack(int(b), tuple(Frame(files[i], n) for i, n in frames))
                      for b, frames in stacks.get(key, []))
        out.append(Site(frame, int(size), rest[0] if rest else "",
                        found or (Stack(int(size), (frame,)),)))
    return out


def prefixes_of(inspection: Mapping, keys: Sequence[str] = ("purelib", "platlib")
                ) -> tuple[str, ...]:
    """The env's install prefixes the launcher reported (``stdlib``, ``platstdlib``: the
    standard library's)."""
    paths = inspection.get("paths") or {}
    return tuple(p for p in (paths.get(k) for k in keys) if p)


STDLIB = ("stdlib", "platstdlib")


# -- the answer ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LineAnswer:
    """The rows, what they were intersected with, and why there are none when so."""

    rows: tuple[Line, ...]
    against: str  # the diff: "git diff A B", "installed files of 1.0.0 and 1.1.0"
    note: str = ""  # why there is no row (inspection failed, nothing grew)
    frames: int = 1  # how many frames of each stack the launcher kept (the search's depth)

    def json_fields(self) -> dict:
        """``lines`` (the rows), ``lines_against`` and ``lines_note``."""
        return {"lines": [r.as_dict() for r in self.rows], "lines_against": self.against,
                "lines_note": self.note, "lines_frames": self.frames}


def intersect(inspection: Mapping, changed: Mapping[tuple[str, int], str],
              roots: Sequence[str], reference: Mapping | None = None) -> list[Line]:
    """The rows for the growing sites of ``inspection`` against ``changed`` lines
    (:func:`changed_lines`); ``roots``: the package folders in the repository (empty at
    release level, where the installed paths are the paths); ``reference``: the other
    version's inspection, whose sites at the same code do not count as growth."""
    prefixes, stdlib = prefixes_of(inspection), prefixes_of(inspection, STDLIB)
    known = {path for path, _ in changed}

    def mapped(path: str) -> str | None:
        relative = installed_relative(path, prefixes)
        return repo_path(relative, roots, known) if relative is not None else None

    floor = FLOOR_BYTES_PER_REQUEST * int(inspection.get("window") or 2000)
    held = _held_by_code(reference, roots) if reference else {}
    rows = []
    for site in sites_of(inspection):
        path = mapped(site.frame.path)
        shown = path or display_path(site.frame.path, prefixes, stdlib)
        if site.bytes < floor or site.bytes <= OVER_REFERENCE * held.get((shown, site.code), 0):
            continue
        here = changed.get((path, site.frame.line)) if path else None
        if here is not None:
            rows.append(Line(shown, site.frame.line, here or site.code, _kib(site.bytes), True))
            continue
        groups: dict[Via | None, int] = {}
        for stack in site.stacks:
            via = _nearest_changed(stack, changed, mapped)
            groups[via] = groups.get(via, 0) + stack.bytes
        rows += [Line(shown, site.frame.line, site.code, _kib(b), False, via)
                 for via, b in groups.items()]
    return sorted(rows, key=lambda r: (not r.in_diff, not r.changed, -r.kib))


def _nearest_changed(stack: Stack, changed: Mapping[tuple[str, int], str],
                     mapped) -> Via | None:
    """The first changed line walking outward from the allocation (the allocating frame
    itself was checked by the caller)."""
    for frame in stack.frames[1:]:
        path = mapped(frame.path)
        if path is not None and (path, frame.line) in changed:
            return Via(path, frame.line, changed[(path, frame.line)])
    return None


def _held_by_code(inspection: Mapping, roots: Sequence[str]) -> dict[tuple[str, str], int]:
    prefixes, stdlib = prefixes_of(inspection), prefixes_of(inspection, STDLIB)
    held: dict[tuple[str, str], int] = {}
    for site in sites_of(inspection):
        relative = installed_relative(site.frame.path, prefixes)
        path = repo_path(relative, roots) if relative is not None else None
        key = (path or display_path(site.frame.path, prefixes, stdlib), site.code)
        held[key] = held.get(key, 0) + site.bytes
    return held


def _kib(size: int) -> float:
    return round(size / 1024, 1)


def render(answer: LineAnswer, what: str = "commit", top: int = 5) -> list[str]:
    """The terminal lines under the answer."""
    rows = answer.rows
    if not rows:
        return [f"line answer ({answer.against}): {answer.note or 'no row'}"]
    out = []
    direct = [r for r in rows if r.in_diff][:top]
    called = [r for r in rows if r.via is not None and not r.in_diff][:top]
    untouched = [r for r in rows if not r.changed][:top]
    if direct:
        out.append("changed lines that allocate what grows:")
        out += [f"  {r.path}:{r.line}  {r.code[:80]}  +{r.kib:,.1f} KiB" for r in direct]
    if called:
        out.append("changed lines that call what allocates what grows (the allocating line "
                   "is unchanged):" if not direct else "changed calls that lead to more of it:")
        out += [f"  {r.via.path}:{r.via.line}  {r.via.code[:60]}  +{r.kib:,.1f} KiB  "
                f"-> {r.path}:{r.line}  {r.code[:60]}" for r in called if r.via]
    if untouched:
        head = (f"the growth comes from code the {what} did not touch (no changed line "
                f"among the {answer.frames} innermost frames of its stacks):"
                if not (direct or called) else f"also growing, in code the {what} did not "
                "touch:")
        out.append(head)
        out += [f"  {r.path}:{r.line}  {r.code[:80]}  +{r.kib:,.1f} KiB" for r in untouched]
    return out


def record_sources(record: str) -> list[str]:
    """The Python files a distribution installed, from its ``RECORD`` (paths relative to
    the install prefix; scripts outside it left out)."""
    out = []
    for row in csv.reader(record.splitlines()):
        path = row[0] if row else ""
        if path.endswith(".py") and not path.startswith("../") and ".dist-info/" not in path:
            out.append(path)
    return out
