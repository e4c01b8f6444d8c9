"""Releases of a package between two bounds, from the index (PEP 691 JSON) or a wheelhouse."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from email.parser import HeaderParser
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from bisect_leak.errors import BadInput, InfrastructureError

DEFAULT_INDEX = "https://pypi.org/simple"
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"


@dataclass(frozen=True)
class Release:
    version: Version
    requires_python: str | None = None
    yanked: bool = False
    uploaded: datetime | None = None

    def __str__(self) -> str:
        return str(self.version)

    def supports(self, python_version: str) -> bool:
        if not self.requires_python:
            return True
        try:
            return SpecifierSet(self.requires_python).contains(python_version, prereleases=True)
        except InvalidSpecifier:
            return True


@dataclass(frozen=True)
class Selection:
    """The releases a search runs over, oldest first, and what was left out and why."""

    releases: tuple[Release, ...]
    skipped: tuple[tuple[str, str], ...] = field(default=())  # (version, reason)

    @property
    def versions(self) -> list[str]:
        return [str(r) for r in self.releases]

    def release(self, version: str) -> Release:
        for r in self.releases:
            if str(r) == version:
                return r
        raise KeyError(version)


def parse_simple_json(data: dict) -> list[Release]:
    """Releases from a PEP 691 project page: one per version, from its files."""
    by_version: dict[Version, list[dict]] = {}
    name = canonicalize_name(data.get("name", ""))
    for f in data.get("files", []):
        version = _version_of(f.get("filename", ""), name)
        if version is not None:
            by_version.setdefault(version, []).append(f)
    releases = []
    for version, files in by_version.items():
        requires = next((f.get("requires-python") for f in files if f.get("requires-python")), None)
        times = [_parse_time(f["upload-time"]) for f in files if f.get("upload-time")]
        releases.append(
            Release(
                version=version,
                requires_python=requires,
                yanked=all(bool(f.get("yanked")) for f in files),
                uploaded=min(times) if times else None,
            )
        )
    return sorted(releases, key=lambda r: r.version)


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _version_of(filename: str, name: str) -> Version | None:
    try:
        if filename.endswith(".whl"):
            dist, version, _, _ = parse_wheel_filename(filename)
        elif filename.endswith((".tar.gz", ".zip")):
            dist, version = parse_sdist_filename(filename)
        else:
            return None
    except (ValueError, InvalidVersion):
        return None
    return version if not name or canonicalize_name(dist) == name else None


def fetch_index(package: str, index_url: str = DEFAULT_INDEX, timeout: float = 30.0) -> dict:
    """The index's PEP 691 page for ``package`` (the seam tests replace)."""
    import httpx

    url = f"{index_url.rstrip('/')}/{canonicalize_name(package)}/"
    try:
        response = httpx.get(
            url, headers={"Accept": SIMPLE_JSON}, timeout=timeout, follow_redirects=True
        )
    except httpx.HTTPError as exc:
        raise InfrastructureError(f"cannot reach the index {index_url}: {exc}") from None
    if response.status_code == 404:
        raise BadInput(f"no package named {package!r} on {index_url}; check the spelling")
    if response.status_code != 200:
        raise InfrastructureError(
            f"the index {index_url} answered {response.status_code} for {url}"
        )
    if "json" not in response.headers.get("content-type", ""):
        raise InfrastructureError(
            f"the index {index_url} does not serve PEP 691 JSON; use --find-links with a wheelhouse"
        )
    return response.json()


def from_wheelhouse(package: str, folder: Path) -> list[Release]:
    """Releases of ``package`` found as wheels or sdists in a folder."""
    if not folder.is_dir():
        raise BadInput(
            f"wheelhouse {folder} does not exist; pass an existing folder to --find-links"
        )
    name = canonicalize_name(package)
    by_version: dict[Version, str | None] = {}
    for path in sorted(folder.iterdir()):
        version = _version_of(path.name, name)
        if version is None:
            continue
        requires = _wheel_requires_python(path) if path.suffix == ".whl" else None
        by_version[version] = by_version.get(version) or requires
    return sorted(
        (Release(version=v, requires_python=r) for v, r in by_version.items()),
        key=lambda r: r.version,
    )


def _wheel_requires_python(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as whl:
            meta = next(n for n in whl.namelist() if n.endswith(".dist-info/METADATA"))
            headers = HeaderParser().parsestr(whl.read(meta).decode("utf-8", "replace"))
            return headers.get("Requires-Python")
    except (zipfile.BadZipFile, StopIteration, OSError):
        return None


def parse_version(text: str, what: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion:
        raise BadInput(f"{what} {text!r} is not a version (PEP 440), e.g. 0.68.2") from None


def select(
    releases: Iterable[Release],
    package: str,
    old: str,
    new: str,
    *,
    python_version: str,
    pre: bool = False,
    old_name: str = "--good",
    new_name: str = "--bad",
) -> Selection:
    """The releases from ``old`` to ``new`` (both included, old < new) fit to search."""
    everything = sorted(releases, key=lambda r: r.version)
    if not everything:
        raise BadInput(f"no releases of {package} found; check the package name and the index")
    old_v, new_v = parse_version(old, old_name), parse_version(new, new_name)
    known = {r.version: r for r in everything}
    for v, flag in ((old_v, old_name), (new_v, new_name)):
        if v not in known:
            raise BadInput(
                f"{package} has no release {v} ({flag}); nearest: {nearest(everything, v)}"
            )
        if not known[v].supports(python_version):
            raise BadInput(
                f"{package} {v} ({flag}) requires Python {known[v].requires_python}; "
                f"Python {python_version} cannot run it: choose another --python or bound"
            )
    if old_v == new_v:
        raise BadInput(f"{old_name} and {new_name} are both {old_v}: give two different releases")
    if old_v > new_v:
        raise BadInput(f"{old_name} {old_v} is newer than {new_name} {new_v}: swap them")
    chosen: list[Release] = []
    skipped: list[tuple[str, str]] = []
    for r in everything:
        if not old_v <= r.version <= new_v:
            continue
        is_bound = r.version in (old_v, new_v)
        if r.yanked and not is_bound:
            skipped.append((str(r), "yanked"))
        elif r.version.is_prerelease and not pre and not is_bound:
            skipped.append((str(r), "pre-release (pass --pre to include)"))
        elif not r.supports(python_version):
            skipped.append((str(r), f"requires Python {r.requires_python}"))
        else:
            chosen.append(r)
    return Selection(tuple(chosen), tuple(skipped))


def nearest(releases: list[Release], target: Version) -> str:
    below = [r for r in releases if r.version < target]
    above = [r for r in releases if r.version > target]
    names = [str(r) for r in below[-2:]] + [str(r) for r in above[:2]]
    return ", ".join(names) or "none"
