"""Tests for release listing in bisect_leak.candidates.releases, on recorded index responses.

No network: ``tests/data/fastapi-simple.json`` is a PEP 691 response recorded once from
https://pypi.org/simple/fastapi/ and trimmed to 0.60.0..0.80.0 (hashes and sizes dropped);
``tests/data/toy-simple.json`` is hand-made (yanked, pre-release, requires-python cases).
"""

from __future__ import annotations

import json
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest
from packaging.version import Version

from bisect_leak.candidates.releases import (
    Release,
    Selection,
    from_wheelhouse,
    nearest,
    parse_simple_json,
    select,
)
from bisect_leak.errors import BadInput

DATA = Path(__file__).parent / "data"
PY37 = "3.7.16"


def load_json(name: str) -> dict:
    return json.loads((DATA / name).read_text())


@pytest.fixture(scope="module")
def fastapi_page() -> dict:
    return load_json("fastapi-simple.json")


@pytest.fixture(scope="module")
def fastapi(fastapi_page) -> list[Release]:
    return parse_simple_json(fastapi_page)


@pytest.fixture(scope="module")
def toy() -> list[Release]:
    return parse_simple_json(load_json("toy-simple.json"))


def by_version(releases: list[Release]) -> dict[str, Release]:
    return {str(r): r for r in releases}


# --- the recorded fixtures themselves ---------------------------------------------------


def test_recorded_fastapi_fixture_is_small_and_pep691_shaped(fastapi_page):
    assert (DATA / "fastapi-simple.json").stat().st_size < 200_000
    assert set(fastapi_page) == {"meta", "name", "versions", "files"}
    assert fastapi_page["name"] == "fastapi"
    assert fastapi_page["meta"]["api-version"].startswith("1.")
    assert all({"filename", "upload-time", "yanked"} <= set(f) for f in fastapi_page["files"])


# --- parse_simple_json ------------------------------------------------------------------


def test_parse_fastapi_one_release_per_version_in_pep440_order(fastapi, fastapi_page):
    versions = [r.version for r in fastapi]
    assert versions == sorted(versions)
    assert len(set(versions)) == len(versions)
    assert [str(v) for v in versions] == sorted(fastapi_page["versions"], key=Version)
    assert versions[0] == Version("0.60.0")
    assert versions[-1] == Version("0.80.0")


def test_parse_fastapi_upload_time_is_the_earliest_files(fastapi, fastapi_page):
    files_by_version: dict[str, list[dict]] = {}
    for f in fastapi_page["files"]:
        version = f["filename"].removeprefix("fastapi-").split("-")[0].removesuffix(".tar.gz")
        files_by_version.setdefault(version, []).append(f)
    releases = by_version(fastapi)
    assert set(releases) == set(files_by_version)
    for version, files in files_by_version.items():
        assert len(files) >= 1
        earliest = min(
            datetime.fromisoformat(f["upload-time"].replace("Z", "+00:00")) for f in files
        )
        assert releases[version].uploaded == earliest
        assert releases[version].uploaded.tzinfo is not None


def test_parse_fastapi_requires_python_and_not_yanked(fastapi):
    releases = by_version(fastapi)
    assert releases["0.68.1"].requires_python == ">=3.6"
    assert releases["0.68.2"].requires_python == ">=3.6.1"
    assert not any(r.yanked for r in fastapi)


def test_parse_toy_orders_by_pep440_not_by_text(toy):
    assert [str(r) for r in toy] == [
        "0.9.0", "1.0.0", "1.1.0", "1.2.0rc1", "1.2.0", "1.3.0", "1.10.0", "2.0.0",
    ]


def test_parse_toy_aggregates_files_per_version(toy):
    releases = by_version(toy)
    # 1.0.0: a wheel and an earlier sdist (listed second); the .egg is not a release file.
    assert releases["1.0.0"].uploaded == datetime(2021, 1, 1, 12, 30, 0, 250000, timezone.utc)
    # Yanked only when every file is: 1.1.0 (a reason string and true), not 1.3.0 (one of two).
    assert releases["1.1.0"].yanked is True
    assert releases["1.3.0"].yanked is False
    assert releases["1.2.0"].requires_python == ">=3.8"
    assert releases["2.0.0"].requires_python is None


def test_parse_toy_ignores_other_projects_files(toy):
    # toy_pkg_extras-5.0.0 shares the prefix but is another project.
    assert Version("5.0.0") not in {r.version for r in toy}


def test_parse_empty_page():
    assert parse_simple_json({"meta": {"api-version": "1.1"}, "name": "x", "files": []}) == []


# --- select on the recorded FastAPI page ------------------------------------------------


