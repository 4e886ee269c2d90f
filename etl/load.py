"""Load extracts into DuckDB: detect layout → validate every row → pseudonymise → insert, atomically.

One call of :func:`load_paths` is one transaction. A file whose layout cannot be recognised, or that lacks
required columns, rejects the whole load (nothing is written). Rows that break a rule are kept out of the
clean tables and recorded in ``quarantine`` with file, row, column and reason, so nothing is silently lost.
Re-loading a file already loaded (same SHA-256) is a no-op. A record whose key was loaded before is replaced
by the newer extract's version (monthly extracts revise earlier records).
"""

from __future__ import annotations

import csv
import functools
import getpass
import gzip
import hashlib
import shutil
import tempfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from etl import area as area_config
from etl import db as dbmod
from etl import identifiers as ids
from etl import reference
from etl import sources as src
from etl.as_at import record_as_at, record_reviews
from etl.formats import OTHER_LAYOUTS
from etl.formats import sen2_human as human
from etl.formats.local_extracts import LOCAL_MODULES
from etl.formats.sen2_blade import MODULE_BY_NAME, MODULES, Field, Module, date_sql
from etl.pseudonymise import hmac_sql, load_key
from etl.report import FileResult, LoadRejected, LoadReport, Problem

LAYOUT = "sen2_blade"
MAX_AGE_AT_REQUEST = 25
ALL_MODULES: tuple[Module, ...] = MODULES + LOCAL_MODULES
ALL_BY_NAME = {m.name: m for m in ALL_MODULES}
INPUT_SUFFIXES = (".csv", *src.EXCEL_SUFFIXES)  # what a folder is expanded to
GZIP_SUFFIXES = tuple(s + ".gz" for s in INPUT_SUFFIXES)  # …and their gzip-compressed copies (``requests.csv.gz``)
LOADABLE_SUFFIXES = INPUT_SUFFIXES  # the name main uses


def is_input_file(path: Path) -> bool:
    """A file a folder is expanded to: CSV or Excel, plain or gzip-compressed."""
    return path.name.lower().endswith(INPUT_SUFFIXES + GZIP_SUFFIXES)


def is_gzip_name(path: Path) -> bool:
    return path.name.lower().endswith(".gz")


def gunzip_inputs(files: list[Path], into: Path) -> tuple[list[Path], list[Problem]]:
    """Each ``name.csv.gz`` (any ``.gz``) decompressed to ``into/<n>/name.csv``; other files as given.

    The loader then reads the plain file under its original name, so load_log records the same name and SHA-256
    as the uncompressed download (an identical file is a no-op whichever form was loaded). A file that is not
    valid gzip is a problem, never a traceback."""
    out: list[Path] = []
    problems: list[Problem] = []
    for n, path in enumerate(files):
        if not is_gzip_name(path):
            out.append(path)
            continue
        target = into / str(n) / path.name[:-3]
        target.parent.mkdir(parents=True)
        try:
            with gzip.open(path, "rb") as fh, open(target, "wb") as dst:
                shutil.copyfileobj(fh, dst, 1 << 20)
        except (OSError, EOFError, zlib.error) as exc:
            problems.append(Problem(path.name, None, None, f"cannot be read as a gzip-compressed file ({exc})"))
            continue
        out.append(target)
    return out, problems


def normalise_header(name: str) -> str:
    """Header matching ignores case, spaces and punctuation (and a UTF-8 BOM)."""
    return "".join(ch for ch in name.lower() if ch.isalnum())


def expand_paths(paths: Iterable[Path]) -> tuple[list[Path], list[Problem]]:
    """Files as given, folders expanded to the CSV and Excel files inside them (sorted)."""
    files: list[Path] = []
    problems: list[Problem] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(x for x in p.iterdir() if x.is_file() and is_input_file(x)
                           and not x.name.startswith("~$"))  # ~$name.xlsx: Excel's lock file of an open workbook
            if not found:
                problems.append(Problem(str(p), None, None, "folder holds no .csv or .xlsx files (plain or .gz)"))
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


def field_names(module: Module, f: Field) -> list[str]:
    """Every normalised header a field is recognised by: its name, aliases and human headings."""
    return list(_field_names(module.name, f.source, tuple(f.aliases)))


@functools.cache
def _field_names(module: str, source: str, aliases: tuple[str, ...]) -> tuple[str, ...]:
    """field_names, once per field (detecting a file's module asks it for every field of every module)."""
    names = [source, *aliases, *human.headings(module, source)]
    return tuple(dict.fromkeys(normalise_header(n) for n in names))


# Human-heading templates may key active plans by person and request with no record id of their own: the key is
# then derived as ``<request id>|<review meeting date, ISO>`` (the request id alone when no meeting date is given),
# so one request's reviews stay apart and a later extract's row for the same meeting replaces the earlier one.
# Child rows (placement detail, SEN need) cannot refer to such a key: they need the record id.
DERIVED_KEYS: dict[str, tuple[str, str]] = {"activeplanstableid": ("requeststableid", "reviewmeeting")}
DERIVED = " (derived key)"


