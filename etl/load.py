"""Load extracts into DuckDB: detect layout → validate every row → pseudonymise → insert, atomically.

One call of :func:`load_paths` is one transaction. A file whose layout cannot be recognised, or that lacks
required columns, rejects the whole load (nothing is written). Rows that break a rule are kept out of the
clean tables and recorded in ``quarantine`` with file, row, column and reason, so nothing is silently lost.
Re-loading a file already loaded (same SHA-256) is a no-op. A record whose key was loaded before is replaced
by the newer extract's version (monthly extracts revise earlier records).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

import duckdb

from etl import db as dbmod
from etl.formats import OTHER_LAYOUTS
from etl.formats.sen2_blade import DATE_FORMATS, LOAD_ORDER, MODULE_BY_NAME, MODULES, Field, Module
from etl.pseudonymise import hmac_sql, load_key
from etl.report import FileResult, LoadRejected, LoadReport, Problem

LAYOUT = "sen2_blade"
MAX_AGE_AT_REQUEST = 25
LOADABLE_SUFFIXES = (".csv", ".xlsx")


def normalise_header(name: str) -> str:
    """Header matching ignores case, spaces and punctuation (and a UTF-8 BOM)."""
    return "".join(ch for ch in name.lower() if ch.isalnum())


def expand_paths(paths: Iterable[Path]) -> tuple[list[Path], list[Problem]]:
    """Files as given, folders expanded to the CSV and XLSX files inside them (sorted)."""
    files: list[Path] = []
    problems: list[Problem] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(x for x in p.iterdir() if x.is_file() and x.suffix.lower() in LOADABLE_SUFFIXES
                           and not x.name.startswith("~$"))  # Excel's lock files
            if not found:
                problems.append(Problem(str(p), None, None, "folder holds no .csv or .xlsx files"))
            files.extend(found)
        elif p.is_file():
            files.append(p)
        else:
            problems.append(Problem(str(p), None, None, "no such file or folder"))
    return files, problems


def read_header(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    rows = con.execute(
        "SELECT column_name FROM (DESCRIBE SELECT * FROM read_csv(?, all_varchar=true, header=true))",
        [str(path)],
    ).fetchall()
    return [r[0] for r in rows]


def detect_module(headers: list[str]) -> tuple[Module | None, dict[str, str]]:
    """Pick the module whose own key and required columns are present and which matches most columns.

    Returns the module and a map from each field's source name to the header as written in the file.
    """
    present = {normalise_header(h): h for h in headers}
    best: tuple[float, Module | None, dict[str, str]] = (0.0, None, {})
    for module in MODULES:
        mapping: dict[str, str] = {}
        for f in module.all_fields:
            for name in (f.source, *f.aliases):
                if name in present:
                    mapping[f.source] = present[name]
                    break
        if module.key.source not in mapping:
            continue
        score = len(mapping) / len(module.all_fields)
        if score > best[0]:
            best = (score, module, mapping)
    return best[1], best[2]


def expected_layouts() -> str:
    return "; ".join(f"{m.name} ({', '.join(m.required_columns)})" for m in MODULES)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --- typed expressions -------------------------------------------------------------------------------------

def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _raw(f: Field, mapping: dict[str, str]) -> str:
    """The trimmed raw text of a field, NULL when blank or when the column is absent."""
    if f.source not in mapping:
        return "CAST(NULL AS VARCHAR)"
    return f"NULLIF(trim({_q(mapping[f.source])}), '')"


def _date_formats_sql() -> str:
    return "[" + ", ".join(f"'{fmt}'" for fmt in DATE_FORMATS) + "]"


def typed_expr(f: Field, raw: str, key: bytes) -> str:
    """SQL turning a raw text column into its clean typed value (NULL when it does not parse)."""
    id_text = rf"regexp_replace({raw}, '^(\d+)\.0+$', '\1')"
    if f.kind == "id":
        return id_text
    if f.kind == "person_id":
        return f"CASE WHEN {raw} IS NULL THEN NULL ELSE {hmac_sql(id_text, key)} END"
    if f.kind == "date" or (f.kind == "identifier" and f.source == "personbirthdate"):
        return f"CAST(try_strptime({raw}, {_date_formats_sql()}) AS DATE)"
    if f.kind == "int":
        return rf"TRY_CAST(regexp_replace({raw}, '^(-?\d+)\.0+$', '\1') AS INTEGER)"
    if f.kind == "flag":
        return (
            f"CASE WHEN lower({raw}) IN ('1', '1.0', 'true', 'y', 'yes') THEN TRUE "
            f"WHEN lower({raw}) IN ('0', '0.0', 'false', 'n', 'no') THEN FALSE END"
        )
    if f.kind == "code":
        return f"upper({raw})"
    return raw


def field_checks(f: Field, raw: str, typed: str) -> list[tuple[str, str]]:
    """(condition, reason) pairs that make a row's value in this field unacceptable."""
    checks: list[tuple[str, str]] = []
    if f.required:
        checks.append((f"{raw} IS NULL", "required value is missing"))
    if f.kind in ("date", "int", "flag") or f.source == "personbirthdate":
        what = {"date": "not a valid date", "int": "not a whole number", "flag": "not a 0/1 flag"}
        reason = what.get(f.kind, "not a valid date")
        checks.append((f"{raw} IS NOT NULL AND {typed} IS NULL", reason))
    if f.kind == "date":
        checks.append((f"{typed} > current_date", "date is in the future"))
    if f.kind == "code" and f.codes:
        codes = ", ".join(f"'{c}'" for c in f.codes)
        checks.append(
            (f"{raw} IS NOT NULL AND {typed} NOT IN ({codes})",
             f"not a valid code (expected one of {', '.join(f.codes)})")
        )
    return checks