def test_select_fastapi_range_on_python_37(fastapi):
    sel = select(fastapi, "fastapi", "0.65.2", "0.75.0", python_version=PY37)
    assert isinstance(sel, Selection)
    versions = [Version(v) for v in sel.versions]
    assert sel.versions[0] == "0.65.2"
    assert sel.versions[-1] == "0.75.0"
    assert versions == sorted(versions)
    assert "0.68.2" in sel.versions
    assert "0.69.0" in sel.versions
    assert sel.skipped == ()
    expected = [str(r) for r in fastapi if Version("0.65.2") <= r.version <= Version("0.75.0")]
    assert sel.versions == expected


def test_select_leaves_out_versions_outside_the_bounds_without_naming_them(fastapi):
    sel = select(fastapi, "fastapi", "0.65.2", "0.75.0", python_version=PY37)
    assert "0.65.1" not in sel.versions
    assert "0.75.1" not in sel.versions
    assert all(Version("0.65.2") <= Version(v) <= Version("0.75.0") for v, _ in sel.skipped)
    assert all(Version("0.65.2") <= Version(v) <= Version("0.75.0") for v in sel.versions)


def test_selection_release_lookup(fastapi):
    sel = select(fastapi, "fastapi", "0.65.2", "0.75.0", python_version=PY37)
    assert sel.release("0.69.0").version == Version("0.69.0")
    with pytest.raises(KeyError):
        sel.release("0.80.0")


def test_select_unknown_version_names_nearest(fastapi):
    with pytest.raises(BadInput) as err:
        select(fastapi, "fastapi", "0.68.5", "0.75.0", python_version=PY37)
    message = str(err.value)
    assert "0.68.5" in message
    assert "--good" in message
    assert "nearest: 0.68.1, 0.68.2, 0.69.0, 0.70.0" in message


def test_select_unknown_new_bound_names_its_flag(fastapi):
    with pytest.raises(BadInput, match=r"--bad.*nearest: 0\.79\.1, 0\.80\.0"):
        select(fastapi, "fastapi", "0.65.2", "0.99.0", python_version=PY37)


def test_select_bound_the_python_cannot_run(fastapi):
    # 0.68.2 onwards require Python >=3.6.1.
    with pytest.raises(BadInput, match=r"0\.75\.0.*>=3\.6\.1.*3\.6\.0 cannot run it"):
        select(fastapi, "fastapi", "0.65.2", "0.75.0", python_version="3.6.0")
    sel = select(fastapi, "fastapi", "0.65.2", "0.68.1", python_version="3.6.0")
    assert sel.versions[-1] == "0.68.1"


@pytest.mark.parametrize("new", ["0.68.2", "0.68.2.0"])
def test_select_equal_bounds(fastapi, new):
    with pytest.raises(BadInput, match="both 0.68.2"):
        select(fastapi, "fastapi", "0.68.2", new, python_version=PY37)


def test_select_not_a_version(fastapi):
    with pytest.raises(BadInput, match="not a version"):
        select(fastapi, "fastapi", "latest", "0.75.0", python_version=PY37)


def test_select_no_releases():
    with pytest.raises(BadInput, match="no releases of ghost"):
        select([], "ghost", "1.0", "2.0", python_version=PY37)


# --- select on the toy page: what is skipped and why ------------------------------------


def test_select_toy_skips_yanked_prerelease_and_unsupported_python(toy):
    sel = select(toy, "toy-pkg", "1.0.0", "2.0.0", python_version=PY37)
    assert sel.versions == ["1.0.0", "1.3.0", "1.10.0", "2.0.0"]
    skipped = dict(sel.skipped)
    assert skipped["1.1.0"] == "yanked"
    assert "pre-release" in skipped["1.2.0rc1"]
    assert "--pre" in skipped["1.2.0rc1"]
    assert skipped["1.2.0"] == "requires Python >=3.8"
    assert set(skipped) == {"1.1.0", "1.2.0rc1", "1.2.0"}


def test_select_toy_with_pre_includes_prereleases(toy):
    sel = select(toy, "toy-pkg", "1.0.0", "2.0.0", python_version=PY37, pre=True)
    assert "1.2.0rc1" in sel.versions
    assert sel.versions.index("1.2.0rc1") < sel.versions.index("1.3.0")
    assert "1.2.0rc1" not in dict(sel.skipped)
    assert dict(sel.skipped).get("1.1.0") == "yanked"  # --pre does not bring yanked back


def test_select_toy_on_newer_python_keeps_requires_python_release(toy):
    sel = select(toy, "toy-pkg", "1.0.0", "2.0.0", python_version="3.8.0")
    assert sel.versions == ["1.0.0", "1.2.0", "1.3.0", "1.10.0", "2.0.0"]
    assert "1.2.0" not in dict(sel.skipped)


def test_select_toy_explicit_bounds_are_kept_even_if_yanked_or_prerelease(toy):
    sel = select(toy, "toy-pkg", "1.1.0", "1.2.0rc1", python_version=PY37)
    assert sel.versions == ["1.1.0", "1.2.0rc1"]
    assert sel.skipped == ()


