"""The unit each signal's figure is in: one table for the verdicts, the JSON and the reports."""

from __future__ import annotations

from bisect_leak.judge.verdict import Signal

UNITS: dict[Signal, str] = {
    Signal.GROWTH: "KiB/1k requests",
    Signal.FDS: "descriptors/1k requests",
    Signal.HELD: "MiB held",
}
