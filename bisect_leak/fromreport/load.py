"""The load a report describes: connections, concurrency and how many requests."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from bisect_leak.planning.scenario import Connection

#: sizes such as "300 kB", "10MB", "2 MiB" (for uploads)
_SIZE = re.compile(r"\b(\d+(?:\.\d+)?)\s*(k|kb|kib|m|mb|mib|g|gb|gib)\b", re.I)
_UNITS = {"k": 1000, "kb": 1000, "kib": 1024, "m": 10**6, "mb": 10**6, "mib": 2**20,
          "g": 10**9, "gb": 10**9, "gib": 2**30}


@dataclass(frozen=True)
class LoadPlan:
    """The ``[load]`` table to write, with the reasons."""

    connection: Connection = Connection.KEEP_ALIVE
    concurrency: int = 16
    warmup: int = 5000
    requests: int = 20000
    max_requests: int = 80000
    sample_every: int = 500
    why: tuple[str, ...] = field(default=())

    def table(self) -> dict:
        return {"warmup": self.warmup, "requests": self.requests,
                "max_requests": self.max_requests, "concurrency": self.concurrency,
                "connection": self.connection.value, "sample_every": self.sample_every}


def read(text: str, uploads: bool, server: bool = False) -> LoadPlan:
    """Connection and concurrency from load tools' command lines and uvicorn's flags;
    ``server``: the package under test is the server (one request per connection unless the
    report says otherwise)."""
    why: list[str] = []
    connection = None
    concurrency = 8 if uploads else 16
    tool = re.search(r"\b(wrk|ab|hey|oha|locust|siege)\b[^\n`]*?\s-(c|u)\s*(\d+)", text)
    if tool:
        concurrency = max(1, min(int(tool.group(3)), 64))
        why.append(f"concurrency {concurrency}: from `{tool.group(0).strip()}`")
        connection = Connection.KEEP_ALIVE
        if tool.group(1) == "ab" and not re.search(r"\bab\b[^\n]*\s-k\b", text):
            connection = Connection.NEW_CONNECTION
            why.append("ab without -k: one request per connection")
    if re.search(r"\b(tcp[- ]?ping|tcping|health ?check|liveness|readiness probe|"
                 r"create_connection)", text, re.I):
        connection = Connection.CONNECT_AND_CLOSE
        why.append("the report speaks of TCP pings / health checks: clients connect and close "
                   "without a request")
    elif re.search(r"keep-?alive\s+(off|disabled)|connection:\s*close|new connection",
                   text, re.I):
        connection = Connection.NEW_CONNECTION
        why.append("the report's clients do not keep connections alive")
    elif connection is None and server:
        connection = Connection.NEW_CONNECTION
        why.append("the server is under test and the report names no load tool: one request "
                   "per connection, so what the server keeps per connection (protocol, parser, "
                   "scope) is made and dropped with every request")
    _requests_named(text, why)
    for flag, value in re.findall(r"--(http|loop)[ =](\w+)", text):
        why.append(f"the report runs uvicorn --{flag} {value}: pin it with --with if it "
                   "matters (uvicorn[standard] brings httptools and uvloop)")
    connection = connection or Connection.KEEP_ALIVE
    if uploads:
        return LoadPlan(connection, concurrency, 2000, 10000, 40000, 500,
                        tuple(why) + ("uploads are slow: a shorter load",))
    if connection is Connection.CONNECT_AND_CLOSE:
        return LoadPlan(connection, concurrency if tool else 8, 1000, 5000, 15000, 250,
                        tuple(why) + ("connections are slow and a kept one shows at once: "
                                      "a shorter load",))
    return LoadPlan(connection, concurrency, why=tuple(why))


def lighter(plan: LoadPlan, why: str) -> LoadPlan:
    """A load short enough for a request that allocates a lot: ~1.3 GB at the first
    verdict if the server kept all of it (as the built-in ``request-state`` scenario)."""
    if plan.warmup + plan.requests <= 13000:
        return plan
    return replace(plan, concurrency=min(plan.concurrency, 8), warmup=3000, requests=10000,
                   max_requests=30000, why=plan.why + (why,))


def _requests_named(text: str, why: list[str]) -> None:
    count = re.search(r"\b(\d+(?:\.\d+)?)\s*([km])\b\s*(requests|times|calls)", text, re.I) or \
        re.search(r"call(?:ed)? the API (\d+(?:\.\d+)?)\s*([km])\b", text, re.I)
    if count:
        why.append(f"the report sends {count.group(1)}{count.group(2)} requests; the scenario "
                   "measures up to 80,000 after a 5,000 warm-up, enough for a steady leak")


def upload_size(text: str) -> tuple[int | None, str]:
    """A file size the report mentions (bytes), with the words it came from."""
    for m in _SIZE.finditer(text):
        around = text[max(0, m.start() - 80):m.end() + 80].lower()
        if any(w in around for w in ("upload", "file", "multipart")):
            size = int(float(m.group(1)) * _UNITS[m.group(2).lower()])
            if 0 < size <= 50 * 10**6:
                return size, m.group(0)
    return None, ""
