"""Waiting-list KPIs from the referral-level extract (table ``referral``), in DuckDB SQL.

A wait runs from ``referral_date`` until the first contact or the removal, whichever comes first. A referral
is *waiting at a month end* E when it was referred on or before E and its wait had not ended by E (a wait
ending on E itself is over: a child seen on the day of referral is never on the list). The days waited at
E are ``E − referral_date``; "more than 18 weeks" is more than 126 days, "more than 52 weeks" more than 364.
Each referral is its own wait: a re-referral after discharge starts a new clock.

Snapshot methods (at each month end): ``waiting_over`` (% of those waiting), ``waiting_over_count``,
``waiting_list_size``, ``waiting_median_weeks``. Event method (month of the first contact): ``seen_within``.
A month with nobody waiting (or no first contact) has no rate and no median, never 0%.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from etl.as_at import extracts_as_at
from etl.sql_text import literal
from kpi.definitions import KpiDefinition
from kpi.engine.methods import Method
from kpi.engine.monthly import finish_flow, finish_median, finish_month_end
from kpi.engine.window import DataWindow, Scope, areas_condition, span_of, to_as_at

WAIT_END = "least(first_contact_date, removed_date)"  # DuckDB's least ignores NULLs


def waits_windows(con: duckdb.DuckDBPyConnection, areas=None, as_of=None) -> dict:
    """Per area (every area, or only ``areas``), the first and last month of its referral data: first referral to
    the month of the newest referral extract's as-at date (or the latest dated event where none is recorded)."""
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if "referral" not in tables:
        return {}
    rows = con.execute(f"""
        SELECT area_code, CAST(date_trunc('month', min(referral_date)) AS DATE),
               CAST(date_trunc('month', greatest(max(referral_date), max(first_contact_date), max(removed_date)))
                    AS DATE)
        FROM referral WHERE {areas_condition(areas)} GROUP BY 1 ORDER BY 1""").fetchall()
    as_at = extracts_as_at(con, "waits", areas, as_of)
    return {a: to_as_at(DataWindow(first, last), as_at.get(a, as_of)) for a, first, last in rows
            if first is not None}


def waits_window(con: duckdb.DuckDBPyConnection):
    """The months every area's referral data cover together, or None."""
    return span_of(waits_windows(con))


OVER_METHODS = ("waiting_over", "waiting_over_count")


def _over_days(computations) -> list[int]:
    return sorted({int(c.days) for c in computations if c.method in OVER_METHODS})


def _seen_days(computations) -> list[int]:
    return sorted({int(c.days) for c in computations if c.method == "seen_within"})


