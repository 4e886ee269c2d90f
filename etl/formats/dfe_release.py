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
``dfe_tribunal`` – the SEND Tribunal appeal-rate table (etl/formats/dfe_tribunal.py; a report sheet saved as CSV:
    title rows above a two-row header of years and measures, region headings, footnote digits stuck to names,
    ``-`` for nil, ``..`` not available, ``~`` suppressed, thousands separators and ``%``). Its LA numbers are not
    reliable (it gives Central Bedfordshire 873, which is Cambridgeshire's number), so areas are matched by *name*
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

Here: the two tidy CSV layouts (``dfe_ees``, ``dfe_sen2_mi``). Beside it: ``dfe_tribunal`` (the appeal-rate table),
``dfe_csv`` (reading headers and rows), ``dfe_long`` (the finisher all three share) and ``dfe_kpi_map`` (which
published columns give each KPI, from kpi_definitions.yaml).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from etl.formats.dfe_csv import file_encoding, measure_name, norm, read_rows
from etl.formats.dfe_long import LONG_COLUMNS, finish_long, seed_all
from etl.insert import insert_rows
from etl.report import FileResult, LoadRejected, Problem
from etl.sql_text import in_list

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
    names = in_list(f"c{i}" for i in range(len(headers)))
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _pub_wide AS SELECT row_number() OVER () AS _row, * FROM read_csv(?, "
            "header=false, skip=1, all_varchar=true, delim=',', quote='\"', escape='\"', null_padding=true, "
            f"encoding='{file_encoding(path)}', names=[{names}])",
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


