"""DfE's published SEND statistics, loaded in long form into ``published_value`` (etl/schema_published.sql).

Three layouts, each detected from the file itself (never from its name):

``dfe_ees`` – the current "Education, health and care plans" release from explore-education-statistics: one
    tidy CSV per topic (``timeliness_20_week.csv``, ``requests.csv``, ``assessments.csv``,
    ``annual_reviews.csv``, ``sen_need_newplans.csv``, ``ceased_plans.csv``, …) whose leading columns are
    ``time_period, time_identifier, geographic_level, country_code, country_name, region_code, region_name,
    new_la_code, old_la_code, la_name, breakdown_topic, breakdown`` and every other column a measure.
    The dataset is named by its signature column (``plans_issued_den`` → ``timeliness_20_week`` …), so a
    renamed download still lands in the right place; an unknown EES file is kept under its file name.
``dfe_sen2_mi`` – the older single-file aggregate (``sen2_mi.csv``, 2014–2022) in both vintages: snake_case
    (``inc_exc_20week_rate``) and CamelCase (``IncExc20weekRate``). CamelCase names are mapped onto the
    snake_case ones, so both vintages give the same measures.
``dfe_tribunal`` – the SEND Tribunal appeal-rate table (a report sheet saved as CSV: title rows above a
    two-row header of years and measures, region headings, footnote digits stuck to names, ``-`` for nil,
    ``..`` not available, ``~`` suppressed, thousands separators and ``%``). Its LA numbers are not reliable
    (it gives Central Bedfordshire 873, which is Cambridgeshire's number), so areas are matched by *name*
    and the year; a contradicting code is kept in ``source_code``.

Cells, whatever the layout:

- ``x`` (not available), ``z`` (not applicable), ``c`` (suppressed), ``low`` and ``u`` are kept as the
  ``marker`` with no value; ``..`` and ``:`` count as ``x``, ``~`` as ``c``; ``-`` is nil (0).
- Numbers may be written with spaces or quotes around them (``' 1.4679'``, ``'  9.434'``), thousands
  separators or a ``%`` sign: all are read as the number. Blank cells are not stored.
- Anything else is a problem: the whole source row goes to ``quarantine`` (file, row, column, reason,
  value) and none of its cells is loaded — as with the SEN2 extracts.
- A UTF-8 byte-order mark is ignored. A column that appears twice (``review_meeting_prior_24``) is loaded
  once when both copies agree; rows where they disagree are quarantined. Measure names are DfE's,
  lower-cased, with DfE's misspellings corrected (``number_decsion_4weeks`` → ``number_decision_4weeks``);
  ``source_column`` keeps the header as written.

Areas: every row gets a canonical ``area_code`` — E92000001 for England, the region code, or for a local
authority its current ONS code found through the LA number first, then the published code (see
``etl.reference``). A reload replaces rows with the same dataset, period, area and breakdown, so a revised
release supersedes the figures it restates; identical files are skipped by the loader.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from etl import reference
from etl.report import FileResult, LoadRejected, Problem

# --- KPI map: our KPI ids → DfE's columns ------------------------------------------------------------------

KPI_MEASURES: list[dict] = [
    {"kpi_id": "ehcp_20wk_excl", "dataset": "timeliness_20_week", "priority": 1,
     "numerator": "plans_issued_20_weeks_ex", "denominator": ["plans_issued_den_ex"],
     "rate": "pc_plans_issued_20_weeks_ex", "polarity": "up",
     "name": "EHC plans issued within 20 weeks, excluding exceptions", "note": None},
    {"kpi_id": "ehcp_20wk_excl", "dataset": "sen2_mi", "priority": 2,
     "numerator": "no_exc_20week_ehc", "denominator": ["tot_no_exc_ehc"],
     "rate": "no_exc_20week_rate", "polarity": "up",
     "name": "EHC plans issued within 20 weeks, excluding exceptions", "note": "older aggregate return, 2014–2022"},
    {"kpi_id": "ehcp_20wk_incl", "dataset": "timeliness_20_week", "priority": 1,
     "numerator": "plans_issued_within_20_weeks", "denominator": ["plans_issued_den"],
     "rate": "pc_plans_issued_within_20_weeks", "polarity": "up",
     "name": "EHC plans issued within 20 weeks, including exceptions", "note": None},
    {"kpi_id": "ehcp_20wk_incl", "dataset": "sen2_mi", "priority": 2,
     "numerator": "inc_exc_20week_ehc", "denominator": ["tot_inc_exc_ehc"],
     "rate": "inc_exc_20week_rate", "polarity": "up",
     "name": "EHC plans issued within 20 weeks, including exceptions", "note": "older aggregate return, 2014–2022"},
    {"kpi_id": "request_decision_6wk", "dataset": "requests", "priority": 1,
     "numerator": "request_outcome_six_weeks",
     "denominator": ["request_outcome_six_weeks", "request_outcome_over_6_weeks"],
     "rate": "request_outcome_six_weeks_pc", "polarity": "up",
     "name": "Decisions on requests for an EHC needs assessment within 6 weeks",
     "note": "DfE counts decisions made in the year; published 2023 onwards"},
    {"kpi_id": "not_issue_16wk", "dataset": "assessments", "priority": 1,
     "numerator": "outcome_decision_within_time",
     "denominator": ["outcome_decision_within_time", "outcome_decision_over_time"],
     "rate": "outcome_decision_within_time_pc", "polarity": "up",
     "name": "Decisions not to issue an EHC plan within 16 weeks", "note": "published 2023 onwards"},
    {"kpi_id": "ar_decision_4wk", "dataset": "annual_reviews", "priority": 1,
     "numerator": "number_decision_4weeks", "denominator": ["number_decision_4weeks", "number_decision_gt_4weeks"],
     "rate": "pc_decision_4weeks", "polarity": "up",
     "name": "Annual review decisions notified within 4 weeks of the meeting", "note": "published 2024 onwards"},
    {"kpi_id": "tribunal_appeal_rate", "dataset": "send_tribunal_appeal_rate", "priority": 1,
     "numerator": "appeals_registered", "denominator": ["appealable_decisions"],
     "rate": "appeal_rate", "polarity": "down",
     "name": "SEND Tribunal appeal rate (appeals registered / appealable decisions)", "note": "MoJ/DfE, 2014 onwards"},
]

MEASURE_SPELLING = {
    "number_decsion_4weeks": "number_decision_4weeks",
    "pc_decsion_4weeks": "pc_decision_4weeks",
    "outcome_maintan": "outcome_maintain",
    "number_asssess_mediation_tribunal": "number_assess_mediation_tribunal",
}

# Signature column (normalised) → dataset name, for the EES files of the EHC plans release.
EES_DATASETS = [
    ("plansissuedden", "timeliness_20_week"),
    ("requestsreceivedinyear", "requests"),
    ("assessinyear", "assessments"),
    ("reviewexpected", "annual_reviews"),
    ("totalceased", "ceased_plans"),
    ("newehcplans", "new_plans"),
    ("ehcplans", None),  # sen_need_newplans / sen_needs_all_plans: told apart by the file name, else by period type
    ("personalbudget", "personal_budgets"),
    ("restot", "residential_settings"),
    ("openwbp", "work_based_placements"),
]

# Columns of the older single-file SEN2 MI release (snake_case vintage), used to name CamelCase headers.
SEN2_MI_MEASURES = (
    "ass_nodecision ass_nodecision_ehc ass_none ass_none_ehc ass_none_ehc_pc ass_refused ass_refused_ehc "
    "ass_refused_ehc_pc assessment_mediation assessment_tribunal assessment_w assessments direct_pay_education "
    "direct_pay_health direct_pay_integrated direct_pay_socialcare discontinued_abroad discontinued_age "
    "discontinued_deceased discontinued_employment discontinued_unknown discontinued_engage discontinued_he "
    "discontinued_lea discontinued_lea_ehc discontinued_lea_noncomp discontinued_left discontinued_left_ehc "
    "discontinued_met discontinued_met_ehc discontinued_met_noncomp discontinued_other discontinued_other_ehc "
    "discontinued_other_noncomp discontinued_total inc_exc_20week_ehc inc_exc_20week_rate inc_exc_26week inreq_ehc "
    "inreq_ehc_a inreq_ehc_w inreq_ehc_y inreq_rya_ehc mainstream_to_home mainstream_to_home_ehc "
    "mainstream_to_special mainstream_to_special_ehc new_all_ehc new_all_ehc_ass_none_ehc_sum new_all_ehc_pc "
    "no_exc_20week_ehc no_exc_20week_rate no_exc_26week org_arrangements other_mediation other_tribunal "
    "total_tribunal personal_budgets request_mediation request_tribunal special_to_home special_to_home_ehc "
    "special_to_mainstream special_to_mainstream_ehc statements_no_ehc statements_to_ehc tot_inc_exc "
    "tot_inc_exc_ehc tot_no_exc tot_no_exc_ehc total_mediation total_tribunal_followed_mediation total_tribunal_pc"
).split()
SEN2_MI_SIGNATURE = {"incexc20weekrate", "noexc20weekrate", "totnoexcehc", "totincexcehc", "noexc20weekehc"}

# Leading (dimension) columns: canonical name → accepted normalised headers, in order of preference.
LEADING: dict[str, tuple[str, ...]] = {
    "time_period": ("timeperiod", "year", "calendaryear"),
    "time_identifier": ("timeidentifier",),
    "geographic_level": ("geographiclevel", "geoglevel"),
    "country_code": ("countrycode",),
    "country_name": ("countryname",),
    "region_code": ("regioncode", "gorcode"),
    "region_name": ("regionname", "gorname", "region"),
    "new_la_code": ("newlacode", "lacode9", "newla", "ecode"),
    "old_la_code": ("oldlacode", "la", "lacode", "lea", "lano", "lanumber"),
    "la_name": ("laname", "localauthority", "localauthorityname"),
    "breakdown_topic": ("breakdowntopic",),
    "breakdown": ("breakdown",),
}



def norm(header: str) -> str:
    """Header matching ignores case, spaces, punctuation and a UTF-8 BOM."""
    return "".join(ch for ch in header.lower() if ch.isalnum())


def snake(header: str) -> str:
    """CamelCase → snake_case (``TotNoExcEHC`` → ``tot_no_exc_ehc``); snake_case headers are lower-cased."""
    text = header.strip().replace("\ufeff", "")
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", text)
    text = re.sub(r"[^0-9a-zA-Z]+", "_", text).strip("_").lower()
    return text


def measure_name(header: str, known: dict[str, str] | None = None) -> str:
    """The stored measure name for a header: a known name when its normalised form matches, else snake_case."""
    if known and norm(header) in known:
        name = known[norm(header)]
    else:
        name = snake(header)
    return MEASURE_SPELLING.get(name, name)


def read_rows(path: Path, limit: int | None = None) -> list[list[str]]:
    """The first rows of a CSV as text (BOM removed; Windows-1252 accepted when the file is not UTF-8)."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            with open(path, newline="", encoding=encoding) as fh:
                rows = []
                for i, row in enumerate(csv.reader(fh)):
                    if limit is not None and i >= limit:
                        break
                    rows.append(row)
                return rows
        except UnicodeDecodeError:
            continue
        except (OSError, csv.Error):
            return []
    return []


