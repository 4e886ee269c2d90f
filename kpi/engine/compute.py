"""Monthly KPI series computed in DuckDB SQL, on the statutory definitions of DOMAIN.md §6.

Every method returns one row per local area and month of the data window: ``area_code`` (ONS code; record ids
are unique within an area, so every join matches on the area too), ``period`` (first day of the month),
``numerator``, ``denominator``, ``value`` and, for means, ``median``. Each area's months are its own data window
(as if it were loaded alone), every month present; an area holding no records of a KPI's source gets empty values
for that KPI (never zeros). A rate's month is the month of its completing event (plan issued, decision made).
Snapshot counts are taken at the month end. A month with no completing events has numerator and denominator 0
and an empty value (never 0%).

The rolling 12-month value sums numerators and denominators over the 12 months ending at the period, so
December's rolling value is the calendar-year figure DfE would publish from the same records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import duckdb
import numpy as np
import pandas as pd

from etl.as_at import SEN2_MODULES, extracts_as_at
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
from kpi.engine import compute_local

ISSUED = "a.assessment_outcome = 'Y' AND a.assessment_outcome_date IS NOT NULL"
SEN2_MODULE_LIST = ", ".join(f"'{m}'" for m in SEN2_MODULES)
# Every review any extract showed (etl/schema_load.sql review_history), one row per plan and meeting, in the version
# of the newest extract that showed it; with the session variable ``as_of`` set (kpi series --as-of), only the
# extracts dated on or before it.
KNOWN_REVIEWS = """(SELECT * FROM review_history
     WHERE as_at IS NULL OR as_at <= coalesce(getvariable('as_of'), DATE '9999-12-31'))"""
# (a hash aggregate with arg_max: one pass, no sort of the history as a window function would need)
_NEWEST = "{'at': coalesce(as_at, DATE '0001-01-01'), 'load': load_id}"
REVIEWS = f"""(SELECT area_code, request_id, review_meeting_date,
            arg_max_null(review_decision_date, {_NEWEST}) AS review_decision_date,
            arg_max_null(review_outcome, {_NEWEST}) AS review_outcome
     FROM {KNOWN_REVIEWS} GROUP BY area_code, request_id, review_meeting_date)"""
FINAL_ASSESSMENT_OUTCOMES = "('Y', 'N', 'W', 'S')"
# One request, one first plan: a second issued (outcome Y) assessment on a request is a data-quality problem
# (kpi/engine/data_quality.py), not a second plan. The plan counted is the first issued: earliest outcome date, then the
# lowest record id (numerically when ids are numbers).
FIRST_ISSUED = f"""(SELECT * FROM assessment a WHERE {ISSUED}
    QUALIFY row_number() OVER (PARTITION BY a.area_code, a.request_id
                               ORDER BY a.assessment_outcome_date, TRY_CAST(a.assessment_id AS BIGINT) NULLS LAST,
                                        a.assessment_id) = 1)"""


@dataclass(frozen=True)
class DataWindow:
    """First and last month the loaded records cover, and the as-at date of the newest extract (None when the
    database does not know it): the last month runs to it, and is complete only if it ends on or before it."""

    first: date
    last: date
    as_at: date | None = None

    @property
    def months(self) -> int:
        return (self.last.year - self.first.year) * 12 + self.last.month - self.first.month + 1


def _window_rows_sql(areas=None) -> str:
    """Per area: the first flow month (the first request received in the extract's own period; historical
    requests, outcome H, only carry the stock of older plans) and the month of the latest dated event."""
    w = areas_condition(areas)
    return f"""
        WITH flow AS (SELECT area_code, min(received_date) FILTER (WHERE request_outcome IS DISTINCT FROM 'H') AS f,
                             min(received_date) AS f_any
                      FROM request WHERE {w} GROUP BY 1),
        events AS (
            SELECT area_code, max(received_date) AS d FROM request WHERE {w} GROUP BY 1
            UNION ALL SELECT area_code, max(request_outcome_date) FROM request WHERE {w} GROUP BY 1
            UNION ALL SELECT area_code, max(assessment_outcome_date) FROM assessment WHERE {w} GROUP BY 1
            UNION ALL SELECT area_code, max(review_meeting_date) FROM {KNOWN_REVIEWS} WHERE {w} GROUP BY 1
            UNION ALL SELECT area_code, max(review_decision_date) FROM {KNOWN_REVIEWS} WHERE {w} GROUP BY 1),
        last AS (SELECT area_code, max(d) AS d FROM events GROUP BY 1)
        SELECT f.area_code, CAST(date_trunc('month', coalesce(f.f, f.f_any)) AS DATE),
               CAST(date_trunc('month', l.d) AS DATE)
        FROM flow f JOIN last l USING (area_code)
        WHERE coalesce(f.f, f.f_any) IS NOT NULL AND l.d IS NOT NULL
        ORDER BY 1"""


def data_windows(con: duckdb.DuckDBPyConnection, areas=None, as_of: date | None = None) -> dict[str, DataWindow]:
    """Each area's SEN2 data window: its first flow month to the month of its newest extract's as-at date (every
    month to it, events or none), or to its latest dated event where no as-at date is recorded. An area's series
    covers its own months, exactly as if it were loaded alone. Every area, or only ``areas``. With ``as_of``, the
    window stands where the extracts dated on or before it left it."""
    as_at = extracts_as_at(con, "sen2", areas, as_of)
    return {a: to_as_at(DataWindow(first, last), as_at.get(a, as_of))
            for a, first, last in con.execute(_window_rows_sql(areas)).fetchall()}


def to_as_at(window: DataWindow, as_at: date | None) -> DataWindow:
    """The window ending in the as-at date's month (never past it; never before the window's first month)."""
    if as_at is None:
        return window
    return DataWindow(window.first, max(window.first, as_at.replace(day=1)), as_at)


def span_of(windows: Mapping[str, DataWindow]) -> DataWindow | None:
    """The months any of the windows cover (None when there are none)."""
    if not windows:
        return None
    dates = [w.as_at for w in windows.values() if w.as_at is not None]
    return DataWindow(min(w.first for w in windows.values()), max(w.last for w in windows.values()),
                      max(dates) if dates else None)


def data_window(con: duckdb.DuckDBPyConnection) -> DataWindow | None:
    """The months the SEN2 data of every area cover together."""
    return span_of(data_windows(con))


def sql_list(values) -> str:
    """Text values as a SQL list body: 'a', 'b'."""
    return ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)


def areas_condition(areas, column: str = "area_code") -> str:
    """A condition keeping the rows of ``areas`` (TRUE for None: every area; none for an empty list)."""
    if areas is None:
        return "TRUE"
    return f"{column} IN ({sql_list(areas)})" if areas else "FALSE"


def area_condition(area: str | None, column: str = "area_code") -> str:
    """A condition keeping one area's rows (TRUE for every area): for the per-event views (Explore, Explain)."""
    return areas_condition(None if area is None else [area], column)


