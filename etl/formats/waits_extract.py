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
from collections.abc import Mapping
from pathlib import Path

import duckdb

from etl import identifiers as ids
from etl.formats.dfe_csv import norm, read_rows
from etl.formats.sen2_blade import date_sql
from etl.inputs import FileScan, scan_file
from etl.insert import insert_rows
from etl.pseudonymise import hmac_sql, load_key
from etl.report import FileResult, LoadRejected, Problem
from etl.sql_text import in_list, literal
from etl.wording import plural

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

    def load(self, con: duckdb.DuckDBPyConnection, path: Path, load_id: int, area: str,
             scan: FileScan | None = None) -> FileResult:
        """One area's referral extract: the DuckDB fast path (:meth:`load_batch` of one), else Python's readers.
        ``scan``: the file's facts as the load read them (None: read here)."""
        results, _ = self.load_batch(con, [(path, load_id, area)], {path: scan} if scan else {})
        if results:
            return results[0]
        # The Python path: an XLSX, or a CSV the DuckDB fast path does not take (see _fast_header).
        rows = read_table(path)
        headers = rows[0]
        cols = _required(path, headers)
        # Rows numbered as the other extracts' are: an empty line is not a row, a row of empty cells is (and is
        # then left out).
        table = [[0, n, *[(r[cols[c]] if c in cols and cols[c] < len(r) else "") for c in COLUMNS]]
                 for n, r in enumerate((r for r in rows[1:] if r), start=1) if any(c.strip() for c in r)]
        con.execute("CREATE OR REPLACE TEMP TABLE _wl_raw (_fidx INTEGER, _row BIGINT, "
                    + ", ".join(f"{c} VARCHAR" for c in COLUMNS) + ")")
        insert_rows(con, "_wl_raw", table)
        _type_rows(con, load_key_for(con), f"SELECT _fidx, _row AS _given_row, {', '.join(COLUMNS)}, false AS _blank "
                                           "FROM _wl_raw")
        _number_rows(con, [0], 1)
        return self._finish(con, [(path, load_id, area)], [0], _shown(headers, cols))[0]

    def load_batch(self, con: duckdb.DuckDBPyConnection, files: list[tuple[Path, int, str]],
                   scans: Mapping[Path, FileScan]) -> tuple[list[FileResult], list[tuple[Path, int, str]]]:
        """Several areas' referral CSVs (each (path, load_id, area); one file per area) read by DuckDB in one
        ``read_csv`` and validated in one pass, every rule partitioned by file. Files the fast path does not take
        (another header, not a clean UTF-8 CSV, not strictly readable) are returned for :meth:`load`; the results
        are those of the other files, in order. ``scans``: the files' facts as the load read them (a file missing from
        it is read here)."""
        facts = {path: scans.get(path) or scan_file(path) for path, _, _ in files}
        heads = [_fast_header(path, facts[path]) for path, _, _ in files]
        first = next((h for h in heads if h is not None), None)
        if first is None:
            return [], list(files)
        batch = [i for i, h in enumerate(heads) if h == first]
        headers, cols = list(first[0]), _required(files[batch[0]][0], list(first[0]))
        names = [f"c{i}" for i in range(len(headers))]
        columns = "{" + ", ".join(f"{literal(n)}: 'VARCHAR'" for n in names) + "}"
        paths = "[" + in_list(str(files[i][0]) for i in batch) + "]"
        con.execute("DROP TABLE IF EXISTS _wl_rej_err")
        con.execute("DROP TABLE IF EXISTS _wl_rej_scan")
        buffer = facts[files[batch[0]][0]].buffer if len(batch) == 1 else None  # a batch is split by its files
        read = (f"read_csv({paths}, header=false, skip=1, delim=',', quote='\"', escape='\"', columns={columns}, "
                "strict_mode=true, auto_detect=false, null_padding=false, ignore_errors=true, store_rejects=true, "
                "rejects_scan='_wl_rej_scan', rejects_table='_wl_rej_err', rejects_limit=0"
                + (f", buffer_size={buffer})" if buffer else ")"))
        blank = " AND ".join(f"coalesce(regexp_full_match({n}, {literal(_BLANK_CELL)}), true)" for n in names)
        # A first cell starting with a character from '0' to 'z' (digits, letters, no space among them) is not
        # blank: the regular expressions then run only on the rare rows that might be.
        blank = f"CASE WHEN left({names[0]}, 1) BETWEEN '0' AND 'z' THEN false ELSE {blank} END"
        picked = ", ".join(f"{f'c{cols[c]}' if c in cols else 'CAST(NULL AS VARCHAR)'} AS {c}" for c in COLUMNS)
        fidx = "CASE file_index " + " ".join(f"WHEN {j} THEN {i}" for j, i in enumerate(batch)) + " END"
        # Typed straight from the read, in one pass (on both cores where the read is split); rows keep the read's
        # order, so a row's number is its place in the read (rows of empty cells counted, empty lines not).
        _type_rows(con, load_key_for(con), f"SELECT CAST({fidx} AS INTEGER) AS _fidx, NULL AS _given_row, "
                                           f"{picked}, {blank} AS _blank FROM {read}")
        bad_paths = {r[0] for r in con.execute(
            "SELECT DISTINCT s.file_path FROM _wl_rej_err e JOIN _wl_rej_scan s ON s.scan_id = e.scan_id "
            "AND s.file_id = e.file_id").fetchall()}
        keep = [i for i in batch if str(files[i][0]) not in bad_paths]
        _number_rows(con, keep, len(batch))
        results = self._finish(con, [files[i] for i in keep], keep, _shown(headers, cols)) if keep else []
        return results, [f for i, f in enumerate(files) if i not in keep]

    def _finish(self, con: duckdb.DuckDBPyConnection, files: list[tuple[Path, int, str]], indexes: list[int],
                shown: dict[str, str]) -> list[FileResult]:
        """Validate ``_wl_typed`` (rows of every file, by ``_fidx``), replace and insert the good rows in each file's
        area, quarantine the bad ones; one FileResult per file."""
        values = ", ".join(f"({i}, {literal(area)}, {int(load_id)}, {literal(path.name)})"
                           for i, (path, load_id, area) in zip(indexes, files, strict=True))
        con.execute(f"CREATE OR REPLACE TEMP TABLE _wl_files AS SELECT * FROM (VALUES {values}) "
                    "t(_fidx, _area, _load_id, _name)")
        counts = dict(con.execute("SELECT _fidx, count(*) FROM _wl_typed GROUP BY 1").fetchall())
        problems = _validate(con, shown)
        con.execute("CREATE OR REPLACE TEMP TABLE _wl_bad AS SELECT DISTINCT _fidx, _row FROM _wl_problems")
        con.execute("""CREATE OR REPLACE TEMP VIEW _wl_good AS
                       SELECT f._area, f._load_id, t.* FROM _wl_typed t JOIN _wl_files f ON f._fidx = t._fidx
                       WHERE NOT EXISTS (SELECT 1 FROM _wl_bad b WHERE b._fidx = t._fidx AND b._row = t._row)""")
        # An area's first referral extract supersedes nothing: the delete (a second pass over _wl_good) is skipped.
        if con.execute("SELECT count(*) FROM (SELECT 1 FROM referral WHERE area_code IN "
                       "(SELECT _area FROM _wl_files) LIMIT 1)").fetchone()[0]:
            con.execute("""DELETE FROM referral r USING _wl_good g
                           WHERE r.area_code = g._area AND r.patient_key = g.patient_key AND r.service = g.service
                             AND r.referral_date = g.referral_date""")
        con.execute("""INSERT INTO referral
                        SELECT _area, patient_key, service, referral_date, first_contact_date, removed_date,
                               removal_reason, age_years, locality, _load_id FROM _wl_good""")
        con.execute("INSERT INTO quarantine SELECT f._load_id, f._name, ?, p._row, p.column_name, p.value, p.reason "
                    "FROM _wl_problems p JOIN _wl_files f ON f._fidx = p._fidx", [self.name])
        by_file: dict[int, list[Problem]] = {i: [] for i in indexes}
        for fidx, row, col, value, reason in problems:
            by_file[fidx].append(Problem(files[indexes.index(fidx)][0].name, row, col, reason, value))
        removed = {r[0]: r[1:] for r in con.execute(
            "SELECT _fidx, count(*) FILTER (_x_removal_reason), count(*) FILTER (_x_locality) FROM _wl_typed "
            "GROUP BY 1").fetchall()}
        results = []
        for i, (path, _, _) in zip(indexes, files, strict=True):
            out, read = by_file[i], counts.get(i, 0)
            bad = len({p.row for p in out})
            warned = [Problem(path.name, None, shown.get(c, c), ids.removed_warning(n))
                      for c, n in zip(("removal_reason", "locality"), removed.get(i, (0, 0)), strict=True) if n]
            results.append(FileResult(path, self.name, "quarantined" if bad else "loaded", read, read - bad, bad,
                                      out, warnings=warned))
        return results


