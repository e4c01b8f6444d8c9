"""Samples in, verdict out. Pure: no I/O, no clock.

The rule reads the *floor* of a series: memory that piles up and is not given back.

**Confirmed floor.** A sample's *level* is the median of it and ``CONFIRM - 1`` samples
either side: a low value counts only once the samples around it confirm it (a buffer freed for
one or two samples, a heavy-tailed low reading, is not memory given back; nor is a spike
kept). The floor at a sample is the lowest level from there to the end: garbage that comes
and goes and caches that are cleared later fall out of it, what is kept stays. The last
``CONFIRM - 1`` samples are not confirmed yet and have no floor.

- **leaking** needs four things, each a shape the others cannot rule out:
  1. *held*: over the samples followed by at least ``hold`` more requests, the floor's late
     stretch (its later half, at least ``MIN_LATE`` samples) rose faster than the threshold,
     end to end and at the low end of Sen's rank range, or steadily by more than the
     measured noise can account for (below) (a cache cleared at least every ``hold``
     requests has given that rise back by now);
  2. *still rising*: the floor rose faster than the threshold from there to the end as well
     (a fill, pool or cache that stopped growing has a flat tail, however steep it was);
  3. *not slowing like a fill*: the late rise keeps more than a fill of time constant
     ``fill`` would have kept of the early one, and the tail's rise more than it would have
     kept of the late one (a cache still growing at the end cannot pass for the rise a
     finished fill left in the held region);
  4. *larger than anything given back*: the rise held over the late stretch (not the tail's,
     not held yet) exceeds ``BACK`` times the most memory the process has been seen to give
     back anywhere in the run (the level above the floor, after a median of three), so
     wandering that goes down as often as up cannot pass for a leak, nor can a cache whose
     cycle before a clear a later one-off gain holds up in the floor, with its next cycle
     rising through the tail (it rises steadily, but was seen giving that cycle back).
- **stable** reads the *near floor*: the lowest level over the next ``hold`` requests only
  (memory not given back within ``hold``; a late release or trough lowers only the ``hold``
  before it, not all history). Over the last ``flat`` requests (a leak that steps up at
  least that often shows a step in them):
  1. its rise, end to end and at the high end of the rank range (widened for serial
     correlation), is below the threshold;
  2. no stretch of ``hold`` requests or more in it rose faster than the threshold (a leak
     that began late, or gave memory back once, cannot hide in a longer, flatter stretch);
  3. it never fell by as much as a leak at the threshold piles up in ``hold`` (a leak of
     rate r under wandering of amplitude A hides for A / r requests: a floor that swings
     that much is no evidence of flatness);
  4. the samples not yet confirmed are not all above every level in the stretch.
- **Measured noise.** Sen's range needs ``MIN_LATE`` points and reaches the floor's flat pairs
  whatever the noise, so on a short scenario a leak of integer, nearly noiseless descriptors
  could not be told from noise at all. The noise is measured instead (``noise_moved``): a
  level is the median of ``2 CONFIRM - 1`` values, so noise moved it by at most the median of
  those values' noise, each read as the value's distance from the midpoint of its neighbours
  (scaled to white noise's own: a straight trend is not noise, and a steep one does not hide
  it). With J the most it moved any level, a floor that rose R over a stretch says the memory
  kept rose by at least R - 2 J, and at most R + 2 J, within it. The rise held (1) may rest
  on that bound instead of the ranks when the floor rose beyond the noise in each third of
  the late stretch, or in each of its last two (a leak that began inside it): a one-off
  gain lies in one third, and a fill that stopped inside the stretch has a flat last third.
  The rate is then the rise beyond the noise from the start of those thirds to the end of
  the stretch.
  The fill comparison (3) then reads end-to-end rises: the least the late one can have been
  against the most the early one can have been (a fill of time constant ``fill`` keeps
  exactly the ratio asked for, so only a margin beyond the noise tells a leak from it), or
  else the least the tail's can have been against the same, over the longer distance: a
  fill's rate only falls. On noisy memory the bound mostly says less than the ranks and
  changes nothing.
- **leaking** also waits while the samples not yet confirmed are below the rise held (a
  cache cleared in the last sample or two, after filling for longer than ``hold``).
- **inconclusive** otherwise: more requests may decide it; at the end the reason says what
  was missing and how many more requests, under which scenario key, might decide it.

The ranges printed are Sen's rank intervals at ``CONFIDENCE`` (a leak's low end raised to
the rise beyond the measured noise where that decided it): the floor is monotone,
tie-heavy and serially dependent, and the rule looks at every round, so they are *ranges*, not
confidence intervals. What the rule guarantees is measured, not derived: ``bench/calibrate.py``
runs it over a generative model of server memory (README, "How a verdict is decided").
"""

