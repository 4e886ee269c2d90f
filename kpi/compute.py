"""Monthly KPI series computed in DuckDB SQL, on the statutory definitions of DOMAIN.md §6.

Every method returns one row per month of the data window: ``period`` (first day of the month), ``numerator``,
``denominator``, ``value`` and, for means, ``median``. A rate's month is the month of its completing event
(plan issued, decision made). Snapshot counts are taken at the month end. A month with no completing events
has numerator and denominator 0 and an empty value (never 0%).

The rolling 12-month value sums numerators and denominators over the 12 months ending at the period, so
December's rolling value is the calendar-year figure DfE would publish from the same records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from kpi import compute_local
from kpi.definitions import (
    COUNT_METHODS,
    LOCAL_METHODS,
    MEDIAN_METHODS,
    RATE_METHODS,
    TABLES_FOR_METHOD,
    WAIT_METHODS,
    Catalogue,
    KpiDefinition,
)

ISSUED = "a.assessment_outcome = 'Y' AND a.assessment_outcome_date IS NOT NULL"
FINAL_ASSESSMENT_OUTCOMES = "('Y', 'N', 'W', 'S')"


@dataclass(frozen=True)
class DataWindow:
    """First and last month the loaded records cover."""

    first: date
    last: date

    @property
    def months(self) -> int:
        return (self.last.year - self.first.year) * 12 + self.last.month - self.first.month + 1


def data_window(con: duckdb.DuckDBPyConnection) -> DataWindow | None:
    """The months the flow data covers: from the first request received in the extract's own period
    (historical requests, outcome H, only carry the stock of older plans) to the latest dated event."""
    row = con.execute(
        """
        WITH flow AS (SELECT min(received_date) AS first_received FROM request
                      WHERE request_outcome IS DISTINCT FROM 'H'),
        events AS (
            SELECT max(received_date) AS d FROM request
            UNION ALL SELECT max(request_outcome_date) FROM request
            UNION ALL SELECT max(assessment_outcome_date) FROM assessment
            UNION ALL SELECT max(review_meeting_date) FROM active_plan
            UNION ALL SELECT max(review_decision_date) FROM active_plan)
        SELECT CAST(date_trunc('month', coalesce((SELECT first_received FROM flow),
                                                 (SELECT min(received_date) FROM request))) AS DATE),
               CAST(date_trunc('month', (SELECT max(d) FROM events)) AS DATE)
        """
    ).fetchone()
    if row is None or row[0] is None or row[1] is None:
        return None
    return DataWindow(row[0], row[1])


def _months_cte(window: DataWindow) -> str:
    return (
        "months AS (SELECT CAST(m AS DATE) AS period, CAST(m + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE) AS month_end "
        f"FROM range(DATE '{window.first}', DATE '{window.last}' + INTERVAL 1 MONTH, INTERVAL 1 MONTH) t(m))"
    )


def _rate_sql(events: str, window: DataWindow) -> str:
    """Monthly rate from an ``events`` query yielding (event_date, met BOOLEAN)."""
    return f"""
    WITH {_months_cte(window)}, ev AS ({events})
    SELECT m.period,
           count(ev.event_date) FILTER (WHERE ev.met) AS numerator,
           count(ev.event_date) AS denominator,
           NULL::DOUBLE AS median
    FROM months m LEFT JOIN ev ON date_trunc('month', ev.event_date) = m.period
    GROUP BY m.period ORDER BY m.period
    """


def _interval_count_sql(intervals: str, window: DataWindow) -> str:
    """Count at each month end of intervals (start_date inclusive, end_date exclusive; NULL end = open)."""
    return f"""
    WITH {_months_cte(window)}, iv AS ({intervals})
    SELECT m.period, count(iv.start_date) AS numerator, NULL::BIGINT AS denominator, NULL::DOUBLE AS median
    FROM months m LEFT JOIN iv
      ON iv.start_date <= m.month_end AND (iv.end_date IS NULL OR iv.end_date > m.month_end)
    GROUP BY m.period ORDER BY m.period
    """


def events_sql(kpi: KpiDefinition) -> str:
    """The per-event rows behind one KPI, before they are counted into months (Explore and Explain use them too).

    Every row names its ``request_id`` and ``clock_start`` (the date the statutory clock started). Rates yield one
    row per completing event: ``event_date`` and ``met``; the mean yields ``event_date`` and ``weeks``; counts at
    month end yield one interval per record: counted from ``start_date`` (inclusive) until ``end_date``
    (exclusive; NULL = still counted).
    """
    c = kpi.computation
    if c.method in WAIT_METHODS:
        raise ValueError(f"{kpi.id} is a waiting-list KPI: its rows are referrals (kpi/compute_waits.py), not "
                         "SEN2 events")
    if c.method == "plans_issued_within":
        exceptions = "" if c.exceptions == "include" else "AND NOT coalesce(a.week20_exception, FALSE)"
        return f"""SELECT r.request_id, r.received_date AS clock_start, a.assessment_outcome_date AS event_date,
                       date_diff('day', r.received_date, a.assessment_outcome_date) <= {c.days} AS met
                FROM assessment a JOIN request r USING (request_id)
                WHERE {ISSUED} {exceptions}"""
    if c.method == "request_decisions_within":
        return f"""SELECT request_id, received_date AS clock_start, request_outcome_date AS event_date,
                       date_diff('day', received_date, request_outcome_date) <= {c.days} AS met
                FROM request WHERE request_outcome IN ('Y', 'N') AND request_outcome_date IS NOT NULL"""
    if c.method == "not_issue_within":
        return f"""SELECT r.request_id, r.received_date AS clock_start, a.assessment_outcome_date AS event_date,
                       date_diff('day', r.received_date, a.assessment_outcome_date) <= {c.days} AS met
                FROM assessment a JOIN request r USING (request_id)
                WHERE a.assessment_outcome = 'N' AND a.assessment_outcome_date IS NOT NULL"""
    if c.method == "review_decisions_within":
        return f"""SELECT request_id, review_meeting_date AS clock_start, review_decision_date AS event_date,
                       date_diff('day', review_meeting_date, review_decision_date) <= {c.days} AS met
                FROM active_plan
                WHERE review_decision_date IS NOT NULL AND review_meeting_date IS NOT NULL"""
    if c.method == "weeks_to_issue":
        return f"""SELECT r.request_id, r.received_date AS clock_start, a.assessment_outcome_date AS event_date,
                       date_diff('day', r.received_date, a.assessment_outcome_date) / 7.0 AS weeks
                FROM assessment a JOIN request r USING (request_id) WHERE {ISSUED}"""
    if c.method == "open_assessments_over":
        # Open and over the limit from the later of the decision to assess and day (limit + 1) after receipt,
        # until the assessment's final outcome (plan issued, not issued, withdrawn, issued by another LA).
        return f"""SELECT r.request_id, r.received_date AS clock_start,
                       greatest(r.request_outcome_date, r.received_date + {c.days + 1}) AS start_date,
                       min(a.assessment_outcome_date) FILTER (
                           WHERE a.assessment_outcome IN {FINAL_ASSESSMENT_OUTCOMES}) AS end_date
                FROM request r LEFT JOIN assessment a USING (request_id)
                WHERE r.request_outcome = 'Y' AND r.request_outcome_date IS NOT NULL
                GROUP BY r.request_id, r.request_outcome_date, r.received_date"""
    if c.method == "reviews_overdue":
        # Anchors: the plan's start and each review meeting. A plan is overdue from the day after
        # anchor + N months until its next anchor, while it is active (not ceased).
        return f"""WITH plans AS (
                    SELECT np.named_plan_id, a.request_id, np.start_date, np.cease_date
                    FROM named_plan np JOIN assessment a USING (assessment_id)
                    WHERE np.start_date IS NOT NULL),
                anchors AS (
                    SELECT named_plan_id, request_id, start_date AS anchor, cease_date FROM plans
                    UNION
                    SELECT p.named_plan_id, p.request_id, ap.review_meeting_date, p.cease_date
                    FROM plans p JOIN active_plan ap USING (request_id)
                    WHERE ap.review_meeting_date IS NOT NULL AND ap.review_meeting_date >= p.start_date),
                spans AS (
                    SELECT request_id, anchor, cease_date,
                           lead(anchor) OVER (PARTITION BY named_plan_id ORDER BY anchor) AS next_anchor
                    FROM anchors)
                SELECT request_id, anchor AS clock_start,
                       CAST(anchor + INTERVAL {c.months} MONTH + INTERVAL 1 DAY AS DATE) AS start_date,
                       CASE WHEN next_anchor IS NULL THEN cease_date
                            WHEN cease_date IS NULL THEN next_anchor
                            ELSE least(next_anchor, cease_date) END AS end_date
                FROM spans"""
    raise ValueError(f"unknown computation method {c.method!r}")


def method_sql(kpi: KpiDefinition, window: DataWindow) -> str:
    """The SQL for one KPI's monthly numerator, denominator (and median) over the data window."""
    method = kpi.computation.method
    local = compute_local.method_sql(kpi, _months_cte(window), lambda ev: _rate_sql(ev, window),
                                     lambda iv: _interval_count_sql(iv, window))
    if local is not None:
        return local
    if method in WAIT_METHODS:
        from kpi.compute_waits import waits_sql

        return waits_sql(kpi.computation, _months_cte(window))
    if method in RATE_METHODS:
        return _rate_sql(events_sql(kpi), window)
    if method in COUNT_METHODS:
        return _interval_count_sql(events_sql(kpi), window)
    if method == "weeks_to_issue":
        return f"""
        WITH {_months_cte(window)},
        ev AS ({events_sql(kpi)})
        SELECT m.period, sum(ev.weeks) AS numerator, count(ev.event_date) AS denominator,
               median(ev.weeks) AS median
        FROM months m LEFT JOIN ev ON date_trunc('month', ev.event_date) = m.period
        GROUP BY m.period ORDER BY m.period
        """
    raise ValueError(f"unknown computation method {method!r}")