def _file_encoding(path: Path) -> str:
    try:
        with open(path, encoding="utf-8-sig") as fh:
            for _ in fh:
                pass
        return "utf-8"
    except UnicodeDecodeError:
        return "latin-1"


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: list[list]) -> None:
    """Insert Python rows in one statement (DuckDB scans a DataFrame far faster than executemany)."""
    if not rows:
        return
    frame = pd.DataFrame(rows, columns=[f"c{i}" for i in range(len(rows[0]))]).astype(object)
    con.register("_insert_rows", frame)
    try:
        con.execute(f"INSERT INTO {table} SELECT * FROM _insert_rows")
    finally:
        con.unregister("_insert_rows")


def _lit(text: str | None) -> str:
    return "NULL" if text is None else "'" + text.replace("'", "''") + "'"


# --- seeding the reference tables --------------------------------------------------------------------------

def seed_kpi_map(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DELETE FROM published_kpi_map")
    for m in KPI_MEASURES:
        con.execute("INSERT INTO published_kpi_map VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [m["kpi_id"], m["dataset"], m["priority"], m["numerator"], m["denominator"], m["rate"],
                     m["polarity"], m["name"], m["note"]])


def seed_all(con: duckdb.DuckDBPyConnection) -> None:
    """Reference tables every published-data load refreshes (areas, lineage, KPI map)."""
    reference.seed(con)
    seed_kpi_map(con)