from __future__ import annotations

import collections
import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import sub, truediv

from bisect_leak.judge.theilsen import CONFIDENCE, Slope, min_points, theil_sen, z_for
from bisect_leak.judge.verdict import Assessment, Sample, Signal, Verdict

CONFIRM = 3  # samples a low value must be held for before it lowers the floor
MIN_LATE = min_points(CONFIDENCE)  # samples in a stretch whose rank range can exclude a slope
MIDPOINT = math.sqrt(1.5)  # white noise's distance from its neighbours' midpoint, in sigmas
BACK = 2.0  # a leak's rise must exceed this many times the most memory seen given back
MIN_SAMPLES = 8  # post-warm-up samples before any verdict
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

    def needed_leak(self, every: int) -> int:
        """Requests after warm-up before ``leaking`` can be reached: a held region of
        ``span`` and ``MIN_LATE`` + 2 samples, then ``hold``."""
        return self.hold + max(self.span, (MIN_LATE + 1) * every)

    def needed_stable(self, every: int) -> int:
        """Requests after warm-up before ``stable`` can be reached: ``flat`` confirmed."""
        return self.flat + (CONFIRM - 1) * every

    def needed(self, every: int) -> int:
        """Requests after warm-up before both verdicts can be reached."""
        return max(self.needed_leak(every), self.needed_stable(every))


def infeasible(guards: Guards, every: int, max_requests: int) -> str | None:
    """Why settings can never decide, with the numbers (None: they can). For exit 2."""
    leak, stable = guards.needed_leak(every), guards.needed_stable(every)
    if max(leak, stable) <= max_requests:
        return None
    return (f"max_requests {max_requests:,} can never decide: leaking needs {leak:,} measured "
            f"requests (hold {guards.hold:,} + a held region of {guards.span:,} or "
            f"{MIN_LATE + 2} samples every {every:,}), stable needs {stable:,} (flat "
            f"{guards.flat:,} + {CONFIRM - 1} samples to confirm); raise load.max_requests to "
            f"{max(leak, stable):,} or lower load.requests / load.sample_every")


@dataclass(frozen=True)
class Named:
    """How one slope signal is named in reasons."""

    signal: Signal
    what: str
    unit: str  # after a figure: "KiB/1k requests"


def memory_figure(samples: Sequence[Sample]) -> tuple[str, list[float]]:
    """The memory classified, in KiB: anonymous memory (resident + swapped; the heap) where
    every sample has it, else USS, else RSS. Anonymous memory ignores shared-library pages,
    which USS counts as "unique" whenever no other process happens to map them."""
    if all(s.anon is not None for s in samples):
        return "anon", [s.anon / 1024 for s in samples]
    if all(s.uss is not None for s in samples):
        return "USS", [s.uss / 1024 for s in samples]
    return "RSS", [s.rss / 1024 for s in samples]


def classify_growth(samples: Sequence[Sample], *, warmup: int, guards: Guards,
                    threshold: float = DEFAULT_THRESHOLD_KIB, final: bool = False) -> Assessment:
    """Leaking / stable / inconclusive from the memory floor after warm-up.

    ``final`` says no more requests will come: an undecided series is then inconclusive
    without asking for more, and its reason says what might decide it.
    """
    post = [s for s in samples if s.requests >= warmup]
    figure, mem = memory_figure(post) if post else ("anon", [])
    named = Named(Signal.GROWTH, f"{figure} memory", "KiB/1k requests")
    return classify_series([s.requests - warmup for s in post], mem, named, guards, threshold,
                           final)


def classify_fds(samples: Sequence[Sample], *, warmup: int, guards: Guards,
                 threshold: float = DEFAULT_FDS_THRESHOLD, final: bool = False) -> Assessment:
    """Open descriptors whose floor keeps rising (connections the server never closes)."""
    post = [s for s in samples if s.requests >= warmup]
    named = Named(Signal.FDS, "open descriptors", "descriptors/1k requests")
    return classify_series([s.requests - warmup for s in post], [float(s.fds) for s in post],
                           named, guards, threshold, final)


