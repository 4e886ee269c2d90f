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

WAIT_END = "least(first_contact_date, removed_date)"  # DuckDB's least ignores NULLs


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def waits_windows(con: duckdb.DuckDBPyConnection) -> dict:
    """Per area, the first and last month of its referral data (first referral to latest dated event)."""
    from kpi.compute import DataWindow

    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if "referral" not in tables:
        return {}
    rows = con.execute("""
        SELECT area_code, CAST(date_trunc('month', min(referral_date)) AS DATE),
               CAST(date_trunc('month', greatest(max(referral_date), max(first_contact_date), max(removed_date)))
                    AS DATE)
        FROM referral GROUP BY 1 ORDER BY 1""").fetchall()
    return {a: DataWindow(first, last) for a, first, last in rows if first is not None}


def waits_window(con: duckdb.DuckDBPyConnection):
    """The months every area's referral data cover together, or None."""
    from kpi.compute import span_of

    return span_of(waits_windows(con))


def waits_sql(computation, grid_cte: str, where: str, rate_sql, interval_count_sql) -> str:
    """SQL giving area_code, period, numerator, denominator, median for one waiting-list computation. The helpers
    are compute.py's (the area x month grid, the chosen areas' condition, monthly rate, month-end count)."""
    c = computation
    service = f"service = {_lit(c.service)}"
    if c.method == "seen_within":
        return rate_sql(f"""
            SELECT area_code, first_contact_date AS event_date,
                   date_diff('day', referral_date, first_contact_date) <= {int(c.days)} AS met
            FROM referral
            WHERE {service} AND first_contact_date IS NOT NULL
              AND (removed_date IS NULL OR removed_date >= first_contact_date)""")
    # Waiting at month end E: referred on or before E, wait not ended by E. Over N days at E: referred on or
    # before E - N - 1, so the same interval started N + 1 days after the referral.
    waiting = f"SELECT area_code, referral_date AS start_date, {WAIT_END} AS end_date FROM referral WHERE {service}"
    over = (f"SELECT area_code, CAST(referral_date + {int(getattr(c, 'days', 0)) + 1} AS DATE) AS start_date, "
            f"{WAIT_END} AS end_date FROM referral WHERE {service}")
    if c.method == "waiting_list_size":
        return interval_count_sql(waiting)
    if c.method == "waiting_over_count":
        return interval_count_sql(over)
    if c.method == "waiting_over":
        return f"""
        SELECT s.area_code, s.period, o.numerator, s.numerator AS denominator, NULL::DOUBLE AS median
        FROM ({interval_count_sql(waiting)}) s JOIN ({interval_count_sql(over)}) o USING (area_code, period)
        ORDER BY s.area_code, s.period"""
    if c.method == "waiting_median_weeks":
        # The median needs every wait at every month end: the one place referrals are joined to months.
        return f"""
        WITH {grid_cte},
        ref AS (SELECT area_code, referral_date, {WAIT_END} AS end_date FROM referral WHERE {service} AND {where}),
        waiting AS (
            SELECT g.area_code, g.period, date_diff('day', r.referral_date, g.month_end) AS days
            FROM grid g JOIN ref r
              ON r.area_code = g.area_code AND r.referral_date <= g.month_end
             AND (r.end_date IS NULL OR r.end_date > g.month_end))
        SELECT g.area_code, g.period, NULL::DOUBLE AS numerator, count(w.days) AS denominator,
               median(w.days) / 7.0 AS median
        FROM grid g LEFT JOIN waiting w USING (area_code, period)
        GROUP BY g.area_code, g.period ORDER BY g.area_code, g.period"""
    raise ValueError(f"unknown waiting-list method {c.method!r}")


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