def _finish(df: pd.DataFrame, kpi: KpiDefinition) -> pd.DataFrame:
    """Values and rolling 12-month values from numerators and denominators."""
    if kpi.computation.method == "kpi_return":
        return compute_local.finish_return(df, kpi)
    df = df.copy()
    num = df["numerator"].astype("float64")
    den = df["denominator"].astype("float64")
    if kpi.computation.method in MEDIAN_METHODS:  # the month-end median itself; none when nobody waits
        df["value"] = df["median"].astype("float64")
        df["rolling_12m"] = float("nan")
        return df
    if kpi.is_snapshot:
        df["value"] = (100.0 * num / den).where(den > 0) if kpi.is_rate else num
        df["rolling_12m"] = float("nan")
        return df
    scale = 100.0 if kpi.is_rate else 1.0
    df["value"] = (scale * num / den).where(den > 0)
    roll_num = num.rolling(12, min_periods=12).sum()
    roll_den = den.rolling(12, min_periods=12).sum()
    df["rolling_12m"] = (scale * roll_num / roll_den).where(roll_den > 0)
    return df


def compute_kpi(con: duckdb.DuckDBPyConnection, kpi: KpiDefinition, window: DataWindow) -> pd.DataFrame:
    """One KPI's monthly series: period (date), numerator, denominator, value, rolling_12m, median."""
    df = con.execute(method_sql(kpi, window)).df()
    df = _finish(df, kpi)
    df.insert(0, "kpi_id", kpi.id)
    return df[["kpi_id", "period", "numerator", "denominator", "value", "rolling_12m", "median"]]