def levels(values: Sequence[float], confirm: int = CONFIRM) -> list[float]:
    """Each sample's confirmed level: the median of it and ``confirm - 1`` samples either side
    (fewer at the start), so a value counts only once a majority around it agrees: a dip or a
    spike of up to ``confirm - 1`` samples moves no level. The last ``confirm - 1`` samples
    have no level yet."""
    h = confirm - 1
    head = [sorted(values[:2 * i + 1])[i] for i in range(min(h, len(values) - h))]
    windows = zip(*(values[k:len(values) - h + k] for k in range(2 * h + 1)))
    return head + [sorted(w)[h] for w in windows]


def floor(values: Sequence[float], confirm: int = CONFIRM) -> list[float]:
    """The lowest confirmed level from each sample to the end (``confirm - 1`` shorter)."""
    return _suffix_min(levels(values, confirm))


def _suffix_min(lv: Sequence[float]) -> list[float]:
    out = list(lv)
    for i in range(len(out) - 2, -1, -1):
        if out[i + 1] < out[i]:
            out[i] = out[i + 1]
    return out


def given_back(values: Sequence[float], low: Sequence[float],
               confirm: int = CONFIRM) -> float:
    """The most memory seen given back: a high held for ``confirm`` samples (the lowest of
    them), above the floor after it."""
    highs = map(min, zip(*(values[k:] for k in range(confirm))))
    return max(max((h - f for h, f in zip(highs, low)), default=0.0), 0.0)


@dataclass(frozen=True)
class Series:
    """One post-warm-up series, ready for the tests: x in k requests, its floor, what it
    has given back."""

    xs: list[float]
    values: list[float]
    lv: list[float]  # confirmed levels
    low: list[float]
    back: float
    moved: list[float]  # how far noise can have moved each level (``noise_moved``)
    named: Named
    guards: Guards
    threshold: float

    @property
    def m(self) -> int:  # samples with a confirmed floor
        return len(self.low)

    def rise(self, i: int, j: int) -> float:
        """End-to-end rise of the floor per 1k requests from sample i to j."""
        return (self.low[j] - self.low[i]) / (self.xs[j] - self.xs[i])


def classify_series(requests: Sequence[int], values: Sequence[float], named: Named,
                    guards: Guards, threshold: float, final: bool) -> Assessment:
    """The rule both slope signals share (see the module docstring); ``requests`` count
    from the end of the warm-up."""
    if threshold <= 0:
        raise ValueError("threshold must be positive")
    n = len(values)
    if n < max(MIN_SAMPLES, CONFIRM + 2):
        return Assessment(Verdict.INCONCLUSIVE, named.signal, None, None, None, None,
                          f"only {n} samples after warm-up (need {MIN_SAMPLES})",
                          more_would_help=not final)
    lv = levels(values)
    low = _suffix_min(lv)
    s = Series([r / 1000 for r in requests], list(values), lv, low, given_back(values, low),
               noise_moved(values, lv), named, guards, threshold)
    leak = _leak_test(s)
    if leak.verdict is Verdict.LEAKING:
        return leak
    flat = _flat_test(s)
    if flat.verdict is Verdict.STABLE:
        return flat
    why = f"{leak.reason}; {flat.reason}"
    if not final:
        return Assessment(Verdict.INCONCLUSIVE, named.signal, None, None, None, None,
                          f"undecided so far: {why}", more_would_help=True)
    more = max(leak.more_requests or 0, flat.more_requests or 0) or None
    whole = theil_sen(s.xs[:s.m], low)
    return Assessment(Verdict.INCONCLUSIVE, named.signal, whole.value, whole.low, whole.high,
                      None, f"undecided at {requests[-1]:,} requests after warm-up: {why}"
                      + _would_decide(more, requests[-1]), more_requests=more)


def _would_decide(more: int | None, measured: int) -> str:
    if not more:
        return ""
    upto = _round_up(measured + more)
    return (f". About {more:,} more requests might decide it: load.max_requests = {upto:,} "
            f"in the scenario (or load.extend_to = {upto:,}: only while undecided)")