def _map_module(module: Module, present: dict[str, str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for f in module.all_fields:
        for name in field_names(module, f):
            if name in present:
                mapping[f.source] = present[name]
                break
    parts = DERIVED_KEYS.get(module.key.source)
    if parts and module.key.source not in mapping and parts[0] in mapping:
        mapping[module.key.source] = " + ".join(mapping[p] for p in parts if p in mapping) + DERIVED
    return mapping


def detect_module(headers: list[str]) -> tuple[Module | None, dict[str, str]]:
    """Pick the module whose own key is present and which matches the largest share of its columns.

    SEN2 modules (Blade names or human headings) and the local extracts compete; ties go to the first declared.
    Returns the module and a map from each field's source name to the header as written in the file.
    """
    present = _present(headers)
    sen2_known = {n for n in present if n in _sen2_names()}
    best: tuple[float, Module | None, dict[str, str]] = (0.0, None, {})
    for module in ALL_MODULES:
        mapping = _map_module(module, present)
        if module.key.source not in mapping:
            continue
        if any(c not in mapping for c in module.required_columns) and \
                sen2_known - {normalise_header(h) for h in mapping.values()}:
            continue  # columns it lacks and SEN2 headings it does not know: another module's file, never this one
        score = len(mapping) / len(module.all_fields)
        if score > best[0]:
            best = (score, module, mapping)
    return best[1], best[2]


def _present(headers: list[str]) -> dict[str, str]:
    """Normalised heading → the heading as written (the first of repeats)."""
    present: dict[str, str] = {}
    for h in headers:
        present.setdefault(normalise_header(h), h)
    return present


@functools.cache
def _sen2_names() -> frozenset[str]:
    """Every normalised heading a SEN2 module field is known by (Blade names, aliases, human headings)."""
    return frozenset(n for m in MODULES for f in m.all_fields for n in field_names(m, f))


def closest_layout(headers: list[str]) -> str | None:
    """For a table no layout fits: the layout matching most of its headings, the columns it lacks (the key and
    required ones, with their template headings) and the headings it does not recognise; None when none match."""
    present = _present(headers)
    best: tuple[int, float, Module | None, dict[str, str]] = (0, 0.0, None, {})
    for module in ALL_MODULES:
        mapping = _map_module(module, present)
        score = (len(mapping), len(mapping) / len(module.all_fields))
        if score > best[:2]:
            best = (*score, module, mapping)
    _, _, module, mapping = best
    if module is None:
        return None
    missing = [f"{c} ({human.heading(module.name, c)})" if human.heading(module.name, c) != c else c
               for c in dict.fromkeys([module.key.source, *module.required_columns]) if c not in mapping]
    used = set(mapping.values())
    unknown = [h for h in headers if h and h not in used]
    kind = "SEN2 module" if module.layout == LAYOUT else "local extract"
    return (f"closest is the {module.name} {kind}, which lacks {', '.join(missing) or 'nothing required'}"
            f"; headings not recognised: {', '.join(unknown) or 'none'}")


def looks_like_header(cells: list[str]) -> bool:
    """A row is a header when a module's key and at least one more of its columns are in it."""
    module, mapping = detect_module(cells)
    return module is not None and len(mapping) >= 2


def layout_of(module: Module, source: src.Source, mapping: dict[str, str]) -> str:
    """The layout name for load_log: Blade, the Excel template, module CSVs with human headings, or local."""
    if module.layout != LAYOUT:
        return module.layout
    if source.is_excel:
        return human.LAYOUT_TEMPLATE
    blade_names = {normalise_header(n) for f in module.all_fields for n in (f.source, *f.aliases)}
    if any(normalise_header(h) not in blade_names for h in mapping.values()):
        return human.LAYOUT_MODULE_CSV
    return LAYOUT


def expected_layouts() -> str:
    blade = "; ".join(f"{m.name} ({', '.join(m.required_columns)})" for m in MODULES)
    return (f"a SEN2 Blade module: {blade}; or the same modules with the DfE template's headings (Excel "
            "workbook with a sheet per module, or one CSV per module: Person ID, Requests Record ID, Date Request "
            "Was Received, …); or a local extract: " + "; ".join(m.description for m in LOCAL_MODULES))


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
    """The trimmed raw text of a field, NULL when blank or when the column is absent (a derived key: its text)."""
    if f.source not in mapping:
        return "CAST(NULL AS VARCHAR)"
    if f.source in DERIVED_KEYS and mapping[f.source].endswith(DERIVED):
        parent, when = (next(g for m in MODULES for g in m.all_fields if g.source == s) for s in DERIVED_KEYS[f.source])
        parent_raw, when_raw = _raw(parent, mapping), _raw(when, mapping)
        return (rf"CASE WHEN {parent_raw} IS NOT NULL THEN regexp_replace({parent_raw}, '^(\d+)\.0+$', '\1') || "
                f"coalesce('|' || CAST({date_sql(when_raw)} AS VARCHAR), '') END")
    return f"NULLIF(trim({_q(mapping[f.source])}), '')"


def _free_text(f: Field, mapping: dict[str, str]) -> bool:
    return f.kind == "text" and f.source in ids.FREE_TEXT and f.source in mapping


def _person_level(module: Module) -> bool:
    """A module whose rows are about one child (a person id or identifier columns)."""
    return any(f.kind in ("person_id", "identifier") for f in module.all_fields)


def _first_sensitive(module: Module, mapping: dict[str, str], columns: list[str]) -> int | None:
    """The file position of the first identifier or free-text column: in a misaligned row (more cells than
    headings) every cell from there on may have come from it, so none is shown."""
    places = [columns.index(mapping[f.source]) for f in module.all_fields
              if f.source in mapping and mapping[f.source] in columns
              and (f.kind == "identifier" or _free_text(f, mapping))]
    return min(places) if places else None


def typed_expr(f: Field, raw: str, key: bytes) -> str:
    """SQL turning a raw text column into its clean typed value (NULL when it does not parse)."""
    id_text = rf"regexp_replace({raw}, '^(\d+)\.0+$', '\1')"
    if f.kind == "id":
        return id_text
    if f.kind == "person_id":
        return f"CASE WHEN {raw} IS NULL THEN NULL ELSE {hmac_sql(id_text, key)} END"
    if f.kind == "date" or (f.kind == "identifier" and f.source == "personbirthdate"):
        return date_sql(raw)
    if f.kind == "int":
        return rf"TRY_CAST(regexp_replace({raw}, '^(-?\d+)\.0+$', '\1') AS INTEGER)"
    if f.kind == "flag":
        return (
            f"CASE WHEN lower({raw}) IN ('1', '1.0', 'true', 'y', 'yes') THEN TRUE "
            f"WHEN lower({raw}) IN ('0', '0.0', 'false', 'n', 'no') THEN FALSE END"
        )
    if f.kind == "code":  # 'Requires Improvement' → REQUIRES_IMPROVEMENT; 'social care' → SOCIAL_CARE
        return rf"upper(regexp_replace({raw}, '[\s_-]+', '_', 'g'))"
    if f.kind == "number":
        return rf"TRY_CAST(replace({raw}, ',', '') AS DOUBLE)"
    if f.kind == "period":
        return rf"CAST(try_strptime(regexp_extract({raw}, '^(\d{{4}}-\d{{1,2}})$', 1) || '-01', '%Y-%m-%d') AS DATE)"
    return raw


TOO_LONG = f"value is too long (over {src.MAX_CELL_CHARS:,} characters, more than an Excel cell holds): not shown"


def field_checks(f: Field, raw: str, typed: str) -> list[tuple[str, str]]:
    """(condition, reason) pairs that make a row's value in this field unacceptable."""
    checks: list[tuple[str, str]] = []
    if f.required:
        checks.append((f"{raw} IS NULL", "required value is missing"))
    checks.append((f"length({raw}) > {src.MAX_CELL_CHARS}", TOO_LONG))
    errors = ", ".join(_lit(e) for e in src.EXCEL_ERRORS)
    # Every Excel error starts with '#': the prefix test spares upper-casing the other cells.
    checks.append((f"(starts_with({raw}, '#') AND upper({raw}) IN ({errors}))",
                   "an Excel error cell (the formula behind it failed)"))
    if f.kind in ("date", "int", "flag", "number", "period") or f.source == "personbirthdate":
        what = {"date": "not a valid date", "int": "not a whole number", "flag": "not a 0/1 flag",
                "number": "not a number", "period": "not a month written YYYY-MM"}
        reason = what.get(f.kind, "not a valid date")
        checks.append((f"{raw} IS NOT NULL AND {typed} IS NULL AND upper({raw}) NOT IN ({errors})", reason))
    if f.kind == "date" or f.source == "personbirthdate":
        checks.append((f"{typed} > current_date", "date is in the future"))
    if f.kind == "period":
        checks.append((f"{typed} > current_date", "period is in the future"))
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
    # Age from the birth date in this load's person file; when the person file is not in the load, the age
    # already stored for the same request received on the same day is kept (the birth date itself is never stored).
    # ``t._area`` is each row's area: every join stays within it.
    "requests": (
        "_birth_date, coalesce(CAST(date_diff('year', _birth_date, received_date) - "
        "CASE WHEN strftime(received_date, '%m%d') < strftime(_birth_date, '%m%d') THEN 1 ELSE 0 END AS INTEGER), "
        "_stored_age) AS age_at_request",
        "LEFT JOIN (SELECT area_code AS _pa, person_key AS _pk, _birth_date FROM _person_dob) d "
        "ON d._pa = t._area AND d._pk = t.person_key "
        "LEFT JOIN (SELECT area_code AS _sa, request_id AS _rid, received_date AS _rd, age_at_request AS _stored_age "
        "FROM request) s ON s._sa = t._area AND s._rid = t.request_id AND s._rd = t.received_date",
    ),
    "assessment": (
        "r.received_date AS _received_date",
        "LEFT JOIN request r ON r.area_code = t._area AND r.request_id = t.request_id",
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


@dataclass
class BatchFile:
    """One table of a batch: the source, the load_id it is logged under and the area (ONS code) it is for."""

    source: src.Source
    load_id: int
    area: str


def batch_key(source: src.Source, mapping: dict[str, str]) -> tuple | None:
    """Tables that can be read and validated in one pass share this key (same headings as written, header line,
    delimiter, header map); None for a table that is not a UTF-8 CSV (it takes the per-file path)."""
    if source.is_excel or source.encoding != "utf-8" or source.rows is not None:
        return None
    return (tuple(src._unique(source.headers)), source.header_index, source.delimiter, tuple(sorted(mapping.items())))


class Loader:
    """Runs one load against an open connection inside a transaction the caller owns."""

    def __init__(self, con: duckdb.DuckDBPyConnection, key: bytes):
        self.con = con
        self.key = key
        con.execute("CREATE OR REPLACE TEMP TABLE _person_dob (area_code VARCHAR, person_key VARCHAR, "
                    "_birth_date DATE)")

    def collect_birth_dates(self, source: src.Source, mapping: dict[str, str], area: str) -> None:
        """Read only the birth dates of a person file that is not loaded again (unchanged), so that the requests
        loaded beside it still get their age at request and the birth-after-request check."""
        module = MODULE_BY_NAME["person"]
        src.materialise(self.con, source)
        key, birth = module.key, next(f for f in module.fields if f.source == "personbirthdate")
        self.con.execute(
            f"INSERT INTO _person_dob SELECT {_lit(area)}, {typed_expr(key, _raw(key, mapping), self.key)}, "
            f"{typed_expr(birth, _raw(birth, mapping), self.key)} FROM _raw")

    def load_file(self, source: src.Source, module: Module, mapping: dict[str, str], load_id: int,
                  area: str) -> FileResult:
        """Validate one module's table (a CSV or a sheet) of one area's extract and insert its good rows; bad rows
        go to quarantine. Keys are unique within an area: ``area`` (ONS code) scopes every lookup and replacement.

        A UTF-8 CSV is read by DuckDB (:meth:`load_batch` of one); anything else, or a CSV DuckDB cannot read
        strictly, takes :meth:`load_single`."""
        if batch_key(source, mapping) is not None:
            results, _ = self.load_batch([BatchFile(source, load_id, area)], module, mapping)
            if results:
                return results[0]
        return self.load_single(source, module, mapping, load_id, area)

    def load_single(self, source: src.Source, module: Module, mapping: dict[str, str], load_id: int,
                    area: str) -> FileResult:
        """One table through ``_raw`` (:func:`etl.sources.materialise`): Excel sheets, other encodings, odd CSVs."""
        columns = src.materialise(self.con, source)
        self._register_files([BatchFile(source, load_id, area)])
        return self._validate_and_insert(module, mapping, [BatchFile(source, load_id, area)], columns,
                                         "(SELECT 0 AS _fidx, * FROM _raw)")[0]

    def load_batch(self, files: list[BatchFile], module: Module,
                   mapping: dict[str, str]) -> tuple[list[FileResult], list[BatchFile]]:
        """Validate and insert one module's tables of several areas (at most one table per area, all with the same
        :func:`batch_key`) in one pass: DuckDB reads every file in one ``read_csv`` (strict; a file it cannot read
        strictly is left out and returned, for the per-file path), each row carrying its file's index.

        Every rule is the per-file rule partitioned by file (hence by area); row numbers count per file. Returns
        the results of the files loaded and the files left out, in the given order.
        """
        con = self.con
        first = files[0].source
        names = src._unique(first.headers)
        paths = [str(f.source.path) for f in files]
        con.execute("DROP TABLE IF EXISTS _rej_err")
        con.execute("DROP TABLE IF EXISTS _rej_scan")
        read = src.csv_read_sql(paths, first, names, rejects=("_rej_scan", "_rej_err"))
        blank = " AND ".join(f"nullif(trim({_q(n)}), '') IS NULL" for n in names) or "FALSE"
        cols = ", ".join(_q(n) for n in names)
        raw = (f"(SELECT CAST(file_index AS INTEGER) AS _fidx, {cols}, CAST(NULL AS VARCHAR) AS _extra FROM {read} "
               f"WHERE NOT ({blank}))")
        self._build_chk(module, mapping, names, raw)
        bad_paths = {r[0] for r in con.execute(
            "SELECT DISTINCT s.file_path FROM _rej_err e JOIN _rej_scan s ON s.scan_id = e.scan_id "
            "AND s.file_id = e.file_id").fetchall()}
        left_out = [f for f in files if str(f.source.path) in bad_paths]
        if left_out:
            gone = ", ".join(str(i) for i, f in enumerate(files) if str(f.source.path) in bad_paths)
            con.execute(f"DELETE FROM _chk_t WHERE _fidx IN ({gone})")
        keep = {i: f for i, f in enumerate(files) if str(f.source.path) not in bad_paths}
        results: list[FileResult] = []
        if keep:
            self._register_files(list(keep.values()), list(keep))
            results = self._validate_and_insert(module, mapping, list(keep.values()), names, None, list(keep))
        return results, left_out

    def _register_files(self, files: list[BatchFile], indexes: list[int] | None = None) -> None:
        """The temp table ``_files``: each table's index in the read, area, load_id and name (as problems cite)."""
        indexes = indexes if indexes is not None else list(range(len(files)))
        values = ", ".join(f"({i}, {_lit(f.area)}, {int(f.load_id)}, {_lit(f.source.name)})"
                           for i, f in zip(indexes, files, strict=True))
        self.con.execute("CREATE OR REPLACE TEMP TABLE _files AS SELECT * FROM (VALUES " + values
                         + ") t(_fidx, _area, _load_id, _name)")

    def _build_chk(self, module: Module, mapping: dict[str, str], columns: list[str], raw: str) -> None:
        """One pass over the input (``raw``: ``_fidx``, one text column per heading, ``_extra``) computes every
        field's trimmed raw text (_rN) and, from it, its typed value (_tN) into ``_chk_t``, with ``_g``, the row's
        place in the read (rows keep file order, and files the given order), and ``_blN``, the text under blank
        headings (for the warning)."""
        raw_cols, chk_cols = [], []
        for i, f in enumerate(module.all_fields):
            raw_cols.append(f"{_raw(f, mapping)} AS _r{i}")
            if _free_text(f, mapping):  # stored whole, or replaced when it holds an identifier shape
                chk_cols += [f"_r{i}", f"{ids.looks_like_identifier_sql(f'_r{i}')} AS _x{i}",
                             f"CASE WHEN _x{i} THEN {_lit(ids.REMOVED)} ELSE _r{i} END AS _t{i}"]
                continue
            chk_cols += [f"_r{i}", f"{typed_expr(f, f'_r{i}', self.key)} AS _t{i}"]
        derived = derived_columns(module, mapping)
        raw_cols += [f"{sql} AS _d_{name_}" for name_, sql in derived.items()]
        chk_cols += [f"_d_{name_}" for name_ in derived]
        used = set(mapping.values())
        for j, col in enumerate(c for c in columns if c not in used and c.startswith("_blank_")):
            raw_cols.append(f"nullif(trim({_q(col)}), '') AS _bl{j}")
            chk_cols.append(f"_bl{j}")
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE _chk_t AS SELECT _fidx, _g, _extra, {', '.join(chk_cols)} FROM "
            f"(SELECT _fidx, row_number() OVER () AS _g, _extra, {', '.join(raw_cols)} FROM {raw})")

    def _validate_and_insert(self, module: Module, mapping: dict[str, str], files: list[BatchFile],
                             columns: list[str], raw: str | None, indexes: list[int] | None = None
                             ) -> list[FileResult]:
        """Every rule over ``_chk_t`` (built here from ``raw`` unless given None), partitioned by file, then the
        good rows inserted and the bad ones quarantined; one FileResult per file. ``_files`` must be registered."""
        con = self.con
        indexes = indexes if indexes is not None else list(range(len(files)))
        if raw is not None:
            self._build_chk(module, mapping, columns, raw)
        # Row numbers count per file: the row's place in the read less its file's first place, plus one.
        con.execute("CREATE OR REPLACE TEMP TABLE _first AS SELECT f._fidx, f._area, f._load_id, min(c._g) AS _g0 "
                    "FROM _files f JOIN _chk_t c ON c._fidx = f._fidx GROUP BY ALL")
        con.execute("CREATE OR REPLACE TEMP VIEW _chk AS SELECT c._g - f._g0 + 1 AS _row, f._area, f._load_id, c.* "
                    "FROM _chk_t c JOIN _first f ON f._fidx = c._fidx")
        counts = dict(con.execute("SELECT _fidx, count(*) FROM _chk_t GROUP BY 1").fetchall())

        typed_cols, field_problems, flags = [], [], []
        for i, f in enumerate(module.all_fields):
            if f.target is not None:
                typed_cols.append(f"_t{i} AS {f.target}")
            elif f.source == "personbirthdate":
                typed_cols.append(f"_t{i} AS _birth_date")
            shown = self._shown(module, mapping, columns, i, "")
            shown = f"CASE WHEN length(_r{i}) <= {src.MAX_CELL_CHARS} THEN {shown} END"  # a huge cell: not shown
            for cond, reason in field_checks(f, f"_r{i}", f"_t{i}"):
                field_problems.append(_problem_struct(cond, mapping.get(f.source, f.source), shown, reason))
                flags.append(f"({cond})")
        field_problems.append(_problem_struct("_extra IS NOT NULL", "(beyond the last heading)", "NULL",
                                              "row has more cells than the header has columns"))
        flags.append("_extra IS NOT NULL")
        derived = derived_columns(module, mapping)
        typed_cols += [f"_d_{name_} AS {name_}" for name_ in derived]
        checks = ["SELECT _fidx, _row, p.column_name, p.value, p.reason FROM (SELECT _fidx, _row, "
                  f"unnest([{', '.join(field_problems)}]) AS p FROM _chk WHERE {' OR '.join(flags)}) "
                  "WHERE p IS NOT NULL"]
        key_col = module.key_column
        record_key = ""
        if module.key_parts:
            complete = " AND ".join(f"{p} IS NOT NULL" for p in module.key_parts)
            parts = ", ".join(f"CAST({p} AS VARCHAR)" for p in module.key_parts)
            record_key = f", CASE WHEN {complete} THEN concat_ws('|', {parts}) END AS record_key"
        con.execute(f"CREATE OR REPLACE TEMP VIEW _typed AS SELECT *{record_key} FROM "
                    f"(SELECT _fidx, _area, _load_id, _row, {', '.join(typed_cols)} FROM _chk)")
        if module.name == "person":
            con.execute("INSERT INTO _person_dob SELECT _area, person_key, _birth_date FROM _typed")

        ctx = "_typed"
        if module.name in ROW_CONTEXT:
            ctx_cols, ctx_join = ROW_CONTEXT[module.name]
            con.execute(f"CREATE OR REPLACE TEMP TABLE _ctx AS SELECT t.*, {ctx_cols} FROM _typed t {ctx_join}")
            ctx = "_ctx"
        key_header = ", ".join(mapping.get(_source_of(module, p), p) for p in module.key_parts) \
            if module.key_parts else mapping[module.key.source]
        key_shown = "NULL" if module.key.kind == "person_id" or module.key_parts else key_col
        checks.append(
            f"SELECT _fidx, _row, {_lit(key_header)}, {key_shown}, "
            "'duplicate key: the same id appears on more than one row' "
            f"FROM _typed t WHERE EXISTS (SELECT 1 FROM (SELECT _fidx, {key_col} FROM _typed "
            f"WHERE {key_col} IS NOT NULL GROUP BY ALL HAVING count(*) > 1) d "
            f"WHERE d._fidx = t._fidx AND d.{key_col} = t.{key_col})"
        )
        for cond, column, reason in [*ROW_RULES.get(module.name, []), *module.rules]:
            checks.append(
                f"SELECT _fidx, _row, {_lit(mapping.get(_source_of(module, column), column))}, NULL, {_lit(reason)} "
                f"FROM {ctx} WHERE {cond}"
            )
        if module.parent:
            fk_source, parent_name = module.parent
            parent = MODULE_BY_NAME[parent_name]
            fk_field = next(f for f in module.all_fields if f.source == fk_source)
            if fk_source in mapping:
                shown = "NULL" if fk_field.kind == "person_id" else fk_field.target
                checks.append(
                    f"SELECT _fidx, _row, {_lit(mapping[fk_source])}, {shown}, "
                    f"'refers to {'an' if parent.name[0] in 'aeiou' else 'a'} {parent.name} record that is not "
                    "loaded' FROM _typed t "
                    f"WHERE {fk_field.target} IS NOT NULL AND NOT EXISTS "
                    f"(SELECT 1 FROM {parent.table} p WHERE p.area_code = t._area "
                    f"AND p.{parent.key.target} = t.{fk_field.target})"
                )
        con.execute("CREATE OR REPLACE TEMP TABLE _problems AS SELECT * FROM (" + " UNION ALL ".join(checks)
                    + ") t(_fidx, _row, column_name, value, reason)")
        by_file: dict[int, list[Problem]] = {i: [] for i in indexes}
        names = {i: f.source.name for i, f in zip(indexes, files, strict=True)}
        for fidx, row, col, value, reason in con.execute(
                "SELECT _fidx, _row, column_name, value, reason FROM _problems ORDER BY _fidx, _row, column_name"
        ).fetchall():
            by_file[fidx].append(Problem(names[fidx], row, col, reason, value))
        con.execute("CREATE OR REPLACE TEMP TABLE _bad AS SELECT DISTINCT _fidx, _row FROM _problems")
        bad_rows = dict(con.execute("SELECT _fidx, count(*) FROM _bad GROUP BY 1").fetchall())

        target_cols = [f.target for f in module.all_fields if f.target is not None] + list(derived)
        if module.key_parts:
            target_cols.append("record_key")
        if module.name == "requests":
            target_cols.append("age_at_request")
        target_cols = list(dict.fromkeys(target_cols))
        cols = ", ".join(target_cols)
        keep = (" c WHERE NOT EXISTS (SELECT 1 FROM _bad b WHERE b._fidx = c._fidx AND b._row = c._row)"
                if bad_rows else "")
        con.execute(f"CREATE OR REPLACE TEMP VIEW _good AS SELECT * FROM {ctx}{keep}")
        # Nothing of these areas to supersede (their first load): the revision diff and the delete are skipped.
        if con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {module.table} WHERE area_code IN "
                       "(SELECT _area FROM _files) LIMIT 1)").fetchone()[0]:
            record_revisions(con, module, target_cols)
            con.execute(f"DELETE FROM {module.table} USING (SELECT DISTINCT _area, {key_col} FROM _good) g "
                        f"WHERE {module.table}.area_code = g._area AND {module.table}.{key_col} = g.{key_col}")
        con.execute(f"INSERT INTO {module.table} (area_code, {cols}, load_id) "
                    f"SELECT _area, {cols}, _load_id FROM _good")
        if bad_rows:
            con.execute(
                "INSERT INTO quarantine SELECT f._load_id, f._name, ?, p._row, p.column_name, p.value, p.reason "
                "FROM _problems p JOIN _files f ON f._fidx = p._fidx", [module.name])
            con.execute(
                "INSERT INTO quarantine_row SELECT f._load_id, f._name, ?, c._row, "
                f"CAST({self._row_json(module, mapping, columns)} AS VARCHAR) FROM _chk c "
                "JOIN _bad b ON b._fidx = c._fidx AND b._row = c._row "
                "JOIN _files f ON f._fidx = c._fidx ORDER BY c._fidx, c._row", [module.name])
        warnings = self._column_warnings(module, mapping, columns, files, indexes)
        results = []
        for i, f in zip(indexes, files, strict=True):
            read, bad = counts.get(i, 0), bad_rows.get(i, 0)
            results.append(FileResult(f.source.path, module.name, "quarantined" if bad else "loaded", read,
                                      read - bad, bad, by_file[i], warnings=warnings[i], source_name=f.source.name))
        return results

    def _shown(self, module: Module, mapping: dict[str, str], columns: list[str], i: int, alias: str) -> str:
        """Field ``i``'s raw text as the quarantine and the load report may show it: never an identifier column's
        (NULL; person ids are pseudonymised in the row as read), never a cell of identifier shape (in a person-level
        module, any full date outside a date column too), and nothing from the first identifier or free-text column
        on when the row is misaligned (``_extra``: more cells than headings)."""
        f = module.all_fields[i]
        if f.kind in ("identifier", "person_id") or f.source not in mapping:
            return "CAST(NULL AS VARCHAR)"
        if _free_text(f, mapping):
            shown = f"{alias}_t{i}"  # already whole or replaced
        elif f.kind == "id":
            shown = f"{alias}_r{i}"
        else:
            shown = ids.safe_sql(f"{alias}_r{i}", dates=_person_level(module) and f.kind != "date")
        first = _first_sensitive(module, mapping, columns)
        if first is not None and mapping[f.source] in columns and columns.index(mapping[f.source]) >= first:
            shown = f"CASE WHEN NOT ({self._misaligned(module, mapping, columns, first, alias)}) THEN {shown} END"
        return shown

    def _misaligned(self, module: Module, mapping: dict[str, str], columns: list[str], first: int,
                    alias: str) -> str:
        """SQL: the row looks shifted by an unquoted comma: cells beyond the last heading, or a cell of identifier
        shape in a column after the first identifier or free-text one that holds no identifier (a trailing blank
        cell shifted out leaves no overflow)."""
        tests = [f"{alias}_extra IS NOT NULL"]
        for j, g in enumerate(module.all_fields):
            if g.kind in ("identifier", "person_id", "id") or _free_text(g, mapping) or g.source not in mapping:
                continue
            if mapping[g.source] in columns and columns.index(mapping[g.source]) > first:
                pattern = ids.SHAPES_WITH_DATES if _person_level(module) and g.kind != "date" else ids.SHAPES
                tests.append(f"coalesce({ids.looks_like_identifier_sql(f'{alias}_r{j}', pattern)}, false)")
        return " OR ".join(tests)

    def _row_json(self, module: Module, mapping: dict[str, str], columns: list[str]) -> str:
        """A quarantined row as read (from _chk), as JSON: person ids pseudonymised, other identifiers and cells of
        identifier shape left out; cells beyond the last heading only counted."""
        parts = []
        for i, f in enumerate(module.all_fields):
            if f.source not in mapping or f.kind == "identifier":
                continue
            value = f"c._t{i}" if f.kind == "person_id" else self._shown(module, mapping, columns, i, "c.")
            value = f"CASE WHEN length(c._r{i}) > {src.MAX_CELL_CHARS} THEN '(too long: not kept)' ELSE {value} END"
            parts.append(f"{_lit(mapping[f.source])}, {value}")
        parts.append("'(beyond the last heading)', c._extra")
        return f"json_object({', '.join(parts)})"

    def _column_warnings(self, module: Module, mapping: dict[str, str], columns: list[str],
                         files: list[BatchFile], indexes: list[int]) -> dict[int, list[Problem]]:
        """Columns the layout does not use, per file: reported for local extracts, and wherever values sit under a
        blank heading (trailing empty columns are dropped without a word)."""
        used = set(mapping.values())
        blanks = [c for c in columns if c not in used and c.startswith("_blank_")]
        filled: dict[int, tuple] = {}
        if blanks:
            counts = ", ".join(f"count(_bl{j})" for j in range(len(blanks)))
            filled = {r[0]: r[1:] for r in self.con.execute(
                f"SELECT _fidx, {counts} FROM _chk_t GROUP BY 1").fetchall()}
        free = [(k, f) for k, f in enumerate(module.all_fields) if _free_text(f, mapping)]
        removed: dict[int, tuple] = {}
        if free:
            counts = ", ".join(f"count(*) FILTER (_x{k})" for k, _ in free)
            removed = {r[0]: r[1:] for r in self.con.execute(
                f"SELECT _fidx, {counts} FROM _chk_t GROUP BY 1").fetchall()}
        out: dict[int, list[Problem]] = {}
        for i, f in zip(indexes, files, strict=True):
            name, found, j = f.source.name, [], 0
            for (_, field), n in zip(free, removed.get(i, (0,) * len(free)), strict=True):
                if n:
                    found.append(Problem(name, None, mapping[field.source],
                                         f"{n} free-text value(s) looked like a child's identifier (a UPN, ULN, NHS "
                                         "number, full postcode, date or name label) and were removed"))
            for col in columns:
                if col in used:
                    continue
                if col.startswith("_blank_"):
                    n = filled.get(i, (0,) * len(blanks))[j]
                    j += 1
                    if n:
                        found.append(Problem(name, None, f"column {col.removeprefix('_blank_')}",
                                             f"{n} value(s) under a blank heading were ignored"))
                elif module.exact_columns:
                    found.append(Problem(name, None, col, f"column is not part of the {module.name} layout: ignored"))
            out[i] = found
        return out


def _problem_struct(cond: str, column: str, shown: str, reason: str) -> str:
    """One rule as a list element: the problem when the condition holds, else NULL."""
    return (f"CASE WHEN {cond} THEN struct_pack(column_name := {_lit(column)}, value := CAST({shown} AS VARCHAR), "
            f"reason := {_lit(reason)}) END")


def _source_of(module: Module, target: str) -> str:
    """The source column of a target (for naming the column a rule blames), else the name as given."""
    return next((f.source for f in module.all_fields if f.target == target), target)


def record_revisions(con: duckdb.DuckDBPyConnection, module: Module, cols: list[str]) -> None:
    """Before records are superseded by id (within their area), keep the earlier values of those that changed
    (DESIGN: revisions). The new rows are ``_good``, each with its area and load_id."""
    key = module.key_column
    compare = [c for c in cols if c != key]
    if not compare:
        return
    changed = " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}" for c in compare)
    names = ", ".join(f"CASE WHEN o.{c} IS DISTINCT FROM n.{c} THEN {_lit(c)} END" for c in compare)
    values = ", ".join(f"{_lit(c)}, o.{c}" for c in compare)
    con.execute(
        f"INSERT INTO record_revision (load_id, revised_at, module, table_name, record_key, previous_load_id, "
        f"changed_columns, previous_values, area_code) "
        f"SELECT n._load_id, now()::TIMESTAMP, {_lit(module.name)}, {_lit(module.table)}, CAST(o.{key} AS VARCHAR), "
        f"o.load_id, concat_ws(', ', {names}), CAST(json_object({values}) AS VARCHAR), o.area_code "
        f"FROM {module.table} o JOIN _good n ON o.area_code = n._area AND o.{key} = n.{key} WHERE ({changed})"
    )


