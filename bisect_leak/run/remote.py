"""A candidate measured by another process (``--jobs``) or another machine (Dask): the
``--check`` run's JSON back into a trial, checked and kept like one measured here."""

from __future__ import annotations

from bisect_leak.judge.verdict import Verdict
from bisect_leak.measure.provenance import provenance_mismatch
from bisect_leak.measure.trial import TrialResult
from bisect_leak.run.prober import Prober


def trial_from_run(prober: Prober, label: str, raw: dict, *,
                   write: bool) -> tuple[TrialResult, str]:
    """A finished ``--check`` of ``label``: its trial and where it ran. No trial, a trial on
    another Python, or one made by another bisect-leak, rule, scenario or load is an
    ``error`` naming why, never kept. With ``write`` (it ran elsewhere), what it measured is
    written into the local cache under the keys a bisection here reads."""
    python = prober.py.interpreter.version
    data, ran_on = trial_of(raw.get("json"), label)
    where = raw.get("worker") or (raw.get("host") or "?" if write else "here")
    if data is None or ran_on != python:
        why = (raw.get("stderr") or "").strip().splitlines()
        reason = (f"bisect-leak --check exited {raw.get('exit_code')} without a trial: "
                  + (why[-1] if why else "no output"))
        if data is not None:  # a worker whose Python is another patch release
            reason = (f"{where} measured on Python {ran_on}, not {python}: "
                      f"install Python {python} there")
        return TrialResult(version=label, verdict=Verdict.ERROR, error=reason), where
    mismatch = provenance_mismatch(prober.provenance, data)
    if mismatch:  # a worker with another bisect-leak, rule, scenario or load: not kept
        return TrialResult(version=label, verdict=Verdict.ERROR,
                           error=f"{where}: {mismatch}"), where
    if write:
        write_back(prober, raw["json"], where)
    return TrialResult.from_dict(data), where


def write_back(prober: Prober, data: dict, where: str) -> None:
    """Every trial of the prober's candidates a worker's ``--check`` made (the one asked for,
    and a held reference) into the local cache; as here, errors, trials cut short by the time
    limit and trials made with another provenance are not kept."""
    p = prober
    for result in data.get("results") or [data]:
        for t in result.get("trials", ()):
            version = t.get("version")
            if (version not in p.py.candidates or t.get("verdict") == Verdict.ERROR.value
                    or t.get("cut_short") or provenance_mismatch(p.provenance, t)):
                continue
            spec = p.spec(version)
            key = p.result_key(spec)
            if p.store.result(key) is None:
                label = (f"{p.plan.name} {version} on Python {p.py.interpreter.version}, "
                         f"{p.scenario.name}")
                p.store.put_result(key, spec.key, f"{label} ({where})",
                                   TrialResult.from_dict(t).to_dict())


def trial_of(data: dict | None, version: str) -> tuple[dict | None, str | None]:
    """The version's trial in a ``--check``'s JSON, and the Python it ran on."""
    for result in (data.get("results") or [data]) if data else ():
        commits = result.get("commits") or {}
        for t in (*result.get("trials", ()), *commits.get("trials", ())):
            if t.get("version") == version:
                return t, result.get("python")
    return None, None
