"""Plan trajectories and monthly status against them (docs/status.md). Small pure functions.

The trajectory is the planned value for every month from the baseline month to the target month, linear
between baseline, milestones and target. After the target month the plan asks that the target be sustained,
so the trajectory holds at the target (figures after the plan are set against its final target). Before the
baseline month there is no trajectory and no status; the baseline month itself is the plan's starting point, so it
has a trajectory (the baseline) but no status either.
"""

from __future__ import annotations

from etl.months import index as month_index
from etl.months import period_at as period_of  # noqa: F401 - the views and pages step through months with these
from kpi.definitions import Plan

ON_TRACK = "on_track"
WITHIN_TOLERANCE = "within_tolerance"
OFF_TRACK = "off_track"
NO_DATA = "no_data"
SUPPRESSED = "suppressed"  # set by kpi/access/suppress.py for non-analysts when the month's rate rests on small counts
TOO_FEW = "too_few"  # the judged rate rests on fewer events than the plan's minimum: no verdict either way
# Not statuses but why a planned month has none (scorecard's ``unjudged``): pages say so instead of "Not in plan".
BASELINE = "baseline"  # the plan's baseline month: its starting point
PARTIAL = "partial"  # a month the extract covers only in part (after its as-at date)

STATUS_LABELS = {
    ON_TRACK: "On track",
    WITHIN_TOLERANCE: "Within tolerance",
    OFF_TRACK: "Off track",
    NO_DATA: "No data",
    SUPPRESSED: "Suppressed",
    TOO_FEW: "Too few to judge",
    BASELINE: "Baseline month (not judged)",
    PARTIAL: "Partial month (not judged)",
}
# Icons are text symbols so status never relies on colour alone.
STATUS_ICONS = {ON_TRACK: "✔", WITHIN_TOLERANCE: "◐", OFF_TRACK: "✖", NO_DATA: "–", SUPPRESSED: "⊘", TOO_FEW: "≈",
                BASELINE: "○", PARTIAL: "◔"}


def trajectory_value(plan: Plan, period: str) -> float | None:
    """The planned value in a month, or None before the baseline month."""
    points = [(month_index(p.period), p.value) for p in (plan.baseline, *plan.milestones, plan.target)]
    m = month_index(period)
    if m < points[0][0]:
        return None
    if m >= points[-1][0]:
        return points[-1][1]
    for (m0, v0), (m1, v1) in zip(points, points[1:], strict=False):
        if m0 <= m <= m1:
            return v0 + (v1 - v0) * (m - m0) / (m1 - m0)
    return None  # unreachable: the points are in order (checked at validation)


def plan_phase(plan: Plan, period: str) -> str:
    """Where a month stands in a plan: 'before' the baseline month, the 'baseline' month itself, 'in_plan' up to
    and including the target month, or 'after' it (set against the final target)."""
    m, base, end = month_index(period), month_index(plan.baseline.period), month_index(plan.target.period)
    if m < base:
        return "before"
    if m == base:
        return "baseline"
    return "in_plan" if m <= end else "after"


def status(actual: float | None, planned: float | None, polarity: str, tolerance: float) -> str | None:
    """On track when at least as good as planned; within tolerance when worse by no more than the tolerance.

    ``polarity`` 'up' means higher is better. Returns None where there is no plan for the month and
    'no_data' where the plan expects a value but none was recorded.
    """
    if planned is None:
        return None
    if actual is None or actual != actual:  # NaN
        return NO_DATA
    shortfall = planned - actual if polarity == "up" else actual - planned
    if shortfall <= 0:
        return ON_TRACK
    if shortfall <= tolerance:
        return WITHIN_TOLERANCE
    return OFF_TRACK


def change(current: float | None, previous: float | None) -> float | None:
    """Change since the previous period (None if either is missing)."""
    if current is None or previous is None or current != current or previous != previous:
        return None
    return current - previous


def is_improvement(delta: float | None, polarity: str) -> bool | None:
    """Whether a change is in the good direction for the KPI's polarity (None when no change is known)."""
    if delta is None or delta == 0:
        return None
    return (delta > 0) == (polarity == "up")