PlanItem = tuple[src.Source | Path, object, dict[str, str]]  # (table, Module or other Layout, header map)
AreaPlanItem = tuple[src.Source | Path, object, dict[str, str], str | None]  # … and the area (ONS code) it is for


def plan_file(path: Path) -> tuple[list[PlanItem], list[Problem], list[Problem]]:
    """What to load from one file: its tables with their modules, or a registered layout; else problems.

    Returns (plan items, file-level problems, warnings).
    """
    try:
        sources = src.open_sources(path, looks_like_header)
        source_error = None
    except src.SourceError as exc:
        sources, source_error = [], str(exc)
    items: list[PlanItem] = []
    problems: list[Problem] = []
    unmatched: list[src.Source] = []
    for source in sources:
        module, mapping = detect_module(source.headers)
        if module is None:
            unmatched.append(source)
            continue
        missing = [c for c in module.required_columns if c not in mapping]
        if missing:
            problems.append(Problem(source.name, None, ", ".join(missing),
                                    f"required column(s) missing for the {module.name} module"))
            continue
        items.append((source, module, mapping))
    if items or problems:
        warnings = [Problem(s.name, None, None, "sheet ignored: its headings match no known layout")
                    for s in unmatched]
        return items, problems, warnings
    other = _other_layout(path)
    if other is not None:
        return [(path, other, {})], [], []
    if source_error is not None:
        if src.is_excel(path):
            source_error = f"unknown layout: the workbook matches no known layout ({source_error})"
        return [], [Problem(path.name, None, None, source_error)], []
    what = "the workbook matches" if src.is_excel(path) else "the headers match"
    closest = [c for c in (closest_layout(s.headers) for s in unmatched) if c]
    return [], [Problem(path.name, None, None, f"unknown layout: {what} no known layout; "
                        + "".join(f"{c}; " for c in closest[:1]) + "expected "
                        + expected_layouts() + "".join(f"; or {lay.description}" for lay in OTHER_LAYOUTS))], []