@dataclass(frozen=True)
class Scope:
    """Which areas and months a series covers: the areas holding rows in ``table`` (the KPI's source), each over
    its own window (``windows``: area → months), or every such area over one window."""

    table: str
    windows: Mapping[str, DataWindow] | DataWindow

    @property
    def areas(self) -> list[str] | None:
        return None if isinstance(self.windows, DataWindow) else sorted(self.windows)

    def where(self, column: str = "area_code") -> str:
        """A condition keeping rows of the chosen areas (TRUE when every area is wanted)."""
        return areas_condition(self.areas, column)

    def grid_cte(self) -> str:
        """``aw`` (area, first_month, last_month, as_at) and ``grid``: every (area, month, month_end) with a row."""
        def at(w: DataWindow) -> str:
            return f"DATE '{w.as_at}'" if w.as_at else "NULL::DATE"

        if isinstance(self.windows, DataWindow):
            w = self.windows
            aw = (f"SELECT DISTINCT area_code, DATE '{w.first}' AS first_month, DATE '{w.last}' AS last_month, "
                  f"{at(w)} AS as_at FROM {self.table}")
        elif self.windows:
            rows = ", ".join(f"({sql_list([a])}, DATE '{w.first}', DATE '{w.last}', {at(w)})"
                             for a, w in sorted(self.windows.items()))
            aw = f"SELECT * FROM (VALUES {rows}) v(area_code, first_month, last_month, as_at)"
        else:
            aw = ("SELECT NULL::VARCHAR AS area_code, NULL::DATE AS first_month, NULL::DATE AS last_month, "
                  "NULL::DATE AS as_at WHERE FALSE")
        return (f"aw AS ({aw}), "
                "grid AS (SELECT area_code, CAST(m AS DATE) AS period, "
                "CAST(m + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE) AS month_end "
                "FROM (SELECT area_code, unnest(generate_series(first_month, last_month, INTERVAL 1 MONTH)) AS m "
                "FROM aw))")