def test_select_toy_bound_requiring_newer_python(toy):
    with pytest.raises(BadInput, match=r"toy-pkg 1\.2\.0 \(--bad\) requires Python >=3\.8"):
        select(toy, "toy-pkg", "1.0.0", "1.2.0", python_version=PY37)


def test_select_custom_flag_names(toy):
    with pytest.raises(BadInput, match=r"\(--check\)"):
        select(toy, "toy-pkg", "1.0.0", "3.0.0", python_version=PY37, new_name="--check")


def test_nearest_at_the_edges(toy):
    assert nearest(toy, Version("0.1")) == "0.9.0, 1.0.0"
    assert nearest(toy, Version("9.0")) == "1.10.0, 2.0.0"
    assert nearest([], Version("1.0")) == "none"


def test_release_supports():
    assert Release(Version("1.0"), ">=3.8").supports("3.8.0")
    assert not Release(Version("1.0"), ">=3.8").supports("3.7.16")
    assert Release(Version("1.0"), None).supports("2.7.18")
    assert Release(Version("1.0"), "not a specifier").supports("3.7.16")  # unreadable: allowed


# --- from_wheelhouse --------------------------------------------------------------------


def make_wheel(folder: Path, filename: str, requires_python: str | None) -> Path:
    dist = filename.split("-")[0]
    version = filename.split("-")[1]
    metadata = f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n"
    if requires_python is not None:
        metadata += f"Requires-Python: {requires_python}\n"
    path = folder / filename
    with zipfile.ZipFile(path, "w") as whl:
        whl.writestr(f"{dist}/__init__.py", "")
        whl.writestr(f"{dist}-{version}.dist-info/METADATA", metadata)
        whl.writestr(f"{dist}-{version}.dist-info/WHEEL", "Wheel-Version: 1.0\n")
    return path


@pytest.fixture
def wheelhouse(tmp_path: Path) -> Path:
    make_wheel(tmp_path, "demo_pkg-1.0.0-py3-none-any.whl", ">=3.7")
    make_wheel(tmp_path, "demo_pkg-1.1.0-py3-none-any.whl", ">=3.9")
    (tmp_path / "demo-pkg-1.1.0.tar.gz").write_bytes(b"not read")  # sdist beside the wheel
    make_wheel(tmp_path, "demo_pkg-1.10.0-py3-none-any.whl", None)
    (tmp_path / "demo_pkg-1.2.0-py3-none-any.whl").write_bytes(b"not a zip file")
    make_wheel(tmp_path, "other_pkg-9.0.0-py3-none-any.whl", ">=3.12")
    (tmp_path / "README.txt").write_text("not a distribution")
    return tmp_path


def test_from_wheelhouse_lists_only_the_package(wheelhouse):
    found = from_wheelhouse("demo-pkg", wheelhouse)
    assert [str(r) for r in found] == ["1.0.0", "1.1.0", "1.2.0", "1.10.0"]
    releases = by_version(found)
    assert releases["1.0.0"].requires_python == ">=3.7"
    assert releases["1.1.0"].requires_python == ">=3.9"  # read from the wheel, not the sdist
    assert releases["1.10.0"].requires_python is None
    assert releases["1.2.0"].requires_python is None  # unreadable wheel: no constraint
    assert Version("9.0.0") not in {r.version for r in found}


def test_from_wheelhouse_canonicalizes_the_name(wheelhouse):
    assert [str(r) for r in from_wheelhouse("Demo.Pkg", wheelhouse)] == [
        "1.0.0", "1.1.0", "1.2.0", "1.10.0",
    ]


def test_from_wheelhouse_feeds_select(wheelhouse):
    sel = select(from_wheelhouse("demo_pkg", wheelhouse), "demo_pkg", "1.0.0", "1.10.0",
                 python_version="3.8.10")
    assert sel.versions == ["1.0.0", "1.2.0", "1.10.0"]
    assert dict(sel.skipped) == {"1.1.0": "requires Python >=3.9"}


def test_from_wheelhouse_other_package_only(wheelhouse):
    found = from_wheelhouse("other-pkg", wheelhouse)
    assert [(str(r), r.requires_python) for r in found] == [("9.0.0", ">=3.12")]


def test_from_wheelhouse_empty_folder(tmp_path):
    assert from_wheelhouse("demo-pkg", tmp_path) == []


def test_from_wheelhouse_missing_folder(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(BadInput, match="does not exist"):
        from_wheelhouse("demo-pkg", missing)


def test_from_wheelhouse_file_instead_of_folder(tmp_path):
    path = tmp_path / "file.whl"
    path.write_bytes(b"")
    with pytest.raises(BadInput, match="--find-links"):
        from_wheelhouse("demo-pkg", path)
