"""The local referral-level waiting-list extract (therapy and assessment services), CSV or XLSX.

Columns (headers matched ignoring case, spaces and punctuation)::

    patient_id, service, referral_date, first_contact_date, removed_date, removal_reason, age_years, locality

``first_contact_date`` is blank while the child is waiting and ``removed_date`` blank while the referral is
open; ``service`` is one of SERVICES (case, spaces and hyphens ignored: ``Community paeds`` is
COMMUNITY_PAEDS). Dates may be ISO, ``dd/mm/yyyy``, Blade's ``2024-Sep-28 00:00:00`` or Excel dates.

``patient_id`` becomes an HMAC-SHA256 pseudonym under the same key as SEN2 person ids (etl/pseudonymise.py),
so the same child links across extracts; the id itself never reaches the database or the quarantine table.

A referral is identified by (patient, service, referral date): a newer extract replaces the stored row with
the same identity, so monthly extracts revise earlier ones. A re-referral (a later referral date) is a new
row. Rows breaking a rule go to ``quarantine`` with file, row, column and reason; the rest load.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import duckdb

from etl.formats.dfe_release import insert_rows, norm, read_rows
from etl.formats.sen2_blade import DATE_FORMATS
from etl.pseudonymise import hmac_sql, load_key
from etl.report import FileResult, LoadRejected, Problem

SERVICES = ("SALT", "OT", "PHYSIO", "COMMUNITY_PAEDS", "NEURODEVELOPMENTAL", "AUDIOLOGY")
MAX_AGE = 25

# canonical column → accepted normalised headers
COLUMNS: dict[str, tuple[str, ...]] = {
    "patient_id": ("patientid", "personid", "clientid"),
    "service": ("service", "servicename"),
    "referral_date": ("referraldate", "referralreceiveddate", "datereferralreceived"),
    "first_contact_date": ("firstcontactdate", "dateoffirstcontact"),
    "removed_date": ("removeddate", "removaldate", "datedremoved"),
    "removal_reason": ("removalreason", "reasonforremoval"),
    "age_years": ("ageyears", "age", "ageatreferral"),
    "locality": ("locality", "area"),
}
REQUIRED = ("patient_id", "service", "referral_date", "first_contact_date", "removed_date")
SIGNATURE = {"patientid", "service", "referraldate"}


def read_table(path: Path) -> list[list[str]]:
    """All rows of the file as text (header first): a CSV, or the first worksheet of an XLSX."""
    if path.suffix.lower() != ".xlsx":
        return read_rows(path)
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any unreadable workbook is a user's file problem, reported not raised
        return []
    try:
        ws = wb.worksheets[0]
        ws.reset_dimensions()
        rows = []
        for row in ws.iter_rows(values_only=True):
            rows.append([_cell_text(c) for c in row])
        while rows and not any(rows[-1]):
            rows.pop()
        return rows
    finally:
        wb.close()


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, _dt.datetime):
        return value.date().isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def map_headers(headers: list[str]) -> dict[str, int]:
    """Canonical column → index in the file."""
    present = {norm(h): i for i, h in enumerate(headers) if h and h.strip()}
    found = {}
    for canon, names in COLUMNS.items():
        for name in names:
            if name in present:
                found[canon] = present[name]
                break
    return found


class WaitingListExtract:
    """Referral-level waiting-list extract (CSV or XLSX)."""

    name = "referral"
    layout = "waits_referral"
    per_area = True  # one local area's referrals: the loader passes the area
    description = ("a referral-level waiting-list extract (patient_id, service, referral_date, first_contact_date, "
                   "removed_date, removal_reason, age_years, locality), CSV or XLSX")

    def matches(self, path: Path, headers: list[str] | None) -> bool:
        if path.suffix.lower() == ".xlsx":
            rows = read_table(path)[:1]
        else:
            rows = read_rows(path, 1)
        return bool(rows) and SIGNATURE <= {norm(h) for h in rows[0]}

    def load(self, con: duckdb.DuckDBPyConnection, path: Path, load_id: int, area: str) -> FileResult:
        rows = read_table(path)
        headers = rows[0]
        cols = map_headers(headers)
        missing = [c for c in REQUIRED if c not in cols]
        if missing:
            raise LoadRejected([Problem(path.name, None, ", ".join(missing),
                                        "required column(s) missing for the waiting-list extract")])
        body = [r for r in rows[1:] if any(c.strip() for c in r)]
        shown = {c: headers[i].strip() for c, i in cols.items()}
        table = [[n, *[(r[cols[c]] if c in cols and cols[c] < len(r) else "") for c in COLUMNS]]
                 for n, r in enumerate(rows[1:], start=1) if any(c.strip() for c in r)]
        con.execute("CREATE OR REPLACE TEMP TABLE _wl_raw (_row BIGINT, "
                    + ", ".join(f"{c} VARCHAR" for c in COLUMNS) + ")")
        insert_rows(con, "_wl_raw", table)
        key = load_key_for(con)
        problems = _validate(con, key, shown)
        con.execute("CREATE OR REPLACE TEMP TABLE _wl_good AS SELECT * FROM _wl_typed "
                    "WHERE _row NOT IN (SELECT _row FROM _wl_problems)")
        con.execute("""DELETE FROM referral r USING _wl_good g
                       WHERE r.area_code = ? AND r.patient_key = g.patient_key AND r.service = g.service
                         AND r.referral_date = g.referral_date""", [area])
        con.execute(f"""INSERT INTO referral
                        SELECT ?, patient_key, service, referral_date, first_contact_date, removed_date,
                               removal_reason, age_years, locality, {int(load_id)} FROM _wl_good""", [area])
        con.execute("INSERT INTO quarantine SELECT ?, ?, ?, _row, column_name, value, reason FROM _wl_problems",
                    [load_id, path.name, self.name])
        out = [Problem(path.name, row, col, reason, value) for row, col, value, reason in problems]
        bad = len({p.row for p in out})
        return FileResult(path, self.name, "quarantined" if bad else "loaded", len(body), len(body) - bad, bad, out)


def load_key_for(con: duckdb.DuckDBPyConnection) -> bytes:
    """The pseudonymisation key of the database this connection writes to (same key as person ids)."""
    path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()[0]
    return load_key(Path(path) if path else Path("data/app.duckdb"))


def _date(raw: str) -> str:
    formats = "[" + ", ".join(f"'{f}'" for f in DATE_FORMATS) + "]"
    return f"CAST(try_strptime({raw}, {formats}) AS DATE)"


def _validate(con: duckdb.DuckDBPyConnection, key: bytes, shown: dict[str, str]) -> list[tuple]:
    """Type the raw rows into ``_wl_typed`` and collect every rule broken into ``_wl_problems``."""
    def raw(c: str) -> str:
        return f"nullif(trim({c}), '')"

    service = f"upper(regexp_replace({raw('service')}, '[\\s-]+', '_', 'g'))"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _wl_typed AS
        SELECT _row,
               CASE WHEN {raw('patient_id')} IS NOT NULL THEN {hmac_sql(raw('patient_id'), key)} END AS patient_key,
               {service} AS service,
               {_date(raw('referral_date'))} AS referral_date,
               {_date(raw('first_contact_date'))} AS first_contact_date,
               {_date(raw('removed_date'))} AS removed_date,
               {raw('removal_reason')} AS removal_reason,
               TRY_CAST(regexp_replace({raw('age_years')}, '^(\\d+)\\.0+$', '\\1') AS INTEGER) AS age_years,
               {raw('locality')} AS locality,
               {raw('patient_id')} IS NULL AS _no_patient, {raw('service')} AS _service_raw,
               {raw('referral_date')} AS _ref_raw, {raw('first_contact_date')} AS _fc_raw,
               {raw('removed_date')} AS _rm_raw, {raw('age_years')} AS _age_raw
        FROM _wl_raw
    """)
    services = ", ".join(f"'{s}'" for s in SERVICES)

    def col(c: str) -> str:
        return "'" + shown.get(c, c).replace("'", "''") + "'"

    checks = [
        f"SELECT _row, {col('patient_id')}, NULL, 'required value is missing' FROM _wl_typed WHERE _no_patient",
        f"SELECT _row, {col('service')}, _service_raw, 'required value is missing' FROM _wl_typed "
        "WHERE _service_raw IS NULL",
        f"SELECT _row, {col('service')}, _service_raw, 'not a valid service (expected one of "
        f"{', '.join(SERVICES)})' FROM _wl_typed WHERE _service_raw IS NOT NULL AND service NOT IN ({services})",
        f"SELECT _row, {col('referral_date')}, NULL, 'required value is missing' FROM _wl_typed "
        "WHERE _ref_raw IS NULL",
    ]
    for c, raw_c in (("referral_date", "_ref_raw"), ("first_contact_date", "_fc_raw"), ("removed_date", "_rm_raw")):
        checks.append(f"SELECT _row, {col(c)}, {raw_c}, 'not a valid date' FROM _wl_typed "
                      f"WHERE {raw_c} IS NOT NULL AND {c} IS NULL")
        checks.append(f"SELECT _row, {col(c)}, {raw_c}, 'date is in the future' FROM _wl_typed "
                      f"WHERE {c} > current_date")
    checks += [
        f"SELECT _row, {col('first_contact_date')}, _fc_raw, 'first contact is dated before the referral' "
        "FROM _wl_typed WHERE first_contact_date < referral_date",
        f"SELECT _row, {col('removed_date')}, _rm_raw, 'removal is dated before the referral' "
        "FROM _wl_typed WHERE removed_date < referral_date",
        f"SELECT _row, {col('removed_date')}, _rm_raw, 'removal is dated before the first contact it follows' "
        "FROM _wl_typed WHERE removed_date < first_contact_date AND removed_date >= referral_date",
        f"SELECT _row, {col('age_years')}, _age_raw, 'not a whole number of years from 0 to {MAX_AGE}' "
        f"FROM _wl_typed WHERE _age_raw IS NOT NULL AND (age_years IS NULL OR age_years NOT BETWEEN 0 AND {MAX_AGE})",
        f"SELECT _row, {col('referral_date')}, _ref_raw, "
        "'duplicate referral: the same patient, service and referral date appear on more than one row' "
        "FROM (SELECT *, count(*) OVER (PARTITION BY patient_key, service, referral_date) AS _n FROM _wl_typed) "
        "WHERE patient_key IS NOT NULL AND referral_date IS NOT NULL AND _n > 1",
    ]
    con.execute("CREATE OR REPLACE TEMP TABLE _wl_problems AS SELECT * FROM ("
                + " UNION ALL ".join(checks) + ") t(_row, column_name, value, reason)")
    return con.execute("SELECT _row, column_name, value, reason FROM _wl_problems ORDER BY _row, column_name"
                       ).fetchall()
