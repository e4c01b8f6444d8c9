"""Which uvicorn a report runs, and the signal its leak shows in (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bisect_leak.planning.scenario import Connection

#: words naming uvicorn's C implementations (what ``uvicorn[standard]`` installs)
_STANDARD = re.compile(r"uvicorn\[standard\]|\bhttptools\b|\buvloop\b|"
                       r"--http[ =]httptools|--loop[ =]uvloop", re.I)
#: words naming the pure-Python ones
_PLAIN = re.compile(r"\bh11\b|--http[ =]h11|--loop[ =]asyncio", re.I)


@dataclass(frozen=True)
class Choice:
    value: str
    why: str


def uvicorn_extras(text: str) -> Choice:
    """``[standard]`` (httptools, uvloop) or ``""`` (h11, asyncio), for a report whose
    package under test is uvicorn: what the report names, else ``[standard]``, the install
    uvicorn's docs recommend, where the HTTP protocol objects are httptools' (uvicorn#1226,
    #1564 leaked there and not with h11)."""
    standard = _STANDARD.search(text)
    if standard:
        return Choice("[standard]", f"--package uvicorn[standard]: the report names "
                                    f"\"{standard.group(0)}\"")
    plain = _PLAIN.search(text)
    if plain:
        return Choice("", f"plain uvicorn (h11): the report names \"{plain.group(0)}\"")
    return Choice("[standard]", "--package uvicorn[standard]: the report names no HTTP "
                                "implementation; httptools and uvloop are what uvicorn's docs "
                                "install (--package uvicorn measures h11)")


def metric(connection: Connection, heavy: bool = False) -> Choice:
    """``fds`` when clients connect and close without a request: such a leak keeps the
    connections themselves (descriptors in CLOSE-WAIT), a few KiB each. ``held`` when each
    request builds a big object: a server that keeps it until the cycle collector runs
    makes a sawtooth whose slope is inconclusive (uvicorn#1564 on 0.18.2), while the memory
    held against the good bound shows it, freed late or never. Else the default."""
    if connection is Connection.CONNECT_AND_CLOSE:
        return Choice("fds", "--metric fds: clients connect and close without a request, so "
                             "a leak keeps connections open (descriptors), a few KiB each")
    if heavy:
        return Choice("held", "--metric held: each request builds a big object; kept until "
                              "a full collection it makes a sawtooth, not a slope: the memory "
                              "held against the good bound shows it, freed late or never")
    return Choice("", "")