def area_events_sql(kpi: KpiDefinition, area: str | None) -> str:
    """The KPI's per-event rows (``events_sql``) of one area, or of every area when ``area`` is None."""
    return f"SELECT * FROM ({events_sql(kpi)}) WHERE {area_condition(area)}"


def _rate_sql(events: str, scope: Scope) -> str:
    """Monthly rate per area from an ``events`` query yielding (area_code, event_date, met BOOLEAN)."""
    return f"""
    WITH {scope.grid_cte()},
    ev AS (SELECT area_code, CAST(date_trunc('month', event_date) AS DATE) AS period,
                  count(*) FILTER (WHERE met) AS numerator, count(*) AS denominator
           FROM ({events}) e JOIN aw USING (area_code)
           WHERE event_date IS NOT NULL AND event_date <= coalesce(aw.as_at, event_date)
             AND {scope.where("e.area_code")}
           GROUP BY 1, 2)
    SELECT g.area_code, g.period, coalesce(ev.numerator, 0) AS numerator, coalesce(ev.denominator, 0) AS denominator,
           NULL::DOUBLE AS median
    FROM grid g LEFT JOIN ev USING (area_code, period)
    ORDER BY g.area_code, g.period
    """


def _interval_count_sql(intervals: str, scope: Scope) -> str:
    """Count at each month end of intervals (start_date inclusive, end_date exclusive; NULL end = open), per area.

    An interval is counted at the month ends from its start's month to the month before its end's month (a month
    end E counts it when start_date <= E < end_date). So each interval adds one from its first counted month (or
    the area's first month) and takes it away at its end's month, and the count is the running sum of those
    changes: one pass over the intervals, not intervals x months."""
    return f"""
    WITH {scope.grid_cte()},
    iv AS (SELECT area_code, CAST(date_trunc('month', start_date) AS DATE) AS first_month,
                  CAST(date_trunc('month', end_date) AS DATE) AS stop_month
           FROM ({intervals})
           WHERE start_date IS NOT NULL AND (end_date IS NULL OR end_date > start_date) AND {scope.where()}),
    kept AS (SELECT iv.area_code, greatest(iv.first_month, aw.first_month) AS first_month, iv.stop_month,
                    aw.last_month
             FROM iv JOIN aw USING (area_code)
             WHERE iv.first_month <= aw.last_month AND (iv.stop_month IS NULL OR iv.stop_month > aw.first_month)),
    delta AS (SELECT area_code, first_month AS period, count(*) AS d FROM kept GROUP BY 1, 2
              UNION ALL
              SELECT area_code, stop_month, -count(*) FROM kept WHERE stop_month <= last_month GROUP BY 1, 2),
    net AS (SELECT area_code, period, sum(d) AS d FROM delta GROUP BY 1, 2)
    SELECT g.area_code, g.period,
           CAST(sum(coalesce(net.d, 0)) OVER (PARTITION BY g.area_code ORDER BY g.period) AS BIGINT) AS numerator,
           NULL::BIGINT AS denominator, NULL::DOUBLE AS median
    FROM grid g LEFT JOIN net USING (area_code, period)
    ORDER BY g.area_code, g.period
    """