# --- the shared long-form finisher -------------------------------------------------------------------------

LONG_COLUMNS = [
    "_row", "time_period", "time_identifier", "geographic_level", "country_code", "country_name", "region_code",
    "region_name", "new_la_code", "old_la_code", "la_name", "breakdown_topic", "breakdown", "source_column",
    "measure", "raw_value", "source_code", "area_hint",
]


def finish_long(con: duckdb.DuckDBPyConnection, path: Path, dataset: str, load_id: int, rows_read: int,
                extra_problems: list[tuple[int, str, str | None, str]] | None = None) -> FileResult:
    """Type, check and store the temp table ``_pub_long`` (columns LONG_COLUMNS, text) for one file.

    ``extra_problems`` are (row, column, value, reason) found before this step (e.g. disagreeing duplicate
    columns); their rows are quarantined too.
    """
    name = path.name
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _pub_typed AS
        WITH cleaned AS (
            SELECT *, trim(raw_value, ' ''"') AS v,
                   nullif(trim(time_period), '') AS tp,
                   upper(nullif(trim(old_la_code), '')) AS olc, upper(nullif(trim(new_la_code), '')) AS nlc,
                   lower(trim(coalesce(geographic_level, ''))) AS lvl
            FROM _pub_long
        ),
        valued AS (
            SELECT *,
                CASE WHEN lower(v) IN ('x', 'z', 'c', 'u', 'low') THEN lower(v)
                     WHEN v IN ('..', ':', '.') OR lower(v) IN ('na', 'n/a') THEN 'x'
                     WHEN v = '~' THEN 'c' END AS marker,
                CASE WHEN v IN ('-', '–', '—') THEN 0.0
                     ELSE TRY_CAST(replace(replace(replace(v, ',', ''), '%', ''), ' ', '') AS DOUBLE) END AS num,
                CASE WHEN regexp_full_match(olc, '\\d{{1,3}}') THEN lpad(olc, 3, '0')
                     WHEN regexp_full_match(nlc, '\\d{{1,3}}') THEN lpad(nlc, 3, '0') END AS old_code,
                CASE WHEN regexp_full_match(nlc, 'E\\d{{8}}') THEN nlc
                     WHEN regexp_full_match(olc, 'E\\d{{8}}') THEN olc END AS new_code
            FROM cleaned
            WHERE v IS NOT NULL AND v <> ''
        ),
        levelled AS (
            SELECT *,
                CASE WHEN lvl IN ('national', 'england', 'country') THEN 'National'
                     WHEN lvl IN ('regional', 'region') THEN 'Regional'
                     WHEN lvl IN ('local authority', 'local_authority', 'la') THEN 'Local authority'
                     WHEN lvl = '' AND (old_code IS NOT NULL OR new_code IS NOT NULL OR area_hint IS NOT NULL)
                          THEN 'Local authority'
                     WHEN lvl = '' AND nullif(trim(region_code), '') IS NOT NULL THEN 'Regional'
                     WHEN lvl = '' THEN 'National' END AS level
            FROM valued
        ),
        placed AS (
            SELECT l.*,
                   CASE l.level
                       WHEN 'National' THEN coalesce(nullif(trim(l.country_code), ''), '{reference.ENGLAND_CODE}')
                       WHEN 'Regional' THEN nullif(trim(l.region_code), '')
                       WHEN 'Local authority' THEN coalesce(l.area_hint, ao.area_code, an.area_code, l.new_code)
                   END AS canonical
            FROM levelled l
            LEFT JOIN area_code_alias ao ON ao.code = l.old_code
            LEFT JOIN area_code_alias an ON an.code = l.new_code
        )
        SELECT p._row, p.source_column, p.measure, p.raw_value, p.tp AS time_period,
               CASE WHEN regexp_full_match(p.tp, '\\d{{4}}') THEN CAST(p.tp AS INTEGER)
                    WHEN regexp_full_match(p.tp, '\\d{{6}}') THEN CAST(left(p.tp, 4) AS INTEGER) + 1 END AS year,
               coalesce(nullif(trim(p.time_identifier), ''), 'Calendar year') AS time_identifier,
               p.level AS geographic_level, p.lvl, p.canonical AS area_code,
               CASE p.level
                   WHEN 'National' THEN coalesce(nullif(trim(p.country_name), ''), '{reference.ENGLAND_NAME}')
                   WHEN 'Regional' THEN nullif(trim(p.region_name), '')
                   ELSE coalesce(nullif(trim(p.la_name), ''), r.area_name) END AS area_name,
               p.new_code AS new_la_code, coalesce(p.old_code, r.old_la_code) AS old_la_code,
               coalesce(nullif(trim(p.region_code), ''), r.region_code) AS region_code,
               coalesce(nullif(trim(p.region_name), ''), r.region_name) AS region_name,
               coalesce(nullif(trim(p.breakdown_topic), ''), 'Total') AS breakdown_topic,
               coalesce(nullif(trim(p.breakdown), ''), nullif(trim(p.breakdown_topic), ''), 'Total') AS breakdown,
               p.marker, p.num AS value, p.source_code
        FROM placed p
        LEFT JOIN area_reference r ON p.level = 'Local authority' AND r.area_code = p.canonical
    """)
    con.execute("CREATE OR REPLACE TEMP TABLE _pub_problems (_row BIGINT, column_name VARCHAR, value VARCHAR, "
                "reason VARCHAR)")
    if extra_problems:
        con.executemany("INSERT INTO _pub_problems VALUES (?, ?, ?, ?)", extra_problems)
    con.execute("""
        INSERT INTO _pub_problems
        SELECT _row, source_column, raw_value,
               'not a number or a DfE marker (x not available, z not applicable, c suppressed)'
        FROM _pub_typed WHERE value IS NULL AND marker IS NULL
        UNION ALL
        SELECT DISTINCT _row, 'time_period', time_period, 'not a year (expected YYYY or YYYYYY)'
        FROM _pub_typed WHERE year IS NULL
        UNION ALL
        SELECT DISTINCT _row, 'geographic_level', lvl,
               'geographic level not supported (expected National, Regional or Local authority)'
        FROM _pub_typed WHERE geographic_level IS NULL
        UNION ALL
        SELECT DISTINCT _row, CASE geographic_level WHEN 'Regional' THEN 'region_code' ELSE 'new_la_code' END, NULL,
               'no area code: the row cannot be placed'
        FROM _pub_typed WHERE geographic_level IS NOT NULL AND area_code IS NULL
    """)
    con.execute("""
        INSERT INTO _pub_problems
        WITH keys AS (
            SELECT DISTINCT _row, time_period, geographic_level, area_code, breakdown_topic, breakdown
            FROM _pub_typed WHERE area_code IS NOT NULL AND year IS NOT NULL),
        dup AS (
            SELECT time_period, geographic_level, area_code, breakdown_topic, breakdown FROM keys
            GROUP BY ALL HAVING count(*) > 1)
        SELECT k._row, 'area', k.area_code,
               'duplicate row: the same period, area and breakdown appear more than once (none kept)'
        FROM keys k JOIN dup USING (time_period, geographic_level, area_code, breakdown_topic, breakdown)
    """)
    con.execute("CREATE OR REPLACE TEMP TABLE _pub_good AS SELECT * FROM _pub_typed "
                "WHERE _row NOT IN (SELECT _row FROM _pub_problems)")
    con.execute(f"""
        DELETE FROM published_value p USING (
            SELECT DISTINCT time_period, geographic_level, area_code, breakdown_topic, breakdown FROM _pub_good) g
        WHERE p.dataset = {_lit(dataset)} AND p.time_period = g.time_period
          AND p.geographic_level = g.geographic_level AND p.area_code = g.area_code
          AND p.breakdown_topic = g.breakdown_topic AND p.breakdown = g.breakdown
    """)
    con.execute(f"""
        INSERT INTO published_value
        SELECT {_lit(dataset)}, time_period, year, time_identifier, geographic_level, area_code, area_name,
               new_la_code, old_la_code, region_code, region_name, breakdown_topic, breakdown, measure,
               CASE WHEN marker IS NULL THEN value END, marker, source_column, source_code, {int(load_id)}
        FROM _pub_good
    """)
    con.execute(
        "INSERT INTO quarantine SELECT ?, ?, ?, _row, column_name, value, reason FROM _pub_problems",
        [load_id, name, dataset],
    )
    problems = [
        Problem(name, row, col, reason, value)
        for row, col, value, reason in con.execute(
            "SELECT _row, column_name, value, reason FROM _pub_problems ORDER BY _row, column_name").fetchall()
    ]
    bad = con.execute("SELECT count(DISTINCT _row) FROM _pub_problems").fetchone()[0]
    return FileResult(path, dataset, "quarantined" if bad else "loaded", rows_read, rows_read - bad, bad, problems)


# --- tidy CSV layouts (EES release files and the SEN2 MI file) ---------------------------------------------

@dataclass
class _Columns:
    leading: dict[str, int]            # canonical leading name → column index
    measures: list[tuple[int, str, str]]  # (index, header as written, measure name)
    duplicates: list[tuple[int, int, str]]  # (first index, later index, header) for repeated headers


def _columns(headers: list[str], known: dict[str, str] | None = None) -> _Columns:
    normalised = [norm(h) for h in headers]
    leading: dict[str, int] = {}
    for canon, accepted in LEADING.items():
        for option in accepted:
            if option in normalised and normalised.index(option) not in leading.values():
                leading[canon] = normalised.index(option)
                break
    measures, duplicates, seen = [], [], {}
    for i, h in enumerate(headers):
        if i in leading.values() or not h.strip():
            continue
        m = measure_name(h, known)
        if m in seen:
            duplicates.append((seen[m], i, h))
            continue
        seen[m] = i
        measures.append((i, h.strip().replace("\ufeff", ""), m))
    return _Columns(leading, measures, duplicates)


def load_tidy(con: duckdb.DuckDBPyConnection, path: Path, load_id: int, dataset: str,
              known: dict[str, str] | None = None) -> FileResult:
    """Load a tidy CSV (one row per period × area × breakdown, one column per measure) into published_value."""
    seed_all(con)
    headers = read_rows(path, 1)[0]
    cols = _columns(headers, known)
    names = ", ".join(_lit(f"c{i}") for i in range(len(headers)))
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _pub_wide AS SELECT row_number() OVER () AS _row, * FROM read_csv(?, "
            "header=false, skip=1, all_varchar=true, delim=',', quote='\"', escape='\"', null_padding=true, "
            f"encoding='{_file_encoding(path)}', names=[{names}])",
            [str(path)],
        )
    except duckdb.Error as exc:
        raise LoadRejected([Problem(path.name, None, None, f"cannot be read as CSV ({str(exc).splitlines()[0]})")]
                           ) from exc
    rows_read = con.execute("SELECT count(*) FROM _pub_wide").fetchone()[0]
    extra: list[tuple[int, str, str | None, str]] = []
    for first, later, header in cols.duplicates:
        for (row,) in con.execute(
                f"SELECT _row FROM _pub_wide WHERE c{first} IS DISTINCT FROM c{later} ORDER BY _row").fetchall():
            extra.append((row, header, None, f"column {header!r} appears twice with different values"))

    def lead(canon: str) -> str:
        return f"c{cols.leading[canon]}" if canon in cols.leading else "CAST(NULL AS VARCHAR)"

    con.execute("CREATE OR REPLACE TEMP TABLE _pub_measures (col VARCHAR, source_column VARCHAR, measure VARCHAR)")
    insert_rows(con, "_pub_measures", [[f"c{i}", h, m] for i, h, m in cols.measures])
    leading = [f"{lead(c)} AS {c}" for c in LEADING]
    if not cols.measures:
        con.execute("CREATE OR REPLACE TEMP TABLE _pub_long AS SELECT "
                    + ", ".join(f"CAST(NULL AS VARCHAR) AS {c}" for c in LONG_COLUMNS) + " WHERE false")
    else:
        on = ", ".join(f"c{i}" for i, _, _ in cols.measures)
        kept = ", ".join(["_row", *(f"c{i}" for i in sorted(cols.leading.values())), on])
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _pub_long AS
            SELECT u._row, {", ".join(leading)},
                   m.source_column, m.measure, u._value AS raw_value,
                   CAST(NULL AS VARCHAR) AS source_code, CAST(NULL AS VARCHAR) AS area_hint
            FROM (UNPIVOT (SELECT {kept} FROM _pub_wide) ON {on} INTO NAME _col VALUE _value) u
            JOIN _pub_measures m ON m.col = u._col
        """)
    return finish_long(con, path, dataset, load_id, rows_read, extra)