# Rules that compare fields of one row, by module: (condition on typed columns, column blamed, reason).
ROW_RULES: dict[str, list[tuple[str, str, str]]] = {
    "requests": [
        ("request_outcome_date < received_date", "requestoutcomedate",
         "decision is dated before the request was received"),
        ("request_outcome IN ('Y', 'N') AND request_outcome_date IS NULL", "requestoutcomedate",
         "an outcome of Y or N needs a decision date"),
        ("_birth_date > received_date", "receiveddate", "request is dated before the child's birth"),
        (f"age_at_request > {MAX_AGE_AT_REQUEST}", "receiveddate",
         f"child is over {MAX_AGE_AT_REQUEST} at the request"),
    ],
    "assessment": [
        ("assessment_outcome_date < _received_date", "assessmentoutcomedate",
         "outcome is dated before the request was received"),
    ],
    "activeplans": [
        ("review_decision_date < review_meeting_date", "lastreview", "review decision is dated before the meeting"),
    ],
    "namedplan": [
        ("cease_date < start_date", "ceasedate", "plan ceases before it starts"),
    ],
}

# Extra columns some rules need, joined from elsewhere in the same load or the database.
ROW_CONTEXT: dict[str, tuple[str, str]] = {
    "requests": (
        "_birth_date, CAST(date_diff('year', _birth_date, received_date) - "
        "CASE WHEN strftime(received_date, '%m%d') < strftime(_birth_date, '%m%d') THEN 1 ELSE 0 END AS INTEGER) "
        "AS age_at_request",
        "LEFT JOIN (SELECT person_key AS _pk, _birth_date FROM _person_dob) d ON d._pk = t.person_key",
    ),
    "assessment": (
        "r.received_date AS _received_date",
        "LEFT JOIN request r ON r.request_id = t.request_id",
    ),
}


def derived_columns(module: Module, mapping: dict[str, str]) -> dict[str, str]:
    """Clean columns computed from identifiers before they are dropped (e.g. postcode → district)."""
    if module.name != "person":
        return {}
    postcode = _raw(next(f for f in module.fields if f.source == "postcode"), mapping)
    compact = f"upper(replace({postcode}, ' ', ''))"
    # The outward code is everything before the last three characters (the inward code) of a UK postcode.
    district = f"CASE WHEN length({compact}) BETWEEN 5 AND 7 THEN left({compact}, length({compact}) - 3) END"
    return {"postcode_district": district}