def _round_up(requests: int) -> int:
    return -(-requests // 1000) * 1000


def _leak_test(s: Series) -> Assessment:
    """LEAKING when the held floor rose, still rises, is not slowing, and beats give-backs."""
    g, thr, named = s.guards, s.threshold, s.named
    cut = s.xs[-1] - g.hold / 1000
    held = sum(1 for x in s.xs[:s.m] if x <= cut)
    if held < MIN_LATE + 2 or s.xs[held - 1] - s.xs[0] < g.span / 1000:
        return _undecided(named, f"no leak yet: a rise must be held for {g.hold:,} requests "
                                 f"over at least {g.span:,}", _short(s, g.needed_leak(_every(s))))
    late_n = max(held // 2, MIN_LATE)
    first, last, end = held - late_n, held - 1, s.m - 1
    where = f"{_k(s.xs[first])}–{_k(s.xs[last])}"
    if s.rise(first, last) <= thr:
        return _undecided(named, f"no held rise above {thr:g}: the floor of {named.what} rose "
                                 f"{s.rise(first, last):+.1f} {named.unit} over {where}")
    if s.rise(last, end) <= thr:
        return _undecided(named, (
            f"the floor of {named.what} rose {s.rise(first, last):+.1f} {named.unit} over "
            f"{where} but only {s.rise(last, end):+.1f} since: a fill or cache that stopped"),
            g.hold)
    rise = s.low[last] - s.low[first]
    if rise <= BACK * s.back:
        more = round((BACK * s.back - rise) / s.rise(first, end) * 1000) + g.hold
        return _undecided(named, (
            f"the floor of {named.what} held a rise of {rise:,.0f} over {where}, no more "
            f"than {BACK:g}x the {s.back:,.0f} it has given back: could be wandering"), more)
    ranked = theil_sen(s.xs[first:held], s.low[first:held],
                       z=serial_z(s.xs[first:held], s.values[first:held]))
    early = theil_sen(s.xs[:first + 1], s.low[:first + 1])
    late, least, most = _beyond_noise(s, ranked, first, last, early)
    tail = theil_sen(s.xs[last:end + 1], s.low[last:]) if end - last >= 2 else late
    distance = (s.xs[last] - s.xs[0]) / 2
    slowest = math.exp(-distance / (g.fill / 1000))  # late/early of the slowest fill
    figure = (f"the floor of {named.what} rose {late.value:+.1f} {named.unit} "
              f"(range {late.low:+.1f}..{late.high:+.1f}) over {where} requests")
    if late.low <= thr or tail.value <= thr:
        return _undecided(named, f"no clear rise above {thr:g}: {figure}, then "
                                 f"{tail.value:+.1f}", g.hold)
    tail_slowest = math.exp(-(s.xs[end] - s.xs[first]) / 2 / (g.fill / 1000))
    if tail.value <= tail_slowest * late.value:
        return _undecided(named, f"{figure}, but slower since ({tail.value:+.1f}): could be a "
                                 f"bounded fill", g.fill)
    if least <= slowest * most and not _outpaces_fill(s, late is not ranked, first, last, most):
        return _undecided(named, f"{figure}, but slower than before ({most:+.1f}): "
                                 f"could be a bounded fill", g.fill)
    fresh = s.values[s.m:]
    if fresh and min(fresh) < s.low[last]:
        return _undecided(named, f"{figure}, but the last {len(fresh)} samples fell below it: "
                                 f"not yet confirmed", 2 * _every(s))
    return _assessed(Verdict.LEAKING, named, late, tail.value, (
        f"{figure}, held for the {g.hold:,} requests after and still rising through them "
        f"({tail.value:+.1f}), not slowing (before {early.value:+.1f}; a fill of time constant "
        f"{g.fill:,} would keep at most {slowest:.2f} of it), and more than the "
        f"{s.back:,.0f} it ever gave back"))


def _outpaces_fill(s: Series, measured: bool, first: int, last: int, most: float) -> bool:
    """On the measured noise, whether the tail's rise beyond it outpaces what a fill of time
    constant ``fill`` keeps of the most the early rise can have been: a fill's rate only
    falls, by exp(-d / fill) over d (from start to start when the tail is the longer
    stretch, else from the early stretch's end to the tail's start)."""
    end = s.m - 1
    if not measured or end - last < 2:
        return False
    longer = s.xs[end] - s.xs[last] >= s.xs[first] - s.xs[0]
    d = s.xs[last] - (s.xs[0] if longer else s.xs[first])
    tail = _rise_beyond_noise(s, last, end, max(s.moved))
    return tail > math.exp(-d / (s.guards.fill / 1000)) * most


def noise_moved(values: Sequence[float], lv: Sequence[float],
                confirm: int = CONFIRM) -> list[float]:
    """How far noise can have moved each level: a level is the median of its window, so it
    lies within the window's median noise of the truth; each value's noise read as its
    distance from the midpoint of its neighbours (a straight trend is not noise, and a
    steep one does not hide it)."""
    if len(values) < 3:
        return [0.0] * len(lv)
    dist = [abs(b - (a + c) / 2) / MIDPOINT for a, b, c in zip(values, values[1:], values[2:])]
    dist = dist[:1] + dist + dist[-1:]
    h = confirm - 1
    windows = (sorted(dist[max(i - h, 0):i + h + 1]) for i in range(len(lv)))
    return [w[len(w) // 2] for w in windows]


def _beyond_noise(s: Series, ranked: Slope, first: int, last: int,
                  early: Slope) -> tuple[Slope, float, float]:
    """The late stretch's slope with its low end raised by the measured noise where that
    says more than the ranks (see the module docstring); for the fill comparison, the least
    the late rise and the most the early rise can have been (the ranks and the early
    slope alone where the noise says less)."""
    noise = max(s.moved)
    steady = min(_steady_rise(s, first, last, noise), ranked.value)
    if steady <= ranked.low:
        return ranked, ranked.low, early.value
    least = min(_rise_beyond_noise(s, first, last, noise), ranked.value)
    most = _rise_beyond_noise(s, 0, first, -noise)
    return Slope(ranked.value, steady, ranked.high), max(steady, least), most


def _steady_rise(s: Series, first: int, last: int, noise: float) -> float:
    """The floor's rise per 1k requests beyond the noise from the start of the late stretch,
    or of its second third, to its end, where it rose beyond the noise in every third
    from there (a one-off gain lies in one third; a fill that stopped inside the stretch
    has a flat last third); else no rise at all."""
    cuts = [first + round(k * (last - first) / 3) for k in range(4)]
    rose = [_rise_beyond_noise(s, a, b, noise) > 0 for a, b in zip(cuts, cuts[1:])]
    starts = [c for k, c in enumerate(cuts[:2]) if all(rose[k:])]
    return max((_rise_beyond_noise(s, a, last, noise) for a in starts), default=-math.inf)


def _rise_beyond_noise(s: Series, a: int, b: int, noise: float) -> float:
    """The floor's rise per 1k requests from sample a to b less twice the measured noise:
    the least the memory kept can have risen."""
    return (s.low[b] - s.low[a] - 2 * noise) / (s.xs[b] - s.xs[a])


def serial_z(xs: Sequence[float], values: Sequence[float]) -> float:
    """The normal quantile for Sen's range over a stretch of raw values whose residuals from
    their own Theil-Sen line are serially correlated (wandering, steps, caches): widened as if
    there were n (1 - rho) / (1 + rho) independent samples (lag-1 autocorrelation rho)."""
    line = theil_sen(xs, values, CONFIDENCE)
    mid = sorted(v - line.value * x for x, v in zip(xs, values))[len(xs) // 2]
    res = [v - line.value * x - mid for x, v in zip(xs, values)]
    total = sum(r * r for r in res)
    rho = sum(a * b for a, b in zip(res, res[1:])) / total if total else 0.0
    rho = min(max(rho, 0.0), 0.95)
    return z_for(CONFIDENCE) * math.sqrt((1 + rho) / (1 - rho))


def _flat_test(s: Series) -> Assessment:
    """STABLE when the near floor is flat over the last ``flat`` requests, with no rise of
    ``hold`` requests or more anywhere in them (see the module docstring)."""
    g, thr, named, end = s.guards, s.threshold, s.named, s.m - 1
    starts = [i for i in range(end) if s.xs[end] - s.xs[i] >= g.flat / 1000]
    if not starts:
        return _undecided(named, f"not yet flat for {g.flat:,} requests",
                          _short(s, g.needed_stable(_every(s))))
    i = starts[-1]
    near = _window_min(s.lv, round(g.hold / 1000 / (s.xs[1] - s.xs[0])))[i:]
    xs = s.xs[i:end + 1]
    stretch = f"{_k(xs[0])}–{_k(xs[-1])} requests"
    swing = max(_drops(near), 0.0)
    if swing >= thr * g.hold / 1000:
        return _undecided(named, f"not flat: the near floor of {named.what} swings "
                                 f"{swing:,.0f} over {stretch}, as much as a leak at the "
                                 f"threshold piles up in {g.hold:,} requests", g.flat)
    rise, a, b = _steepest(xs, near, min(g.hold, g.flat) / 1000)
    if rise >= thr:
        return _undecided(named, f"not flat: the near floor of {named.what} rose {rise:+.1f} "
                                 f"{named.unit} over {_k(xs[a])}–{_k(xs[b])} requests", g.flat)
    slope = theil_sen(xs, near, z=serial_z(xs, s.values[i:end + 1]))
    top = max(slope.high, (near[-1] - near[0]) / (xs[-1] - xs[0]))
    if top >= thr:
        return _undecided(named, f"not flat: the near floor of {named.what} "
                                 f"{slope.value:+.1f} {named.unit} (up to {top:+.1f}) over "
                                 f"{stretch}", g.flat)
    peak = max(s.lv[i:])
    if min(s.values[s.m:] or [peak]) > peak:
        return _undecided(named, f"the last {len(s.values) - s.m} samples are above every "
                                 f"level in {stretch}: not yet confirmed", 2 * _every(s))
    j = max(k for k in range(len(xs)) if xs[-1] - xs[k] >= min(g.hold, g.flat) / 1000)
    late = (near[-1] - near[j]) / (xs[-1] - xs[j])
    return _assessed(Verdict.STABLE, named, Slope(slope.value, slope.low, top), late, (
        f"flat below {thr:g}: the near floor of {named.what} {slope.value:+.1f} {named.unit} "
        f"(range {slope.low:+.1f}..{top:+.1f}, end-to-end rise included) over {stretch}, and "
        f"no stretch of {min(g.hold, g.flat):,} requests in it rose more than {rise:+.1f}"))


def near_floor(values: Sequence[float], horizon: int, confirm: int = CONFIRM) -> list[float]:
    """The lowest confirmed level from each sample over the next ``horizon`` samples: memory
    not given back within ``hold``. A late low value lowers only the ``hold`` before it."""
    return _window_min(levels(values, confirm), horizon)


def _window_min(lv: Sequence[float], horizon: int) -> list[float]:
    """min(lv[i:i + horizon + 1]) for every i (horizon at least 1), in one pass."""
    span = max(horizon, 1) + 1
    out: list[float] = [0.0] * len(lv)
    window: collections.deque[int] = collections.deque()  # indices, values increasing
    for i in range(len(lv) - 1, -1, -1):
        while window and lv[window[-1]] >= lv[i]:
            window.pop()
        window.append(i)
        if window[0] >= i + span:
            window.popleft()
        out[i] = lv[window[0]]
    return out


def _drops(ys: Sequence[float]) -> float:
    """The largest fall from an earlier value to a later one."""
    top, worst = -math.inf, -math.inf
    for y in ys:
        top = max(top, y)
        worst = max(worst, top - y)
    return worst


def _steepest(xs: Sequence[float], ys: Sequence[float], least: float) -> tuple[float, int, int]:
    """The steepest end-to-end rise over any stretch at least ``least`` long."""
    best = (-math.inf, 0, len(xs) - 1)
    n = len(xs)
    lo = 0
    for a in range(n):
        xa, ya = xs[a], ys[a]
        lo = max(lo, a + 1)
        while lo < n and xs[lo] - xa < least:
            lo += 1
        if lo >= n:
            break
        rises = list(map(truediv, map(sub, ys[lo:], repeat(ya)), map(sub, xs[lo:], repeat(xa))))
        top = max(rises)
        if top >= best[0]:
            best = (top, a, lo + len(rises) - 1 - rises[::-1].index(top))
    return best


def _short(s: Series, needed: int) -> int:
    return max(needed - round(s.xs[-1] * 1000), _every(s))


def _every(s: Series) -> int:
    return round((s.xs[-1] - s.xs[0]) / max(len(s.xs) - 1, 1) * 1000)


def _k(x: float) -> str:
    return f"{round(x * 1000):,}"


def _assessed(verdict: Verdict, named: Named, slope: Slope, late: float | None,
              reason: str) -> Assessment:
    return Assessment(verdict, named.signal, slope.value, slope.low, slope.high, late, reason)


def _undecided(named: Named, reason: str, more: int | None = None) -> Assessment:
    return Assessment(Verdict.INCONCLUSIVE, named.signal, None, None, None, None, reason,
                      more_would_help=True, more_requests=more)


# --- held memory ---------------------------------------------------------------------------


def _held_figures(samples: Sequence[Sample], warmup: int) -> tuple[list[int], list[float]]:
    post = [s for s in samples if s.requests >= warmup]
    return [s.requests - warmup for s in post], (memory_figure(post)[1] if post else [])


def reference_noise(reference: Sequence[Sample], *, warmup: int) -> float | None:
    """How far the reference's own median moves between its halves, in MiB (None: too few)."""
    _, ref = _held_figures(reference, warmup)
    if len(ref) < 2 * MIN_SAMPLES:
        return None
    half = len(ref) // 2
    return abs(_median(ref[half:]) - _median(ref[:half])) / 1024


def reference_growth(reference: Sequence[Sample], *, warmup: int) -> Slope | None:
    """The reference's own floor slope in KiB/1k requests (None: too few samples)."""
    requests, ref = _held_figures(reference, warmup)
    if len(ref) < max(MIN_SAMPLES, MIN_LATE + CONFIRM):
        return None
    low = floor(ref)
    return theil_sen([r / 1000 for r in requests[:len(low)]], low)


def _growing_reference(reference: Sequence[Sample], warmup: int) -> str:
    """Why the reference is a moving target ("" when it is not)."""
    grows = reference_growth(reference, warmup=warmup)
    if grows is None or grows.low <= DEFAULT_THRESHOLD_KIB:
        return ""
    return (f"the reference itself grows {grows.value:+.1f} KiB/1k requests (range "
            f"{grows.low:+.1f}..{grows.high:+.1f}; above {DEFAULT_THRESHOLD_KIB:g}): held memory "
            "against a moving target means nothing; bisect its growth (--metric growth) first")


def classify_reference(reference: Sequence[Sample], *, warmup: int,
                       threshold_mib: float) -> Assessment:
    """The reference of ``held`` measured against itself: it must not grow, and its late
    half must hold no more than its early half."""
    _, ref = _held_figures(reference, warmup)
    if len(ref) < 2 * MIN_SAMPLES:
        return Assessment(Verdict.INCONCLUSIVE, Signal.HELD, None, None, None, None,
                          f"only {len(ref)} samples after warm-up: the reference needs "
                          f"{2 * MIN_SAMPLES} to measure its own noise")
    moving = _growing_reference(reference, warmup)
    if moving:
        return Assessment(Verdict.INCONCLUSIVE, Signal.HELD, None, None, None, None, moving)
    half = len(ref) // 2
    return _held_verdict(ref[half:], ref[:half], 0.0, threshold_mib,
                         "the reference's late half against its early half")


def classify_held(samples: Sequence[Sample], reference: Sequence[Sample], *, warmup: int,
                  threshold_mib: float) -> Assessment:
    """Post-warm-up median memory against a reference run's (garbage freed late, not never),
    with the range widened by the reference's own noise; a reference that grows is
    inconclusive, with the reason."""
    _, post = _held_figures(samples, warmup)
    _, ref = _held_figures(reference, warmup)
    noise = reference_noise(reference, warmup=warmup)
    if len(post) < MIN_SAMPLES or noise is None:
        return Assessment(Verdict.INCONCLUSIVE, Signal.HELD, None, None, None, None,
                          f"too few samples after warm-up to compare held memory ({len(post)} "
                          f"here, {len(ref)} in the reference; need {MIN_SAMPLES} and "
                          f"{2 * MIN_SAMPLES})")
    moving = _growing_reference(reference, warmup)
    if moving:
        return Assessment(Verdict.INCONCLUSIVE, Signal.HELD, None, None, None, None, moving)
    return _held_verdict(post, ref, noise, threshold_mib, "against the reference")


def _held_verdict(post: Sequence[float], ref: Sequence[float], noise: float,
                  threshold_mib: float, against: str) -> Assessment:
    held = (_median(post) - _median(ref)) / 1024
    low = (_quantile(post, 0.25) - _quantile(ref, 0.75)) / 1024 - noise
    high = (_quantile(post, 0.75) - _quantile(ref, 0.25)) / 1024 + noise
    described = (f"median memory held {held:+.1f} MiB {against} (interquartile range, widened "
                 f"by the reference's own noise {noise:.1f} MiB: {low:+.1f}..{high:+.1f} MiB)")
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