def _has_tidy_leading(normalised: set[str]) -> bool:
    return "timeperiod" in normalised and ("geographiclevel" in normalised or "oldlacode" in normalised
                                           or "newlacode" in normalised)


class EesRelease:
    """DfE explore-education-statistics tidy CSV (the current multi-file EHC plans release)."""

    name = "dfe_ees"
    layout = "dfe_ees"
    description = ("a DfE explore-education-statistics CSV (time_period, geographic_level, … la_name, then one "
                   "column per measure), e.g. timeliness_20_week.csv")

    def matches(self, path: Path, headers: list[str] | None) -> bool:
        rows = read_rows(path, 1)
        if not rows:
            return False
        normalised = {norm(h) for h in rows[0]}
        return _has_tidy_leading(normalised) and not (normalised & SEN2_MI_SIGNATURE)

    @staticmethod
    def dataset_for(path: Path, headers: list[str]) -> str:
        normalised = {norm(h) for h in headers}
        stem = re.sub(r"[^a-z0-9]+", "_", path.stem.lower()).strip("_")
        for signature, dataset in EES_DATASETS:
            if signature in normalised:
                if dataset is None:  # DfE's names: sen_need_newplans.csv, sen_needs_all_plans.csv, caseload.csv
                    if stem.startswith("sen_need"):
                        return "sen_needs_all_plans" if "all" in stem else "sen_need_newplans"
                    return stem or "ehc_plans"
                return dataset
        return stem or "dfe_ees"

    def load(self, con: duckdb.DuckDBPyConnection, path: Path, load_id: int) -> FileResult:
        headers = read_rows(path, 1)[0]
        return load_tidy(con, path, load_id, self.dataset_for(path, headers))


