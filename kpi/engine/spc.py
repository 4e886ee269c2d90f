"""XmR statistical process control charts the NHS "Making Data Count" way (NHS England's Single Chart Tool rules,
or NHSRplotthedots').

``xmr(values, ...)`` returns per-point limits and signals, the variation icon for the latest point and the
assurance icon against a target. Two rule sets:

- ``method="mdc"`` (default): NHS England's Making Data Count Single Chart Tool (v5).
- ``method="nhsr"``: the NHS-R package NHSRplotthedots 0.2.

Shared definitions. Mean and average moving range (MR̄) per segment; process limits mean ± 2.66·MR̄ (2.66 = 3/d2,
d2 = 1.128 for ranges of two points); two-sigma lines mean ± (2/3)·2.66·MR̄. Comparisons are strict everywhere:
a point exactly on a limit is not outside it, a point exactly on a two-sigma line is not beyond it, a point exactly
on the mean is on neither side (it breaks a run), and equal consecutive values break a trend. So a constant series
(MR̄ = 0, limits equal to the mean) has no signals and nothing is divided by MR̄.

Choices where the guidance is silent (documented here so the charts can say so):

- Missing values (NaN/inf) are rejected: an XmR chart needs consecutive periods and dropping a month silently would
  shift moving ranges and runs. Impute or truncate before charting.
- ``recalc_at`` holds 0-based *positions* (not index labels); 0 is allowed and means nothing; every segment must
  have at least two points (one point has no moving range).
- Two of three: the three points must all lie strictly on the same side of their own mean; only points strictly
  beyond the two-sigma line and not beyond the process limit count (a point exactly on the process limit counts);
  only the counting points are flagged.
- ``mdc``: with 12 or fewer points in the whole series there are no limits, no signals and no icons (means only,
  per segment or from the baseline); 13 or more and every segment gets limits, however short.
- ``mdc`` neutral icon: by the side of the mean the last point lies on; for a last point exactly on the mean
  (possible only at the end of a trend) by the direction of its signal (rising → high).
- ``nhsr`` neutral icon: by the direction of the point's single label (as NHSRplotthedots does), so a rising trend
  below the mean is ``neutral_high``.
- ``nhsr`` screening keeps moving ranges strictly below 3.267·MR̄; when MR̄ is 0 nothing is screened
  (NHSRplotthedots would drop every range and return no limits for a constant series).
- ``nhsr`` needs at least 2 values; ``mdc`` accepts a single value (mean only).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import pandas as pd

IMPROVEMENTS = ("increase", "decrease", "neutral")
METHODS = ("mdc", "nhsr")
POINT_TYPES = ("common_cause", "improvement", "concern", "neutral")
VARIATION_ICONS = (
    "common_cause",
    "improvement_high",
    "improvement_low",
    "concern_high",
    "concern_low",
    "neutral_high",
    "neutral_low",
)
ASSURANCE_TYPES = ("consistent_pass", "consistent_fail", "inconsistent")

LIMIT_FACTOR = 2.66  # process limits at mean ± 2.66·MR̄ (three sigma)
SCREEN_FACTOR = 3.267  # nhsr: moving ranges at or above 3.267·MR̄ (the MR chart's upper limit) are dropped
MDC_MIN_POINTS = 13  # mdc: fewer points in the whole series → mean only
RUN_LENGTH = {"mdc": 6, "nhsr": 7}  # points needed for a shift or a trend

COLUMNS = (
    "value",
    "segment",
    "mean",
    "mr",
    "mr_bar",
    "lpl",
    "upl",
    "lower_2sigma",
    "upper_2sigma",
    "relative_to_mean",
    "outside",
    "shift",
    "trend",
    "two_of_three",
    "point_type",
    "signal_side",
)


@dataclass(frozen=True, eq=False)
class XmrResult:
    """The outcome of :func:`xmr`.

    ``points`` has one row per value (same index as a Series input), with columns:

    - ``value``, ``segment`` (0, 1, … numbering recalculations), ``mean``;
    - ``mr`` (|xᵢ − xᵢ₋₁| within the segment, NaN at a segment's first point), ``mr_bar`` (the MR̄ behind the limits);
    - ``lpl``, ``upl``, ``lower_2sigma``, ``upper_2sigma`` (NaN when there are no limits);
    - ``relative_to_mean`` (+1 above, −1 below, 0 on the mean);
    - rule flags ``outside``, ``shift``, ``trend``, ``two_of_three`` (True where that rule flags the point);
    - ``point_type`` (common_cause | improvement | concern | neutral) and ``signal_side`` ("high" | "low" for a
      signal, missing for common cause): the side the signal is reported on, which picks the icon.
    """

    points: pd.DataFrame
    variation_icon: str | None
    assurance: str | None
    method: str
    improvement: str
    target: float | None
    recalc_at: tuple[int, ...]
    baseline: int | None

    @property
    def has_limits(self) -> bool:
        """False when no process limits were computed (mdc with 12 or fewer points)."""
        return bool(len(self.points)) and not math.isnan(self.points["upl"].iloc[-1])


def xmr(
    values,
    improvement: str = "increase",
    target: float | None = None,
    recalc_at: Iterable[int] | int | None = None,
    baseline: int | None = None,
    method: str = "mdc",
) -> XmrResult:
    """An XmR chart of ``values`` (list, numpy array or pandas Series, oldest first).

    ``improvement``: which direction is good (increase | decrease | neutral). ``target``: a single number for the
    assurance icon. ``recalc_at``: 0-based positions where a new segment (with its own limits) starts.
    ``baseline``: number of leading points the mean and MR̄ come from (mdc: of the whole series, and then
    ``recalc_at`` is ignored; nhsr: of each segment). Raises ValueError on invalid arguments.
    """
    x, index = _as_array(values)
    n = len(x)
    if improvement not in IMPROVEMENTS:
        raise ValueError(f"improvement must be one of {', '.join(IMPROVEMENTS)}; got {improvement!r}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    if method == "nhsr" and n < 2:
        raise ValueError("method='nhsr' needs at least 2 values to compute limits")
    target = _check_target(target)
    starts = _check_recalc(recalc_at, n)
    baseline = _check_baseline(baseline, n)

    segment = np.zeros(n, dtype=int)
    if not (method == "mdc" and baseline is not None):  # mdc: a baseline overrides recalculations
        for s in starts:
            segment[s:] += 1
    with_limits = method == "nhsr" or n >= MDC_MIN_POINTS

    # Limits, segment by segment.
    mean = np.empty(n)
    mr_bar = np.full(n, np.nan)
    for lo, hi in _runs_of(segment):
        fit = x[lo:hi] if baseline is None else x[lo : min(hi, lo + baseline)]
        mean[lo:hi] = fit.mean()
        if with_limits:
            mr_bar[lo:hi] = _mr_bar(fit, screen=method == "nhsr")
    mr = np.full(n, np.nan)
    if n > 1:
        mr[1:] = np.abs(np.diff(x))
        mr[1:][np.diff(segment) != 0] = np.nan
    half_width = LIMIT_FACTOR * mr_bar
    upl, lpl = mean + half_width, mean - half_width
    upper_2s, lower_2s = mean + half_width * 2 / 3, mean - half_width * 2 / 3
    relative = np.sign(x - mean).astype(int)

    # Rules: mdc runs them over the whole series (each point against its own segment's lines), nhsr per segment.
    rules = ("above", "below", "shift_hi", "shift_lo", "up", "down", "two3_hi", "two3_lo")
    flags = {name: np.zeros(n, dtype=bool) for name in rules}
    if with_limits:
        groups = segment if method == "nhsr" else np.zeros(n, dtype=int)
        run = RUN_LENGTH[method]
        flags["above"], flags["below"] = x > upl, x < lpl
        near_hi = (x > upper_2s) & ~flags["above"]
        near_lo = (x < lower_2s) & ~flags["below"]
        for lo, hi in _runs_of(groups):
            part = slice(lo, hi)
            shift = _long_runs(relative[part], run)
            flags["shift_hi"][part] = shift & (relative[part] > 0)
            flags["shift_lo"][part] = shift & (relative[part] < 0)
            flags["up"][part], flags["down"][part] = _trends(x[part], run)
            flags["two3_hi"][part], flags["two3_lo"][part] = _two_of_three(relative[part], near_hi[part], near_lo[part])

    if method == "mdc":
        high = flags["above"] | flags["shift_hi"] | flags["up"] | flags["two3_hi"]
        low = flags["below"] | flags["shift_lo"] | flags["down"] | flags["two3_lo"]
    else:
        high, low = _nhsr_labels(x, flags)
    point_type, signal_side = _classify(high, low, relative, improvement, method)

    points = pd.DataFrame(
        {
            "value": x,
            "segment": segment,
            "mean": mean,
            "mr": mr,
            "mr_bar": mr_bar,
            "lpl": lpl,
            "upl": upl,
            "lower_2sigma": lower_2s,
            "upper_2sigma": upper_2s,
            "relative_to_mean": relative,
            "outside": flags["above"] | flags["below"],
            "shift": flags["shift_hi"] | flags["shift_lo"],
            "trend": flags["up"] | flags["down"],
            "two_of_three": flags["two3_hi"] | flags["two3_lo"],
            "point_type": point_type,
            "signal_side": signal_side,
        },
        index=index,
    )
    icon = variation_icon_for(point_type[-1], improvement, signal_side[-1]) if with_limits else None
    assurance = assurance_for(lpl[-1], upl[-1], target, improvement) if with_limits else None
    return XmrResult(
        points=points,
        variation_icon=icon,
        assurance=assurance,
        method=method,
        improvement=improvement,
        target=target,
        recalc_at=tuple(starts),
        baseline=baseline,
    )


def assurance_for(lpl: float, upl: float, target: float | None, improvement: str) -> str | None:
    """Assurance of meeting ``target`` given the latest process limits.

    A target above the upper limit is never reached by this process (consistent_fail when increase is good,
    consistent_pass when decrease is good); a target below the lower limit is always beaten (the reverse). A target
    between or exactly on the limits: inconsistent. None without a target, a direction, or limits.
    """
    if target is None or improvement == "neutral" or math.isnan(lpl) or math.isnan(upl):
        return None
    if target > upl:
        return "consistent_fail" if improvement == "increase" else "consistent_pass"
    if target < lpl:
        return "consistent_pass" if improvement == "increase" else "consistent_fail"
    return "inconsistent"


def variation_icon_for(point_type: str, improvement: str, signal_side: str | None = None) -> str:
    """The variation icon for the latest point: improvement/concern take the side that is good/bad for the
    direction (improvement_high when increase is good), neutral takes the point's ``signal_side``."""
    if point_type == "common_cause":
        return "common_cause"
    if point_type == "improvement":
        return "improvement_high" if improvement == "increase" else "improvement_low"
    if point_type == "concern":
        return "concern_low" if improvement == "increase" else "concern_high"
    if point_type == "neutral" and signal_side in ("high", "low"):
        return f"neutral_{signal_side}"
    raise ValueError(f"no variation icon for point_type={point_type!r}, signal_side={signal_side!r}")


# --- helpers -------------------------------------------------------------------------------------------------------


def _as_array(values) -> tuple[np.ndarray, pd.Index]:
    """Values as a float array plus the index for ``points`` (a Series keeps its own)."""
    if isinstance(values, pd.DataFrame):
        raise ValueError("values must be one-dimensional (a list, array or Series), not a DataFrame")
    index = values.index.copy() if isinstance(values, pd.Series) else None
    try:
        if isinstance(values, pd.Series):
            x = values.to_numpy(dtype=float, na_value=np.nan)
        else:
            x = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"values must be numbers: {exc}") from None
    if x.ndim != 1:
        raise ValueError(f"values must be one-dimensional; got shape {x.shape}")
    if len(x) == 0:
        raise ValueError("values is empty: an XmR chart needs at least one value")
    bad = np.flatnonzero(~np.isfinite(x))
    if len(bad):
        shown = ", ".join(str(i) for i in bad[:5]) + (", …" if len(bad) > 5 else "")
        raise ValueError(
            f"values contain {len(bad)} missing or infinite value(s) at position(s) {shown}; "
            "an XmR chart needs consecutive periods, so fill or drop them before charting"
        )
    return x, (index if index is not None else pd.RangeIndex(len(x)))


