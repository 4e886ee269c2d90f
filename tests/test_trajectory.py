"""Trajectory and status: small pure functions."""

from __future__ import annotations

import pytest

from kpi.definitions import Plan
from kpi.engine.trajectory import (
    NO_DATA,
    OFF_TRACK,
    ON_TRACK,
    WITHIN_TOLERANCE,
    change,
    is_improvement,
    status,
    trajectory_value,
)

PLAN = Plan.model_validate({
    "baseline": {"value": 12.0, "period": "2023-01"},
    "milestones": [{"value": 30.0, "period": "2023-07"}],
    "target": {"value": 50.0, "period": "2024-01", "source": "England average"},
    "tolerance": 5,
})


@pytest.mark.parametrize("period, expected", [
    ("2022-12", None),
    ("2023-01", 12.0),
    ("2023-04", 21.0),
    ("2023-07", 30.0),
    ("2023-10", 40.0),
    ("2024-01", 50.0),
    ("2024-06", 50.0),  # the target is to be sustained after it is reached
])
def test_trajectory_is_linear_through_milestones(period, expected):
    assert trajectory_value(PLAN, period) == (pytest.approx(expected) if expected is not None else None)


@pytest.mark.parametrize("actual, planned, polarity, expected", [
    (30.0, 30.0, "up", ON_TRACK),
    (31.0, 30.0, "up", ON_TRACK),
    (25.0, 30.0, "up", WITHIN_TOLERANCE),  # exactly the tolerance below
    (24.9, 30.0, "up", OFF_TRACK),
    (30.0, 30.0, "down", ON_TRACK),
    (35.0, 30.0, "down", WITHIN_TOLERANCE),
    (35.1, 30.0, "down", OFF_TRACK),
    (20.0, 30.0, "down", ON_TRACK),
    (None, 30.0, "up", NO_DATA),
    (float("nan"), 30.0, "up", NO_DATA),
    (30.0, None, "up", None),
])
def test_status_uses_polarity_and_tolerance(actual, planned, polarity, expected):
    assert status(actual, planned, polarity, 5.0) == expected


def test_change_and_direction():
    assert change(48.8, 33.4) == pytest.approx(15.4)
    assert change(None, 1.0) is None and change(1.0, float("nan")) is None
    assert is_improvement(2.0, "up") is True
    assert is_improvement(2.0, "down") is False
    assert is_improvement(-3.0, "down") is True
    assert is_improvement(0.0, "up") is None
