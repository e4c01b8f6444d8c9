"""Samples in, verdict out. Pure: no I/O, no clock.

The rule reads the *floor* of a series: memory that piles up and never goes down. After a
median-of-3 (one-sample glitches), the floor at each sample is the lowest value from there to
the end: garbage spikes and caches that are cleared later fall out of it, what is kept stays.

- **leaking**: the floor rose above the threshold over the late half of the *held* region
  (rises followed by at least ``hold`` more requests, so a cache cleared that often has given
  them back), and did not slow down against the early half by as much as the slowest bounded
  fill guarded against (time constant ``fill``) would have.
- **stable**: the floor stayed flat for at least ``flat`` requests up to the end, so a leak
  that steps up at least that often would have shown a step; both the robust slope's upper
  bound and the end-to-end rise over that stretch are below the threshold.
- **inconclusive** otherwise: more requests may decide it, or, at the end, the reason says
  what was missing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bisect_leak.judge.theilsen import Slope, theil_sen
from bisect_leak.judge.verdict import Assessment, Sample, Signal, Verdict

MIN_SAMPLES = 8  # post-warm-up samples before any verdict
MIN_HALF = 5  # samples in each half of the held region
DEFAULT_THRESHOLD_KIB = 25.0  # KiB per 1,000 requests; see README "Choosing the threshold"
DEFAULT_FDS_THRESHOLD = 5.0  # descriptors per 1,000 requests
DEFAULT_HELD_THRESHOLD_KIB = 5120.0  # extra median memory held against the good bound


@dataclass(frozen=True)
class Guards:
    """The slowest shapes the rule tells apart from a leak, in requests after warm-up."""

    hold: int  # caches cleared at least this often are never called leaking
    flat: int  # leaks stepping up at least this often are never called stable
    fill: int  # bounded fills with a time constant up to this are never called leaking
    span: int  # the least held region a leak is judged on

    @classmethod
    def for_first_look(cls, requests: int) -> Guards:
        """Scaled from a scenario's first look: 30k gives 30k / 50k / 80k / 20k."""
        return cls(hold=requests, flat=requests * 5 // 3, fill=requests * 8 // 3,
                   span=requests * 2 // 3)

    def needed(self, every: int) -> int:
        """Requests after warm-up before both verdicts can be reached."""
        return max(self.hold + self.span, self.flat + 2 * every)


@dataclass(frozen=True)
class Named:
    """How one slope signal is named in reasons."""

    signal: Signal
    what: str
    unit: str  # after a figure: "KiB/1k requests"


def memory_figure(samples: Sequence[Sample]) -> tuple[str, list[float]]:
    """The memory classified, in KiB: anonymous resident memory (the heap) where every sample
    has it, else USS, else RSS. Anonymous memory ignores shared-library pages, which USS counts
    as "unique" whenever no other process happens to map them."""
    if all(s.anon is not None for s in samples):
        return "anon", [s.anon / 1024 for s in samples]
    if all(s.uss is not None for s in samples):
        return "USS", [s.uss / 1024 for s in samples]
    return "RSS", [s.rss / 1024 for s in samples]


def classify_growth(samples: Sequence[Sample], *, warmup: int, guards: Guards,
                    threshold: float = DEFAULT_THRESHOLD_KIB, final: bool = False) -> Assessment:
    """Leaking / stable / inconclusive from the memory floor after warm-up.

    ``final`` says no more requests will come: an undecided series is then inconclusive
    without asking for more.
    """
    post = [s for s in samples if s.requests >= warmup]
    figure, mem = memory_figure(post) if post else ("anon", [])
    named = Named(Signal.GROWTH, f"{figure} memory", "KiB/1k requests")
    return classify_series([s.requests for s in post], mem, named, guards, threshold, final)


def classify_fds(samples: Sequence[Sample], *, warmup: int, guards: Guards,
                 threshold: float = DEFAULT_FDS_THRESHOLD, final: bool = False) -> Assessment:
    """Open descriptors whose floor keeps rising (connections the server never closes)."""
    post = [s for s in samples if s.requests >= warmup]
    named = Named(Signal.FDS, "open descriptors", "descriptors/1k requests")
    return classify_series([s.requests for s in post], [float(s.fds) for s in post], named,
                           guards, threshold, final)


def floor(values: Sequence[float]) -> list[float]:
    """Median of three (ends kept), then the lowest value from each point to the end."""
    n = len(values)
    smooth = [values[0]] if n else []
    smooth += [sorted(values[i - 1:i + 2])[1] for i in range(1, n - 1)]
    if n > 1:
        smooth.append(values[-1])
    out = smooth[:]
    for i in range(n - 2, -1, -1):
        out[i] = min(out[i], out[i + 1])
    return out


def classify_series(requests: Sequence[int], values: Sequence[float], named: Named,
                    guards: Guards, threshold: float, final: bool) -> Assessment:
    """The rule both slope signals share (see the module docstring)."""
    if threshold <= 0:
        raise ValueError("threshold must be positive")
    n = len(values)
    if n < MIN_SAMPLES:
        return Assessment(Verdict.INCONCLUSIVE, named.signal, None, None, None, None,
                          f"only {n} samples after warm-up (need {MIN_SAMPLES})",
                          more_would_help=not final)
    xs = [r / 1000 for r in requests]
    low = floor(values)
    leak = _leak_test(xs, low, guards, threshold, named)
    if leak.verdict is Verdict.LEAKING:
        return leak
    flat = _flat_test(xs, low, guards, threshold, named)
    if flat.verdict is Verdict.STABLE:
        return flat
    whole = theil_sen(xs, low)
    why = f"{leak.reason}; {flat.reason}"
    if not final:
        return Assessment(Verdict.INCONCLUSIVE, named.signal, whole.value, whole.low,
                          whole.high, None, f"undecided so far: {why}", more_would_help=True)
    return Assessment(Verdict.INCONCLUSIVE, named.signal, whole.value, whole.low, whole.high,
                      None, f"undecided at {requests[-1]:,} requests: {why}")


def _leak_test(xs: Sequence[float], low: Sequence[float], guards: Guards, threshold: float,
               named: Named) -> Assessment:
    """LEAKING when the held floor rises fast enough and does not slow like a fill."""
    end = xs[-1] - guards.hold / 1000
    held = [i for i, x in enumerate(xs) if x <= end]
    span = xs[held[-1]] - xs[0] if held else 0.0
    if len(held) < 2 * MIN_HALF or span < guards.span / 1000:
        return _undecided(named, f"no leak yet: a rise must be held for {guards.hold:,} "
                                 f"requests over at least {guards.span:,}")
    half = len(held) // 2
    early = theil_sen(xs[:half], low[:half])
    late = theil_sen(xs[half:len(held)], low[half:len(held)])
    distance = (xs[len(held) - 1] + xs[half]) / 2 - (xs[half - 1] + xs[0]) / 2
    slowest = math.exp(-distance / (guards.fill / 1000))  # late/early of the slowest fill
    where = f"{_k(xs[half])}–{_k(xs[len(held) - 1])}"
    figure = (f"the floor of {named.what} rose {late.value:+.1f} {named.unit} "
              f"({late.low:+.1f}..{late.high:+.1f}) over {where} requests")
    if late.low > threshold and late.low > slowest * early.high:
        return _assessed(Verdict.LEAKING, named, late, early.value, (
            f"{figure}, held for the {guards.hold:,} requests after, and not slowing "
            f"(early half {early.value:+.1f}; a fill of time constant {guards.fill:,} "
            f"would keep at most {slowest:.2f} of it)"))
    if late.low > threshold:
        return _undecided(named, f"{figure}, but slower than the early half "
                                 f"({early.value:+.1f}): could be a bounded fill")
    return _undecided(named, f"no held rise above {threshold:g}: {figure}")


def _flat_test(xs: Sequence[float], low: Sequence[float], guards: Guards, threshold: float,
               named: Named) -> Assessment:
    """STABLE when the floor's rise over the last ``flat`` requests (or more) is small."""
    need = guards.flat / 1000 + 2 * (xs[-1] - xs[-2])
    starts = [i for i, x in enumerate(xs) if xs[-1] - x >= need]
    if not starts:
        return _undecided(named, f"not yet flat for {guards.flat:,} requests")
    best: tuple[float, Slope, int] | None = None
    for i in dict.fromkeys((starts[-1], starts[0])):  # the shortest stretch, then the whole
        slope = theil_sen(xs[i:], low[i:])
        rise = (low[-1] - low[i]) / (xs[-1] - xs[i])
        top = max(slope.high, rise)
        if best is None or top < best[0]:
            best = (top, Slope(slope.value, slope.low, top), i)
        if top < threshold:
            break
    top, slope, i = best
    stretch = f"{_k(xs[i])}–{_k(xs[-1])} requests"
    figure = (f"the floor of {named.what} {slope.value:+.1f} {named.unit} "
              f"({slope.low:+.1f}..{slope.high:+.1f}, end-to-end rise included) over {stretch}")
    if top < threshold:
        return _assessed(Verdict.STABLE, named, slope, None, f"flat below {threshold:g}: {figure}")
    return _undecided(named, f"not flat: {figure}")


def _k(x: float) -> str:
    return f"{round(x * 1000):,}"


def _assessed(verdict: Verdict, named: Named, slope: Slope, other: float | None,
              reason: str) -> Assessment:
    return Assessment(verdict, named.signal, slope.value, slope.low, slope.high, other, reason)


def _undecided(named: Named, reason: str) -> Assessment:
    return Assessment(Verdict.INCONCLUSIVE, named.signal, None, None, None, None, reason,
                      more_would_help=True)


def _held_figures(samples: Sequence[Sample], warmup: int) -> tuple[str, list[float]]:
    post = [s for s in samples if s.requests >= warmup]
    return memory_figure(post) if post else ("anon", [])


def reference_noise(reference: Sequence[Sample], *, warmup: int) -> float | None:
    """How far the reference's own median moves between its halves, in MiB (None: too few)."""
    _, ref = _held_figures(reference, warmup)
    if len(ref) < 2 * MIN_SAMPLES:
        return None
    half = len(ref) // 2
    return abs(_median(ref[half:]) - _median(ref[:half])) / 1024


def classify_reference(reference: Sequence[Sample], *, warmup: int,
                       threshold_mib: float) -> Assessment:
    """The reference of ``held`` measured against itself: its late half against its early."""
    _, ref = _held_figures(reference, warmup)
    if len(ref) < 2 * MIN_SAMPLES:
        return Assessment(Verdict.INCONCLUSIVE, Signal.HELD, None, None, None, None,
                          f"only {len(ref)} samples after warm-up: the reference needs "
                          f"{2 * MIN_SAMPLES} to measure its own noise")
    half = len(ref) // 2
    return _held_verdict(ref[half:], ref[:half], 0.0, threshold_mib,
                         "the reference's late half against its early half")


def classify_held(samples: Sequence[Sample], reference: Sequence[Sample], *, warmup: int,
                  threshold_mib: float) -> Assessment:
    """Post-warm-up median memory against a reference run's (garbage freed late, not never),
    with the interval widened by the reference's own noise."""
    _, post = _held_figures(samples, warmup)
    _, ref = _held_figures(reference, warmup)
    noise = reference_noise(reference, warmup=warmup)
    if len(post) < MIN_SAMPLES or noise is None:
        return Assessment(Verdict.INCONCLUSIVE, Signal.HELD, None, None, None, None,
                          f"too few samples after warm-up to compare held memory ({len(post)} "
                          f"here, {len(ref)} in the reference; need {MIN_SAMPLES} and "
                          f"{2 * MIN_SAMPLES})")
    return _held_verdict(post, ref, noise, threshold_mib, "against the reference")


def _held_verdict(post: Sequence[float], ref: Sequence[float], noise: float,
                  threshold_mib: float, against: str) -> Assessment:
    held = (_median(post) - _median(ref)) / 1024
    low = (_quantile(post, 0.25) - _quantile(ref, 0.75)) / 1024 - noise
    high = (_quantile(post, 0.75) - _quantile(ref, 0.25)) / 1024 + noise
    described = (f"median memory held {held:+.1f} MiB {against} (interquartile, widened by "
                 f"the reference's own noise {noise:.1f} MiB: {low:+.1f}..{high:+.1f})")
    if low > threshold_mib:
        verdict, why = Verdict.LEAKING, f"holds more than {threshold_mib:g} MiB extra"
    elif high < threshold_mib:
        verdict, why = Verdict.STABLE, f"holds less than {threshold_mib:g} MiB extra"
    else:
        verdict, why = Verdict.INCONCLUSIVE, "held memory overlaps the threshold"
    return Assessment(verdict, Signal.HELD, held, low, high, None, f"{why}: {described}")


def _median(values: Sequence[float]) -> float:
    return _quantile(values, 0.5)


def _quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)