def events_sql(kpi: KpiDefinition) -> str:
    """The per-event rows behind one KPI, before they are counted into months (Explore and Explain use them too).

    Every row names its ``area_code``, ``request_id`` and ``clock_start`` (the date the statutory clock started).
    Rates yield one
    row per completing event: ``event_date`` and ``met``; the mean yields ``event_date`` and ``weeks``; counts at
    month end yield one interval per record: counted from ``start_date`` (inclusive) until ``end_date``
    (exclusive; NULL = still counted).
    """
    c = kpi.computation
    if c.method in WAIT_METHODS:
        raise ValueError(f"{kpi.id} is a waiting-list KPI: its rows are referrals (kpi/engine/compute_waits.py), not "
                         "SEN2 events")
    if c.method == "plans_issued_within":
        # A blank week20 is unknown, not "no exception": counted including exceptions, left out excluding them.
        exceptions = "TRUE" if c.exceptions == "include" else "a.week20_exception = FALSE"
        return f"""SELECT area_code, r.request_id, r.received_date AS clock_start,
                       a.assessment_outcome_date AS event_date,
                       date_diff('day', r.received_date, a.assessment_outcome_date) <= {c.days} AS met
                FROM {FIRST_ISSUED} a JOIN request r USING (area_code, request_id)
                WHERE {exceptions}"""
    if c.method == "request_decisions_within":
        return f"""SELECT area_code, request_id, received_date AS clock_start, request_outcome_date AS event_date,
                       date_diff('day', received_date, request_outcome_date) <= {c.days} AS met
                FROM request WHERE request_outcome IN ('Y', 'N') AND request_outcome_date IS NOT NULL"""
    if c.method == "not_issue_within":
        # Excluding exceptions: week20 = 0 only (the flag applies to outcome N too; blank = unknown, left out).
        exceptions = "" if c.exceptions == "include" else "AND a.week20_exception = FALSE"
        return f"""SELECT area_code, r.request_id, r.received_date AS clock_start,
                       a.assessment_outcome_date AS event_date,
                       date_diff('day', r.received_date, a.assessment_outcome_date) <= {c.days} AS met
                FROM assessment a JOIN request r USING (area_code, request_id)
                WHERE a.assessment_outcome = 'N' AND a.assessment_outcome_date IS NOT NULL {exceptions}"""
    if c.method == "review_decisions_within":
        return f"""SELECT area_code, request_id, review_meeting_date AS clock_start, review_decision_date AS event_date,
                       date_diff('day', review_meeting_date, review_decision_date) <= {c.days} AS met
                FROM {REVIEWS}
                WHERE review_decision_date IS NOT NULL AND review_meeting_date IS NOT NULL"""
    if c.method == "phase_transfers_by_deadline":
        # One row per plan (request) and due date, however many activeplans rows repeat it; met when finalised on
        # or before the due date (SEN2's phasetransferduedate is the statutory deadline: 15 February, or 31 March
        # for post-16). Counted in the due date's month once the due date has passed, i.e. is before the area's
        # newest SEN2 extract's as-at date (else its latest dated SEN2 event; a plan still not final after its due
        # date counts as not met).
        return f"""WITH dated AS (
                    SELECT area_code, received_date AS d FROM request
                    UNION ALL SELECT area_code, request_outcome_date FROM request
                    UNION ALL SELECT area_code, assessment_outcome_date FROM assessment
                    UNION ALL SELECT area_code, review_meeting_date FROM active_plan
                    UNION ALL SELECT area_code, review_decision_date FROM active_plan),
                extract AS (SELECT area_code, max(as_at) AS as_at FROM load_log
                            WHERE area_code IS NOT NULL AND module IN ({SEN2_MODULE_LIST}) GROUP BY 1),
                known AS (SELECT d.area_code, coalesce(any_value(x.as_at), max(d.d)) AS data_end
                          FROM dated d LEFT JOIN extract x USING (area_code) GROUP BY 1),
                pt AS (SELECT area_code, request_id, phase_transfer_due AS due, min(phase_transfer_final) AS final
                       FROM active_plan WHERE phase_transfer_due IS NOT NULL GROUP BY 1, 2, 3)
                SELECT area_code, pt.request_id, pt.due AS clock_start, pt.due AS event_date,
                       coalesce(pt.final <= pt.due, FALSE) AS met
                FROM pt JOIN known USING (area_code)
                WHERE pt.due < known.data_end"""
    if c.method == "weeks_to_issue":
        return f"""SELECT area_code, r.request_id, r.received_date AS clock_start,
                       a.assessment_outcome_date AS event_date,
                       date_diff('day', r.received_date, a.assessment_outcome_date) / 7.0 AS weeks
                FROM {FIRST_ISSUED} a JOIN request r USING (area_code, request_id)"""
    if c.method == "open_assessments_over":
        # Open and over the limit from the later of the decision to assess and day (limit + 1) after receipt,
        # until the assessment's final outcome (plan issued, not issued, withdrawn, issued by another LA).
        # Requests agreed for assessment (Y, with its decision date) and historical ones (H: decided before the
        # return's period, so agreed for assessment, still open until an outcome; with no decision date their
        # clock starts on day limit + 1). An assessment coded H was decided before the period: closed on its date,
        # or from the start when it has none.
        return f"""SELECT r.area_code, r.request_id, r.received_date AS clock_start,
                       greatest(coalesce(r.request_outcome_date, r.received_date),
                                r.received_date + {c.days + 1}) AS start_date,
                       min(CASE WHEN a.assessment_outcome = 'H' THEN coalesce(a.assessment_outcome_date,
                                                                              r.received_date)
                                WHEN a.assessment_outcome IN {FINAL_ASSESSMENT_OUTCOMES}
                                THEN a.assessment_outcome_date END) AS end_date
                FROM request r LEFT JOIN assessment a
                  ON a.area_code = r.area_code AND a.request_id = r.request_id
                WHERE (r.request_outcome = 'Y' AND r.request_outcome_date IS NOT NULL) OR r.request_outcome = 'H'
                GROUP BY r.area_code, r.request_id, r.request_outcome_date, r.received_date"""
    if c.method == "reviews_overdue":
        # Anchors: the plan's start and each review meeting. A plan is overdue from the day after
        # anchor + N months until its next anchor, while it is active (not ceased). A repeated anchor (a meeting
        # on the start date) gives only an empty span (its next anchor is itself), so UNION ALL needs no dedup.
        return f"""WITH plans AS (
                    SELECT area_code, np.named_plan_id, a.request_id, np.start_date, np.cease_date
                    FROM named_plan np JOIN assessment a USING (area_code, assessment_id)
                    WHERE np.start_date IS NOT NULL),
                anchors AS (
                    SELECT area_code, named_plan_id, request_id, start_date AS anchor, cease_date FROM plans
                    UNION ALL
                    SELECT area_code, p.named_plan_id, p.request_id, ap.review_meeting_date, p.cease_date
                    FROM plans p JOIN {REVIEWS} ap USING (area_code, request_id)
                    WHERE ap.review_meeting_date IS NOT NULL AND ap.review_meeting_date >= p.start_date),
                spans AS (
                    SELECT area_code, request_id, anchor, cease_date,
                           lead(anchor) OVER (PARTITION BY area_code, named_plan_id ORDER BY anchor) AS next_anchor
                    FROM anchors)
                SELECT area_code, request_id, anchor AS clock_start,
                       CAST(anchor + INTERVAL {c.months} MONTH + INTERVAL 1 DAY AS DATE) AS start_date,
                       CASE WHEN next_anchor IS NULL THEN cease_date
                            WHEN cease_date IS NULL THEN next_anchor
                            ELSE least(next_anchor, cease_date) END AS end_date
                FROM spans"""
    raise ValueError(f"unknown computation method {c.method!r}")