def _other_layout(path: Path):
    """The first registered non-SEN2 layout (published data, …) that recognises the file."""
    headers = None
    if not src.is_excel(path):
        probe = duckdb.connect()
        try:
            headers = read_header(probe, path)
        except duckdb.Error:
            headers = None
        finally:
            probe.close()
    for lay in OTHER_LAYOUTS:
        try:
            if lay.matches(path, headers):
                return lay
        except Exception:  # a layout's sniffing must not turn an unreadable file into a traceback
            continue
    return None


def _order(item: AreaPlanItem) -> tuple[bool, int, str, str]:
    """Published data first; then module by module across the areas, parents before children (the Blade module
    order), then local extracts, then other layouts. Every link is within one area, so each area still sees its
    parents before its children."""
    handler = item[1]
    names = [m.name for m in ALL_MODULES]
    rank = names.index(handler.name) if isinstance(handler, Module) else len(names)
    return item[3] is not None, rank, item[3] or "", item[0].name


AreaPaths = tuple[str | None, Iterable[Path | str]]  # (area named by code/number/name, or None: home area; paths)


def load_paths(
    paths: Iterable[Path | str],
    db_path: Path | str,
    on_file: Callable[[Path], None] | None = None,
    area: str | None = None,
) -> LoadReport:
    """Load files and folders of one local area's extracts into the database in one transaction.

    ``area`` is the area the case extracts are for (ONS code, DfE number or name; the home area of area.yaml when
    None); published statistics name their own areas. Raises :class:`LoadRejected` (nothing written) when any
    input cannot be read or recognised, or fails while loading. ``on_file`` is called as each table starts.
    """
    return load_areas([(area, paths)], db_path, on_file)