def _check_target(target) -> float | None:
    if target is None:
        return None
    if isinstance(target, bool) or not isinstance(target, Real) or not math.isfinite(target):
        raise ValueError(f"target must be a finite number or None; got {target!r}")
    return float(target)


def _check_recalc(recalc_at, n: int) -> list[int]:
    """Validated segment starts (sorted, without 0)."""
    if recalc_at is None:
        return []
    items = [recalc_at] if isinstance(recalc_at, Integral) else recalc_at
    if isinstance(items, str | bytes) or not isinstance(items, Iterable):
        raise ValueError(f"recalc_at must be a list of 0-based positions; got {recalc_at!r}")
    items = list(items)
    for i in items:
        if isinstance(i, bool) or not isinstance(i, Integral):
            raise ValueError(f"recalc_at must hold integer positions; got {i!r}")
        if not 0 <= i < n:
            raise ValueError(f"recalc_at position {i} is out of range for {n} values (0 to {n - 1})")
    if any(b <= a for a, b in zip(items, items[1:], strict=False)):
        raise ValueError(f"recalc_at must be strictly increasing; got {items}")
    starts = [0, *(int(i) for i in items if i != 0)]
    for a, b in zip(starts, [*starts[1:], n], strict=True):
        if b - a < 2:
            raise ValueError(f"the segment starting at position {a} has {b - a} point; each segment needs at least 2")
    return starts[1:]


