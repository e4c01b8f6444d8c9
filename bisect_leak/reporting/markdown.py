"""The Markdown report a maintainer pastes into an issue."""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path

from bisect_leak import __version__
from bisect_leak.bisection.search import SearchStatus
from bisect_leak.candidates.lines import render as render_lines
from bisect_leak.environments import freeze
from bisect_leak.measure.trial import TrialResult
from bisect_leak.reporting import commits as commit_report
from bisect_leak.reporting.table import trial_row
from bisect_leak.run.outcome import Outcome, PythonOutcome

PLOT_MARK = "<!-- plot -->"


def answer_pair(py: PythonOutcome) -> tuple[TrialResult, TrialResult] | None:
    s = py.search
    if s is None or s.status is not SearchStatus.FOUND:
        return None
    return py.trials[s.last_old], py.trials[s.first_new]


def compared_pair(py: PythonOutcome) -> tuple[TrialResult, TrialResult] | None:
    """The two envs worth comparing: the answer's pair, else the bounds of a search that
    found none (what changed between them, though neither leaks), else the first and last
    --check."""
    pair = answer_pair(py)
    if pair is not None:
        return pair
    if py.search is not None and len(py.versions) >= 2:
        trials = [py.trials.get(py.versions[0]), py.trials.get(py.versions[-1])]
    else:
        trials = list(py.trials.values())
    if len(trials) >= 2 and trials[0] and trials[-1] and trials[0].freeze and trials[-1].freeze:
        return trials[0], trials[-1]
    return None


def freeze_changes(py: PythonOutcome) -> list[freeze.Change]:
    pair = compared_pair(py)
    if pair is None:
        return []
    return freeze.diff(pair[0].freeze, pair[1].freeze)


def markdown(outcome: Outcome) -> str:
    plan, sc, st = outcome.plan, outcome.scenario, outcome.settings
    out = [f"## bisect-leak: {plan.name}{plan.extras} under `{plan.scenario}`", ""]
    if plan.checks:
        question = f"Measure {plan.name} {', '.join(plan.checks)}"
    elif plan.fixed:
        question = f"Where was the leak of {plan.name} {plan.bad} fixed, up to {plan.good}?"
    else:
        question = f"Where did {plan.name} start leaking between {plan.good} and {plan.bad}?"
    out.append(f"**Question.** {question}")
    if sc and st:
        load = st.load
        out.append(
            f"Scenario `{sc.name}` ({sc.description}) with {load.concurrency} connections "
            f"({load.connection.value}), {load.warmup:,} warm-up requests, then at least "
            f"{load.requests:,} and at most {load.max_requests:,} measured; signal "
            f"`{st.metric.value}`, threshold {st.threshold:g} KiB per 1,000 requests."
        )
    out += ["", PLOT_MARK]
    for py in outcome.results:
        out += _python_section(outcome, py)
    out += [
        "### Environment",
        "",
        f"- {platform.platform()}, {os.cpu_count()} CPU(s), Python {platform.python_version()} "
        f"running bisect-leak {__version__}",
        f"- total wall time {outcome.seconds:.0f} s, exit code {int(outcome.exit_code)}",
        "",
    ]
    return "\n".join(out)


def _python_section(outcome: Outcome, py: PythonOutcome) -> list[str]:
    out = [f"### Python {py.interpreter.version}", "", f"**Answer.** {py.message}", ""]
    out += ["Reproduce with:", "", "```", outcome.reproduce(py), "```", ""]
    changes = freeze_changes(py)
    if changes:
        a, b = compared_pair(py)  # type: ignore[misc]
        out.append(f"**What changed between the envs of {a.version} and {b.version}:** "
                   + ", ".join(f"`{c}`" for c in changes))
        out.append("")
    if py.culprit_message:
        out += [f"**Which dependency carries it.** {py.culprit_message}", ""]
    if py.skipped:
        out.append("Skipped: " + ", ".join(f"{v} ({why})" for v, why in py.skipped))
        out.append("")
    out += [
        "| version | verdict (then replications) | figure (interval) unit | requests "
        "| memory MiB start → end | threads | s |",
        "|---|---|---|---|---|---|---|",
    ]
    order = {v: i for i, v in enumerate(py.versions)}
    trials = sorted(py.trials.values(), key=lambda t: order.get(t.version, 0))
    out += [trial_row(t) for t in trials]
    out.append("")
    reasons = [f"- {t.version}: {t.reason}" for t in trials if t.reason]
    out += reasons + [""]
    out += commit_report.markdown_lines(outcome, py) + [""]  # --repo (issue 10)
    out += _what_grows(py, trials)
    for t in trials:
        body = "\n".join(t.freeze) or "(no env)"
        tail = f"\n\nserver stderr:\n{t.stderr_tail}" if t.stderr_tail else ""
        out += [f"<details><summary>{t.version}: environment ({t.installer or 'n/a'})</summary>",
                "", "```", body + tail, "```", "</details>", ""]
    return out


def _what_grows(py: PythonOutcome, trials: list[TrialResult]) -> list[str]:
    """Top growing types and allocation sites (``--inspect``), the answer's pair first."""
    inspected = [t for t in trials if t.inspect and "types" in t.inspect]
    if not inspected:
        return []
    pair = answer_pair(py)
    if pair is not None:
        inspected = [t for t in pair if t.inspect and "types" in t.inspect] or inspected
    window = inspected[0].inspect.get("window")
    span = f"over {window:,} requests after the warm-up" if window else "after the warm-up"
    out = [f"**What grows** {span}, in a separate short run of each version once its verdict "
           "was known (object counts by type after a full collection; tracemalloc: the lines "
           "that allocated what is still alive):", ""]
    for t in inspected:
        types = ", ".join(f"`{n}` +{d:,}" for n, d, _ in t.inspect["types"][:8]) or "nothing"
        top = t.inspect.get("sites", [])[:5]
        sites = ", ".join(f"`{short_site(site)}` +{size / 1024:,.0f} KiB"
                          for site, size, *_ in top) or "none"
        out += [f"- {t.version} ({t.verdict.value}): types {types}; sites {sites}"]
        if top and len(top[0]) > 3 and top[0][3]:  # the line that keeps the most
            out += [f"  - `{short_site(top[0][0])}`: `{top[0][3]}`"]
    if py.lines is not None:  # the changed lines that allocate it (issue 16)
        out += ["", f"Against the diff ({py.lines.against}):", "", "```",
                *render_lines(py.lines, "release"), "```"]
    return out + [""]


def short_site(site: str) -> str:
    """``/…/site-packages/pkg/mod.py:12`` → ``pkg/mod.py:12``; the stdlib as ``stdlib: …``."""
    if "site-packages/" in site:
        return site.split("site-packages/")[-1]
    match = re.search(r"/lib/python3\.\d+/(.*)$", site)
    return f"stdlib: {match.group(1)}" if match else site


def write_markdown(outcome: Outcome, path: Path) -> list[Path]:
    """The report, and its plot beside it (PNG and SVG) when matplotlib is installed."""
    from bisect_leak.reporting import plot

    png = path.with_suffix(".png")
    drawn = plot.draw(outcome, png)
    text = markdown(outcome)
    if drawn:
        text = text.replace(PLOT_MARK, f"![memory against requests]({png.name})\n")
    else:
        hint = f"_No plot: install the extra with `{plot.INSTALL_HINT}`._\n"
        text = text.replace(PLOT_MARK, hint)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.replace(path)
    return [path, *drawn]