def _area_of(given: str | None, problems: list[Problem], where: str) -> str | None:
    """The ONS code of a named area (or the home area); a problem (not a traceback) when it is unknown."""
    try:
        return area_config.resolve(given) if given else area_config.default_area_code()
    except (area_config.UnknownArea, area_config.AreaConfigError) as exc:
        problems.append(Problem(where, None, None, f"cannot tell which local area the extract is for: {exc}"))
        return None


def load_areas(groups: Iterable[AreaPaths], db_path: Path | str,
               on_file: Callable[[Path], None] | None = None) -> LoadReport:
    """Load several areas' extracts (each group: an area and its files or folders) in one transaction.

    Record ids are unique within an area, so each area's records are validated, linked and superseded among that
    area's records only. Everything else is as :func:`load_paths`.
    """
    with tempfile.TemporaryDirectory(prefix="etl-gunzip-") as unzipped:
        return _load_areas(groups, Path(db_path), on_file, Path(unzipped))


def _load_areas(groups: Iterable[AreaPaths], db_path: Path, on_file: Callable[[Path], None] | None,
                unzipped: Path) -> LoadReport:
    plan: list[AreaPlanItem] = []
    warnings: list[Problem] = []
    problems: list[Problem] = []
    for n, (given, paths) in enumerate(groups):
        files, path_problems = expand_paths(Path(p) for p in paths)
        problems += path_problems
        files, gzip_problems = gunzip_inputs(files, unzipped / str(n))
        problems += gzip_problems
        area: str | None = None
        for path in files:
            items, file_problems, file_warnings = plan_file(path)
            if area is None and any(_per_area(h) for _, h, _ in items):
                area = _area_of(given, problems, path.name)
            plan += [(item, handler, mapping, area if _per_area(handler) else None)
                     for item, handler, mapping in items]
            problems += file_problems
            warnings += file_warnings
    if problems:
        raise LoadRejected(problems)

    plan.sort(key=_order)
    key = load_key(db_path)
    con = dbmod.connect(db_path)
    dbmod.limit_memory(con)
    who = _who()
    try:
        con.execute("BEGIN TRANSACTION")
        run = _Run(con, Loader(con, key), who, on_file)
        run.next_id = con.execute("SELECT coalesce(max(load_id), 0) + 1 FROM load_log").fetchone()[0]
        logged = con.execute("SELECT file_sha256, module, area_code FROM load_log").fetchall()
        run.known_files = {(r[0], r[2]) for r in logged}
        run.known_sheets = {(r[0], r[1], r[2]) for r in logged}
        first_load_id = run.next_id
        start = 0
        while start < len(plan):  # one handler at a time (a module across every area), in plan order
            end = start
            while end < len(plan) and plan[end][1] is plan[start][1]:
                end += 1
            run.load_group(plan[start:end])
            start = end
        record_as_at(con, first_load_id)
        record_reviews(con, first_load_id)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.execute("RESET memory_limit")
        con.close()
    return LoadReport(run.results, warnings)