def source_table(kpi: KpiDefinition) -> str:
    """The table whose areas a KPI's series covers: SEN2's requests, the referral list, or its local extract."""
    tables = TABLES_FOR_METHOD[kpi.computation.method]
    return "request" if "request" in tables or "active_plan" in tables else tables[0]


def method_sql(kpi: KpiDefinition, windows: Mapping[str, DataWindow] | DataWindow) -> str:
    """The SQL for one KPI's monthly numerator, denominator (and median) per area: each area of ``windows`` over its
    own months (area → window), or every area holding the KPI's source records over one window."""
    method = kpi.computation.method
    scope = Scope(source_table(kpi), windows)
    local = compute_local.method_sql(kpi, scope.grid_cte(), lambda ev: _rate_sql(ev, scope),
                                     lambda iv: _interval_count_sql(iv, scope))
    if local is not None:
        return local
    if method in WAIT_METHODS:
        from kpi.engine.compute_waits import waits_sql

        return waits_sql(kpi.computation, scope.grid_cte(), scope.where())
    if method in RATE_METHODS:
        return _rate_sql(events_sql(kpi), scope)
    if method in COUNT_METHODS:
        return _interval_count_sql(events_sql(kpi), scope)
    if method == "weeks_to_issue":
        return f"""
        WITH {scope.grid_cte()},
        ev AS (SELECT area_code, CAST(date_trunc('month', event_date) AS DATE) AS period, sum(weeks) AS numerator,
                      count(*) AS denominator, median(weeks) AS median
               FROM ({events_sql(kpi)}) e JOIN aw USING (area_code)
               WHERE event_date IS NOT NULL AND event_date <= coalesce(aw.as_at, event_date)
                 AND {scope.where("e.area_code")} GROUP BY 1, 2)
        SELECT g.area_code, g.period, coalesce(ev.numerator, 0) AS numerator,
               coalesce(ev.denominator, 0) AS denominator, ev.median
        FROM grid g LEFT JOIN ev USING (area_code, period)
        ORDER BY g.area_code, g.period
        """
    raise ValueError(f"unknown computation method {method!r}")