class Loader:
    """Runs one load against an open connection inside a transaction the caller owns."""

    def __init__(self, con: duckdb.DuckDBPyConnection, key: bytes):
        self.con = con
        self.key = key
        con.execute("CREATE OR REPLACE TEMP TABLE _person_dob (person_key VARCHAR, _birth_date DATE)")

    def load_file(self, path: Path, module: Module, mapping: dict[str, str], load_id: int) -> FileResult:
        """Validate one Blade module file and insert its good rows; bad rows go to quarantine."""
        con = self.con
        name = path.name
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _raw AS "
            "SELECT row_number() OVER () AS _row, * FROM read_csv(?, all_varchar=true, header=true)",
            [str(path)],
        )
        rows_read = con.execute("SELECT count(*) FROM _raw").fetchone()[0]

        typed_cols, checks = [], []
        for f in module.all_fields:
            raw = _raw(f, mapping)
            typed = typed_expr(f, raw, self.key)
            if f.target is not None:
                typed_cols.append(f"{typed} AS {f.target}")
            elif f.source == "personbirthdate":
                typed_cols.append(f"{typed} AS _birth_date")
            shown = "NULL" if f.kind in ("identifier", "person_id") else raw
            for cond, reason in field_checks(f, raw, typed):
                checks.append(
                    f"SELECT _row, {_lit(mapping.get(f.source, f.source))} AS column_name, {shown} AS value, "
                    f"{_lit(reason)} AS reason FROM _raw WHERE {cond}"
                )
        derived = derived_columns(module, mapping)
        typed_cols += [f"{sql} AS {name}" for name, sql in derived.items()]
        con.execute(f"CREATE OR REPLACE TEMP TABLE _typed AS SELECT _row, {', '.join(typed_cols)} FROM _raw")
        if module.name == "person":
            con.execute("INSERT INTO _person_dob SELECT person_key, _birth_date FROM _typed")

        ctx_cols, ctx_join = ROW_CONTEXT.get(module.name, ("NULL AS _none", ""))
        con.execute(f"CREATE OR REPLACE TEMP TABLE _ctx AS SELECT t.*, {ctx_cols} FROM _typed t {ctx_join}")
        key_col = module.key.target
        key_header = mapping[module.key.source]
        key_shown = "NULL" if module.key.kind == "person_id" else key_col
        checks.append(
            f"SELECT _row, {_lit(key_header)}, {key_shown}, 'duplicate key: the same id appears on more than one row' "
            f"FROM _typed WHERE {key_col} IN "
            f"(SELECT {key_col} FROM _typed WHERE {key_col} IS NOT NULL GROUP BY 1 HAVING count(*) > 1)"
        )
        for cond, column, reason in ROW_RULES.get(module.name, []):
            checks.append(
                f"SELECT _row, {_lit(mapping.get(column, column))}, NULL, {_lit(reason)} FROM _ctx WHERE {cond}"
            )
        if module.parent:
            fk_source, parent_name = module.parent
            parent = MODULE_BY_NAME[parent_name]
            fk_field = next(f for f in module.all_fields if f.source == fk_source)
            if fk_source in mapping:
                shown = "NULL" if fk_field.kind == "person_id" else fk_field.target
                checks.append(
                    f"SELECT _row, {_lit(mapping[fk_source])}, {shown}, "
                    f"'refers to a {parent.name} record that is not loaded' FROM _typed t "
                    f"WHERE {fk_field.target} IS NOT NULL AND NOT EXISTS "
                    f"(SELECT 1 FROM {parent.table} p WHERE p.{parent.key.target} = t.{fk_field.target})"
                )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _problems AS " + " UNION ALL ".join(checks)
        )
        problems = [
            Problem(name, row, col, reason, value)
            for row, col, value, reason in con.execute(
                "SELECT _row, column_name, value, reason FROM _problems ORDER BY _row, column_name"
            ).fetchall()
        ]
        bad_rows = con.execute("SELECT count(DISTINCT _row) FROM _problems").fetchone()[0]

        target_cols = [f.target for f in module.all_fields if f.target is not None] + list(derived)
        if module.name == "requests":
            target_cols.append("age_at_request")
        cols = ", ".join(target_cols)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _good AS SELECT * FROM _ctx WHERE _row NOT IN (SELECT _row FROM _problems)"
        )
        con.execute(f"DELETE FROM {module.table} WHERE {key_col} IN (SELECT {key_col} FROM _good)")
        con.execute(f"INSERT INTO {module.table} ({cols}, load_id) SELECT {cols}, {load_id} FROM _good")
        con.execute(
            "INSERT INTO quarantine SELECT ?, ?, ?, _row, column_name, value, reason FROM _problems",
            [load_id, name, module.name],
        )
        rows_loaded = rows_read - bad_rows
        status = "quarantined" if bad_rows else "loaded"
        return FileResult(path, module.name, status, rows_read, rows_loaded, bad_rows, problems)


