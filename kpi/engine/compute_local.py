"""KPIs from the local extracts (etl/formats/local_extracts.py): advice within 6 weeks, EHCP audit grades,
children awaiting a placement, reduced timetables, and KPIs reported by other teams as returns.

Same contract as kpi/engine/compute.py: one row per month of the data window with ``period``, ``numerator``,
``denominator`` and ``median``; a rate's month is the month of its completing event (advice received, audit
done); counts are taken at the month end. When an extract has never been loaded its KPI has no values at all
(never a run of zeros that would read as "nobody waiting").
"""

from __future__ import annotations

import pandas as pd

from etl.sql_text import in_list, literal
from kpi.definitions import KpiDefinition
from kpi.engine.methods import Method, month_end_count, rate
from kpi.engine.monthly import rolling_12
from kpi.engine.window import Scope


def _advice_within(kpi: KpiDefinition) -> str:
    # Advice received in the month; within the limit when received − requested ≤ days (42 for 6 weeks).
    c = kpi.computation
    return f"""SELECT area_code, received_date AS event_date,
                   date_diff('day', requested_date, received_date) <= {c.days} AS met
            FROM advice_request
            WHERE advice_type = {literal(c.advice_type)} AND received_date IS NOT NULL"""


def _audit_grade(kpi: KpiDefinition) -> str:
    c = kpi.computation
    return (f"""SELECT area_code, audit_date AS event_date, grade IN ({in_list(c.grades)}) AS met
            FROM ehcp_audit""" + (f" WHERE plan_type IN ({in_list(c.plan_types)})" if c.plan_types else ""))


def _awaiting_placement(kpi: KpiDefinition) -> str:
    # Waiting from the day the place was needed until the day the child was placed (placed at or before
    # the month end: not waiting at the month end).
    return "SELECT area_code, need_date AS start_date, placed_date AS end_date FROM placement_need"


def _reduced_timetable(kpi: KpiDefinition) -> str:
    # end_date is the last day on the reduced timetable: still on it at a month end that is its end date.
    return "SELECT area_code, start_date, CAST(end_date + 1 AS DATE) AS end_date FROM reduced_timetable"


def _kpi_return_sql(kpi: KpiDefinition, scope: Scope) -> str:
    """The returned figures on the area x month grid (the grid holds only areas that loaded the extract: an area
    that never did gets no values, not zeros)."""
    return f"""
    WITH {scope.grid_cte()}
    SELECT g.area_code, g.period, r.numerator, r.denominator, NULL::DOUBLE AS median, r.value AS reported_value
    FROM grid g LEFT JOIN kpi_return r
      ON r.area_code = g.area_code AND r.period = g.period AND r.kpi_id = {literal(kpi.id)}
    ORDER BY g.area_code, g.period
    """


def finish_return(df: pd.DataFrame, kpi: KpiDefinition) -> pd.DataFrame:
    """Values of a KPI reported as a return: the reported value; for a percentage without one, 100 × n / d.

    Rolling 12 months (per area): for a percentage, from the summed numerators and denominators when all 12 months
    have both; otherwise none (a returned value cannot be pooled without its counts).
    """
    df = df.copy()
    num = pd.to_numeric(df["numerator"], errors="coerce").astype("float64")
    den = pd.to_numeric(df["denominator"], errors="coerce").astype("float64")
    reported = pd.to_numeric(df.pop("reported_value"), errors="coerce").astype("float64")
    if kpi.unit == "percent":
        computed = (100.0 * num / den).where(den > 0)
        df["value"] = reported.where(reported.notna(), computed)
        areas = df["area_code"]
        complete = rolling_12((num.notna() & den.notna()).astype(float), areas) == 12
        roll = 100.0 * rolling_12(num.fillna(0.0), areas) / rolling_12(den.fillna(0.0), areas)
        df["rolling_12m"] = roll.where(complete)
    else:
        df["value"] = reported.where(reported.notna(), num)
        df["rolling_12m"] = float("nan")
    return df


# Their rows are not SEN2 events (no request, no statutory clock): Explore and Explain leave them out.
METHODS: dict[str, Method] = {
    "advice_within": rate(_advice_within, explorable=False),
    "audit_grade": rate(_audit_grade, explorable=False),
    "awaiting_placement": month_end_count(_awaiting_placement, explorable=False),
    "reduced_timetable": month_end_count(_reduced_timetable, explorable=False),
    "kpi_return": Method(sql=_kpi_return_sql, finish=finish_return),
}