def rolling_12(values: pd.Series, areas: pd.Series) -> pd.Series:
    """Sum of the 12 months ending at each row, within each area (rows sorted by area, then month, every month
    present); empty until an area has 12 months, and wherever one of the 12 is empty. Vectorised: a running sum
    minus the running sum 12 rows earlier, never across an area boundary."""
    v = values.to_numpy(dtype="float64")
    n = len(v)
    if n == 0:
        return values.astype("float64")
    codes = pd.factorize(areas.to_numpy())[0]
    starts = np.r_[True, codes[1:] != codes[:-1]]
    position = np.arange(n) - np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    total = np.concatenate(([0.0], np.cumsum(np.nan_to_num(v, nan=0.0))))
    gaps = np.concatenate(([0], np.cumsum(np.isnan(v))))
    ends = np.arange(1, n + 1)
    begins = np.maximum(ends - 12, 0)
    window = total[ends] - total[begins]
    complete = (position >= 11) & (gaps[ends] - gaps[begins] == 0)
    return pd.Series(np.where(complete, window, np.nan), index=values.index)


def _finish(df: pd.DataFrame, kpi: KpiDefinition) -> pd.DataFrame:
    """Values and rolling 12-month values from numerators and denominators."""
    if kpi.computation.method == "kpi_return":
        return compute_local.finish_return(df, kpi, rolling_12)
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
    roll_num = rolling_12(num, df["area_code"])
    roll_den = rolling_12(den, df["area_code"])
    df["rolling_12m"] = (scale * roll_num / roll_den).where(roll_den > 0)
    return df


SERIES_COLUMNS = ["area_code", "kpi_id", "period", "numerator", "denominator", "value", "rolling_12m", "median"]


def _mark_complete(out: pd.DataFrame, as_at: np.ndarray, snapshot: np.ndarray) -> pd.DataFrame:
    """The ``complete`` column (the month ends on or before the row's as-at date; NaT: no date known, complete).
    A month-end count for a month that ends after the as-at date does not exist yet: its figures are left empty
    (rates keep the events known). ``as_at`` and ``snapshot`` are per row; one vectorised pass over the series."""
    month_end = (pd.to_datetime(out["period"]) + pd.offsets.MonthEnd(0)).to_numpy()
    known = ~np.isnat(as_at)
    out["complete"] = ~known | (month_end <= np.where(known, as_at, month_end))
    blank = snapshot & ~out["complete"].to_numpy()
    if blank.any():
        for column in ("numerator", "denominator", "value", "median"):
            out[column] = out[column].astype("float64").where(~blank)
    return out


def compute_kpi(con: duckdb.DuckDBPyConnection, kpi: KpiDefinition,
                windows: Mapping[str, DataWindow] | DataWindow) -> pd.DataFrame:
    """One KPI's monthly series per area: area_code, kpi_id, period (date), numerator, denominator, value,
    rolling_12m, median. ``windows`` as :func:`method_sql`."""
    df = con.execute(method_sql(kpi, windows)).df()
    df = _finish(df, kpi)
    df.insert(1, "kpi_id", kpi.id)
    return df[SERIES_COLUMNS]


