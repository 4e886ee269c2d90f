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


def waits_window(con: duckdb.DuckDBPyConnection):
    """First and last month of the referral data (first referral to latest dated event), or None."""
    from kpi.compute import DataWindow

    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if "referral" not in tables:
        return None
    row = con.execute("""
        SELECT CAST(date_trunc('month', min(referral_date)) AS DATE),
               CAST(date_trunc('month', greatest(max(referral_date), max(first_contact_date), max(removed_date)))
                    AS DATE)
        FROM referral""").fetchone()
    if row is None or row[0] is None:
        return None
    return DataWindow(row[0], row[1])


def _waiting_cte(service: str) -> str:
    """``waiting``: one row per month end and referral waiting then, with the days waited so far."""
    return f"""
    ref AS (SELECT referral_date, {WAIT_END} AS end_date FROM referral WHERE service = {_lit(service)}),
    waiting AS (
        SELECT m.period, date_diff('day', r.referral_date, m.month_end) AS days
        FROM months m JOIN ref r
          ON r.referral_date <= m.month_end AND (r.end_date IS NULL OR r.end_date > m.month_end))"""


def waits_sql(computation, months_cte: str) -> str:
    """SQL giving period, numerator, denominator, median for one waiting-list computation."""
    c = computation
    if c.method == "seen_within":
        return f"""
        WITH {months_cte},
        ev AS (SELECT first_contact_date AS event_date,
                      date_diff('day', referral_date, first_contact_date) <= {int(c.days)} AS met
               FROM referral
               WHERE service = {_lit(c.service)} AND first_contact_date IS NOT NULL
                 AND (removed_date IS NULL OR removed_date >= first_contact_date))
        SELECT m.period, count(ev.event_date) FILTER (WHERE ev.met) AS numerator,
               count(ev.event_date) AS denominator, NULL::DOUBLE AS median
        FROM months m LEFT JOIN ev ON date_trunc('month', ev.event_date) = m.period
        GROUP BY m.period ORDER BY m.period"""
    if c.method == "waiting_over":
        select = (f"count(w.days) FILTER (WHERE w.days > {int(c.days)}) AS numerator, count(w.days) AS denominator, "
                  "NULL::DOUBLE AS median")
    elif c.method == "waiting_over_count":
        select = (f"count(w.days) FILTER (WHERE w.days > {int(c.days)}) AS numerator, NULL::BIGINT AS denominator, "
                  "NULL::DOUBLE AS median")
    elif c.method == "waiting_list_size":
        select = "count(w.days) AS numerator, NULL::BIGINT AS denominator, NULL::DOUBLE AS median"
    elif c.method == "waiting_median_weeks":
        select = "NULL::DOUBLE AS numerator, count(w.days) AS denominator, median(w.days) / 7.0 AS median"
    else:
        raise ValueError(f"unknown waiting-list method {c.method!r}")
    return f"""
    WITH {months_cte}, {_waiting_cte(c.service)}
    SELECT m.period, {select}
    FROM months m LEFT JOIN waiting w ON w.period = m.period
    GROUP BY m.period ORDER BY m.period"""


AGE_GROUPS = "CASE WHEN age_years < 5 THEN 'Under 5' WHEN age_years >= 5 THEN '5 and over' ELSE 'Age not recorded' END"


def waiting_at(con: duckdb.DuckDBPyConnection, service: str, period: str):
    """Those waiting for ``service`` at the end of ``period`` (YYYY-MM), by age group at referral: number
    waiting, median weeks waited so far, % over 18 weeks and number over 52 weeks (same rules as the KPIs)."""
    return con.execute(f"""
        WITH me AS (SELECT CAST(strptime(?, '%Y-%m') + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE) AS month_end),
        w AS (
            SELECT {AGE_GROUPS} AS age_group, date_diff('day', r.referral_date, me.month_end) AS days
            FROM referral r, me
            WHERE r.service = ? AND r.referral_date <= me.month_end
              AND ({WAIT_END} IS NULL OR {WAIT_END} > me.month_end))
        SELECT age_group, count(*) AS waiting, median(days) / 7.0 AS median_weeks,
               100.0 * count(*) FILTER (WHERE days > 126) / count(*) AS pct_over_18wk,
               count(*) FILTER (WHERE days > 364) AS over_52wk
        FROM w GROUP BY age_group
        ORDER BY list_position(['Under 5', '5 and over', 'Age not recorded'], age_group)""",
                       [period, service]).df()


def longest_waits(con: duckdb.DuckDBPyConnection, service: str, period: str, limit: int = 10):
    """The longest waits at the end of ``period``: weeks waited, referral month, age group, locality.
    No identifier, not even the pseudonym, leaves the database."""
    return con.execute(f"""
        WITH me AS (SELECT CAST(strptime(?, '%Y-%m') + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE) AS month_end)
        SELECT round(date_diff('day', r.referral_date, me.month_end) / 7.0, 1) AS weeks_waiting,
               strftime(r.referral_date, '%Y-%m') AS referred, {AGE_GROUPS} AS age_group, r.locality
        FROM referral r, me
        WHERE r.service = ? AND r.referral_date <= me.month_end AND ({WAIT_END} IS NULL OR {WAIT_END} > me.month_end)
        ORDER BY r.referral_date, r.locality LIMIT {int(limit)}""", [period, service]).df()