def _shown(headers: list[str], cols: dict[str, int]) -> dict[str, str]:
    return {c: headers[i].strip() for c, i in cols.items()}


def _required(path: Path, headers: list[str]) -> dict[str, int]:
    """The header map; the load is rejected when a required column is missing."""
    cols = map_headers(headers)
    missing = [c for c in REQUIRED if c not in cols]
    if missing:
        raise LoadRejected([Problem(path.name, None, ", ".join(missing),
                                    f"required {plural(len(missing), 'column')} missing for the waiting-list extract")])
    return cols


# Python's str.isspace(): a row whose every cell is blank in this sense is dropped (and keeps its row number).
_BLANK_CELL = r"[\t\n\v\f\r\x{1c}-\x{1f}\x{85}\pZ]*"


def _fast_header(path: Path, scan: FileScan) -> tuple[tuple[str, ...], tuple[tuple[str, int], ...]] | None:
    """The header (and header map) of a CSV the DuckDB fast path can take, else None (the Python path): an XLSX,
    a file that is not UTF-8 or has odd line ends (:class:`etl.inputs.FileScan`: lines ending two ways, a carriage
    return not before a line feed), starts with an empty line, has a quote in its header line, or lacks a required
    column. (A file DuckDB cannot read strictly, e.g. ragged rows, is found by the read itself: its rejects. Empty
    lines are no reason: neither path counts them as rows.)"""
    if path.suffix.lower() != ".csv" or not scan.utf8 or scan.odd_line_ends:
        return None
    try:
        with open(path, "rb") as fh:
            first = fh.readline()
    except OSError:
        return None
    if b'"' in first or first.startswith((b"\n", b"\r")):
        return None
    rows = read_rows(path, 1)
    if not rows:
        return None
    cols = map_headers(rows[0])
    if any(c not in cols for c in REQUIRED):
        return None  # the Python path rejects it with its message
    return tuple(rows[0]), tuple(sorted(cols.items()))


