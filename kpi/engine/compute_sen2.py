"""The SEN2 KPIs' per-event rows (the statutory definitions of kpi_definitions.yaml) and the SEN2 data window, in
DuckDB SQL.

Every row names its ``area_code``, ``request_id`` and ``clock_start`` (the date the statutory clock started). Rates
yield one row per completing event: ``event_date`` and ``met``; the mean yields ``event_date`` and ``weeks``; counts
at month end yield one interval per record: counted from ``start_date`` (inclusive) until ``end_date`` (exclusive;
NULL = still counted). ``METHODS`` registers each method with how its rows are counted into months.
"""

from __future__ import annotations

from datetime import date

import duckdb

from etl.as_at import SEN2_MODULES, extracts_as_at
from etl.sql_text import in_list
from kpi.definitions import KpiDefinition
from kpi.engine.methods import Method, mean, month_end_count, rate
from kpi.engine.window import DataWindow, areas_condition, to_as_at

ISSUED = "a.assessment_outcome = 'Y' AND a.assessment_outcome_date IS NOT NULL"
SEN2_MODULE_LIST = in_list(SEN2_MODULES)
# Every review any extract showed (etl/schema_load.sql review_history), one row per plan and meeting, in the version
# of the newest extract that showed it; with the session variable ``as_of`` set (kpi series --as-of), only the
# extracts dated on or before it.
KNOWN_REVIEWS = """(SELECT * FROM review_history
     WHERE as_at IS NULL OR as_at <= coalesce(getvariable('as_of'), DATE '9999-12-31'))"""
# (a hash aggregate with arg_max: one pass, no sort of the history as a window function would need). Newest: the
# latest as-at date (none = oldest), then the latest load; packed into one BIGINT, ordered exactly as the pair (days
# since year 1 in the high 32 bits, the INTEGER load id shifted to 0 .. 2^32 - 1 in the low ones), since comparing
# an integer costs the aggregate much less than comparing a struct.
_NEWEST = ("(CAST(date_diff('day', DATE '0001-01-01', coalesce(as_at, DATE '0001-01-01')) AS BIGINT) * 4294967296"
           " + load_id + 2147483648)")
REVIEWS = f"""(SELECT area_code, request_id, review_meeting_date,
            arg_max_null(review_decision_date, {_NEWEST}) AS review_decision_date,
            arg_max_null(review_outcome, {_NEWEST}) AS review_outcome
     FROM {KNOWN_REVIEWS} GROUP BY area_code, request_id, review_meeting_date)"""
FINAL_ASSESSMENT_OUTCOMES = "('Y', 'N', 'W', 'S')"
# One request, one first plan: a second issued (outcome Y) assessment on a request is a data-quality problem
# (kpi/engine/data_quality.py), not a second plan. The plan counted is the first issued: earliest outcome date, then the
# lowest record id (numerically when ids are numbers). Almost every request has one issued assessment, kept as it is;
# only requests with more are ranked (a window over every issued assessment cost a sort most rows do not need).
FIRST_ISSUED = f"""(WITH issued AS (SELECT * FROM assessment a WHERE {ISSUED}),
    repeated AS (SELECT area_code, request_id FROM issued GROUP BY 1, 2 HAVING count(*) > 1)
    SELECT a.* FROM issued a ANTI JOIN repeated USING (area_code, request_id)
    UNION ALL
    SELECT * FROM (SELECT a.* FROM issued a SEMI JOIN repeated USING (area_code, request_id)
                   QUALIFY row_number() OVER (PARTITION BY a.area_code, a.request_id
                                              ORDER BY a.assessment_outcome_date,
                                                       TRY_CAST(a.assessment_id AS BIGINT) NULLS LAST,
                                                       a.assessment_id) = 1))"""


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


def _plans_issued_within(kpi: KpiDefinition) -> str:
    # A blank week20 is unknown, not "no exception": counted including exceptions, left out excluding them.
    c = kpi.computation
    exceptions = "TRUE" if c.exceptions == "include" else "a.week20_exception = FALSE"
    return f"""SELECT area_code, r.request_id, r.received_date AS clock_start,
                   a.assessment_outcome_date AS event_date,
                   date_diff('day', r.received_date, a.assessment_outcome_date) <= {c.days} AS met
            FROM {FIRST_ISSUED} a JOIN request r USING (area_code, request_id)
            WHERE {exceptions}"""


