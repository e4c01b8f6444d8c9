"""Versions named in a report's text, turned into suggested bounds, pins and a Python."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timezone

#: packages of the stack whose versions a report may name
KNOWN = ("fastapi", "starlette", "uvicorn", "pydantic", "pydantic-core", "anyio", "h11",
         "httptools", "uvloop", "sse-starlette", "orjson", "python-multipart", "starlite",
         "litestar", "httpx", "websockets")
_VERSION = r"v?(\d+\.\d+(?:\.\d+)?(?:(?:a|b|rc|\.post|\.dev)\d+)?)"
_DATE = re.compile(r"\b(20\d\d)-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])\b")
_GOOD_CUES = re.compile(r"\b(no(t)? (a )?(memory )?leak|didn'?t|did not|does not|doesn'?t|"
                        r"stable|fine|work(s|ed)|rolling back|downgrad|before)\b", re.I)


@dataclass(frozen=True)
class Mention:
    package: str
    version: str
    sentence: str


@dataclass(frozen=True)
class Suggestion:
    """What the report's versions suggest for the bisect-leak command."""

    package: str
    bad: str = ""
    good: str = ""
    python: str = ""
    pins: tuple[str, ...] = ()
    why: tuple[str, ...] = field(default=())
    extras: str = ""  # e.g. "[standard]": installed with the package under test
    metric: str = ""  # --metric, when not the default

    @property
    def target(self) -> str:
        """The package under test as --package takes it (with its extras)."""
        return self.package + self.extras

    def args(self) -> list[str]:
        out = [] if self.target == "fastapi" else ["--package", self.target]
        out += ["--good", self.good] if self.good else []
        out += ["--bad", self.bad] if self.bad else []
        out += ["--python", self.python] if self.python else []
        for pin in self.pins:
            out += ["--with", pin]
        out += ["--metric", self.metric] if self.metric else []
        return out


def mentions(text: str) -> list[Mention]:
    """Every ``package version`` the text names: ``fastapi==0.81.0``, ``uvicorn 0.17.6``,
    ``FastAPI Version\\n0.74.1``, ``pydantic version: 2.5.2``, ``version = "1.50.2"``."""
    found: list[Mention] = []
    names = "|".join(re.escape(k).replace("\\-", "[-_ ]?") for k in KNOWN)
    pattern = re.compile(
        rf"\b({names})\b(?:\[[\w,]+\])?\s*(?:==|>=|<=|~=|@|:|=|\s)?\s*(?:version\s*[:=]?\s*)?"
        rf"(?:\{{[^}}]*?version\s*=\s*\"?)?{_VERSION}\b", re.I)
    for m in pattern.finditer(text):
        pkg = re.sub(r"[ _]", "-", m.group(1).lower())
        pkg = "pydantic-core" if pkg == "pydantic-core" else pkg
        found.append(Mention(pkg, m.group(2), _sentence(text, m.start())))
    return found


_REPRODUCED = re.compile(r"\breproduc\w*\s+(?:it\s+|this\s+|the\s+leak\s+)?(?:on|with|in|using)"
                         r"\s+(?:python|py)\s*v?(3\.\d{1,2})", re.I)
_NEGATED = re.compile(r"\b(?:not|cannot|unable|never|no)\b|n't\b|n’t\b", re.I)


def python_version(text: str) -> str:
    """The Python for ``--python`` (see ``python_named``)."""
    return python_named(text)[0]


def python_named(text: str) -> tuple[str, bool]:
    """(the Python the thread says the leak reproduces on, True) ("I can reproduce it on
    Python 3.7.13, but it's not reproducible from 3.8+": 3.7), else (the one it names first
    outside a "cannot reproduce", False) (``Python 3.10.1``, ``python3.8``, ``py3.11``)."""
    not_there = []  # where the thread says it does not reproduce
    for m in _REPRODUCED.finditer(text):
        clause = re.split(r"[.;,!?\n]", text[:m.start()])[-1]
        if not _NEGATED.search(clause):
            return m.group(1), True
        not_there.append(m.span())
    for m in re.finditer(r"\b(?:python|py)\s*(?:version)?\s*[:=]?\s*v?(3\.\d{1,2})(?:\.\d+)?",
                         text, re.I):
        if not any(a <= m.start() < b for a, b in not_there):
            return m.group(1), False
    return "", False


