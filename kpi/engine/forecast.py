"""Will the plan's target be reached? A forecast of the target month's value from recent months.

Method: an ordinary least-squares line through the most recent months (default 12) with an 80% prediction
interval at the target month (Student's t). 80% is the usual fan-chart band in public-sector forecasting and
keeps the verdict useful on noisy monthly series; it is stated wherever the forecast is shown.

Verdict, with the KPI's polarity: *likely* when the whole interval is on the good side of the target, *unlikely*
when the whole interval is on the bad side, *uncertain* otherwise. When the target month has already passed (the
chosen period is at or after it), the verdict is whether the target was met in that month: *met* / *not met*.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from etl.months import index as month_index

DEFAULT_WINDOW = 12
MIN_POINTS = 6
# Two-sided 80% Student t quantiles (t_0.90) by degrees of freedom; beyond 30 the normal value 1.282 is used.
_T90 = [3.078, 1.886, 1.638, 1.533, 1.476, 1.440, 1.415, 1.397, 1.383, 1.372, 1.363, 1.356, 1.350, 1.345, 1.341,
        1.337, 1.333, 1.330, 1.328, 1.325, 1.323, 1.321, 1.319, 1.318, 1.316, 1.315, 1.314, 1.313, 1.311, 1.310]

LIKELY, UNLIKELY, UNCERTAIN, MET, NOT_MET, TOO_FEW = "likely", "unlikely", "uncertain", "met", "not_met", "too_few"


@dataclass(frozen=True)
class Forecast:
    """The forecast value at the target month, its 80% interval, and the verdict against the target."""

    target_period: str
    target: float
    value: float | None
    lower: float | None
    upper: float | None
    verdict: str
    points_used: int


def t90(df: int) -> float:
    """Student's t 90th percentile at ``df`` degrees of freedom (the half-width factor of an 80% two-sided interval),
    from the table above (scipy is not a dependency; tests/test_forecast.py checks the table against the t
    distribution itself); beyond 30 degrees of freedom the normal's 1.282."""
    return _T90[df - 1] if 1 <= df <= len(_T90) else 1.282


def linear_forecast(xs: np.ndarray, ys: np.ndarray, x_new: float) -> tuple[float, float]:
    """OLS prediction at ``x_new`` and the half-width of its 80% prediction interval."""
    n = len(xs)
    slope, intercept = np.polyfit(xs, ys, 1)
    fitted = slope * xs + intercept
    resid_var = float(np.sum((ys - fitted) ** 2) / (n - 2))
    sxx = float(np.sum((xs - xs.mean()) ** 2))
    se = math.sqrt(resid_var * (1 + 1 / n + (x_new - xs.mean()) ** 2 / sxx))
    return float(slope * x_new + intercept), t90(n - 2) * se


def verdict(lower: float, upper: float, target: float, polarity: str) -> str:
    """likely / unlikely / uncertain from where the interval lies against the target."""
    good_side_all = lower >= target if polarity == "up" else upper <= target
    bad_side_all = upper < target if polarity == "up" else lower > target
    if good_side_all:
        return LIKELY
    if bad_side_all:
        return UNLIKELY
    return UNCERTAIN


def forecast_target(
    periods: list[str],
    values: list[float | None],
    target: float,
    target_period: str,
    polarity: str,
    as_of: str,
    window: int = DEFAULT_WINDOW,
    bounds: tuple[float, float] | None = None,
) -> Forecast:
    """Forecast the value at ``target_period`` from the ``window`` months up to ``as_of`` (months without a
    value are skipped). Past the target month, report whether the target month itself met the target."""
    known = [(p, v) for p, v in zip(periods, values, strict=True)
             if p <= as_of and v is not None and not (isinstance(v, float) and math.isnan(v))]
    if as_of >= target_period:
        at_target = next((v for p, v in known if p == target_period), None)
        if at_target is None:
            return Forecast(target_period, target, None, None, None, TOO_FEW, 0)
        met = at_target >= target if polarity == "up" else at_target <= target
        return Forecast(target_period, target, at_target, at_target, at_target, MET if met else NOT_MET, 1)
    recent = known[-window:]
    if len(recent) < MIN_POINTS:
        return Forecast(target_period, target, None, None, None, TOO_FEW, len(recent))
    xs = np.array([month_index(p) for p, _ in recent], dtype=float)
    ys = np.array([v for _, v in recent], dtype=float)
    value, half = linear_forecast(xs, ys, float(month_index(target_period)))
    lower, upper = value - half, value + half
    if bounds is not None:
        value, lower, upper = (min(max(x, bounds[0]), bounds[1]) for x in (value, lower, upper))
    return Forecast(target_period, target, value, lower, upper, verdict(lower, upper, target, polarity), len(recent))
