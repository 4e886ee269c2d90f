"""Forecast of the target month and the likely / unlikely / uncertain verdict."""

from __future__ import annotations

import numpy as np
import pytest

from kpi.engine.forecast import (
    LIKELY,
    MET,
    NOT_MET,
    TOO_FEW,
    UNCERTAIN,
    UNLIKELY,
    forecast_target,
    linear_forecast,
    verdict,
)

PERIODS = [f"2023-{m:02d}" for m in range(1, 13)]


def test_a_perfect_line_extrapolates_exactly_with_no_interval():
    xs = np.arange(10, dtype=float)
    value, half = linear_forecast(xs, 2 * xs + 1, 15.0)
    assert value == pytest.approx(31.0)
    assert half == pytest.approx(0.0, abs=1e-9)


def test_interval_matches_the_textbook_formula():
    xs = np.array([1, 2, 3, 4, 5, 6], dtype=float)
    ys = np.array([2.0, 4.1, 5.9, 8.2, 9.8, 12.1])
    value, half = linear_forecast(xs, ys, 8.0)
    slope, intercept = np.polyfit(xs, ys, 1)
    s2 = np.sum((ys - (slope * xs + intercept)) ** 2) / 4
    se = np.sqrt(s2 * (1 + 1 / 6 + (8 - 3.5) ** 2 / np.sum((xs - 3.5) ** 2)))
    assert value == pytest.approx(slope * 8 + intercept)
    assert half == pytest.approx(1.533 * se)  # t(0.90, df=4)


@pytest.mark.parametrize("lower, upper, target, polarity, expected", [
    (51, 60, 50, "up", LIKELY),
    (50, 60, 50, "up", LIKELY),  # the whole interval reaches the target
    (40, 49, 50, "up", UNLIKELY),
    (45, 55, 50, "up", UNCERTAIN),
    (10, 19, 20, "down", LIKELY),
    (21, 30, 20, "down", UNLIKELY),
    (15, 25, 20, "down", UNCERTAIN),
])
def test_verdict_by_polarity(lower, upper, target, polarity, expected):
    assert verdict(lower, upper, target, polarity) == expected


def test_steady_recovery_is_likely_to_reach_target():
    values = [10 + 4 * i + (0.5 if i % 2 else -0.5) for i in range(7)]  # Jan–Jul 2023, rising 4 points a month
    f = forecast_target(PERIODS[:7], values, target=45, target_period="2024-01", polarity="up", as_of="2023-07")
    assert f.verdict == LIKELY
    assert f.value == pytest.approx(10 + 4 * 12, abs=0.5)
    assert f.lower <= f.value <= f.upper
    assert f.points_used == 7


def test_flat_performance_is_unlikely_to_reach_a_far_target():
    values = [12.0, 13.0, 11.5, 12.5, 12.0, 13.0, 12.5]
    f = forecast_target(PERIODS[:7], values, 49.2, "2024-01", "up", "2023-07")
    assert f.verdict == UNLIKELY


def test_noisy_series_is_uncertain_and_percentages_are_clipped():
    values = [10.0, 60.0, 5.0, 70.0, 20.0, 90.0, 30.0]
    f = forecast_target(PERIODS[:7], values, 50, "2024-01", "up", "2023-07", bounds=(0, 100))
    assert f.verdict == UNCERTAIN
    assert 0 <= f.lower and f.upper <= 100


def test_only_months_up_to_the_chosen_period_are_used_and_gaps_are_skipped():
    values = [10.0, None, 12.0, float("nan"), 14.0, 15.0, 16.0, 17.0, 99.0, 99.0, 99.0, 99.0]
    f = forecast_target(PERIODS, values, 30, "2024-01", "up", "2023-08")
    assert f.points_used == 6
    short = forecast_target(PERIODS, values, 30, "2024-01", "up", "2023-05")
    assert short.verdict == TOO_FEW and short.value is None


def test_after_the_target_month_the_verdict_is_met_or_not_met():
    periods = ["2023-12", "2024-01", "2024-02"]
    f = forecast_target(periods, [40.0, 51.0, 30.0], 50, "2024-01", "up", "2024-02")
    assert (f.verdict, f.value) == (MET, 51.0)
    f = forecast_target(periods, [40.0, 51.0, 30.0], 50, "2024-01", "down", "2024-02")
    assert f.verdict == NOT_MET


def _t_cdf(x: float, df: int) -> float:
    """Student's t distribution function, by integrating its density (independent of the table under test)."""
    import math

    log_c = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    ts = np.linspace(0.0, x, 200_001)
    density = np.exp(log_c - (df + 1) / 2 * np.log1p(ts * ts / df))
    return 0.5 + float(np.sum((density[1:] + density[:-1]) / 2) * (ts[1] - ts[0]))


@pytest.mark.parametrize("df", [1, 2, 3, 5, 8, 10, 15, 20, 25, 30])
def test_t90_is_the_90th_percentile_of_student_t(df):
    from kpi.engine.forecast import t90

    # The table holds three decimals: the distribution at the tabled value is 0.90 to within that rounding.
    assert _t_cdf(t90(df), df) == pytest.approx(0.90, abs=5e-4)


def test_t90_matches_published_tables_and_tends_to_the_normal():
    from kpi.engine.forecast import t90

    published = {1: 3.078, 2: 1.886, 4: 1.533, 9: 1.383, 12: 1.356, 24: 1.318, 30: 1.310}  # one-sided 0.10 column
    assert {df: t90(df) for df in published} == published
    assert t90(31) == t90(500) == 1.282  # the normal's 90th percentile
    assert [t90(df) for df in range(1, 31)] == sorted((t90(df) for df in range(1, 31)), reverse=True)