def clamp(window: DataWindow | None, catalogue: Catalogue) -> DataWindow | None:
    """A window starting no earlier than the catalogue's ``series_start`` (None when nothing is left)."""
    if window is None or not catalogue.series_start:
        return window
    start = date.fromisoformat(catalogue.series_start + "-01")
    if start > window.last:
        return None
    return DataWindow(max(window.first, start), window.last, window.as_at)


def series_window(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, window: DataWindow | None = None
                  ) -> DataWindow | None:
    """The months the series covers (every area together): the data window (SEN2's unless ``window`` is given),
    starting no earlier than the catalogue's ``series_start``."""
    return clamp(data_window(con) if window is None else window, catalogue)


def series_windows(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, areas=None, as_of: date | None = None
                   ) -> dict[str, dict[str, DataWindow]]:
    """Each source family's months, per area: 'sen2' (also the local extracts') and 'waits' (the referral list's),
    each clamped to ``series_start``."""
    from kpi.engine.compute_waits import waits_windows

    out: dict[str, dict[str, DataWindow]] = {}
    for family, windows in (("sen2", data_windows(con, areas, as_of)), ("waits", waits_windows(con, areas, as_of))):
        out[family] = {a: w for a, w in ((a, clamp(w, catalogue)) for a, w in windows.items()) if w is not None}
    return out


