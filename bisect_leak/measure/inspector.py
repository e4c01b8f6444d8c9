"""The client of the in-env launcher's side channel: what grows, by type and by site."""

from __future__ import annotations

import json
import socket
from pathlib import Path

LAUNCHER = Path(__file__).resolve().parent / "probe" / "launcher.py"
#: how the launcher is told its frame depth (probe/launcher.py reads it)
FRAMES_VARIABLE = "BISECT_LEAK_TRACEMALLOC_FRAMES"


class InspectError(Exception):
    pass


def ask(port: int, command: str, timeout: float = 120.0) -> dict:
    """Send one command to the launcher on 127.0.0.1 and read its JSON answer."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(command.encode() + b"\n")
            data = sock.makefile("rb").readline()
    except OSError as exc:
        raise InspectError(f"inspector side channel: {exc}") from None
    try:
        answer = json.loads(data)
    except ValueError:
        raise InspectError("inspector side channel: no answer") from None
    if not answer.get("ok"):
        raise InspectError(f"inspector: {answer.get('error', 'failed')}")
    return answer


def describe(diff: dict, top: int = 5) -> str:
    """One line: the top growing types and sites."""
    types = ", ".join(f"{name} +{delta:,}" for name, delta, _ in diff.get("types", [])[:top])
    named = []
    for i, (site, size, *rest) in enumerate(diff.get("sites", [])[:3]):
        code = f" `{rest[1][:60]}`" if i == 0 and len(rest) > 1 and rest[1] else ""
        named.append(f"{site.split('/')[-1]}{code} +{size / 1024:,.0f} KiB")
    sites = ", ".join(named)
    return f"grew: {types or 'nothing'}; sites: {sites or 'none'}"