def load_paths(
    paths: Iterable[Path | str],
    db_path: Path | str,
    on_file: Callable[[Path], None] | None = None,
) -> LoadReport:
    """Load files and folders into the database in one transaction.

    Raises :class:`LoadRejected` (nothing written) when any input cannot be read or recognised.
    ``on_file`` is called as each file starts (for a progress bar).
    """
    db_path = Path(db_path)
    files, problems = expand_paths(Path(p) for p in paths)
    plan: list[tuple[Path, object, dict[str, str]]] = []  # (file, Blade Module or other Layout, header map)
    probe = duckdb.connect()
    for path in files:
        if path.suffix.lower() == ".xlsx":  # workbooks: only the registered layouts read them
            headers, read_error = None, "an .xlsx workbook matching no known layout"
        else:
            try:
                headers = read_header(probe, path)
            except duckdb.Error as exc:
                headers, read_error = None, str(exc).splitlines()[0]
        module, mapping = detect_module(headers) if headers else (None, {})
        if module is None:
            other = next((lay for lay in OTHER_LAYOUTS if lay.matches(path, headers)), None)
            if other is not None:
                plan.append((path, other, {}))
            elif headers is None and path.suffix.lower() == ".xlsx":
                problems.append(Problem(path.name, None, None, "unknown layout: the workbook matches no known layout; "
                                        "expected " + "; or ".join(lay.description for lay in OTHER_LAYOUTS
                                                                   if "xlsx" in lay.description.lower()
                                                                   or "workbook" in lay.description.lower())))
            elif headers is None:
                problems.append(Problem(path.name, None, None, f"cannot be read as CSV ({read_error})"))
            else:
                problems.append(Problem(path.name, None, None, "unknown layout: the headers match no known layout; "
                                        "expected a SEN2 Blade module: " + expected_layouts()
                                        + "".join(f"; or {lay.description}" for lay in OTHER_LAYOUTS)))
            continue
        missing = [c for c in module.required_columns if c not in mapping]
        if missing:
            problems.append(Problem(path.name, None, ", ".join(missing),
                                    f"required column(s) missing for the {module.name} module"))
            continue
        plan.append((path, module, mapping))
    probe.close()
    if problems:
        raise LoadRejected(problems)

    def order(item):
        handler = item[1]
        rank = LOAD_ORDER.index(handler.name) if isinstance(handler, Module) else len(LOAD_ORDER)
        return rank, item[0].name

    plan.sort(key=order)
    key = load_key(db_path)
    con = dbmod.connect(db_path)
    try:
        results: list[FileResult] = []
        con.execute("BEGIN TRANSACTION")
        next_id = con.execute("SELECT coalesce(max(load_id), 0) + 1 FROM load_log").fetchone()[0]
        loader = Loader(con, key)
        known = {r[0] for r in con.execute("SELECT file_sha256 FROM load_log").fetchall()}
        for path, handler, mapping in plan:
            if on_file:
                on_file(path)
            digest = sha256_of(path)
            if digest in known:
                results.append(FileResult(path, handler.name, "unchanged"))
                continue
            if isinstance(handler, Module):
                result = loader.load_file(path, handler, mapping, next_id)
                layout = LAYOUT
            else:
                result = handler.load(con, path, next_id)
                layout = handler.layout
            log_load(con, next_id, result, digest, layout)
            results.append(result)
            known.add(digest)
            next_id += 1
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.close()
    return LoadReport(results)


def log_load(con: duckdb.DuckDBPyConnection, load_id: int, result: FileResult, digest: str, layout: str) -> None:
    """One load_log row per file loaded."""
    con.execute(
        "INSERT INTO load_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [load_id, datetime.now(), result.path.name, digest, layout, result.module, result.rows_read,
         result.rows_loaded, result.rows_quarantined,
         "loaded_with_quarantine" if result.rows_quarantined else "loaded"],
    )
