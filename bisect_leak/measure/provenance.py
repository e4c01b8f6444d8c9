"""What a measured result was made with: bisect-leak's version, the verdict rule's version,
the scenario's digest and the effective load settings. A result from a worker is only taken
when all four are this run's (pure: data in, a reason out)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bisect_leak import __version__
from bisect_leak.judge.verdict import RULE_VERSION


def current(scenario_digest: str, settings_fields: Mapping[str, Any]) -> dict:
    """This bisect-leak's provenance for a trial of a scenario under settings
    (``trial.Settings.key_fields()``), as the JSON carries it."""
    return _as_json({"bisect_leak": __version__, "rule": RULE_VERSION,
                     "scenario": scenario_digest, "settings": dict(settings_fields)})


def provenance_mismatch(expected: Mapping[str, Any], result: Any) -> str | None:
    """None when ``result`` (a trial's JSON dict, or anything with ``.provenance``) was made
    as ``expected`` says; otherwise why not, in one line."""
    found = result.get("provenance") if isinstance(result, Mapping) else result.provenance
    if not found:
        return (f"the result carries no provenance (a bisect-leak older than "
                f"{expected['bisect_leak']} measured it): install bisect-leak "
                f"{expected['bisect_leak']} there")
    found, expected = _as_json(found), _as_json(expected)
    if found.get("bisect_leak") != expected["bisect_leak"]:
        return (f"measured by bisect-leak {found.get('bisect_leak')}, this is "
                f"{expected['bisect_leak']}: install the same version there")
    if found.get("rule") != expected["rule"]:
        return (f"judged by verdict rule {found.get('rule')}, this bisect-leak's is "
                f"{expected['rule']}: install the same version there")
    if found.get("scenario") != expected["scenario"]:
        return (f"the scenario differs there (digest {found.get('scenario')}, here "
                f"{expected['scenario']}): give it the same scenario folder")
    differ = _differences(expected.get("settings") or {}, found.get("settings") or {})
    if differ:
        return "the load settings differ there: " + ", ".join(differ)
    return None


def _differences(expected: Mapping[str, Any], found: Mapping[str, Any],
                 prefix: str = "") -> list[str]:
    out = []
    for name in sorted(set(expected) | set(found)):
        want, got = expected.get(name), found.get(name)
        if isinstance(want, Mapping) and isinstance(got, Mapping):
            out += _differences(want, got, f"{prefix}{name}.")
        elif want != got:
            out.append(f"{prefix}{name} {got} (here {want})")
    return out


def _as_json(data: Mapping[str, Any]) -> dict:
    """As it reads back from JSON: enums as their values, tuples as lists."""
    return json.loads(json.dumps(data, sort_keys=True, default=str))
