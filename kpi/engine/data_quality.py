"""What the Data quality page shows: load history, quarantined rows with reasons, freshness per source, the
revisions later extracts made and the record checks (SEN2 records loaded but read by a stated rule). Read-only
queries on the load bookkeeping and the clean tables (etl/schema.sql, etl/schema_load.sql).

Why here and not in the page: the rules (which layouts make up a source, how often each is expected, when a
source counts as overdue) are business rules, tested on their own; the page only lays the tables out.
Nothing here exposes an identifier: quarantine values of identifier columns were never stored, and record keys
built on a person are shortened pseudonyms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import duckdb
import pandas as pd

from etl import months
from etl.wording import counted
from kpi.engine.window import area_condition

# Source → (layouts that feed it, the table holding its records and its latest-date column, expected every N days)
SOURCES: dict[str, tuple[tuple[str, ...], str | None, str | None, int]] = {
    "SEN2 case records": (("sen2_blade", "sen2_template", "sen2_modules_csv"), "request", "received_date", 31),
    "Advice requests": (("local_advice_requests",), "advice_request", "requested_date", 31),
    "EHCP quality audits": (("local_ehcp_audits",), "ehcp_audit", "audit_date", 31),
    "Placement sufficiency": (("local_placement_sufficiency",), "placement_need", "need_date", 31),
    "Reduced timetables": (("local_reduced_timetables",), "reduced_timetable", "start_date", 31),
    "KPI returns": (("local_kpi_returns",), "kpi_return", "period", 31),
    "Waiting-list referrals": (("waits_referral",), "referral", "referral_date", 31),
    "NHS England waiting lists": (("nhs_chs",), None, None, 31),
    "DfE published statistics": (("dfe_ees", "dfe_sen2_mi", "dfe_tribunal", "dfe_stat_neighbours"), None, None, 366),
}
GRACE_DAYS = 14  # a monthly extract a fortnight late is overdue
FRESHNESS = {
    "up_to_date": ("✔", "Up to date"),
    "due": ("!", "Due now"),
    "overdue": ("✖", "Overdue"),
    "never": ("–", "Never loaded"),
}
EXPECTED_WORDS = {31: "monthly", 366: "yearly"}
STATUS_WORDS = {"loaded": "✔ Loaded", "loaded_with_quarantine": "! Loaded, some rows quarantined"}


def freshness_status(last_loaded: date | None, every_days: int, today: date) -> str:
    """up_to_date within the expected interval, due in the grace period after it, overdue after that."""
    if last_loaded is None:
        return "never"
    age = (today - last_loaded).days
    if age <= every_days:
        return "up_to_date"
    if age <= every_days + GRACE_DAYS:
        return "due"
    return "overdue"


def freshness_label(status: str) -> str:
    symbol, words = FRESHNESS[status]
    return f"{symbol} {words}"


def month_freshness(as_at: date | str | None, period: str) -> str:
    """How an area's newest extract stands to a chosen month: "Up to date" when it covers the whole month (as at its
    last day or later), "Partial month: …" when it stands inside it, "Stale: N months behind the chosen month" when
    it ends in an earlier month, "No as-at date" when none is recorded (the portfolio shows it per area)."""
    if as_at is None or (isinstance(as_at, float) and as_at != as_at):
        return "No as-at date"
    day = date.fromisoformat(as_at) if isinstance(as_at, str) else as_at
    if day >= months.last_day(period):
        return FRESHNESS["up_to_date"][1]
    behind = months.index(period) - months.index(day)
    if behind == 0:
        return f"Partial month: data as at day {day.day} of the chosen month"
    return f"Stale: {counted(behind, 'month')} behind the chosen month"


def _df(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pd.DataFrame:
    return con.execute(sql, params or []).df()


def _has(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                            [table]).fetchone()[0])


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    return {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE table_name = ?",
                                      [table]).fetchall()}


def _of_area(area: str | None, column: str = "area_code") -> str:
    """Load bookkeeping of one area: its own loads and the published statistics every area shares (no area)."""
    return "TRUE" if area is None else f"({column} IS NULL OR {area_condition(area, column)})"


def _area_loads(area: str | None, column: str = "load_id") -> str:
    return "TRUE" if area is None else f"{column} IN (SELECT load_id FROM load_log WHERE {_of_area(area)})"


def load_history(con: duckdb.DuckDBPyConnection, area: str | None = None) -> pd.DataFrame:
    """One row per file (or sheet) loaded (for one area and the published statistics, or every area), newest
    first."""
    cols = _columns(con, "load_log")
    who = "loaded_by" if "loaded_by" in cols else "NULL"
    started = "started_at" if "started_at" in cols else "loaded_at"
    as_at = ("as_at AS \"Data as at\", as_at_source AS \"Date from\"," if "as_at" in cols
             else "NULL AS \"Data as at\", NULL AS \"Date from\",")
    df = _df(con, f"""
        SELECT load_id AS "Load", loaded_at AS "Finished", source_file AS "File", {as_at} layout AS "Layout",
               module AS "Module", rows_read AS "Rows read", rows_loaded AS "Rows loaded",
               rows_quarantined AS "Rows quarantined", status,
               round(date_diff('millisecond', coalesce({started}, loaded_at), loaded_at) / 1000.0, 1) AS "Seconds",
               {who} AS "Loaded by", {"area_code" if "area_code" in cols else "NULL"} AS "Area"
        FROM load_log WHERE {_of_area(area) if "area_code" in cols else "TRUE"} ORDER BY load_id DESC""")
    df.insert(10, "Outcome", df.pop("status").map(lambda s: STATUS_WORDS.get(s, s)))
    return df


def quarantine_rows(con: duckdb.DuckDBPyConnection, limit: int = 5000, area: str | None = None) -> pd.DataFrame:
    """Quarantined values with their reasons and the whole row as read (identifiers were never stored; person
    ids show as "(pseudonym)"), newest load first."""
    has_rows = _has(con, "quarantine_row")
    row_col = "r.row_values" if has_rows else "NULL"
    join = ("LEFT JOIN quarantine_row r ON r.load_id = q.load_id AND r.source_file = q.source_file "
            "AND r.row_number = q.row_number") if has_rows else ""
    df = _df(con, f"""
        SELECT q.load_id AS "Load", q.source_file AS "File", q.module AS "Module", q.row_number AS "Row",
               q.column_name AS "Column", q.value AS "Value as read", q.reason AS "Reason", {row_col} AS "Row as read"
        FROM quarantine q {join} WHERE {_area_loads(area, "q.load_id")}
        ORDER BY q.load_id DESC, q.source_file, q.row_number, q.column_name LIMIT ?""", [limit])
    df["Row as read"] = df["Row as read"].astype("string").str.replace(r'"[0-9a-f]{64}"', '"(pseudonym)"',
                                                                       regex=True)
    return df


def quarantine_summary(con: duckdb.DuckDBPyConnection, area: str | None = None) -> pd.DataFrame:
    """How many rows broke each rule, by module: where to start fixing the extract."""
    return _df(con, f"""
        SELECT module AS "Module", reason AS "Reason", count(DISTINCT (load_id, source_file, row_number)) AS "Rows"
        FROM quarantine WHERE {_area_loads(area)} GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2""")


def warnings(con: duckdb.DuckDBPyConnection, area: str | None = None) -> pd.DataFrame:
    if not _has(con, "load_warning"):
        return pd.DataFrame(columns=["Load", "File", "Column", "Warning"])
    return _df(con, f"""SELECT load_id AS "Load", source_file AS "File", column_name AS "Column",
                               message AS "Warning" FROM load_warning WHERE {_area_loads(area)}
                        ORDER BY load_id DESC""")


def freshness(con: duckdb.DuckDBPyConnection, today: date | None = None, area: str | None = None) -> pd.DataFrame:
    """Per source (of one area, or every area): when it was last loaded, how often it is expected, its latest
    record date and its status.

    Layouts in load_log that no source claims (a family added later) appear under their own name, monthly."""
    today = today or date.today()
    last = dict(con.execute(f"SELECT layout, CAST(max(loaded_at) AS DATE) FROM load_log WHERE {_of_area(area)} "
                            "GROUP BY 1").fetchall())
    dated = dict(con.execute(f"SELECT layout, max(as_at) FROM load_log WHERE {_of_area(area)} GROUP BY 1"
                             ).fetchall()) if "as_at" in _columns(con, "load_log") else {}
    sources = dict(SOURCES)
    claimed = {lay for layouts, *_ in SOURCES.values() for lay in layouts}
    for layout in sorted(set(last) - claimed):
        sources[layout] = ((layout,), None, None, 31)
    rows = []
    for name, (layouts, table, column, every) in sources.items():
        loaded = [last[lay] for lay in layouts if lay in last]
        last_loaded = max(loaded) if loaded else None
        latest = None
        if table and _has(con, table):
            latest = con.execute(f"SELECT max({column}) FROM {table} WHERE {area_condition(area)}").fetchone()[0]
        status = freshness_status(last_loaded, every, today)
        as_at = [dated[lay] for lay in layouts if dated.get(lay)]
        rows.append({
            "Source": name, "Expected": EXPECTED_WORDS.get(every, f"every {every} days"),
            "Last loaded": last_loaded, "Data as at": max(as_at) if as_at else None,
            "Days since": (today - last_loaded).days if last_loaded else None,
            "Latest record": latest, "Status": freshness_label(status), "status": status,
        })
    return pd.DataFrame(rows)


def _short(key: str) -> str:
    """A record key shortened for display: pseudonyms (64 hex) cut to 10 characters, dates kept."""
    return "|".join(p[:10] + "…" if len(p) == 64 else p for p in str(key).split("|"))


def revisions(con: duckdb.DuckDBPyConnection, limit: int = 5000, area: str | None = None) -> pd.DataFrame:
    """Records a later extract changed: which, when, by which load, what changed and what it was before."""
    if not _has(con, "record_revision"):
        return pd.DataFrame(columns=["Load", "Revised", "Module", "Record", "Changed", "Previous values",
                                     "Previous load"])
    df = _df(con, f"""
        SELECT load_id AS "Load", revised_at AS "Revised", module AS "Module", record_key AS "Record",
               changed_columns AS "Changed", previous_values AS "Previous values", previous_load_id AS "Previous load"
        FROM record_revision WHERE {_of_area(area)} ORDER BY load_id DESC, module, record_key LIMIT ?""", [limit])
    df["Record"] = df["Record"].map(_short)
    df["Previous values"] = df["Previous values"].str.replace(r'"[0-9a-f]{64}"', '"(pseudonym)"', regex=True)
    return df


# Checks on the SEN2 records themselves (what one extract can and cannot tell): loaded, but read
# by a stated rule. (check, what the KPIs do with them, tables needed, SQL counting the records; {w} = area filter)
ISSUED_ROW = "assessment_outcome = 'Y' AND assessment_outcome_date IS NOT NULL"
RECORD_CHECKS: list[tuple[str, str, tuple[str, ...], str]] = [
    ("Requests with more than one issued plan (a second assessment outcome Y on the same request)",
     "One request, one first plan: only the first issued (earliest outcome date, then lowest record id) counts in "
     "the 20-week measures and weeks to issue",
     ("assessment",),
     f"SELECT count(*) FROM (SELECT area_code, request_id FROM assessment WHERE {ISSUED_ROW} AND {{w}} "
     "GROUP BY 1, 2 HAVING count(*) > 1)"),
    ("Issued plans with a blank week20 (exception unknown)",
     "Counted in the 20-week rate including exceptions, left out of the rate excluding exceptions",
     ("assessment",),
     f"SELECT count(*) FROM assessment WHERE {ISSUED_ROW} AND week20_exception IS NULL AND {{w}}"),
    ("Decisions not to issue with a blank week20 (exception unknown)",
     "Counted in decisions not to issue within 16 weeks, left out of the measure excluding exceptions",
     ("assessment",),
     "SELECT count(*) FROM assessment WHERE assessment_outcome = 'N' AND assessment_outcome_date IS NOT NULL "
     "AND week20_exception IS NULL AND {w}"),
    ("Historical requests (outcome H) with no final assessment outcome",
     "Still being assessed: in the assessment backlog from day 141 after receipt (or from their decision date)",
     ("request", "assessment"),
     "SELECT count(*) FROM request r WHERE r.request_outcome = 'H' AND {w} AND NOT EXISTS (SELECT 1 FROM assessment "
     "a WHERE a.area_code = r.area_code AND a.request_id = r.request_id AND a.assessment_outcome IN "
     "('Y', 'N', 'W', 'S', 'H'))"),
    ("Phase-transfer due dates other than 15 February or 31 March",
     "Phase transfers are judged against the due date as recorded",
     ("active_plan",),
     "SELECT count(DISTINCT (area_code, request_id, phase_transfer_due)) FROM active_plan WHERE {w} AND "
     "phase_transfer_due IS NOT NULL AND strftime(phase_transfer_due, '%m-%d') NOT IN ('02-15', '03-31')"),
]


CHECK_COLUMNS = ["Check", "Records", "How the KPIs read them"]


def record_checks(con: duckdb.DuckDBPyConnection, area: str | None = None) -> pd.DataFrame:
    """Every record check with how many records (of one area, or every area) it finds and what the KPIs do with
    them: warnings, not quarantine (the records load and count by the rule given)."""
    rows = []
    for check, effect, tables, sql in RECORD_CHECKS:
        n = (con.execute(sql.format(w=area_condition(area))).fetchone()[0]
             if all(_has(con, t) for t in tables) else 0)
        rows.append(dict(zip(CHECK_COLUMNS, (check, int(n), effect), strict=True)))
    return pd.DataFrame(rows, columns=CHECK_COLUMNS)


def revision_counts(revs: pd.DataFrame, small: tuple[int, int] | None = None) -> pd.DataFrame:
    """Revisions counted by module and the columns changed, with no record-level content (no record key, dates,
    outcome or previous values): what roles without record-level access see. Counts from ``small[0]`` to
    ``small[1]`` are shown as "c" (the small-number rule), so the table can leave the analysts."""
    counts = (revs.groupby(["Module", "Changed"], dropna=False).size().rename("Records").reset_index()
              .sort_values(["Module", "Changed"], ignore_index=True))
    if small is not None:
        low, high = small
        counts["Records"] = [("c" if low <= n <= high else f"{n:,}") for n in counts["Records"]]
    return counts


@dataclass(frozen=True)
class QualityReport:
    """Everything the page shows, computed once."""

    history: pd.DataFrame
    quarantine: pd.DataFrame
    quarantine_summary: pd.DataFrame
    warnings: pd.DataFrame
    freshness: pd.DataFrame
    revisions: pd.DataFrame
    as_of: datetime
    record_checks: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CHECK_COLUMNS))

    @property
    def record_warnings(self) -> int:
        """How many record checks find something."""
        return int((self.record_checks["Records"] > 0).sum())


def quality_report(con: duckdb.DuckDBPyConnection, today: date | None = None, area: str | None = None
                   ) -> QualityReport:
    """The page's tables for one area (its loads and the published statistics), or for every area."""
    return QualityReport(load_history(con, area), quarantine_rows(con, area=area), quarantine_summary(con, area),
                         warnings(con, area), freshness(con, today, area), revisions(con, area=area), datetime.now(),
                         record_checks(con, area))
