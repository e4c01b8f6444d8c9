"""The typed vocabulary shared by the classifier, the search and the reports."""

from __future__ import annotations

import enum
from dataclasses import dataclass

# The verdict rule's version (bisect_leak/classify.py): bump it whenever a change to the rule
# can turn the same samples into another verdict. Every measured trial carries it, so a
# worker judging by another rule is told apart (measure/provenance.py).
RULE_VERSION = 1


class Verdict(str, enum.Enum):
    """What one trial of one version says about the leak."""

    LEAKING = "leaking"
    STABLE = "stable"
    INCONCLUSIVE = "inconclusive"
    ERROR = "error"

    @property
    def known(self) -> bool:
        """True when the verdict can steer the search (leaking or stable)."""
        return self in (Verdict.LEAKING, Verdict.STABLE)


class Signal(str, enum.Enum):
    """Which measured series a verdict was decided on (``--metric``)."""

    GROWTH = "growth"  # robust slope of RSS after warm-up
    HELD = "held"  # post-warm-up median RSS against the good bound's
    FDS = "fds"  # open descriptors still rising


@dataclass(frozen=True)
class Sample:
    """One reading of the server's process tree, taken between load rounds."""

    requests: int  # requests served so far (warm-up included)
    seconds: float  # since the load began
    rss: int  # bytes, whole process tree
    uss: int | None  # bytes, whole process tree; None where the OS cannot tell
    threads: int
    fds: int
    anon: int | None = None  # bytes: resident anonymous memory (RSS less file-backed pages)

    def as_row(self) -> list[int | float | None]:
        return [self.requests, self.rss, self.uss, self.threads, self.fds,
                round(self.seconds, 3), self.anon]

    @classmethod
    def from_row(cls, row: list) -> Sample:
        requests, rss, uss, threads, fds, seconds, *rest = row
        return cls(requests, seconds, rss, uss, threads, fds, rest[0] if rest else None)


@dataclass(frozen=True)
class Assessment:
    """The classifier's answer for one series of samples."""

    verdict: Verdict
    signal: Signal
    growth_kib_per_1k: float | None  # robust slope after warm-up
    low: float | None  # interval on that slope
    high: float | None
    late_kib_per_1k: float | None  # the same slope over the late window alone
    reason: str
    more_would_help: bool = False  # inconclusive, and more requests could decide it

    @property
    def interval_half_width(self) -> float | None:
        if self.low is None or self.high is None:
            return None
        return (self.high - self.low) / 2
