"""A computation method in one place: the SQL of its monthly numerator, denominator and median, and the finish step
that turns them into values.

Each family module registers its methods by name (``METHODS`` in kpi/engine/compute_sen2.py, compute_local.py,
compute_waits.py) and kpi/engine/compute.py dispatches on ``kpi.computation.method``: adding a method means adding
its computation model to kpi/definitions.py and one entry to its family's ``METHODS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from kpi.definitions import KpiDefinition
from kpi.engine.monthly import (
    MEAN_MEASURES,
    event_month_sql,
    finish_flow,
    finish_month_end,
    interval_count_sql,
)
from kpi.engine.window import Scope

Rows = Callable[[KpiDefinition], str]


@dataclass(frozen=True)
class Method:
    """How a method computes: ``sql`` gives area_code, period, numerator, denominator, median per area and month of
    the scope; ``finish`` adds value and rolling_12m; ``events`` (SEN2 methods only) gives the per-event rows
    Explore and Explain break down (None: the method's rows are not SEN2 events)."""

    sql: Callable[[KpiDefinition, Scope], str]
    finish: Callable[[pd.DataFrame, KpiDefinition], pd.DataFrame]
    events: Rows | None = None


def rate(rows: Rows, *, explorable: bool = True) -> Method:
    """A monthly rate over event rows (area_code, event_date, met): met / all events in the month."""
    return Method(sql=lambda kpi, scope: event_month_sql(rows(kpi), scope), finish=finish_flow,
                  events=rows if explorable else None)


def mean(rows: Rows) -> Method:
    """A monthly mean (and median) of ``weeks`` over event rows (area_code, event_date, weeks)."""
    return Method(sql=lambda kpi, scope: event_month_sql(rows(kpi), scope, MEAN_MEASURES), finish=finish_flow,
                  events=rows)


def month_end_count(rows: Rows, *, explorable: bool = True) -> Method:
    """A count at each month end of intervals (area_code, start_date inclusive, end_date exclusive or NULL)."""
    return Method(sql=lambda kpi, scope: interval_count_sql(rows(kpi), scope), finish=finish_month_end,
                  events=rows if explorable else None)