def case_areas(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every local area holding case records (SEN2, referral list or local extracts), sorted by code."""
    return sorted(set().union(*_areas_by_table(con).values()))


def _areas_by_table(con: duckdb.DuckDBPyConnection, areas=None) -> dict[str, set[str]]:
    """The areas (of every area, or of ``areas``) holding rows in each case table."""
    tables = sorted({t for ts in TABLES_FOR_METHOD.values() for t in ts})
    union = " UNION ALL ".join(f"SELECT DISTINCT '{t}' AS t, area_code FROM {t} WHERE {areas_condition(areas)}"
                               for t in tables)
    found: dict[str, set[str]] = {t: set() for t in tables}
    for table, area in con.execute(union).fetchall():
        found[table].add(area)
    return found


def compute_all(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, kpi_ids: list[str] | None = None,
                areas: list[str] | tuple[str, ...] | None = None, as_of: date | None = None) -> pd.DataFrame:
    """Monthly series for the chosen KPIs (all by default) and areas (every area with case records by default),
    stacked: one row per area, KPI and month, each area over its own months.

    With ``as_of``, the series as they stood with only the extracts dated on or before that day: each area's months
    end at its newest such extract's as-at date, events after it are not counted, and reviews come from those
    extracts alone (records revised by a later extract keep their newer values: DESIGN §4, as-of view).

    Each source family has its own months: SEN2 KPIs (and the local extracts') keep the area's SEN2 window,
    waiting-list KPIs the area's referral window; an area lacking one family's window uses its other one. An area
    without a KPI's source records gets that KPI's months with empty values (never zeros)."""
    if as_of is None:
        return _compute_all(con, catalogue, kpi_ids, areas, None)
    con.execute(f"SET VARIABLE as_of = DATE '{as_of.isoformat()}'")  # read by REVIEWS
    try:
        return _compute_all(con, catalogue, kpi_ids, areas, as_of)
    finally:
        con.execute("RESET VARIABLE as_of")


def _compute_all(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, kpi_ids, areas, as_of) -> pd.DataFrame:
    from kpi.engine.compute_waits import split_batch

    by_table = _areas_by_table(con, areas)
    chosen = sorted(set().union(*by_table.values())) if areas is None else sorted(set(areas))
    families = series_windows(con, catalogue, areas, as_of)
    overall = _overall(families)
    if overall is None or not chosen:
        return pd.DataFrame(columns=[*SERIES_COLUMNS, "complete"])
    kpis = [catalogue.get(k) for k in kpi_ids] if kpi_ids else catalogue.kpis
    waits = [k for k in kpis if k.computation.method in WAIT_METHODS]
    batch = _waits_batch(con, waits, families, overall, chosen, by_table["referral"]) if waits else None
    frames, ranks, as_at, snapshot = [], [], [], []
    for rank, k in enumerate(kpis):
        windows = _windows_of(k, families, overall, chosen)
        holding = by_table[source_table(k)]
        if batch is not None and k in waits:  # every waiting-list KPI from one pass over the referrals
            got = _finish(split_batch(batch, k.computation), k)
            got.insert(1, "kpi_id", k.id)
            got = [got[SERIES_COLUMNS]]
        else:
            got = [compute_kpi(con, k, {a: w for a, w in windows.items() if a in holding})]
        got += [_no_data(k, a, windows[a]) for a in chosen if a not in holding]
        frames += got
        ranks += [np.full(len(f), rank) for f in got]
        dates = {a: np.datetime64(w.as_at, "ns") if w.as_at else np.datetime64("NaT", "ns") for a, w in windows.items()}
        as_at += [f["area_code"].map(dates).to_numpy(dtype="datetime64[ns]") for f in got]
        snapshot += [np.full(len(f), k.is_snapshot) for f in got]
    out = pd.concat(frames, ignore_index=True)
    out = _mark_complete(out, np.concatenate(as_at), np.concatenate(snapshot))
    # The catalogue's KPI order, then area, then month: the rank is carried per frame, not looked up per row.
    out["_rank"] = np.concatenate(ranks)
    return out.sort_values(["_rank", "area_code", "period"], kind="stable").drop(columns="_rank").reset_index(
        drop=True)


def _waits_batch(con: duckdb.DuckDBPyConnection, kpis: list[KpiDefinition], families, overall: DataWindow,
                 chosen: list[str], holding: set[str]) -> pd.DataFrame:
    """The waiting-list KPIs' measures for every service, area and month in one query (kpi.engine.compute_waits)."""
    from kpi.engine.compute_waits import waits_batch_sql

    windows = {a: w for a, w in _windows_of(kpis[0], families, overall, chosen).items() if a in holding}
    scope = Scope("referral", windows)
    return con.execute(waits_batch_sql([k.computation for k in kpis], scope.grid_cte(), scope.where())).df()


def _overall(families: dict[str, dict[str, DataWindow]]) -> DataWindow | None:
    """The months every family of every area covers together: the fallback for an area with neither window."""
    return span_of({f"{f}:{a}": w for f, ws in families.items() for a, w in ws.items()})


def _windows_of(kpi: KpiDefinition, families: dict[str, dict[str, DataWindow]], overall: DataWindow,
                areas: list[str]) -> dict[str, DataWindow]:
    """Each area's months for a KPI: its own family's window, else the area's other family's, else ``overall``."""
    own, other = ("waits", "sen2") if kpi.computation.method in WAIT_METHODS else ("sen2", "waits")
    return {a: families[own].get(a) or families[other].get(a) or overall for a in areas}


def kpi_windows(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, kpi: KpiDefinition,
                areas: list[str] | None = None) -> dict[str, DataWindow]:
    """The months of a KPI's series for each area holding its source records (only ``areas`` when given), as
    compute_all uses them: for showing the SQL behind one area's series (Explain)."""
    families = series_windows(con, catalogue, areas)
    overall = _overall(families)
    holding = _areas_by_table(con, areas)[source_table(kpi)]
    chosen = sorted(holding if areas is None else holding & set(areas))
    return _windows_of(kpi, families, overall, chosen) if overall else {}


def _no_data(kpi: KpiDefinition, area: str, window: DataWindow) -> pd.DataFrame:
    """Rows for an area whose source holds no records of a KPI: every month present, every value empty (not 0)."""
    periods = pd.date_range(window.first, window.last, freq="MS").astype("datetime64[us]")  # as DuckDB gives DATEs
    nan = float("nan")
    return pd.DataFrame({"area_code": area, "kpi_id": kpi.id, "period": periods, "numerator": nan,
                         "denominator": nan, "value": nan, "rolling_12m": nan, "median": nan})[SERIES_COLUMNS]


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
            from kpi.engine.compute_waits import waits_window

            waits = waits_window(con)
            if waits is not None and f"{waits.last:%Y-%m}" < start:
                problems.append(f"plan window starts {start} but the referral data end at {waits.last:%Y-%m}")
    return problems