def _sentence(text: str, at: int) -> str:
    start = max(text.rfind(".", 0, at), text.rfind("\n", 0, at)) + 1
    ends = [i for i in (text.find(". ", at), text.find("\n", at)) if i != -1]
    return text[start:min(ends) if ends else len(text)].strip()


def suggest(text: str, package: str, requirements: list[str]) -> Suggestion:
    """--bad: the version of the package under test the report runs (its first mention not
    in a "no leak" sentence); --good: an older one named as fine; pins: the other packages
    of the stack the report names with one version; --python: the report's Python."""
    found = mentions(text)
    why: list[str] = []
    mine = [m for m in found if m.package == package]
    bad = next((m.version for m in mine if not _GOOD_CUES.search(m.sentence)), "")
    if not bad and mine:
        bad = mine[0].version
    good = next((m.version for m in mine if _GOOD_CUES.search(m.sentence)
                 and _older(m.version, bad)), "")
    if bad:
        why.append(f"--bad {bad}: the {package} version the report runs")
    if good:
        why.append(f"--good {good}: named as free of the leak")
    pins: list[str] = []
    for other in dict.fromkeys(m.package for m in found if m.package != package):
        versions = [m.version for m in found if m.package == other]
        top = max(dict.fromkeys(versions), key=versions.count)  # most named, then first
        if other in requirements or other in ("uvicorn", "uvloop", "httptools", "h11"):
            pins.append(f"{other}=={top}")
    if pins:
        why.append("--with " + " ".join(pins) + ": versions the report names")
    python, said = python_named(text)
    if python:
        why.append(f"--python {python}: " + ("the Python the thread reproduces the leak on"
                                             if said else "the report's Python"))
    return Suggestion(package, bad, good, python, tuple(pins), tuple(why))


def _older(a: str, b: str) -> bool:
    from packaging.version import InvalidVersion, Version

    try:
        return not b or Version(a) < Version(b)
    except InvalidVersion:
        return False


def report_date(text: str) -> date | None:
    """The earliest ISO date in the text (a thread's first post: when the reporter ran it)."""
    days = [date(*map(int, m.groups())) for m in _DATE.finditer(text)]
    return min(days) if days else None


def current_at(releases, day: date) -> str:
    """The newest final, unyanked release uploaded by the end of ``day`` (``releases``:
    objects with ``version``, ``uploaded``, ``yanked``, as the index lists them)."""
    end = datetime.combine(day, time.max, tzinfo=timezone.utc)
    out = [r for r in releases if r.uploaded is not None and not r.yanked
           and not r.version.is_prerelease and r.uploaded <= end]
    return str(max(out, key=lambda r: r.version).version) if out else ""


#: first final release of each Python bisect-leak runs
PYTHON_RELEASED = {"3.7": date(2018, 6, 27), "3.8": date(2019, 10, 14),
                   "3.9": date(2020, 10, 5), "3.10": date(2021, 10, 4),
                   "3.11": date(2022, 10, 24), "3.12": date(2023, 10, 2),
                   "3.13": date(2024, 10, 7)}


def python_of_era(day: date) -> str:
    """The newest Python out a year before ``day``: the one a release of that day has
    wheels for (C extensions such as httptools and uvloop follow a new Python late)."""
    out = [v for v, d in PYTHON_RELEASED.items() if (day - d).days >= 365]
    return out[-1] if out else "3.7"


def dated(s: Suggestion, day: date | None, version: str,
          uploaded: date | None = None) -> Suggestion:
    """--bad from the report's date, when the text names no version of the package; and,
    when it names no Python either, --python of that release's era."""
    if s.bad or not day or not version:
        return s
    why = s.why + (f"--bad {version}: the newest {s.package} release on {day.isoformat()}, "
                   "the date of the report (it names no version)",)
    python = s.python
    if not python and uploaded:
        python = python_of_era(uploaded)
        why += (f"--python {python}: the report names none; the newest Python out a year "
                f"before {s.package} {version} ({uploaded.isoformat()}), which its C "
                "dependencies have wheels for",)
    return replace(s, bad=version, python=python, why=why)