def waits_batch_sql(computations, grid_cte: str, where: str) -> str:
    """One pass over the referral list for many waiting-list computations: per area, service and month, the number
    waiting at the month end (``size``), waiting more than N days (``over_N``), first contacts in the month
    (``seen_all``) and those within N days (``seen_N``), and the median weeks waited so far (``median_weeks``).

    A waiting interval runs from the referral (inclusive) to the end of the wait (exclusive); waiting more than N
    days at E means referred on or before E - N - 1, so the same interval starting N + 1 days later. Counts are
    running sums of interval starts and ends (kpi.engine.compute's month-end rule); the median needs every wait at every
    month end, so each referral is expanded to the months it waits through."""
    services = sorted({c.service for c in computations})
    kinds = [("size", 0)] + [(f"over_{d}", d + 1) for d in _over_days(computations)]
    seen = _seen_days(computations)
    kind_rows = ", ".join(f"({literal(k)}, {offset})" for k, offset in kinds)
    pivot = ", ".join(f"sum(d) FILTER (WHERE kind = {literal(k)}) AS d_{k}" for k, _ in kinds)
    running = ", ".join(f"CAST(sum(coalesce(n.d_{k}, 0)) OVER w AS BIGINT) AS {k}" for k, _ in kinds)
    seen_cols = ", ".join(["count(*) AS seen_all"] + [
        f"count(*) FILTER (WHERE date_diff('day', referral_date, first_contact_date) <= {d}) AS seen_{d}"
        for d in seen])
    seen_out = ", ".join(["coalesce(s.seen_all, 0) AS seen_all"] + [f"coalesce(s.seen_{d}, 0) AS seen_{d}"
                                                                    for d in seen])
    need_median = any(c.method == "waiting_median_weeks" for c in computations)
    median_cte = ""
    median_col = "NULL::DOUBLE AS median_weeks"
    if need_median:
        # Each wait is expanded to the months it runs through (as month numbers: cheap integer ranges); the median
        # is taken of the referral day (median(E - day) = E - median(day), halves included) and turned into weeks
        # waited at each month end afterwards, on one row per area, service and month.
        median_cte = """,
        month_no AS (SELECT area_code, year(first_month) * 12 + month(first_month) - 1 AS first_no,
                            year(last_month) * 12 + month(last_month) - 1 AS last_no FROM aw),
        wait_months AS (
            SELECT r.area_code, r.service, r.ref_day,
                   unnest(range(greatest(r.start_no, w.first_no), least(coalesce(r.stop_no, w.last_no + 1),
                                                                       w.last_no + 1))) AS month_no
            FROM (SELECT area_code, service,
                         CAST(date_diff('day', DATE '1970-01-01', referral_date) AS INTEGER) AS ref_day,
                         year(referral_date) * 12 + month(referral_date) - 1 AS start_no,
                         year(end_date) * 12 + month(end_date) - 1 AS stop_no
                  FROM ref WHERE end_date IS NULL OR end_date > referral_date) r
            JOIN month_no w USING (area_code)),
        med AS (
            SELECT area_code, service, period,
                   (date_diff('day', DATE '1970-01-01', CAST(period + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE))
                    - median_day) / 7.0 AS median_weeks
            FROM (SELECT area_code, service, make_date(CAST(month_no // 12 AS INTEGER),
                                                       CAST(month_no % 12 + 1 AS INTEGER), 1) AS period,
                         median_day
                  FROM (SELECT area_code, service, month_no, median(ref_day) AS median_day
                        FROM wait_months GROUP BY ALL)))"""
        median_col = "md.median_weeks"
    return f"""
    WITH {grid_cte},
    sg AS (SELECT g.area_code, s.service, g.period FROM grid g
           CROSS JOIN (VALUES {", ".join(f"({literal(s)})" for s in services)}) s(service)),
    ref AS NOT MATERIALIZED (  -- inlined: scanning the referrals again is cheaper than materialising them
            SELECT area_code, service, referral_date, first_contact_date, removed_date, {WAIT_END} AS end_date
            FROM referral WHERE service IN ({", ".join(literal(s) for s in services)}) AND {where}),
    iv AS (SELECT r.area_code, r.service, k.kind,
                  CAST(date_trunc('month', r.referral_date + k.offset_days) AS DATE) AS first_month,
                  CAST(date_trunc('month', r.end_date) AS DATE) AS stop_month
           FROM ref r CROSS JOIN (VALUES {kind_rows}) k(kind, offset_days)
           WHERE r.end_date IS NULL OR r.end_date > r.referral_date + k.offset_days),
    kept AS (SELECT iv.area_code, iv.service, iv.kind, greatest(iv.first_month, aw.first_month) AS first_month,
                    iv.stop_month, aw.last_month
             FROM iv JOIN aw USING (area_code)
             WHERE iv.first_month <= aw.last_month AND (iv.stop_month IS NULL OR iv.stop_month > aw.first_month)),
    delta AS (SELECT area_code, service, kind, first_month AS period, count(*) AS d FROM kept GROUP BY ALL
              UNION ALL
              SELECT area_code, service, kind, stop_month, -count(*) FROM kept WHERE stop_month <= last_month
              GROUP BY ALL),
    net AS (SELECT area_code, service, period, {pivot} FROM delta GROUP BY ALL),
    seen AS (SELECT area_code, service, CAST(date_trunc('month', first_contact_date) AS DATE) AS period, {seen_cols}
             FROM ref WHERE first_contact_date IS NOT NULL
               AND (removed_date IS NULL OR removed_date >= first_contact_date)
             GROUP BY ALL){median_cte}
    SELECT sg.area_code, sg.service, sg.period, {running}, {seen_out}, {median_col}
    FROM sg LEFT JOIN net n USING (area_code, service, period)
         LEFT JOIN seen s USING (area_code, service, period)
         {"LEFT JOIN med md USING (area_code, service, period)" if need_median else ""}
    WINDOW w AS (PARTITION BY sg.area_code, sg.service ORDER BY sg.period)
    ORDER BY sg.area_code, sg.service, sg.period"""


def waits_batch(con: duckdb.DuckDBPyConnection, kpis: list[KpiDefinition], scope: Scope) -> pd.DataFrame:
    """Many waiting-list KPIs' measures for every service, area and month of ``scope`` in one query (split them with
    :func:`split_batch`)."""
    return con.execute(waits_batch_sql([k.computation for k in kpis], scope.grid_cte(), scope.where())).df()