def _request_decisions_within(kpi: KpiDefinition) -> str:
    return f"""SELECT area_code, request_id, received_date AS clock_start, request_outcome_date AS event_date,
                   date_diff('day', received_date, request_outcome_date) <= {kpi.computation.days} AS met
            FROM request WHERE request_outcome IN ('Y', 'N') AND request_outcome_date IS NOT NULL"""


def _not_issue_within(kpi: KpiDefinition) -> str:
    # Excluding exceptions: week20 = 0 only (the flag applies to outcome N too; blank = unknown, left out).
    c = kpi.computation
    exceptions = "" if c.exceptions == "include" else "AND a.week20_exception = FALSE"
    return f"""SELECT area_code, r.request_id, r.received_date AS clock_start,
                   a.assessment_outcome_date AS event_date,
                   date_diff('day', r.received_date, a.assessment_outcome_date) <= {c.days} AS met
            FROM assessment a JOIN request r USING (area_code, request_id)
            WHERE a.assessment_outcome = 'N' AND a.assessment_outcome_date IS NOT NULL {exceptions}"""


def _review_decisions_within(kpi: KpiDefinition) -> str:
    return f"""SELECT area_code, request_id, review_meeting_date AS clock_start, review_decision_date AS event_date,
                   date_diff('day', review_meeting_date, review_decision_date) <= {kpi.computation.days} AS met
            FROM {REVIEWS}
            WHERE review_decision_date IS NOT NULL AND review_meeting_date IS NOT NULL"""


def _phase_transfers_by_deadline(kpi: KpiDefinition) -> str:
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


def _weeks_to_issue(kpi: KpiDefinition) -> str:
    return f"""SELECT area_code, r.request_id, r.received_date AS clock_start,
                   a.assessment_outcome_date AS event_date,
                   date_diff('day', r.received_date, a.assessment_outcome_date) / 7.0 AS weeks
            FROM {FIRST_ISSUED} a JOIN request r USING (area_code, request_id)"""


def _open_assessments_over(kpi: KpiDefinition) -> str:
    # Open and over the limit from the later of the decision to assess and day (limit + 1) after receipt,
    # until the assessment's final outcome (plan issued, not issued, withdrawn, issued by another LA).
    # Requests agreed for assessment (Y, with its decision date) and historical ones (H: decided before the
    # return's period, so agreed for assessment, still open until an outcome; with no decision date their
    # clock starts on day limit + 1). An assessment coded H was decided before the period: closed on its date,
    # or from the start when it has none.
    return f"""SELECT r.area_code, r.request_id, r.received_date AS clock_start,
                   greatest(coalesce(r.request_outcome_date, r.received_date),
                            r.received_date + {kpi.computation.days + 1}) AS start_date,
                   min(CASE WHEN a.assessment_outcome = 'H' THEN coalesce(a.assessment_outcome_date,
                                                                          r.received_date)
                            WHEN a.assessment_outcome IN {FINAL_ASSESSMENT_OUTCOMES}
                            THEN a.assessment_outcome_date END) AS end_date
            FROM request r LEFT JOIN assessment a
              ON a.area_code = r.area_code AND a.request_id = r.request_id
            WHERE (r.request_outcome = 'Y' AND r.request_outcome_date IS NOT NULL) OR r.request_outcome = 'H'
            GROUP BY r.area_code, r.request_id, r.request_outcome_date, r.received_date"""


def _reviews_overdue(kpi: KpiDefinition) -> str:
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
                   CAST(anchor + INTERVAL {kpi.computation.months} MONTH + INTERVAL 1 DAY AS DATE) AS start_date,
                   CASE WHEN next_anchor IS NULL THEN cease_date
                        WHEN cease_date IS NULL THEN next_anchor
                        ELSE least(next_anchor, cease_date) END AS end_date
            FROM spans"""


METHODS: dict[str, Method] = {
    "plans_issued_within": rate(_plans_issued_within),
    "request_decisions_within": rate(_request_decisions_within),
    "not_issue_within": rate(_not_issue_within),
    "review_decisions_within": rate(_review_decisions_within),
    "phase_transfers_by_deadline": rate(_phase_transfers_by_deadline),
    "weeks_to_issue": mean(_weeks_to_issue),
    "open_assessments_over": month_end_count(_open_assessments_over),
    "reviews_overdue": month_end_count(_reviews_overdue),
}