class _Run:
    """The state of one load_areas transaction: load ids, files already loaded (by SHA and area), results."""

    def __init__(self, con: duckdb.DuckDBPyConnection, loader: Loader, who: str,
                 on_file: Callable[[Path], None] | None):
        self.con, self.loader, self.who, self.on_file = con, loader, who, on_file
        self.next_id = 1
        self.known_files: set[tuple[str, str | None]] = set()
        self.known_sheets: set[tuple[str, str, str | None]] = set()
        self.digests: dict[Path, str] = {}
        self.results: list[FileResult] = []

    def _fresh(self, item, handler, mapping, area) -> str | None:
        """The file's SHA-256 when it is to be loaded; None (reported unchanged) when this area loaded it before."""
        path = item.path if isinstance(item, src.Source) else item
        if path not in self.digests:
            self.digests[path] = sha256_of(path)
        digest = self.digests[path]
        sheet = isinstance(item, src.Source) and item.is_excel
        if ((digest, handler.name, area) in self.known_sheets) if sheet else ((digest, area) in self.known_files):
            if self.on_file:
                self.on_file(path)
            self.results.append(FileResult(path, handler.name, "unchanged", source_name=item.name))
            if isinstance(handler, Module) and handler.name == "person":
                self.loader.collect_birth_dates(item, mapping, area)
            return None
        self.known_sheets.add((digest, handler.name, area))
        if not sheet:
            self.known_files.add((digest, area))
        return digest

    def load_group(self, group: list[AreaPlanItem]) -> None:
        """The tables of one handler. A module's CSVs across areas go in batches of one table per area and one
        layout (:func:`batch_key`); an area's second table of the module goes in a later batch, after its first."""
        handler = group[0][1]
        if not isinstance(handler, Module):
            if hasattr(handler, "load_batch") and all(area for *_, area in group):
                self._load_other_batched(group, handler)
                return
            for item, _, _, area in group:
                digest = self._fresh(item, handler, {}, area)
                if digest is not None:
                    self._load_other(item, handler, area, digest)
            return
        batches: dict[tuple, list[tuple[BatchFile, dict[str, str], str]]] = {}
        seen: dict[str, int] = {}
        for n, (item, _, mapping, area) in enumerate(group):
            digest = self._fresh(item, handler, mapping, area)
            if digest is None:
                continue
            k = seen.get(area, 0)
            seen[area] = k + 1
            bkey = batch_key(item, mapping)
            batches.setdefault((k, bkey) if bkey is not None else (k, None, n), []).append(
                (BatchFile(item, self.next_id, area), mapping, digest))
            self.next_id += 1
        for bkey in sorted(batches, key=lambda b: b[0]):  # stable: first appearance within each round
            self._load_batch(handler, batches[bkey], batched=bkey[1] is not None)

    def _load_batch(self, module: Module, batch: list[tuple[BatchFile, dict[str, str], str]], batched: bool) -> None:
        started = datetime.now()
        for f, _, _ in batch:
            if self.on_file:
                self.on_file(f.source.path)
        mapping = batch[0][1]
        files = [f for f, _, _ in batch]
        try:
            if batched and len(files) > 1:
                results, left_out = self.loader.load_batch(files, module, mapping)
                out = {id(f) for f in left_out}
                done = {id(f): r for f, r in zip([f for f in files if id(f) not in out], results, strict=True)}
                for f in left_out:  # not strictly readable: the per-file path (Python's csv)
                    done[id(f)] = self.loader.load_single(f.source, module, mapping, f.load_id, f.area)
                results = [done[id(f)] for f in files]
            else:
                f = files[0]
                results = [self.loader.load_file(f.source, module, mapping, f.load_id, f.area)]
            if module.name == "sen2":
                for f in files:
                    _check_header_area(self.con, f.load_id, f.area, f.source.name, mapping)
        except (duckdb.Error, src.SourceError, UnicodeDecodeError, ValueError, csv.Error) as exc:
            what = files[0].source.name if len(files) == 1 else f"the {module.name} files ({len(files)} areas)"
            raise LoadRejected([Problem(what, None, None,
                                        f"cannot be loaded ({str(exc).splitlines()[0][:200]})")]) from exc
        for (f, mapping_, digest), result in zip(batch, results, strict=True):
            log_load(self.con, f.load_id, result, digest, layout_of(module, f.source, mapping_), started, self.who,
                     f.area)
            self.results.append(result)

    def _load_other_batched(self, group: list[AreaPlanItem], handler) -> None:
        """A per-area layout that loads several areas' files in one pass (the referral extract): one file per area
        a round, an area's second file in the next round; a file the batch leaves out is loaded on its own."""
        rounds: list[list[tuple[Path, int, str, str]]] = []
        seen: dict[str, int] = {}
        for item, _, _, area in group:
            digest = self._fresh(item, handler, {}, area)
            if digest is None:
                continue
            k = seen.get(area, 0)
            seen[area] = k + 1
            if k == len(rounds):
                rounds.append([])
            rounds[k].append((item, self.next_id, area, digest))
            self.next_id += 1
        for batch in rounds:
            started = datetime.now()
            for path, *_ in batch:
                if self.on_file:
                    self.on_file(path)
            files = [(path, load_id, area) for path, load_id, area, _ in batch]
            try:
                results, left_out = handler.load_batch(self.con, files) if len(files) > 1 else ([], files)
                done = dict(zip([f for f in files if f not in left_out], results, strict=True))
                for f in left_out:
                    done[f] = handler.load(self.con, *f)
            except (duckdb.Error, src.SourceError, UnicodeDecodeError, ValueError, csv.Error) as exc:
                what = files[0][0].name if len(files) == 1 else f"the {handler.name} files ({len(files)} areas)"
                raise LoadRejected([Problem(what, None, None,
                                            f"cannot be loaded ({str(exc).splitlines()[0][:200]})")]) from exc
            for (_, load_id, area, digest), f in zip(batch, files, strict=True):
                log_load(self.con, load_id, done[f], digest, handler.layout, started, self.who, area)
                self.results.append(done[f])

    def _load_other(self, item, handler, area: str | None, digest: str) -> None:
        path = item.path if isinstance(item, src.Source) else item
        if self.on_file:
            self.on_file(path)
        started = datetime.now()
        load_id = self.next_id
        try:
            result = handler.load(self.con, path, load_id, area) if area else handler.load(self.con, path, load_id)
        except (duckdb.Error, src.SourceError, UnicodeDecodeError, ValueError, csv.Error) as exc:
            raise LoadRejected([Problem(item.name, None, None,
                                        f"cannot be loaded ({str(exc).splitlines()[0][:200]})")]) from exc
        log_load(self.con, load_id, result, digest, handler.layout, started, self.who, area)
        self.results.append(result)
        self.next_id += 1


