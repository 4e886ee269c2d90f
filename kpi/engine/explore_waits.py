"""Explore for the waiting-list KPIs: the same breakdowns as :mod:`kpi.engine.explore`, over referrals instead of SEN2
events, so a waiting-list KPI can be broken down by service, age at referral and locality, filtered by the same,
and compared across two periods.

The rows are the KPI's own (``kpi/engine/compute_waits.py`` rules): for the month-end measures, the referrals waiting at
the end of the period's last month (a wait ends at first contact or removal, whichever comes first); for
``seen_within``, the first contacts in the period. A breakdown by service keeps the KPI's measure and thresholds and
computes them for every service, so "waiting over 18 weeks" can be set side by side across SALT, OT and the rest;
every other breakdown is within the KPI's own service. Totals therefore equal the headline figure of
``kpi.engine.compute`` for the same month (tested). Results have the columns of :func:`kpi.engine.explore.breakdown`.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from etl.sql_text import literal
from kpi.definitions import WAIT_METHODS, KpiDefinition
from kpi.engine.compute_waits import WAIT_END
from kpi.engine.explore import NOT_RECORDED, TOTAL, Dimension, Span, run_breakdown
from kpi.engine.window import area_condition

SERVICE_NAMES = {"SALT": "Speech and language therapy", "OT": "Occupational therapy", "PHYSIO": "Physiotherapy",
                 "COMMUNITY_PAEDS": "Community paediatrics", "NEURODEVELOPMENTAL": "Neurodevelopmental assessment",
                 "AUDIOLOGY": "Audiology"}
AGE_BANDS = ((0, 4, "Under 5"), (5, 10, "5 to 10"), (11, 15, "11 to 15"), (16, 19, "16 to 19"), (20, 25, "20 to 25"))


def _service_sql() -> str:
    cases = " ".join(f"WHEN {literal(k)} THEN {literal(v)}" for k, v in SERVICE_NAMES.items())
    return f"CASE service {cases} ELSE coalesce(service, {literal(NOT_RECORDED)}) END"


def _age_sql() -> str:
    bands = " ".join(f"WHEN age_years BETWEEN {lo} AND {hi} THEN {literal(label)}" for lo, hi, label in AGE_BANDS)
    return f"CASE {bands} ELSE {literal(NOT_RECORDED)} END"


WAIT_DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("service", "Service", _service_sql()),
    Dimension("age_band", "Age at referral", _age_sql(), "min(d.age_years)"),
    Dimension("locality", "Locality", f"coalesce(upper(nullif(trim(locality), '')), {literal(NOT_RECORDED)})"),
)
WAIT_DIMENSION_BY_ID = {d.id: d for d in WAIT_DIMENSIONS}


def is_wait_kpi(kpi: KpiDefinition) -> bool:
    return kpi.computation.method in WAIT_METHODS


def wait_dimension(dim_id: str) -> Dimension:
    try:
        return WAIT_DIMENSION_BY_ID[dim_id]
    except KeyError:
        raise ValueError(f"unknown breakdown {dim_id!r} for a waiting-list KPI "
                         f"(expected one of {', '.join(WAIT_DIMENSION_BY_ID)})") from None


def _rows_sql(kpi: KpiDefinition, span: Span, which: str, area: str | None = None) -> str:
    """The referrals behind the KPI in a period (every service; one area's, or every area's), with days waited and
    whether each met the rule."""
    c = kpi.computation
    labels = ", ".join(f"{d.sql} AS {d.id}" for d in WAIT_DIMENSIONS)
    if c.method == "seen_within":
        first, after = span.sql_bounds()
        return f"""
        SELECT {literal(which)} AS which, service AS service_code, age_years, {labels},
               date_diff('day', referral_date, first_contact_date) AS days,
               date_diff('day', referral_date, first_contact_date) <= {int(c.days)} AS met
        FROM referral
        WHERE first_contact_date IS NOT NULL AND (removed_date IS NULL OR removed_date >= first_contact_date)
          AND first_contact_date >= {first} AND first_contact_date < {after} AND {area_condition(area)}"""
    me = span.month_end_sql()
    threshold = int(getattr(c, "days", 0) or 0)
    return f"""
        SELECT {literal(which)} AS which, service AS service_code, age_years, {labels},
               date_diff('day', referral_date, {me}) AS days,
               date_diff('day', referral_date, {me}) > {threshold} AS met
        FROM referral
        WHERE referral_date <= {me} AND ({WAIT_END} IS NULL OR {WAIT_END} > {me}) AND {area_condition(area)}"""


def _measures_sql(kpi: KpiDefinition, which: str, suffix: str) -> str:
    method = kpi.computation.method
    w = f"which = {literal(which)}"
    if method in ("waiting_over", "seen_within"):
        num, den = f"count(*) FILTER (WHERE {w} AND met)", f"count(*) FILTER (WHERE {w})"
        return (f"{num} AS numerator{suffix}, {den} AS denominator{suffix}, "
                f"CASE WHEN {den} > 0 THEN 100.0 * {num} / {den} END AS value{suffix}, NULL::DOUBLE AS median{suffix}")
    if method == "waiting_median_weeks":
        den = f"count(*) FILTER (WHERE {w})"
        return (f"NULL::DOUBLE AS numerator{suffix}, {den} AS denominator{suffix}, "
                f"median(days) FILTER (WHERE {w}) / 7.0 AS value{suffix}, "
                f"median(days) FILTER (WHERE {w}) / 7.0 AS median{suffix}")
    num = f"count(*) FILTER (WHERE {w}{' AND met' if method == 'waiting_over_count' else ''})"
    return (f"{num} AS numerator{suffix}, NULL::BIGINT AS denominator{suffix}, "
            f"CAST({num} AS DOUBLE) AS value{suffix}, NULL::DOUBLE AS median{suffix}")


def _filters_sql(filters: dict[str, list[str]] | None) -> tuple[list[str], dict[str, list[str]]]:
    clauses, params = [], {}
    for i, (dim_id, values) in enumerate(sorted((filters or {}).items())):
        wait_dimension(dim_id)
        if values:
            clauses.append(f"list_contains($f{i}, d.{dim_id})")
            params[f"f{i}"] = [str(v) for v in values]
    return clauses, params


def breakdown_sql(kpi: KpiDefinition, by: str, span: Span, compare: Span | None = None,
                  filters: dict[str, list[str]] | None = None, area: str | None = None
                  ) -> tuple[str, dict[str, list[str]]]:
    """The query and parameters: one row per group and a total row (columns as kpi.engine.explore.breakdown_sql)."""
    dim = wait_dimension(by)
    clauses, params = _filters_sql(filters)
    if by != "service":  # within the KPI's own service; by service, the same measure for every service
        clauses.append(f"d.service_code = {literal(kpi.computation.service)}")
    rows = [_rows_sql(kpi, span, "a", area)] + ([_rows_sql(kpi, compare, "b", area)] if compare else [])
    measures = _measures_sql(kpi, "a", "") + (", " + _measures_sql(kpi, "b", "_b") if compare else "")
    sql = f"""
    WITH d AS ({' UNION ALL '.join(rows)}),
    g AS (SELECT d.*, d.{dim.id} AS grp FROM d WHERE {' AND '.join(clauses) or 'TRUE'})
    SELECT CASE WHEN grouping(grp) = 1 THEN {literal(TOTAL)} ELSE grp END AS "group",
           grouping(grp) = 1 AS is_total, {measures}
    FROM g AS d
    GROUP BY GROUPING SETS ((grp), ())
    ORDER BY grouping(grp), grp = {literal(NOT_RECORDED)}, {dim.order or 'grp'}, grp
    """
    return sql, params


def breakdown(con: duckdb.DuckDBPyConnection, kpi: KpiDefinition, by: str, span: Span, compare: Span | None = None,
              filters: dict[str, list[str]] | None = None, area: str | None = None) -> pd.DataFrame:
    """As :func:`kpi.engine.explore.breakdown`, for a waiting-list KPI."""
    return run_breakdown(con, *breakdown_sql(kpi, by, span, compare, filters, area), compare)


def dimension_values(con: duckdb.DuckDBPyConnection, dim_id: str, area: str | None = None) -> list[str]:
    """Every value a dimension takes among the loaded referrals, in display order (Not recorded last)."""
    dim = wait_dimension(dim_id)
    order = dim.order.replace("d.", "") if dim.order else "v"
    rows = con.execute(f"""
        SELECT {dim.sql} AS v FROM referral WHERE {area_condition(area)}
        GROUP BY v ORDER BY v = {literal(NOT_RECORDED)}, {order}, v""").fetchall()
    return [r[0] for r in rows]


def available_dimensions(con: duckdb.DuckDBPyConnection, area: str | None = None) -> list[Dimension]:
    """The waiting-list dimensions the loaded referrals hold (at least one referral with the value recorded)."""
    try:
        counts = ", ".join(f"count(*) FILTER (WHERE {d.sql} <> {literal(NOT_RECORDED)})" for d in WAIT_DIMENSIONS)
        row = con.execute(f"SELECT {counts} FROM referral WHERE {area_condition(area)}").fetchone()
    except duckdb.CatalogException:
        return []
    return [d for d, n in zip(WAIT_DIMENSIONS, row, strict=True) if n]