def _check_baseline(baseline, n: int) -> int | None:
    if baseline is None:
        return None
    if isinstance(baseline, bool) or not isinstance(baseline, Integral):
        raise ValueError(f"baseline must be an integer number of points; got {baseline!r}")
    if not 2 <= baseline <= n:
        raise ValueError(f"baseline must be between 2 and the number of values ({n}); got {baseline}")
    return int(baseline)


def _runs_of(labels: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each stretch of equal consecutive labels."""
    cuts = [0, *(np.flatnonzero(np.diff(labels)) + 1).tolist(), len(labels)]
    return list(zip(cuts[:-1], cuts[1:], strict=True))


def _mr_bar(fit: np.ndarray, screen: bool) -> float:
    """Mean moving range of ``fit`` (at least 2 points); with ``screen``, drop ranges ≥ 3.267·MR̄ once."""
    ranges = np.abs(np.diff(fit))
    mr_bar = float(ranges.mean())
    if screen and mr_bar > 0:
        mr_bar = float(ranges[ranges < SCREEN_FACTOR * mr_bar].mean())  # never empty: min(ranges) ≤ MR̄
    return mr_bar


def _long_runs(labels: np.ndarray, length: int) -> np.ndarray:
    """True for points in a stretch of at least ``length`` equal, non-zero consecutive labels."""
    out = np.zeros(len(labels), dtype=bool)
    for lo, hi in _runs_of(labels):
        if labels[lo] != 0 and hi - lo >= length:
            out[lo:hi] = True
    return out


def _trends(x: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Points in a rising / falling trend of at least ``length`` points (each strictly beyond the one before)."""
    up, down = np.zeros(len(x), dtype=bool), np.zeros(len(x), dtype=bool)
    if len(x) < 2:
        return up, down
    steps = np.sign(np.diff(x)).astype(int)
    in_trend = _long_runs(steps, length - 1)  # n points make n − 1 steps
    for flag, direction in ((up, 1), (down, -1)):
        chosen = in_trend & (steps == direction)
        flag[:-1] |= chosen  # each step flags the point it leaves …
        flag[1:] |= chosen  # … and the point it reaches
    return up, down


def _two_of_three(relative: np.ndarray, near_hi: np.ndarray, near_lo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points beyond a two-sigma line (not the limit) that are 2 of 3 consecutive points on one side of the mean."""
    hi, lo = np.zeros(len(relative), dtype=bool), np.zeros(len(relative), dtype=bool)
    for s in range(len(relative) - 2):
        w = slice(s, s + 3)
        if (relative[w] == 1).all() and near_hi[w].sum() >= 2:
            hi[w] |= near_hi[w]
        if (relative[w] == -1).all() and near_lo[w].sum() >= 2:
            lo[w] |= near_lo[w]
    return hi, lo


def _nhsr_labels(x: np.ndarray, flags: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """One label per point: outside limits > trend > two-of-three > shift; returns (high, low) of that label.

    A point ending one trend and starting the opposite one takes the direction of the next step (the new trend).
    """
    n = len(x)
    direction = np.zeros(n, dtype=int)
    for i in range(n):
        if flags["above"][i] or flags["below"][i]:
            direction[i] = 1 if flags["above"][i] else -1
        elif flags["up"][i] and flags["down"][i]:
            direction[i] = int(np.sign(x[i + 1] - x[i]))  # i starts a trend, so i + 1 exists and differs
        elif flags["up"][i] or flags["down"][i]:
            direction[i] = 1 if flags["up"][i] else -1
        elif flags["two3_hi"][i] or flags["two3_lo"][i]:
            direction[i] = 1 if flags["two3_hi"][i] else -1
        elif flags["shift_hi"][i] or flags["shift_lo"][i]:
            direction[i] = 1 if flags["shift_hi"][i] else -1
    return direction > 0, direction < 0


def _classify(
    high: np.ndarray, low: np.ndarray, relative: np.ndarray, improvement: str, method: str
) -> tuple[np.ndarray, np.ndarray]:
    """point_type and signal_side from high-side and low-side signals (both → improvement)."""
    n = len(high)
    point_type = np.full(n, "common_cause", dtype=object)
    side = np.full(n, None, dtype=object)
    signal = high | low
    if improvement == "neutral":
        point_type[signal] = "neutral"
        if method == "mdc":  # side of the mean; on the mean, the signal's own direction
            is_high = np.where(relative != 0, relative > 0, high)
        else:
            is_high = high
        side[signal] = np.where(is_high[signal], "high", "low")
        return point_type, side
    good, bad = (high, low) if improvement == "increase" else (low, high)
    good_side, bad_side = ("high", "low") if improvement == "increase" else ("low", "high")
    point_type[bad], side[bad] = "concern", bad_side
    point_type[good], side[good] = "improvement", good_side
    return point_type, side