class Sen2Mi:
    """The older single-file SEN2 MI release (2014–2022), snake_case or CamelCase headers."""

    name = "sen2_mi"
    layout = "dfe_sen2_mi"
    description = ("DfE's older single-file SEN2 MI release (sen2_mi.csv: time_period, … inc_exc_20week_rate or "
                   "IncExc20weekRate, …)")
    known = {norm(m): m for m in SEN2_MI_MEASURES}

    def matches(self, path: Path, headers: list[str] | None) -> bool:
        rows = read_rows(path, 1)
        if not rows:
            return False
        normalised = {norm(h) for h in rows[0]}
        has_time = bool(normalised & {"timeperiod", "year"})
        return has_time and len(normalised & SEN2_MI_SIGNATURE) >= 2

    def load(self, con: duckdb.DuckDBPyConnection, path: Path, load_id: int) -> FileResult:
        return load_tidy(con, path, load_id, "sen2_mi", self.known)


# --- the SEND Tribunal appeal-rate table -------------------------------------------------------------------

TRIBUNAL_MEASURES = [  # (label prefix, normalised) → measure
    ("indevelopmenttotalappealabledecisions", "appealable_decisions_in_development"),
    ("indevelopmentsendtribunalappealrate", "appeal_rate_in_development"),
    ("appealsregistered", "appeals_registered"),
    ("totalappealabledecisions", "appealable_decisions"),
    ("sendtribunalappealrate", "appeal_rate"),
]