def measures(computation) -> tuple[str, str, str]:
    """(numerator, denominator, median) of one computation, as columns of :func:`waits_batch_sql`."""
    c = computation
    if c.method == "seen_within":
        return f"seen_{int(c.days)}", "seen_all", "NULL::DOUBLE"
    if c.method == "waiting_over":
        return f"over_{int(c.days)}", "size", "NULL::DOUBLE"
    if c.method == "waiting_over_count":
        return f"over_{int(c.days)}", "NULL::BIGINT", "NULL::DOUBLE"
    if c.method == "waiting_list_size":
        return "size", "NULL::BIGINT", "NULL::DOUBLE"
    if c.method == "waiting_median_weeks":
        return "NULL::DOUBLE", "size", "median_weeks"
    raise ValueError(f"unknown waiting-list method {c.method!r}")


def waits_sql(computation, grid_cte: str, where: str) -> str:
    """SQL giving area_code, period, numerator, denominator, median for one waiting-list computation: the batch
    query for it alone, so one KPI and many are computed by the same rules."""
    num, den, med = measures(computation)
    return f"""
    SELECT area_code, period, {num} AS numerator, {den} AS denominator, {med} AS median
    FROM ({waits_batch_sql([computation], grid_cte, where)})
    ORDER BY area_code, period"""


def _waits_sql(kpi: KpiDefinition, scope: Scope) -> str:
    return waits_sql(kpi.computation, scope.grid_cte(), scope.where())


# Their rows are referrals, not SEN2 events: Explore reads them itself (kpi/engine/explore_waits.py).
METHODS: dict[str, Method] = {
    "waiting_over": Method(sql=_waits_sql, finish=finish_month_end),
    "waiting_over_count": Method(sql=_waits_sql, finish=finish_month_end),
    "waiting_list_size": Method(sql=_waits_sql, finish=finish_month_end),
    "waiting_median_weeks": Method(sql=_waits_sql, finish=finish_median),
    "seen_within": Method(sql=_waits_sql, finish=finish_flow),
}


def split_batch(batch, computation):
    """One computation's rows (area_code, period, numerator, denominator, median) out of a batch result."""
    num, den, med = measures(computation)
    rows = batch[batch["service"] == computation.service]

    def col(name: str):
        return rows[name].to_numpy() if name in rows else float("nan")

    return pd.DataFrame({"area_code": rows["area_code"].to_numpy(), "period": rows["period"].to_numpy(),
                         "numerator": col(num), "denominator": col(den), "median": col(med)})


AGE_GROUPS = "CASE WHEN age_years < 5 THEN 'Under 5' WHEN age_years >= 5 THEN '5 and over' ELSE 'Age not recorded' END"


def waiting_at(con: duckdb.DuckDBPyConnection, service: str, period: str, area: str | None = None):
    """Those waiting for ``service`` at the end of ``period`` (YYYY-MM) in one area (every area when None), by age
    group at referral: number
    waiting, median weeks waited so far, % over 18 weeks and number over 52 weeks (same rules as the KPIs)."""
    return con.execute(f"""
        WITH me AS (SELECT CAST(strptime(?, '%Y-%m') + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE) AS month_end),
        w AS (
            SELECT {AGE_GROUPS} AS age_group, date_diff('day', r.referral_date, me.month_end) AS days
            FROM referral r, me
            WHERE r.service = ? AND r.referral_date <= me.month_end
              AND ({WAIT_END} IS NULL OR {WAIT_END} > me.month_end) AND (? IS NULL OR r.area_code = ?))
        SELECT age_group, count(*) AS waiting, median(days) / 7.0 AS median_weeks,
               100.0 * count(*) FILTER (WHERE days > 126) / count(*) AS pct_over_18wk,
               count(*) FILTER (WHERE days > 364) AS over_52wk
        FROM w GROUP BY age_group
        ORDER BY list_position(['Under 5', '5 and over', 'Age not recorded'], age_group)""",
                       [period, service, area, area]).df()


def longest_waits(con: duckdb.DuckDBPyConnection, service: str, period: str, limit: int = 10,
                  area: str | None = None):
    """The longest waits at the end of ``period`` (in one area): weeks waited, referral month, age group, locality.
    No identifier, not even the pseudonym, leaves the database."""
    return con.execute(f"""
        WITH me AS (SELECT CAST(strptime(?, '%Y-%m') + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE) AS month_end)
        SELECT round(date_diff('day', r.referral_date, me.month_end) / 7.0, 1) AS weeks_waiting,
               strftime(r.referral_date, '%Y-%m') AS referred, {AGE_GROUPS} AS age_group, r.locality
        FROM referral r, me
        WHERE r.service = ? AND r.referral_date <= me.month_end AND ({WAIT_END} IS NULL OR {WAIT_END} > me.month_end)
          AND (? IS NULL OR r.area_code = ?)
        ORDER BY r.referral_date, r.locality LIMIT {int(limit)}""", [period, service, area, area]).df()