def load_key_for(con: duckdb.DuckDBPyConnection) -> bytes:
    """The pseudonymisation key of the database this connection writes to (same key as person ids)."""
    path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()[0]
    return load_key(Path(path) if path else Path("data/app.duckdb"))


def _type_rows(con: duckdb.DuckDBPyConnection, key: bytes, source: str) -> None:
    """Type the rows of ``source`` (``_fidx``, ``_given_row``, the raw COLUMNS, ``_blank``) into ``_wl_typed_t``,
    in the source's order."""
    def raw(c: str) -> str:
        return f"nullif(trim({c}), '')"

    service = f"upper(regexp_replace({raw('service')}, '[\\s-]+', '_', 'g'))"
    # Each free-text cell's identifier test runs once (a regular expression over every row): its flag, then the
    # cell as stored from the flag.
    free = {c: f"CASE WHEN _x_{c} THEN {literal(ids.REMOVED)} ELSE _free_{c} END"
            for c in ("removal_reason", "locality")}
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _wl_typed_t AS
        SELECT * EXCLUDE (_free_removal_reason, _free_locality),
               {free['removal_reason']} AS removal_reason, {free['locality']} AS locality
        FROM (SELECT _fidx, CAST(_given_row AS BIGINT) AS _given_row, _blank,
               CASE WHEN {raw('patient_id')} IS NOT NULL THEN {hmac_sql(raw('patient_id'), key)} END AS patient_key,
               {service} AS service,
               {date_sql(raw('referral_date'))} AS referral_date,
               {date_sql(raw('first_contact_date'))} AS first_contact_date,
               {date_sql(raw('removed_date'))} AS removed_date,
               {raw('removal_reason')} AS _free_removal_reason,
               TRY_CAST(regexp_replace({raw('age_years')}, '^(\\d+)\\.0+$', '\\1') AS INTEGER) AS age_years,
               {raw('locality')} AS _free_locality,
               coalesce({ids.looks_like_identifier_sql(raw('removal_reason'))}, false) AS _x_removal_reason,
               coalesce({ids.looks_like_identifier_sql(raw('locality'))}, false) AS _x_locality,
               {raw('patient_id')} IS NULL AS _no_patient, {raw('service')} AS _service_raw,
               {raw('referral_date')} AS _ref_raw, {raw('first_contact_date')} AS _fc_raw,
               {raw('removed_date')} AS _rm_raw, {raw('age_years')} AS _age_raw
              FROM ({source}))
    """)


def _number_rows(con: duckdb.DuckDBPyConnection, keep: list[int], files_read: int) -> None:
    """The view ``_wl_typed``: the typed rows of the files kept, blank rows left out, each with its row number in
    its file (given by the Python path, else its place in the read less its file's first place, plus one)."""
    if files_read == 1:  # one file's rows: its first place is a constant (no join on every read of the view)
        first = con.execute("SELECT coalesce(min(rowid), 0) FROM _wl_typed_t").fetchone()[0]
        con.execute(f"""CREATE OR REPLACE TEMP VIEW _wl_typed AS
                        SELECT coalesce(_given_row, rowid - {int(first)} + 1) AS _row, * EXCLUDE (_given_row, _blank)
                        FROM _wl_typed_t WHERE NOT _blank""")
        return
    con.execute(f"""CREATE OR REPLACE TEMP VIEW _wl_typed AS
                    SELECT coalesce(t._given_row, t.rowid - f._g0 + 1) AS _row, t.* EXCLUDE (_given_row, _blank)
                    FROM _wl_typed_t t JOIN (SELECT _fidx, min(rowid) AS _g0 FROM _wl_typed_t GROUP BY 1) f
                      ON f._fidx = t._fidx
                    WHERE NOT t._blank AND t._fidx IN ({', '.join(map(str, keep)) or 'NULL'})""")


def _validate(con: duckdb.DuckDBPyConnection, shown: dict[str, str]) -> list[tuple]:
    """Collect every rule ``_wl_typed``'s rows break into ``_wl_problems``."""
    services = in_list(SERVICES)

    def col(c: str) -> str:
        return literal(shown.get(c, c))

    # (condition, column, value shown, reason): every per-row rule, checked in one scan of the rows where any
    # holds (a list of problem structs per row, unnested), not one scan per rule.
    rules = [
        ("_no_patient", "patient_id", "NULL", "required value is missing"),
        ("_service_raw IS NULL", "service", "_service_raw", "required value is missing"),
        (f"_service_raw IS NOT NULL AND service NOT IN ({services})", "service", "_service_raw",
         f"not a valid service (expected one of {', '.join(SERVICES)})"),
        ("_ref_raw IS NULL", "referral_date", "NULL", "required value is missing"),
    ]
    for c, raw_c in (("referral_date", "_ref_raw"), ("first_contact_date", "_fc_raw"), ("removed_date", "_rm_raw")):
        rules.append((f"{raw_c} IS NOT NULL AND {c} IS NULL", c, raw_c, "not a valid date"))
        rules.append((f"{c} > current_date", c, raw_c, "date is in the future"))
    rules += [
        ("first_contact_date < referral_date", "first_contact_date", "_fc_raw",
         "first contact is dated before the referral"),
        ("removed_date < referral_date", "removed_date", "_rm_raw", "removal is dated before the referral"),
        ("removed_date < first_contact_date AND removed_date >= referral_date", "removed_date", "_rm_raw",
         "removal is dated before the first contact it follows"),
        (f"_age_raw IS NOT NULL AND (age_years IS NULL OR age_years NOT BETWEEN 0 AND {MAX_AGE})", "age_years",
         "_age_raw", f"not a whole number of years from 0 to {MAX_AGE}"),
    ]
    def safe(value: str) -> str:  # no identifier shape in a value shown (a misaligned row shifts them anywhere)
        if value == "NULL":
            return value
        if value in ("_ref_raw", "_fc_raw", "_rm_raw"):
            return ids.safe_sql(value)
        return ids.safe_sql(value, pattern=ids.FREE_TEXT_SHAPES)

    structs = ", ".join(
        f"CASE WHEN {cond} THEN struct_pack(column_name := {col(c)}, value := CAST({safe(value)} AS VARCHAR), "
        f"reason := {literal(reason)}) END" for cond, c, value, reason in rules)
    checks = [
        f"SELECT _fidx, _row, p.column_name, p.value, p.reason FROM (SELECT _fidx, _row, unnest([{structs}]) AS p "
        f"FROM _wl_typed WHERE {' OR '.join(f'({cond})' for cond, *_ in rules)}) WHERE p IS NOT NULL",
        f"SELECT _fidx, _row, {col('referral_date')}, {safe('_ref_raw')}, "
        "'duplicate referral: the same patient, service and referral date appear on more than one row' "
        "FROM (SELECT *, count(*) OVER (PARTITION BY _fidx, patient_key, service, referral_date) AS _n FROM _wl_typed) "
        "WHERE patient_key IS NOT NULL AND referral_date IS NOT NULL AND _n > 1",
    ]
    con.execute("CREATE OR REPLACE TEMP TABLE _wl_problems AS SELECT * FROM ("
                + " UNION ALL ".join(checks) + ") t(_fidx, _row, column_name, value, reason)")
    return con.execute("SELECT _fidx, _row, column_name, value, reason FROM _wl_problems "
                       "ORDER BY _fidx, _row, column_name").fetchall()
