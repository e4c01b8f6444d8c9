"""The load driver: bounded rounds of HTTP/1.1 requests over raw asyncio sockets.

It runs in bisect-leak's own process. Every round is bounded by a request count and a
deadline, and every socket wait by its own timeout, so a server that stops answering or
stops closing sockets cannot hang the driver.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bisect_leak.planning.scenario import Connection, Request

HALF_CLOSE_LINGER = 0.05  # connect-and-close clients wait this long before closing
FAILURE_RATIO = 0.01  # connection failures or unexpected 5xx a round tolerates


def tolerated(sent: int) -> float:
    """The failures and unexpected answers a round of ``sent`` requests may have."""
    return max(3, FAILURE_RATIO * sent)


@dataclass
class Round:
    """What one bounded round of load did."""

    sent: int = 0
    ok: int = 0  # 2xx/3xx answers (or clean connect-and-close cycles)
    client_errors: int = 0  # 4xx
    server_errors: int = 0  # 5xx
    unexpected: int = 0  # statuses the scenario did not expect (5xx when it expects none)
    failures: int = 0  # resets, timeouts, refused connections
    seconds: float = 0.0
    last_failure: str = ""

    def add(self, other: Round) -> None:
        self.sent += other.sent
        self.ok += other.ok
        self.client_errors += other.client_errors
        self.server_errors += other.server_errors
        self.unexpected += other.unexpected
        self.failures += other.failures
        self.seconds += other.seconds
        self.last_failure = other.last_failure or self.last_failure


class ResponseError(Exception):
    pass


def encode(request: Request, host: str, port: int, close: bool) -> bytes:
    """One request as bytes on the wire."""
    lines = [f"{request.method} {request.path} HTTP/1.1", f"host: {host}:{port}"]
    lines += [f"{k}: {v}" for k, v in request.headers]
    if request.body or request.method in ("POST", "PUT", "PATCH"):
        lines.append(f"content-length: {len(request.body)}")
    if close:
        lines.append("connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + request.body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response; returns (status, server_wants_close)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise ResponseError(f"bad status line {lines[0]!r}")
    status = int(parts[1])
    length = None
    chunked = False
    close = parts[0] == "HTTP/1.0"
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        value = value.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value:
            chunked = True
        elif name == "connection":
            close = value == "close"
    if chunked:
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";")[0].strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length is not None:
        await reader.readexactly(length)
    elif status not in (204, 304) and not 100 <= status < 200:
        await reader.read()  # body runs to the end of the connection
        close = True
    return status, close


class Driver:
    """Drives one server; keep-alive connections persist between rounds."""

    def __init__(
        self,
        host: str,
        port: int,
        requests: Sequence[Request],
        *,
        connection: Connection = Connection.KEEP_ALIVE,
        concurrency: int = 16,
        io_timeout: float = 10.0,
    ):
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError("the driver only sends to loopback")
        self.host, self.port = host, port
        self.connection = connection
        self.concurrency = concurrency
        self.io_timeout = io_timeout
        close = connection is not Connection.KEEP_ALIVE
        self._wire = [encode(r, host, port, close) for r in requests]
        self._expect = [r.expect for r in requests]
        self._loop = asyncio.new_event_loop()
        self._pool: list[tuple[asyncio.StreamReader, asyncio.StreamWriter] | None] = [
            None
        ] * concurrency

    def run(self, count: int, max_seconds: float) -> Round:
        """Send ``count`` requests (fewer if ``max_seconds`` runs out first)."""
        return self._loop.run_until_complete(self._round(count, max_seconds))

    def close(self) -> None:
        if self._loop.is_closed():
            return
        for i, conn in enumerate(self._pool):
            if conn is not None:
                conn[1].close()
                self._pool[i] = None
        self._loop.run_until_complete(asyncio.sleep(0))
        self._loop.close()

    async def _round(self, count: int, max_seconds: float) -> Round:
        result = Round()
        start = time.monotonic()
        deadline = start + max_seconds
        state = {"next": 0}

        def claim() -> int | None:
            # a round that already failed more than it tolerates stops: a hung server is
            # found after a few request timeouts, not one per request of the round
            if (state["next"] >= count or time.monotonic() >= deadline
                    or result.failures > tolerated(count)):
                return None
            state["next"] += 1
            return state["next"] - 1

        workers = [self._worker(i, claim, result) for i in range(min(self.concurrency, count))]
        await asyncio.gather(*workers)
        result.seconds = time.monotonic() - start
        return result

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port), self.io_timeout
        )

    async def _worker(self, slot: int, claim, result: Round) -> None:
        while True:
            index = claim()
            if index is None:
                return
            result.sent += 1
            try:
                if self.connection is Connection.CONNECT_AND_CLOSE:
                    await self._connect_and_close()
                    result.ok += 1
                    continue
                which = index % len(self._wire)
                status = await self._exchange(slot, self._wire[which])
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError,
                    asyncio.LimitOverrunError, ResponseError, ValueError) as exc:
                result.failures += 1
                result.last_failure = f"{type(exc).__name__}: {exc}"[:200]
                self._drop(slot)
                answered = result.ok + result.client_errors + result.server_errors
                if result.failures > 50 and result.failures > answered:
                    return  # the server is gone or broken: stop this worker
                continue
            expect = self._expect[which]
            if (status != expect) if expect is not None else status >= 500:
                result.unexpected += 1
            if status >= 500:
                result.server_errors += 1
            elif status >= 400:
                result.client_errors += 1
            else:
                result.ok += 1

    async def _exchange(self, slot: int, wire: bytes) -> int:
        conn = self._pool[slot]
        reused = conn is not None
        if conn is None:
            conn = await self._open()
            if self.connection is Connection.KEEP_ALIVE:
                self._pool[slot] = conn
        reader, writer = conn
        try:
            writer.write(wire)
            status, close = await asyncio.wait_for(read_response(reader), self.io_timeout)
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            partial = getattr(exc, "partial", b"")
            if not reused or partial:
                raise
            # The server closed an idle keep-alive connection, as it may: once more, afresh.
            writer.close()
            self._pool[slot] = None
            return await self._exchange(slot, wire)
        if close or self.connection is not Connection.KEEP_ALIVE:
            writer.close()
            self._pool[slot] = None
        return status

    async def _connect_and_close(self) -> None:
        reader, writer = await self._open()
        try:
            if writer.can_write_eof():
                writer.write_eof()
            await asyncio.sleep(HALF_CLOSE_LINGER)
        finally:
            writer.close()

    def _drop(self, slot: int) -> None:
        conn = self._pool[slot]
        if conn is not None:
            conn[1].close()
            self._pool[slot] = None