def _strip_footnote(text: str) -> str:
    """'Cumberland8' → 'Cumberland', 'Total Appealable Decisions1,9' → 'Total Appealable Decisions'."""
    return re.sub(r"[\d,\s]+$", "", text.strip())


def _tribunal_header(rows: list[list[str]]) -> int | None:
    for i, row in enumerate(rows[:15]):
        if len(row) > 2 and norm(row[0]) == "localauthority" and norm(row[1]) == "lacode":
            return i
    return None


class TribunalAppealRate:
    """SEND Tribunal appeal rate by local authority (MoJ/DfE table, a report sheet saved as CSV)."""

    name = "send_tribunal_appeal_rate"
    layout = "dfe_tribunal"
    description = ("the SEND Tribunal appeal-rate table (title rows, then 'Local Authority, LA code, <year>…' with "
                   "Appeals registered / Total Appealable Decisions / SEND Tribunal Appeal Rate per year)")

    def matches(self, path: Path, headers: list[str] | None) -> bool:
        rows = read_rows(path, 15)
        at = _tribunal_header(rows)
        if at is None or at + 1 >= len(rows):
            return False
        return any(norm(c).startswith("appealsregistered") for c in rows[at + 1])

    def load(self, con: duckdb.DuckDBPyConnection, path: Path, load_id: int) -> FileResult:
        seed_all(con)
        rows = read_rows(path)
        at = _tribunal_header(rows)
        years_row, labels = rows[at], rows[at + 1]
        columns: list[tuple[int, int, str, str]] = []  # (index, year, measure, label as written)
        year = None
        for i in range(2, max(len(years_row), len(labels))):
            cell = years_row[i].strip() if i < len(years_row) else ""
            if re.fullmatch(r"\d{4}", cell):
                year = int(cell)
            label = labels[i].strip() if i < len(labels) else ""
            key = norm(_strip_footnote(label))
            measure = next((m for prefix, m in TRIBUNAL_MEASURES if key.startswith(prefix)), None)
            if measure and year:
                columns.append((i, year, measure, f"{year} {_strip_footnote(label)}"))
        region_names = {reference.normalise_name(n): c for c, n in reference.regions().items()}
        long_rows: list[list] = []
        extra: list[tuple[int, str, str | None, str]] = []
        data_rows = 0
        for n, row in enumerate(rows[at + 2:], start=at + 3):
            if not row or not row[0].strip():
                continue
            first = row[0].strip()
            if norm(first).startswith(("sources", "notes")) or re.match(r"^\d+\.", first):
                break
            values = [row[i] if i < len(row) else "" for i, _, _, _ in columns]
            if not any(v.strip() for v in values):
                if reference.normalise_name(first) not in region_names and not first.isupper():
                    extra.append((n, "Local Authority", first, "row has a name but no figures"))
                continue  # a region heading (NORTH EAST, INNER LONDON, …)
            data_rows += 1
            name = _strip_footnote(first)
            code = row[1].strip() if len(row) > 1 else ""
            if norm(name).startswith("englandtotal"):
                topic, breakdown = ("Total", "Total")
                if "excluding" in norm(name):
                    topic, breakdown = ("Suppression", "England total excluding suppressed authorities")
                for (_i, yr, measure, label), value in zip(columns, values, strict=True):
                    long_rows.append([n, str(yr), "Calendar year", "National", reference.ENGLAND_CODE,
                                      reference.ENGLAND_NAME, None, None, None, None, None, topic, breakdown, label,
                                      measure, value, None, None])
                continue
            unresolved = False
            for (_i, yr, measure, label), value in zip(columns, values, strict=True):
                la = reference.resolve_name(name, yr, code)
                if la is None:
                    unresolved = True
                    continue
                if value.strip() in ("..", "") and not la.exists_in(yr):
                    continue  # the area did not exist that year: nothing to store
                source_code = code if code and code not in la.codes else None
                long_rows.append([n, str(yr), "Calendar year", "Local authority", None, None, la.region_code,
                                  la.region_name, None, la.old_la_code, la.name, "Total", "Total", label, measure,
                                  value, source_code, la.new_la_code])
            if unresolved:
                extra.append((n, "Local Authority", first, "local authority name not recognised"))
        con.execute("CREATE OR REPLACE TEMP TABLE _pub_long (_row BIGINT, "
                    + ", ".join(f"{c} VARCHAR" for c in LONG_COLUMNS[1:]) + ")")
        insert_rows(con, "_pub_long", long_rows)
        return finish_long(con, path, self.name, load_id, data_rows, extra)