def series_window(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, window: DataWindow | None = None
                  ) -> DataWindow | None:
    """The months the series covers: the data window (SEN2's unless ``window`` is given), starting no earlier than
    the catalogue's ``series_start``."""
    window = data_window(con) if window is None else window
    if window is None or not catalogue.series_start:
        return window
    start = date.fromisoformat(catalogue.series_start + "-01")
    if start > window.last:
        return None
    return DataWindow(max(window.first, start), window.last)


def compute_all(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, kpi_ids: list[str] | None = None) -> pd.DataFrame:
    """Monthly series for the chosen KPIs (all by default), stacked."""
    from kpi.compute_waits import waits_window

    columns = ["kpi_id", "period", "numerator", "denominator", "value", "rolling_12m", "median"]
    # Each source family has its own months: SEN2 KPIs keep the SEN2 window; waiting-list KPIs the referral
    # extract's. A family without data gives its KPIs empty rows over the other family's months.
    waits = waits_window(con)
    windows = {"sen2": series_window(con, catalogue),
               "waits": series_window(con, catalogue, waits) if waits else None}
    present = [w for w in windows.values() if w is not None]
    if not present:
        return pd.DataFrame(columns=columns)
    overall = DataWindow(min(w.first for w in present), max(w.last for w in present))
    kpis = [catalogue.get(k) for k in kpi_ids] if kpi_ids else catalogue.kpis
    frames = []
    for k in kpis:
        window = windows["waits" if k.computation.method in WAIT_METHODS else "sen2"]
        frames.append(compute_kpi(con, k, window) if window else _no_data(k, overall))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def _no_data(kpi: KpiDefinition, window: DataWindow) -> pd.DataFrame:
    """Rows for a KPI whose source holds no records: every month present, every value empty (not 0)."""
    periods = pd.date_range(window.first, window.last, freq="MS").date
    nan = float("nan")
    return pd.DataFrame({"kpi_id": kpi.id, "period": periods, "numerator": nan, "denominator": nan, "value": nan,
                         "rolling_12m": nan, "median": nan})


def check_against_database(con: duckdb.DuckDBPyConnection, catalogue: Catalogue) -> list[str]:
    """Stage 3 of validation: each KPI's source tables exist and hold data, and data reach the plan window."""
    problems: list[str] = []
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    counts: dict[str, int] = {}
    for kpi in catalogue.kpis:
        for table in TABLES_FOR_METHOD[kpi.computation.method]:
            if table not in tables:
                problems.append(f"kpi {kpi.id}: table {table} is missing from the database (load data first)")
                continue
            if table not in counts:
                counts[table] = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            if counts[table] == 0 and kpi.computation.method not in LOCAL_METHODS:
                # A local extract never loaded is not an error: its KPI simply has no values yet.
                problems.append(f"kpi {kpi.id}: table {table} holds no rows")
    if not problems:
        window = data_window(con)
        start = catalogue.plan_window.start
        if window is None or f"{window.last:%Y-%m}" < start:
            last = "no dated records" if window is None else f"data end at {window.last:%Y-%m}"
            problems.append(f"plan window starts {start} but {last}")
        if any(k.computation.method in WAIT_METHODS for k in catalogue.kpis):
            from kpi.compute_waits import waits_window

            waits = waits_window(con)
            if waits is not None and f"{waits.last:%Y-%m}" < start:
                problems.append(f"plan window starts {start} but the referral data end at {waits.last:%Y-%m}")
    return problems
