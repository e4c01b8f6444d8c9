"""The day an env's dependencies are resolved as of, under ``--resolve release-date``.

A release is resolved as the index stood on its upload day, a range of commits (and the
commit-level checks) as it stood on the range's newest commit's day: one snapshot, so two
adjacent commits' envs differ only in the package's own tree. An exact ``--with`` pin
uploaded later than that day pulls the date forward to its own upload day (a pin needs
dependencies of its own time: uvicorn 0.17.6 needs an asgiref newer than FastAPI 0.65.2).

The choice is pure (:func:`as_of`, :func:`snapshot`); :func:`pin_uploads` reads the pins'
upload times through the index seam (``releases.fetch_index``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from bisect_leak.candidates import releases
from bisect_leak.errors import BadInput, InfrastructureError

MARGIN = timedelta(days=1)  # a release's own dependencies often ship the same day


@dataclass(frozen=True)
class AsOf:
    """Resolve as the index stood at ``date`` (the margin included), and why that day."""

    date: datetime
    why: str

    @property
    def exclude_newer(self) -> str:
        return self.date.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def snapshot(dates: Iterable[datetime]) -> datetime | None:
    """The one day a range of commits is resolved as of: its newest commit's (author dates
    are not monotone along a history, so the newest of them all, not the last one's)."""
    found = [d.astimezone(timezone.utc) for d in dates]
    return max(found) if found else None


def as_of(day: datetime | None, what: str, pins: Mapping[str, datetime]) -> AsOf | None:
    """The later of ``day`` (``what`` names it: "fastapi 0.65.2's upload") and the newest
    pin's upload, plus the margin; None when there is no day to hold to."""
    if day is None:
        return None
    day = day.astimezone(timezone.utc)
    newest = max(pins.items(), key=lambda kv: kv[1], default=None)
    if newest is not None and newest[1] > day:
        pin, uploaded = newest
        return AsOf(uploaded.astimezone(timezone.utc) + MARGIN,
                    f"{pin} was uploaded {uploaded:%Y-%m-%d}, after {what} ({day:%Y-%m-%d}): "
                    "resolved as of the pin's day, so its own dependencies can be found")
    return AsOf(day + MARGIN, f"{what} ({day:%Y-%m-%d}) plus one day")


def pin_uploads(withs: Iterable[str], index_url: str,
                fetch: Callable[[str, str], dict] = releases.fetch_index
                ) -> dict[str, datetime]:
    """{``name==version``: upload time} of the exact ``--with`` pins, from the index (a pin
    the index does not know is left out: its env build will say why)."""
    found: dict[str, datetime] = {}
    for pin in withs:
        req = Requirement(pin)
        exact = [s for s in req.specifier if s.operator in ("==", "===")]
        if not exact:
            continue
        try:
            wanted = Version(exact[0].version)
            page = fetch(canonicalize_name(req.name), index_url)
        except (InfrastructureError, BadInput, ValueError):
            continue
        for release in releases.parse_simple_json(page):
            if release.version == wanted and release.uploaded is not None:
                found[pin] = release.uploaded
    return found
