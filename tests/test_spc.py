"""XmR / Making Data Count rules (NHS England's Single Chart Tool and NHSRplotthedots), for method="mdc" and
method="nhsr".

Most series put a fixed baseline first so the mean and lines are known exactly:
STABLE = 11, 9, … (mean 10, MR̄ 2: limits 4.68–15.32, two-sigma lines 6.45–13.55) and
WIDE = 0, 20, … (mean 10, MR̄ 20: limits −43.2–63.2, two-sigma lines −25.5–45.5), so what follows it can be shaped
to trigger exactly one rule.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pandas as pd
import pytest

from kpi.engine.spc import assurance_for, variation_icon_for, xmr

WORKED = [20, 24, 20, 26, 22, 16, 18, 16, 31, 28, 34, 26, 30, 19, 18]
STABLE = [11, 9] * 6  # 12 points, ends below the mean
WIDE = [0, 20] * 6  # 12 points, ends on 20
WIDE_DOWN = [20, 0] * 6  # 12 points, ends on 0
BOTH = ["mdc", "nhsr"]

# set.seed(123); rnorm(20) in R, as used by NHSRplotthedots' tests.
RNORM_123 = [
    -0.56047565, -0.23017749, 1.55870831, 0.07050839, 0.12928774, 1.71506499, 0.46091621, -1.26506123,
    -0.68685285, -0.44566197, 1.22408180, 0.35981383, 0.40077145, 0.11068272, -0.55584113, 1.78691314,
    0.49785048, -1.96661716, 0.70135590, -0.47279141,
]  # fmt: skip


def flagged(points: pd.DataFrame, column: str) -> list[int]:
    return [i for i, v in enumerate(points[column]) if v]


def types(points: pd.DataFrame, start: int = 0, stop: int | None = None) -> list[str]:
    return list(points["point_type"].iloc[start:stop])


# --- limits -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", BOTH)
def test_worked_example(method):
    r = xmr(WORKED, method=method)
    p = r.points
    assert round(p["mean"].iloc[0], 2) == 23.20
    assert round(p["upl"].iloc[0], 2) == 37.64
    assert round(p["lpl"].iloc[0], 2) == 8.76
    assert p["mr_bar"].iloc[0] == pytest.approx(76 / 14)
    assert p["upper_2sigma"].iloc[0] == pytest.approx(23.2 + 2 / 3 * 2.66 * 76 / 14)
    assert set(p["point_type"]) == {"common_cause"}
    assert r.variation_icon == "common_cause"
    assert list(p["value"]) == WORKED


def test_result_is_frozen_and_echoes_arguments():
    r = xmr(WORKED, improvement="decrease", target=30, recalc_at=[5], method="nhsr")
    assert (r.method, r.improvement, r.target, r.recalc_at, r.baseline) == ("nhsr", "decrease", 30.0, (5,), None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.variation_icon = "common_cause"


def test_twelve_points_mdc_mean_only_thirteen_gets_limits():
    base = [10, 11] * 6
    twelve = xmr(base[:11] + [30], target=5)
    p = twelve.points
    assert p["mean"].iloc[0] == pytest.approx(sum(base[:11] + [30]) / 12)
    for column in ("lpl", "upl", "lower_2sigma", "upper_2sigma", "mr_bar"):
        assert p[column].isna().all()
    assert set(p["point_type"]) == {"common_cause"}
    assert not p[["outside", "shift", "trend", "two_of_three"]].to_numpy().any()
    assert (twelve.variation_icon, twelve.assurance, twelve.has_limits) == (None, None, False)

    thirteen = xmr(base + [30], target=5)
    assert thirteen.has_limits
    assert thirteen.points["mean"].iloc[0] == 12
    assert thirteen.points["outside"].iloc[-1]
    assert thirteen.variation_icon == "improvement_high"
    assert thirteen.assurance == "consistent_pass"


def test_nhsr_always_computes_limits():
    r = xmr([10, 11] * 5 + [10, 30], method="nhsr")
    assert r.has_limits
    assert r.points["outside"].iloc[-1]
    assert r.variation_icon == "improvement_high"


def test_twelve_point_rule_is_for_the_whole_series_not_each_segment():
    r = xmr(WORKED + [20, 21, 22, 23, 24], recalc_at=[15])  # 20 points, the second segment has 5
    assert r.points["upl"].notna().all()
    assert r.points["mean"].iloc[-1] == 22


@pytest.mark.parametrize("method", BOTH)
def test_constant_series_has_limits_on_the_mean_and_no_signals(method):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division by zero, no empty means
        r = xmr([5.0] * 20, target=5, method=method)
    p = r.points
    assert (p["mean"] == 5).all() and (p["lpl"] == 5).all() and (p["upl"] == 5).all()
    assert (p["mr_bar"] == 0).all()
    assert set(p["point_type"]) == {"common_cause"}
    assert r.variation_icon == "common_cause"
    assert r.assurance == "inconsistent"  # target exactly on both limits
    assert xmr([5.0] * 20, target=6, method=method).assurance == "consistent_fail"
    assert xmr([5.0] * 20, target=4, method=method).assurance == "consistent_pass"


@pytest.mark.parametrize("method", BOTH)
def test_flat_series_then_a_step_is_a_signal(method):
    r = xmr([5.0] * 12 + [6.0], method=method)
    assert r.points["outside"].iloc[-1]
    assert r.variation_icon == "improvement_high"


def test_nhsr_screens_large_moving_ranges_once_mdc_does_not():
    values = [10, 12] * 10
    values[10] = 40  # moving ranges 28 into and out of it, 2 elsewhere
    assert xmr(values).points["mr_bar"].iloc[0] == pytest.approx(90 / 19)
    assert xmr(values, method="nhsr").points["mr_bar"].iloc[0] == pytest.approx(2.0)

    values[-1] = 22  # adds a range of 12: below 3.267·(100/19), but above 3.267·(44/17)
    assert xmr(values).points["mr_bar"].iloc[0] == pytest.approx(100 / 19)
    nhsr = xmr(values, method="nhsr").points
    assert nhsr["mr_bar"].iloc[0] == pytest.approx(44 / 17)  # the 28s dropped, the 12 kept: screened only once
    assert nhsr["upl"].iloc[0] == pytest.approx(nhsr["mean"].iloc[0] + 2.66 * 44 / 17)


def test_nhsr_drops_a_moving_range_exactly_at_the_screening_limit():
    ranges = [881] * 18 + [875, 3267]  # MR̄ = 1000 exactly, and 3.267 · 1000 == 3267 in floating point
    values = [0.0]
    for i, r in enumerate(ranges):
        values.append(values[-1] + (r if i % 2 == 0 else -r))
    assert xmr(values, method="mdc").points["mr_bar"].iloc[0] == 1000
    assert xmr(values, method="nhsr").points["mr_bar"].iloc[0] == pytest.approx(16733 / 19)


# --- single points and two of three -------------------------------------------------------------------------------


@pytest.mark.parametrize("method", BOTH)
def test_point_exactly_on_a_limit_is_not_outside(method):
    probe = xmr(STABLE + [10], baseline=12, method=method).points
    upl, lpl = probe["upl"].iloc[0], probe["lpl"].iloc[0]
    p = xmr(STABLE + [upl, 9, lpl, 11, 16], baseline=12, method=method).points
    assert flagged(p, "outside") == [16]


@pytest.mark.parametrize("method", BOTH)
def test_two_of_three_flags_the_two_beyond_two_sigma(method):
    p = xmr(STABLE + [14, 12, 14, 9, 11, 9], baseline=12, method=method).points
    assert flagged(p, "two_of_three") == [12, 14]
    assert types(p, 12, 15) == ["improvement", "common_cause", "improvement"]
    low = xmr(STABLE + [6, 8, 6, 11, 9, 11], baseline=12, method=method).points
    assert flagged(low, "two_of_three") == [12, 14]
    assert types(low, 12, 15) == ["concern", "common_cause", "concern"]


@pytest.mark.parametrize("method", BOTH)
def test_two_of_three_on_opposite_sides_is_not_a_signal(method):
    p = xmr(STABLE + [14, 6, 14, 6, 9, 11], baseline=12, method=method).points
    assert flagged(p, "two_of_three") == []
    assert set(p["point_type"]) == {"common_cause"}


@pytest.mark.parametrize("method", BOTH)
def test_two_of_three_window_with_a_point_on_the_mean_is_not_a_signal(method):
    p = xmr(STABLE + [14, 10, 14, 9, 11, 9], baseline=12, method=method).points
    assert p["relative_to_mean"].iloc[13] == 0
    assert flagged(p, "two_of_three") == []


@pytest.mark.parametrize("method", BOTH)
def test_point_beyond_the_limit_does_not_count_towards_two_of_three(method):
    p = xmr(STABLE + [16, 14, 12, 9, 11, 9], baseline=12, method=method).points
    assert flagged(p, "outside") == [12]
    assert flagged(p, "two_of_three") == []
    assert p["point_type"].iloc[13] == "common_cause"


@pytest.mark.parametrize("method", BOTH)
def test_two_of_three_needs_strictly_beyond_the_two_sigma_line(method):
    probe = xmr(STABLE + [10], baseline=12, method=method).points
    line, upl = probe["upper_2sigma"].iloc[0], probe["upl"].iloc[0]
    on_line = xmr(STABLE + [line, 12, line, 9, 11], baseline=12, method=method).points
    assert flagged(on_line, "two_of_three") == []
    just_beyond = np.nextafter(line, math.inf)
    beyond = xmr(STABLE + [just_beyond, 12, just_beyond, 9, 11], baseline=12, method=method).points
    assert flagged(beyond, "two_of_three") == [12, 14]
    # a point exactly on the process limit is not beyond it, so it counts
    on_limit = xmr(STABLE + [upl, 12, 14, 9, 11], baseline=12, method=method).points
    assert flagged(on_limit, "outside") == []
    assert flagged(on_limit, "two_of_three") == [12, 14]


# --- shifts and trends ------------------------------------------------------------------------------------------


def test_shift_six_points_for_mdc_seven_for_nhsr():
    six = STABLE + [10.5, 10.7] * 3 + [9, 11]
    assert flagged(xmr(six, baseline=12).points, "shift") == list(range(12, 18))
    assert types(xmr(six, baseline=12).points, 12, 18) == ["improvement"] * 6
    assert flagged(xmr(six, baseline=12, method="nhsr").points, "shift") == []
    seven = STABLE + [10.5, 10.7] * 3 + [10.5, 9, 11]
    assert flagged(xmr(seven, baseline=12, method="nhsr").points, "shift") == list(range(12, 19))
    low = [9, 11] * 6 + [9.5, 9.3] * 3 + [9.5, 11, 9]
    assert flagged(xmr(low, baseline=12, method="nhsr").points, "shift") == list(range(12, 19))
    assert types(xmr(low, baseline=12).points, 12, 19) == ["concern"] * 7


@pytest.mark.parametrize("method", BOTH)
def test_point_exactly_on_the_mean_breaks_a_shift(method):
    broken = STABLE + [10.5, 10.7, 10.5, 10.0, 10.7, 10.5, 10.7, 9, 11]
    assert flagged(xmr(broken, baseline=12, method=method).points, "shift") == []
    unbroken = STABLE + [10.5, 10.7, 10.5, 10.6, 10.7, 10.5, 10.7, 9, 11]
    assert flagged(xmr(unbroken, baseline=12, method=method).points, "shift") == list(range(12, 19))


def test_trend_six_points_for_mdc_seven_for_nhsr_and_may_cross_the_mean():
    six = WIDE + [7, 8, 9, 11, 12, 13, 5, 15]
    mdc = xmr(six, baseline=12).points
    assert flagged(mdc, "trend") == list(range(12, 18))
    assert types(mdc, 12, 18) == ["improvement"] * 6  # rising is good, below the mean or not
    assert flagged(mdc, "shift") == []
    assert flagged(xmr(six, baseline=12, method="nhsr").points, "trend") == []
    seven = WIDE + [6, 7, 8, 9, 11, 12, 13, 5, 15]
    nhsr = xmr(seven, baseline=12, method="nhsr").points
    assert flagged(nhsr, "trend") == list(range(12, 19))
    assert types(nhsr, 12, 19) == ["improvement"] * 7
    falling = xmr(WIDE + [14, 13, 12, 9, 8, 7, 15], baseline=12).points
    assert flagged(falling, "trend") == list(range(11, 18))  # starts at the baseline's last point, 20
    assert types(falling, 12, 18) == ["concern"] * 6


@pytest.mark.parametrize("method", BOTH)
def test_a_tie_breaks_a_trend(method):
    tied = WIDE + [6, 7, 8, 9, 9, 11, 12, 13, 5, 15]
    p = xmr(tied, baseline=12, method=method).points
    assert flagged(p, "trend") == []
    assert set(p["point_type"]) == {"common_cause"}


# --- recalculation and baseline ------------------------------------------------------------------------------------

SEG0 = [11, 9] * 4 + [10.5, 10.6, 10.5, 10.6]  # mean 10.18…; its last 4 points above it
SEG1 = [50.5, 50.6, 50.5, 50.6] + [49, 51] * 4  # mean 50.18…; its first 4 points above it


@pytest.mark.parametrize("method", BOTH)
def test_recalculation_gives_each_segment_its_own_limits(method):
    p = xmr(SEG0 + SEG1, recalc_at=[12], method=method).points
    assert list(p["segment"]) == [0] * 12 + [1] * 12
    assert p["mean"].iloc[0] == pytest.approx(sum(SEG0) / 12)
    assert p["mean"].iloc[12] == pytest.approx(sum(SEG1) / 12)
    assert math.isnan(p["mr"].iloc[12])  # the jump between segments is not a moving range of either
    assert p["mr_bar"].iloc[0] == pytest.approx(15.8 / 11)
    assert p["mr_bar"].iloc[12] == pytest.approx(15.9 / 11)
    assert p["upl"].iloc[12] == pytest.approx(sum(SEG1) / 12 + 2.66 * 15.9 / 11)
    assert not p["outside"].any()


def test_rules_cross_a_recalculation_in_mdc_but_not_in_nhsr():
    values = SEG0 + SEG1  # 8 consecutive points above their own segment's mean: 4 before, 4 after
    mdc = xmr(values, recalc_at=[12]).points
    assert flagged(mdc, "shift") == list(range(8, 16))
    nhsr = xmr(values, recalc_at=[12], method="nhsr").points
    assert flagged(nhsr, "shift") == []


def test_baseline_mdc_uses_the_first_points_for_everything_and_ignores_recalculations():
    r = xmr(SEG0 + SEG1, baseline=5, recalc_at=[12])
    p = r.points
    assert (p["segment"] == 0).all()
    assert np.allclose(p["mean"], (11 + 9 + 11 + 9 + 11) / 5)
    assert np.allclose(p["mr_bar"], 2.0)
    assert r.recalc_at == (12,) and r.baseline == 5
    assert flagged(p, "outside")[:1] == [12]  # the second level is far outside the baseline's limits


def test_baseline_nhsr_uses_the_first_points_of_each_segment():
    p = xmr(SEG0 + SEG1, baseline=5, recalc_at=[12], method="nhsr").points
    assert list(p["segment"]) == [0] * 12 + [1] * 12
    assert np.allclose(p["mean"].iloc[:12], 10.2)
    assert np.allclose(p["mean"].iloc[12:], 50.24)
    assert p["mr_bar"].iloc[0] == pytest.approx(2.0)
    assert p["mr_bar"].iloc[12] == pytest.approx(0.1)  # 0.1, 0.1, 0.1, 1.6: the 1.6 is screened out


# --- direction, conflicts and icons -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("improvement", "last", "icon"),
    [
        ("increase", 10, "common_cause"),
        ("increase", 30, "improvement_high"),
        ("decrease", -10, "improvement_low"),
        ("decrease", 30, "concern_high"),
        ("increase", -10, "concern_low"),
        ("neutral", 30, "neutral_high"),
        ("neutral", -10, "neutral_low"),
    ],
)
@pytest.mark.parametrize("method", BOTH)
def test_every_variation_icon(method, improvement, last, icon):
    r = xmr([9, 11] * 7 + [last], improvement=improvement, method=method)
    assert r.variation_icon == icon
    expected = icon.rsplit("_", 1)[0] if icon != "common_cause" else "common_cause"
    assert r.points["point_type"].iloc[-1] == expected


def test_neutral_makes_every_signal_neutral_and_has_no_assurance():
    r = xmr(WIDE + [16, 15, 14, 13, 12, 11, 80], improvement="neutral", target=100, baseline=12)
    assert set(r.points["point_type"].iloc[11:]) == {"neutral"}
    assert r.variation_icon == "neutral_high"
    assert r.assurance is None


def test_mdc_point_both_improvement_and_concern_is_improvement():
    values = WIDE + [16, 15, 14, 13, 12, 11]  # above the mean (shift, high) and falling (trend, low)
    for improvement, icon in (("increase", "improvement_high"), ("decrease", "improvement_low")):
        r = xmr(values, improvement=improvement, baseline=12)
        assert flagged(r.points, "shift") == flagged(r.points, "trend") == list(range(11, 18))
        assert types(r.points, 11) == ["improvement"] * 7
        assert r.variation_icon == icon


def test_nhsr_one_label_per_point_trend_beats_shift():
    values = WIDE + [16, 15, 14, 13, 12, 11]
    r = xmr(values, improvement="increase", baseline=12, method="nhsr")
    assert flagged(r.points, "shift") == flagged(r.points, "trend") == list(range(11, 18))
    assert types(r.points, 11) == ["concern"] * 7  # the falling trend labels the points
    assert r.variation_icon == "concern_low"


def test_nhsr_precedence_outside_then_trend_then_two_of_three():
    values = WIDE + [70, 60, 50, 40, 30, 20, 15]  # falling from above the limit, all above the mean
    nhsr = xmr(values, baseline=12, method="nhsr").points
    assert flagged(nhsr, "outside") == [12]
    assert flagged(nhsr, "two_of_three") == [13, 14]
    assert flagged(nhsr, "trend") == list(range(12, 19))
    assert types(nhsr, 12) == ["improvement"] + ["concern"] * 6
    mdc = xmr(values, baseline=12).points
    assert types(mdc, 12) == ["improvement"] * 7  # each is also high (shift), and improvement wins


def test_nhsr_point_in_a_rising_and_a_falling_trend_takes_the_next_step():
    peak = WIDE + [11, 12, 13, 14, 15, 16, 17, 16, 15, 14, 13, 12, 11]
    p = xmr(peak, baseline=12, method="nhsr").points
    assert p["trend"].iloc[12:].all()
    assert types(p, 12) == ["improvement"] * 6 + ["concern"] * 7  # the peak (17) goes with the fall after it
    valley = WIDE + [9, 8, 7, 6, 5, 4, 3, 4, 5, 6, 7, 8, 9]
    p = xmr(valley, baseline=12, method="nhsr").points
    assert types(p, 12) == ["concern"] * 6 + ["improvement"] * 7


def test_neutral_icon_for_a_last_point_exactly_on_the_mean():
    rising = xmr(WIDE + [5, 6, 7, 8, 9, 10], improvement="neutral", baseline=12)
    assert rising.points["relative_to_mean"].iloc[-1] == 0
    assert rising.points["point_type"].iloc[-1] == "neutral"
    assert rising.variation_icon == "neutral_high"
    falling = xmr(WIDE_DOWN + [15, 14, 13, 12, 11, 10], improvement="neutral", baseline=12)
    assert falling.points["relative_to_mean"].iloc[-1] == 0
    assert falling.variation_icon == "neutral_low"


def test_neutral_icon_mdc_by_side_of_mean_nhsr_by_label():
    values = WIDE + [3, 4, 5, 6, 7, 8, 9]  # rising trend, all below the mean
    assert xmr(values, improvement="neutral", baseline=12).variation_icon == "neutral_low"
    assert xmr(values, improvement="neutral", baseline=12, method="nhsr").variation_icon == "neutral_high"


def test_variation_icon_for_rejects_unknown_types():
    assert variation_icon_for("neutral", "neutral", "low") == "neutral_low"
    with pytest.raises(ValueError):
        variation_icon_for("neutral", "neutral", None)


# --- assurance ----------------------------------------------------------------------------------------------------


def test_assurance_worked_limits():
    assert assurance_for(1, 3, 4, "increase") == "consistent_fail"
    assert assurance_for(1, 3, 4, "decrease") == "consistent_pass"
    assert assurance_for(1, 5, 4, "increase") == "inconsistent"
    assert assurance_for(1, 5, 4, "decrease") == "inconsistent"
    assert assurance_for(1, 3, 3, "increase") == "inconsistent"  # exactly on a limit
    assert assurance_for(1, 3, 1, "decrease") == "inconsistent"
    assert assurance_for(1, 3, None, "increase") is None
    assert assurance_for(1, 3, 4, "neutral") is None
    assert assurance_for(math.nan, math.nan, 4, "increase") is None


@pytest.mark.parametrize(
    ("improvement", "expected"),
    [("increase", ["consistent_fail", "consistent_pass", "inconsistent"]),
     ("decrease", ["consistent_pass", "consistent_fail", "inconsistent"]),
     ("neutral", [None, None, None])],
)  # fmt: skip
def test_assurance_as_nhsrplotthedots(improvement, expected):
    # nhs-r-community/NHSRplotthedots tests/testthat/test-ptd_calculate_assurance_type.R: limits (1,3), (5,7), (1,5),
    # target 4.
    limits = [(1, 3), (5, 7), (1, 5)]
    assert [assurance_for(lo, hi, 4, improvement) for lo, hi in limits] == expected


@pytest.mark.parametrize("method", BOTH)
def test_assurance_on_a_chart_uses_the_latest_limits(method):
    upl, lpl = xmr(WORKED).points[["upl", "lpl"]].iloc[-1]
    assert xmr(WORKED, target=40, method=method).assurance == "consistent_fail"
    assert xmr(WORKED, target=40, improvement="decrease", method=method).assurance == "consistent_pass"
    assert xmr(WORKED, target=5, method=method).assurance == "consistent_pass"
    assert xmr(WORKED, target=5, improvement="decrease", method=method).assurance == "consistent_fail"
    assert xmr(WORKED, target=20, method=method).assurance == "inconsistent"
    assert xmr(WORKED, target=upl, method=method).assurance == "inconsistent"
    assert xmr(WORKED, target=lpl, improvement="decrease", method=method).assurance == "inconsistent"
    assert xmr(WORKED, method=method).assurance is None
    # after a recalculation only the last segment's limits count
    r = xmr(SEG0 + SEG1, target=30, recalc_at=[12], method=method)
    assert r.assurance == "consistent_pass"  # 30 is below the second segment's lower limit
    assert xmr(SEG0 + SEG1, target=30, method=method).assurance == "inconsistent"


# --- published NHSRplotthedots results -------------------------------------------------------------------------------


def test_nhsrplotthedots_summary_snapshot():
    # nhs-r-community/NHSRplotthedots tests/testthat/_snaps/ptd_spc.md ("it outputs expected content"):
    # rnorm(20) after set.seed(123) → mean 0.142, lpl −3.01, upl 3.29, 20 common cause; faceted into two halves of 10
    # → (0.0746, −2.60, 2.75) and (0.209, −3.28, 3.70).
    p = xmr(RNORM_123, method="nhsr").points
    assert [round(p[c].iloc[0], 3) for c in ("mean", "lpl", "upl")] == [0.142, -3.011, 3.295]
    assert set(p["point_type"]) == {"common_cause"}
    halves = xmr(RNORM_123, recalc_at=[10], method="nhsr").points
    for first, (mean, lpl, upl) in ((0, (0.0746, -2.60, 2.75)), (10, (0.209, -3.28, 3.70))):
        assert round(halves["mean"].iloc[first], 4 if first == 0 else 3) == mean
        assert round(halves["lpl"].iloc[first], 2) == lpl
        assert round(halves["upl"].iloc[first], 2) == upl
        facet = xmr(RNORM_123[first : first + 10], method="nhsr").points
        assert facet["upl"].iloc[0] == pytest.approx(halves["upl"].iloc[first])


@pytest.mark.parametrize("method", BOTH)
def test_nhsrplotthedots_two_in_three_opposite_sides(method):
    # nhs-r-community/NHSRplotthedots tests/testthat/test-ptd_spc_standard.R: alternating ±1 with 5.5 then −5.5 at the
    # end (both close to the limits, opposite sides of the mean) → the last two points are common cause.
    values = [1, -1] * 8
    values[14], values[15] = 5.5, -5.5
    p = xmr(values, method=method).points
    assert bool(p["lower_2sigma"].iloc[-1] > -5.5 > p["lpl"].iloc[-1])  # each is beyond two sigma, inside the limit
    assert types(p, 14) == ["common_cause", "common_cause"]


def test_nhsrplotthedots_seven_point_trend_examples():
    # nhs-r-community/NHSRplotthedots tests/testthat/test-ptd_calculate_point_type.R, ptd_seven_point_trend:
    # c(2, 1:7, 3) has a trend over 1:7; c(1:3, 3:6) has none (the tie breaks it).
    assert flagged(xmr([2, 1, 2, 3, 4, 5, 6, 7, 3], method="nhsr").points, "trend") == list(range(1, 8))
    assert flagged(xmr([1, 2, 3, 3, 4, 5, 6], method="nhsr").points, "trend") == []
    assert flagged(xmr([2, 7, 6, 5, 4, 3, 2, 1, 3], method="nhsr").points, "trend") == list(range(1, 8))


# --- inputs and validation ------------------------------------------------------------------------------------------


def test_accepts_list_array_and_series():
    dates = pd.date_range("2020-01-01", periods=len(WORKED), freq="MS")
    from_list = xmr(WORKED).points
    from_array = xmr(np.array(WORKED)).points
    from_series = xmr(pd.Series(WORKED, index=dates)).points
    pd.testing.assert_frame_equal(from_list, from_array)
    assert list(from_series.index) == list(dates)
    pd.testing.assert_frame_equal(from_series.reset_index(drop=True), from_list)


def test_recalc_at_accepts_a_single_position_zero_and_numpy_ints():
    base = xmr(WORKED, recalc_at=[7]).points
    pd.testing.assert_frame_equal(xmr(WORKED, recalc_at=7).points, base)
    pd.testing.assert_frame_equal(xmr(WORKED, recalc_at=np.array([0, 7])).points, base)
    assert list(base["segment"]) == [0] * 7 + [1] * 8


def test_mdc_accepts_a_single_value():
    r = xmr([4.0])
    assert r.points["mean"].iloc[0] == 4 and r.variation_icon is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"values": []}, "empty"),
        ({"values": [1, float("nan"), 3]}, "missing or infinite"),
        ({"values": pd.Series([1, None, 3], dtype="Float64")}, "missing or infinite"),
        ({"values": [1, math.inf]}, "missing or infinite"),
        ({"values": [[1, 2], [3, 4]]}, "one-dimensional"),
        ({"values": pd.DataFrame({"a": [1, 2]})}, "one-dimensional"),
        ({"values": ["a", "b"]}, "numbers"),
        ({"improvement": "up"}, "improvement must be one of"),
        ({"method": "spc"}, "method must be one of"),
        ({"values": [3], "method": "nhsr"}, "at least 2 values"),
        ({"recalc_at": [15]}, "out of range"),
        ({"recalc_at": [-1]}, "out of range"),
        ({"recalc_at": [8, 5]}, "strictly increasing"),
        ({"recalc_at": [5, 5]}, "strictly increasing"),
        ({"recalc_at": [14]}, "at least 2"),
        ({"recalc_at": [5, 6]}, "at least 2"),
        ({"recalc_at": [2.5]}, "integer"),
        ({"recalc_at": "5"}, "list of 0-based positions"),
        ({"baseline": 1}, "between 2"),
        ({"baseline": 16}, "between 2"),
        ({"baseline": 4.0}, "integer"),
        ({"baseline": True}, "integer"),
        ({"target": "4"}, "target must be"),
        ({"target": math.nan}, "target must be"),
    ],
)
def test_invalid_arguments_raise_value_error(kwargs, message):
    kwargs = {"values": WORKED, **kwargs}
    with pytest.raises(ValueError, match=message):
        xmr(**kwargs)
