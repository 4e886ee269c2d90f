"""Explain this number: where one KPI's value for one month comes from.

Its definition (as written in ``kpi_definitions.yaml``), the SQL that computes the series (``method_sql``) and the
per-event SQL beneath it (``events_sql``), the records counted (pseudonymous: person pseudonym, request id, dates,
met or not) and the loads those records came from (file, SHA-256, load time, from ``load_log``). For analysts only:
the records are about individual children, so the caller decides who sees them.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import yaml

from kpi.definitions import TABLES_FOR_METHOD, Catalogue, KpiDefinition
from kpi.engine.compute import area_events_sql, kpi_windows, method_sql
from kpi.engine.explore import Span, family, selection_sql

# What the two dates of each KPI's event rows are, in words: (clock start, event or counted-from).
DATE_LABELS = {
    "plans_issued_within": ("Request received", "Plan issued"),
    "request_decisions_within": ("Request received", "Decision made"),
    "not_issue_within": ("Request received", "Decision not to issue notified"),
    "review_decisions_within": ("Review meeting", "Decision notified"),
    "weeks_to_issue": ("Request received", "Plan issued"),
    "open_assessments_over": ("Request received", "Over the limit from"),
    "reviews_overdue": ("Plan start or last review meeting", "Overdue from"),
}


def definition_yaml(kpi: KpiDefinition) -> str:
    """The KPI's entry as YAML, field for field as the definitions file gives it."""
    return yaml.safe_dump(kpi.model_dump(mode="json", exclude_none=True), sort_keys=False,
                          allow_unicode=True, width=110)


def series_sql(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, kpi: KpiDefinition,
               area: str | None = None) -> str | None:
    """The SQL that produced the KPI's monthly series (of one area) on this database (None when it holds no dated
    records)."""
    windows = kpi_windows(con, catalogue, kpi, [area] if area else None)
    return method_sql(kpi, windows).strip() if windows else None


def records_sql(kpi: KpiDefinition, period: str, area: str | None = None) -> str:
    """The KPI's event rows counted in one month (of one area), with the person pseudonym of each request."""
    selection = selection_sql(kpi, Span.month(period), "a")
    fam = family(kpi)
    if fam == "count":
        cols = "ev.start_date, ev.end_date"
        order = "ev.start_date, ev.request_id"
    else:
        measure = "ev.met" if fam == "rate" else "ev.weeks"
        cols = f"ev.event_date, date_diff('day', ev.clock_start, ev.event_date) AS days, {measure}"
        order = ("ev.met DESC, " if fam == "rate" else "") + "ev.event_date, ev.request_id"
    return f"""
    WITH ev AS ({area_events_sql(kpi, area)}), sel AS ({selection})
    SELECT ev.area_code, r.person_key, ev.request_id, ev.clock_start, {cols}
    FROM sel ev LEFT JOIN request r ON r.area_code = ev.area_code AND r.request_id = ev.request_id
    ORDER BY {order}"""


def records(con: duckdb.DuckDBPyConnection, kpi: KpiDefinition, period: str, area: str | None = None) -> pd.DataFrame:
    """The records behind one month's value: for rates every event in the denominator with ``met`` (the numerator
    is those met); for the mean every plan with its weeks; for counts every record counted at the month end."""
    return con.execute(records_sql(kpi, period, area)).df()


def records_table(df: pd.DataFrame, kpi: KpiDefinition) -> pd.DataFrame:
    """The records as the page shows and downloads them: labelled columns, dates as YYYY-MM-DD, met as Yes/No."""
    clock, event = DATE_LABELS[kpi.computation.method]
    out = pd.DataFrame({
        "Person (pseudonym)": df["person_key"].astype(str).to_numpy(),
        "Request id": df["request_id"].astype(str).to_numpy(),
        clock: _dates(df["clock_start"]),
    })
    fam = family(kpi)
    if fam == "count":
        out[event] = _dates(df["start_date"])
        out["Until"] = _dates(df["end_date"])
        return out
    out[event] = _dates(df["event_date"])
    out["Days"] = pd.to_numeric(df["days"]).astype("Int64").to_numpy()
    if fam == "rate":
        out["Met"] = ["Yes" if bool(m) else "No" for m in df["met"]]
    else:
        out["Weeks"] = pd.to_numeric(df["weeks"]).round(1).to_numpy()
    return out


def _dates(values: pd.Series) -> list[str]:
    return ["" if pd.isna(v) else pd.Timestamp(v).strftime("%Y-%m-%d") for v in values]


def loads(con: duckdb.DuckDBPyConnection, kpi: KpiDefinition, period: str, area: str | None = None) -> pd.DataFrame:
    """The loads (load_log rows) that supplied the records behind one month's value: the requests counted, their
    person records and, as the KPI reads them, their assessments, plans and review records. Each record names the
    load that last wrote it, so a newer extract that revised a record shows in place of the older one."""
    tables = set(TABLES_FOR_METHOD[kpi.computation.method])
    ids = "(area_code, request_id) IN (SELECT (area_code, request_id) FROM ids)"
    parts = [f"SELECT load_id FROM request WHERE {ids}",
             f"SELECT p.load_id FROM person p JOIN request r USING (area_code, person_key) WHERE {ids}"]
    if "assessment" in tables:
        parts.append(f"SELECT load_id FROM assessment WHERE {ids}")
    if "named_plan" in tables:
        parts.append(f"SELECT np.load_id FROM named_plan np JOIN assessment a USING (area_code, assessment_id) "
                     f"WHERE {ids}")
    if "active_plan" in tables:
        parts.append(f"SELECT load_id FROM active_plan WHERE {ids}")
    return con.execute(f"""
        WITH ids AS (SELECT DISTINCT area_code, request_id FROM ({records_sql(kpi, period, area)})),
        used AS ({' UNION '.join(parts)})
        SELECT l.source_file AS "File", l.module AS "Module", l.file_sha256 AS "SHA-256",
               strftime(l.loaded_at, '%Y-%m-%d %H:%M:%S') AS "Loaded at", l.rows_loaded AS "Rows loaded",
               l.rows_quarantined AS "Rows quarantined", l.load_id AS "Load id"
        FROM load_log l WHERE l.load_id IN (SELECT load_id FROM used)
        ORDER BY l.loaded_at, l.load_id""").df()