def _check_header_area(con: duckdb.DuckDBPyConnection, load_id: int, area: str, name: str,
                       mapping: dict[str, str]) -> None:
    """Reject the load when the SEN2 header names another LA than the area the extract is loaded for, so that one
    council's records can never be counted as another's."""
    for (lea,) in con.execute("SELECT DISTINCT lea FROM sen2_return WHERE load_id = ? AND lea IS NOT NULL",
                              [load_id]).fetchall():
        la = reference.by_code(lea)
        if la is None or la.new_la_code != area:
            home = reference.by_code(area)
            says = f"{la.name} ({la.old_la_code})" if la else f"{lea!r}, not an English LA number"
            raise LoadRejected([Problem(name, None, mapping.get("lea", "lea"), f"the SEN2 header is for {says} but the "
                                        f"extract is being loaded for {home.name if home else area} ({area}): "
                                        "name the right area with --area", lea)])


def _per_area(handler) -> bool:
    """Case extracts (SEN2 modules, local extracts, referral lists) belong to one area; published data do not."""
    return isinstance(handler, Module) or getattr(handler, "per_area", False)


def _who() -> str:
    """Who ran the load (the operating-system account), for load_log."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def log_load(con: duckdb.DuckDBPyConnection, load_id: int, result: FileResult, digest: str, layout: str,
             started: datetime | None = None, who: str | None = None, area: str | None = None) -> None:
    """One load_log row per file (or sheet) loaded, and its warnings."""
    finished = datetime.now()
    con.execute(
        "INSERT INTO load_log (load_id, loaded_at, source_file, file_sha256, layout, module, rows_read, "
        "rows_loaded, rows_quarantined, status, started_at, finished_at, loaded_by, area_code) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [load_id, finished, result.source_name or result.path.name, digest, layout, result.module,
         result.rows_read, result.rows_loaded, result.rows_quarantined,
         "loaded_with_quarantine" if result.rows_quarantined else "loaded", started or finished, finished,
         who or _who(), area],
    )
    for w in result.warnings:
        con.execute("INSERT INTO load_warning VALUES (?, ?, ?, ?)", [load_id, w.file, w.column, w.reason])
