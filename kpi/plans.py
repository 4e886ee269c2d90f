"""A KPI's plan (baseline, target, milestones, tolerance, the basis it is judged on) and its SPC chart settings:
the parts of ``kpi_definitions.yaml`` about months and promises, shared by kpi.definitions and the engine.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from etl.months import index as month_index  # noqa: F401 - definitions and area plans count months with it

PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class Strict(BaseModel):
    """Every model of the definitions file: unknown keys refused, values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def check_period(value: str) -> str:
    value = str(value)
    if not PERIOD_RE.match(value):
        raise ValueError(f"period must be YYYY-MM, got {value!r}")
    return value


class PlanPoint(Strict):
    """A planned value at a month (baseline or milestone)."""

    value: float
    period: str
    note: str | None = None

    _period = field_validator("period", mode="before")(check_period)


class TargetBenchmark(Strict):
    """A target set as a published benchmark: checked against DfE's figures when they are loaded."""

    of: Literal["england", "region", "neighbours_pooled", "neighbours_median"]
    year: int = Field(ge=2010, le=2100, description="Calendar year of the published figure")


class Target(PlanPoint):
    source: str = Field(description="Where the target comes from, e.g. 'England average for 2022 (DfE)'")
    benchmark: TargetBenchmark | None = None


BASES = ("month", "rolling_12m")
# Words in a baseline note or target source that say the figure is a calendar year's (DfE publishes rates per
# calendar year): such a plan must be judged on the rolling 12 months, whose December value is that year's figure.
_CALENDAR_YEAR = re.compile(r"calendar[- ]year|\bDfE\b|England average", re.IGNORECASE)


class Plan(Strict):
    """A KPI's 12-month plan: baseline, target, optional milestones and the tolerance for 'within tolerance'.

    ``basis`` is what the plan's numbers are: ``month`` (a month's own value, e.g. a month-end count) or
    ``rolling_12m`` (the 12 months ending in the month, the basis of calendar-year figures such as DfE's published
    rates). Status and forecast judge the figure on that basis. ``min_denominator`` is the fewest events the judged
    figure may rest on before its status says 'too few to judge' (the catalogue's default when not given)."""

    baseline: PlanPoint
    target: Target
    milestones: list[PlanPoint] = []
    tolerance: float = Field(ge=0, description="Distance from the trajectory, in the KPI's unit, still 'within'")
    basis: Literal["month", "rolling_12m"] = Field(
        default="month", description="The figure the baseline and target are on, and the one status judges")
    min_denominator: int | None = Field(
        default=None, ge=1, description="Fewest events the judged rate may rest on (default: the catalogue's)")

    def cites_calendar_year(self) -> bool:
        """Whether the baseline or target is a calendar-year or DfE published figure (so not a single month's)."""
        texts = [self.baseline.note or "", self.target.note or "", self.target.source]
        return self.target.benchmark is not None or any(_CALENDAR_YEAR.search(t) for t in texts)


class Recalculation(Strict):
    """A process change after which SPC limits are recalculated, with the reason the chart shows."""

    period: str
    reason: str = Field(min_length=3)

    _period = field_validator("period", mode="before")(check_period)


class SpcSettings(Strict):
    """How a KPI's XmR chart is drawn: rule set, recalculation points, baseline length."""

    method: Literal["mdc", "nhsr"] = "mdc"
    recalculations: list[Recalculation] = []
    baseline: int | None = Field(default=None, ge=2, description="Leading months that set the limits")


