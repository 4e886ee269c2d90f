"""Validating and inserting one module's tables: read → type → check every rule → insert good rows, quarantine bad.

Why one class: a :class:`Loader` holds the open connection (inside the caller's transaction), the pseudonymisation
key and what one table leaves for the next (birth dates for the requests' age at request). Each table goes through
the same steps, each a method below: build ``_chk_t`` (raw text and typed value of every field, one pass), number
the rows per file, the typed view, the module's context, the problems (:mod:`etl.checks`), then supersede, insert
and quarantine. Keys are unique within an area: every lookup and replacement is scoped by the row's area.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import duckdb

from etl import identifiers as ids
from etl import sources as src
from etl.checks import duplicate_key_sql, field_problems_sql, parent_sql, row_flag_sql, row_json_sql, row_rules_sql
from etl.detect import ALL_MODULES
from etl.formats.sen2_blade import MODULE_BY_NAME, Module
from etl.report import FileResult, Problem
from etl.sql_text import literal
from etl.typed import derived_columns, ident, is_free_text, raw_text, typed_expr
from etl.wording import counted, plural

_READS = itertools.count(1)  # numbers each batch read's rejects tables, unique in the process


@dataclass
class BatchFile:
    """One table of a batch: the source, the load_id it is logged under and the area (ONS code) it is for; and the
    ``read_csv`` buffer size for reading its file on its own (:attr:`etl.inputs.FileScan.buffer`; None: DuckDB's
    default)."""

    source: src.Source
    load_id: int
    area: str
    buffer: int | None = None


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
        # Module tables holding no record when the load began (a first load): nothing in them to supersede until
        # this load inserts into them, so the check for earlier records is skipped (one query, not one per table).
        # Right while :meth:`_store` is the only writer of module tables during a load (it discards the table).
        tables = sorted({m.table for m in ALL_MODULES})
        counts = con.execute("SELECT " + ", ".join(f"(SELECT count(*) FROM {t})" for t in tables)).fetchone()
        self._empty = {t for t, n in zip(tables, counts, strict=True) if n == 0}
        con.execute("CREATE OR REPLACE TEMP TABLE _person_dob (area_code VARCHAR, person_key VARCHAR, "
                    "_birth_date DATE)")

    def collect_birth_dates(self, source: src.Source, mapping: dict[str, str], area: str) -> None:
        """Read only the birth dates of a person file that is not loaded again (unchanged), so that the requests
        loaded beside it still get their age at request and the birth-after-request check."""
        module = MODULE_BY_NAME["person"]
        src.materialise(self.con, source)
        key, birth = module.key, next(f for f in module.fields if f.source == "personbirthdate")
        self.con.execute(
            f"INSERT INTO _person_dob SELECT {literal(area)}, {typed_expr(key, raw_text(key, mapping), self.key)}, "
            f"{typed_expr(birth, raw_text(birth, mapping), self.key)} FROM _raw WHERE NOT _blank")

    def load_file(self, source: src.Source, module: Module, mapping: dict[str, str], load_id: int,
                  area: str, buffer: int | None = None) -> FileResult:
        """Validate one module's table (a CSV or a sheet) of one area's extract and insert its good rows; bad rows
        go to quarantine. Keys are unique within an area: ``area`` (ONS code) scopes every lookup and replacement.

        A UTF-8 CSV is read by DuckDB (:meth:`load_batch` of one); anything else, or a CSV DuckDB cannot read
        strictly, takes :meth:`load_single`. ``buffer``: see :class:`BatchFile`."""
        if batch_key(source, mapping) is not None:
            results, _ = self.load_batch([BatchFile(source, load_id, area, buffer)], module, mapping)
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
        n = next(_READS)  # each read its own rejects tables (temporary, gone with the connection): none to drop
        scan, err = f"_rej_scan{n}", f"_rej_err{n}"
        buffer = files[0].buffer if len(files) == 1 else None  # a batch is split by its files already
        read = src.csv_read_sql(paths, first, names, rejects=(scan, err), buffer_size=buffer)
        blank = src.blank_row_sql(names)
        cols = ", ".join(ident(n) for n in names)
        raw = (f"(SELECT CAST(file_index AS INTEGER) AS _fidx, {cols}, CAST(NULL AS VARCHAR) AS _extra, "
               f"({blank}) AS _blank FROM {read})")
        self._build_chk(module, mapping, names, raw)
        bad_paths = {r[0] for r in con.execute(
            f"SELECT DISTINCT s.file_path FROM {err} e JOIN {scan} s ON s.scan_id = e.scan_id "
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
        values = ", ".join(f"({i}, {literal(f.area)}, {int(f.load_id)}, {literal(f.source.name)})"
                           for i, f in zip(indexes, files, strict=True))
        self.con.execute("CREATE OR REPLACE TEMP TABLE _files AS SELECT * FROM (VALUES " + values
                         + ") t(_fidx, _area, _load_id, _name)")

    def _build_chk(self, module: Module, mapping: dict[str, str], columns: list[str], raw: str) -> None:
        """One pass over the input (``raw``: ``_fidx``, one text column per heading, ``_extra``, ``_blank``)
        computes every field's trimmed raw text (_rN) and, from it, its typed value (_tN) into ``_chk_t``, ``_blN``,
        the text under blank headings (for the warning), and ``_flag`` (:func:`etl.checks.row_flag_sql`). Rows of
        empty cells (``_blank``) stay in ``_chk_t``, so that they count in the row numbers, and nowhere else. A
        row's place in the read is its ``rowid`` in ``_chk_t``: DuckDB keeps the read's order when it fills a table
        (rows in file order, files in the order given), even when it reads a file in parallel, which a numbering
        window (``row_number() OVER ()``) would prevent."""
        raw_cols, chk_cols = [], []
        as_written = self._as_written(module, mapping)
        for i, f in enumerate(module.all_fields):
            raw_cols.append(f"{raw_text(f, mapping)} AS _r{i}")
            if is_free_text(f, mapping):  # stored whole, or replaced when it holds an identifier shape
                chk_cols += [f"_r{i}", f"{ids.looks_like_identifier_sql(f'_r{i}')} AS _x{i}",
                             f"CASE WHEN _x{i} THEN {literal(ids.REMOVED)} ELSE _r{i} END AS _t{i}"]
                continue
            if i in as_written:  # one column, its typed name an alias in the view _chk
                chk_cols.append(f"_r{i}")
                continue
            chk_cols += [f"_r{i}", f"{typed_expr(f, f'_r{i}', self.key)} AS _t{i}"]
        derived = derived_columns(module, mapping)
        raw_cols += [f"{sql} AS _d_{name_}" for name_, sql in derived.items()]
        chk_cols += [f"_d_{name_}" for name_ in derived]
        used = set(mapping.values())
        for j, col in enumerate(c for c in columns if c not in used and c.startswith("_blank_")):
            raw_cols.append(f"nullif(trim({ident(col)}), '') AS _bl{j}")
            chk_cols.append(f"_bl{j}")
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE _chk_t AS SELECT *, ({row_flag_sql(module)}) AS _flag FROM "
            f"(SELECT _fidx, _extra, _blank, {', '.join(chk_cols)} FROM "
            f"(SELECT _fidx, _extra, _blank, {', '.join(raw_cols)} FROM {raw}))")

    def _validate_and_insert(self, module: Module, mapping: dict[str, str], files: list[BatchFile],
                             columns: list[str], raw: str | None, indexes: list[int] | None = None
                             ) -> list[FileResult]:
        """Every rule over ``_chk_t`` (built here from ``raw`` unless given None), partitioned by file, then the
        good rows inserted and the bad ones quarantined; one FileResult per file. ``_files`` must be registered."""
        indexes = indexes if indexes is not None else list(range(len(files)))
        if raw is not None:
            self._build_chk(module, mapping, columns, raw)
        counts, flagged = self._number_rows(module, mapping, files, indexes)
        derived = derived_columns(module, mapping)
        self._create_typed(module, derived)
        ctx = self._create_context(module)
        names = {i: f.source.name for i, f in zip(indexes, files, strict=True)}
        by_file: dict[int, list[Problem]] = {i: [] for i in indexes}
        bad: dict[int, set[int]] = {i: set() for i in indexes}
        for fidx, row, col, value, reason in self._find_problems(module, mapping, columns, ctx, flagged):
            by_file[fidx].append(Problem(names[fidx], row, col, reason, value))
            bad[fidx].add(row)
        bad_rows = {i: len(rows) for i, rows in bad.items() if rows}
        if bad_rows:
            self.con.execute("CREATE OR REPLACE TEMP TABLE _bad AS SELECT DISTINCT _fidx, _row FROM _problems")
        self._store(module, derived, ctx, bool(bad_rows))
        if bad_rows:
            self._quarantine(module, mapping, columns)
        warnings = self._column_warnings(module, mapping, columns, files, indexes)
        results = []
        for i, f in zip(indexes, files, strict=True):
            read, n_bad = counts.get(i, 0), bad_rows.get(i, 0)
            results.append(FileResult(f.source.path, module.name, "quarantined" if n_bad else "loaded", read,
                                      read - n_bad, n_bad, by_file[i], warnings=warnings[i],
                                      source_name=f.source.name))
        return results

    def _as_written(self, module: Module, mapping: dict[str, str]) -> list[int]:
        """The fields whose typed value is their text as written (stored once in ``_chk_t``)."""
        return [i for i, f in enumerate(module.all_fields)
                if not is_free_text(f, mapping) and typed_expr(f, f"_r{i}", self.key) == f"_r{i}"]

    def _number_rows(self, module: Module, mapping: dict[str, str], files: list[BatchFile],
                     indexes: list[int]) -> tuple[dict[int, int], bool]:
        """The view ``_chk``: ``_chk_t`` with each row's number in its file, area and load_id. Returns the rows
        read per file, and whether any row fails a field check (else that costly query is not even planned)."""
        con = self.con
        per_file = con.execute("SELECT _fidx, count(*) FILTER (NOT _blank), min(rowid), "
                               "count(*) FILTER (_flag AND NOT _blank) FROM _chk_t GROUP BY 1").fetchall()
        aliases = "".join(f", c._r{i} AS _t{i}" for i in self._as_written(module, mapping))
        # Row numbers count per file: the row's place in the read less its file's first place, plus one.
        if len(per_file) == 1:  # one file's rows: its first place, area and load_id are constants (no join)
            fidx, _, g0, _ = per_file[0]
            f = files[indexes.index(fidx)]
            con.execute(f"CREATE OR REPLACE TEMP VIEW _chk AS SELECT c.rowid - {int(g0)} + 1 AS _row, "
                        f"{literal(f.area)} AS _area, {int(f.load_id)} AS _load_id, c.*{aliases} FROM _chk_t c "
                        "WHERE NOT c._blank")
        else:
            con.execute("CREATE OR REPLACE TEMP TABLE _first AS SELECT f._fidx, f._area, f._load_id, "
                        "min(c.rowid) AS _g0 FROM _files f JOIN _chk_t c ON c._fidx = f._fidx GROUP BY ALL")
            con.execute("CREATE OR REPLACE TEMP VIEW _chk AS SELECT c.rowid - f._g0 + 1 AS _row, f._area, f._load_id, "
                        f"c.*{aliases} FROM _chk_t c JOIN _first f ON f._fidx = c._fidx WHERE NOT c._blank")
        return {fidx: n for fidx, n, *_ in per_file}, any(flagged for *_, flagged in per_file)

    def _create_typed(self, module: Module, derived: dict[str, str]) -> None:
        """The view ``_typed``: each row's clean columns by target name (and ``record_key`` of a key in parts);
        a person table's birth dates are kept aside in ``_person_dob`` for the requests' age at request."""
        typed_cols = []
        for i, f in enumerate(module.all_fields):
            if f.target is not None:
                typed_cols.append(f"_t{i} AS {f.target}")
            elif f.source == "personbirthdate":
                typed_cols.append(f"_t{i} AS _birth_date")
        typed_cols += [f"_d_{name_} AS {name_}" for name_ in derived]
        record_key = ""
        if module.key_parts:
            complete = " AND ".join(f"{p} IS NOT NULL" for p in module.key_parts)
            parts = ", ".join(f"CAST({p} AS VARCHAR)" for p in module.key_parts)
            record_key = f", CASE WHEN {complete} THEN concat_ws('|', {parts}) END AS record_key"
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW _typed AS SELECT *{record_key} FROM "
                         f"(SELECT _fidx, _area, _load_id, _row, {', '.join(typed_cols)} FROM _chk)")
        if any(f.source == "personbirthdate" for f in module.all_fields):
            self.con.execute("INSERT INTO _person_dob SELECT _area, person_key, _birth_date FROM _typed")

    def _create_context(self, module: Module) -> str:
        """The relation the row rules read: ``_typed``, or ``_ctx`` with the module's context joined."""
        if module.context is None:
            return "_typed"
        columns, joins = module.context
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE _ctx AS SELECT t.*, {columns} FROM _typed t {joins}")
        return "_ctx"

    def _find_problems(self, module: Module, mapping: dict[str, str], columns: list[str], ctx: str,
                       flagged: bool) -> list[tuple]:
        """The table ``_problems`` (file index, row, column, value shown, reason) of every rule, and its rows in
        file and row order."""
        queries = [field_problems_sql(module, mapping, columns)] if flagged else []
        queries += [duplicate_key_sql(module, mapping), *row_rules_sql(module, mapping, ctx),
                    *parent_sql(module, mapping)]
        found = self.con.execute("CREATE OR REPLACE TEMP TABLE _problems AS SELECT _fidx, _row, column_name, "
                                 "CAST(value AS VARCHAR) AS value, reason FROM (" + " UNION ALL ".join(queries)
                                 + ") t(_fidx, _row, column_name, value, reason)").fetchone()[0]
        if not found:  # the usual case: no statement to read an empty table back
            return []
        return self.con.execute("SELECT _fidx, _row, column_name, value, reason FROM _problems "
                                "ORDER BY _fidx, _row, column_name").fetchall()

    def _store(self, module: Module, derived: dict[str, str], ctx: str, any_bad: bool) -> None:
        """The good rows (``_good``: every row not in ``_bad``) into the module's table, replacing the records of
        the same areas and keys (their earlier values kept as revisions)."""
        con = self.con
        record_key = ["record_key"] if module.key_parts else []
        target_cols = list(dict.fromkeys([*(f.target for f in module.all_fields if f.target is not None), *derived,
                                          *record_key, *module.context_stored]))
        cols = ", ".join(target_cols)
        keep = (" c WHERE NOT EXISTS (SELECT 1 FROM _bad b WHERE b._fidx = c._fidx AND b._row = c._row)"
                if any_bad else "")
        con.execute(f"CREATE OR REPLACE TEMP VIEW _good AS SELECT * FROM {ctx}{keep}")
        # Nothing of these areas to supersede (their first load): the revision diff and the delete are skipped.
        if module.table not in self._empty and con.execute(
                f"SELECT count(*) FROM (SELECT 1 FROM {module.table} WHERE area_code IN (SELECT _area FROM _files) "
                "LIMIT 1)").fetchone()[0]:
            key_col = module.key_column
            record_revisions(con, module, target_cols)
            con.execute(f"DELETE FROM {module.table} USING (SELECT DISTINCT _area, {key_col} FROM _good) g "
                        f"WHERE {module.table}.area_code = g._area AND {module.table}.{key_col} = g.{key_col}")
        con.execute(f"INSERT INTO {module.table} (area_code, {cols}, load_id) "
                    f"SELECT _area, {cols}, _load_id FROM _good")
        self._empty.discard(module.table)

    def _quarantine(self, module: Module, mapping: dict[str, str], columns: list[str]) -> None:
        """Every problem into ``quarantine``, and each bad row as read (identifiers left out) into
        ``quarantine_row``."""
        self.con.execute(
            "INSERT INTO quarantine SELECT f._load_id, f._name, ?, p._row, p.column_name, p.value, p.reason "
            "FROM _problems p JOIN _files f ON f._fidx = p._fidx", [module.name])
        self.con.execute(
            "INSERT INTO quarantine_row SELECT f._load_id, f._name, ?, c._row, "
            f"CAST({row_json_sql(module, mapping, columns)} AS VARCHAR) FROM _chk c "
            "JOIN _bad b ON b._fidx = c._fidx AND b._row = c._row "
            "JOIN _files f ON f._fidx = c._fidx ORDER BY c._fidx, c._row", [module.name])

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
        free = [(k, f) for k, f in enumerate(module.all_fields) if is_free_text(f, mapping)]
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
                    found.append(Problem(name, None, mapping[field.source], ids.removed_warning(n)))
            for col in columns:
                if col in used:
                    continue
                if col.startswith("_blank_"):
                    n = filled.get(i, (0,) * len(blanks))[j]
                    j += 1
                    if n:
                        found.append(Problem(name, None, f"column {col.removeprefix('_blank_')}",
                                             f"{counted(n, 'value')} under a blank heading {plural(n, 'was')} ignored"))
                elif module.exact_columns:
                    found.append(Problem(name, None, col, f"column is not part of the {module.name} layout: ignored"))
            out[i] = found
        return out


def record_revisions(con: duckdb.DuckDBPyConnection, module: Module, cols: list[str]) -> None:
    """Before records are superseded by id (within their area), keep the earlier values of those that changed
    (DESIGN: revisions). The new rows are ``_good``, each with its area and load_id."""
    key = module.key_column
    compare = [c for c in cols if c != key]
    if not compare:
        return
    changed = " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}" for c in compare)
    names = ", ".join(f"CASE WHEN o.{c} IS DISTINCT FROM n.{c} THEN {literal(c)} END" for c in compare)
    values = ", ".join(f"{literal(c)}, o.{c}" for c in compare)
    con.execute(
        f"INSERT INTO record_revision (load_id, revised_at, module, table_name, record_key, previous_load_id, "
        f"changed_columns, previous_values, area_code) "
        f"SELECT n._load_id, now()::TIMESTAMP, {literal(module.name)}, {literal(module.table)}, "
        f"CAST(o.{key} AS VARCHAR), "
        f"o.load_id, concat_ws(', ', {names}), CAST(json_object({values}) AS VARCHAR), o.area_code "
        f"FROM {module.table} o JOIN _good n ON o.area_code = n._area AND o.{key} = n.{key} WHERE ({changed})"
    )
