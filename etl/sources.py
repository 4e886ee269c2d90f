"""Reading a tabular input as it really arrives: CSV in any common dialect, or each sheet of an Excel workbook.

Why: analysts export from several case systems and from Excel. The loader must see one clean table whatever
the file looks like, and must find the header itself. This module hides:

- encodings: UTF-8 with or without a byte-order mark, and Windows-1252 (transcoded to UTF-8 for DuckDB);
- delimiters: comma, semicolon, tab or pipe (sniffed from the first lines);
- title rows above the header (a merged title cell, a blank line): the header is the first of the first
  rows that the caller's ``is_header`` accepts, else the first row with at least two cells filled;
- trailing empty columns (a blank heading with no values) and blank rows, which are dropped;
- oversized cells: Python's csv refuses a field over 128 KB by default; the limit is raised to
  :data:`CSV_FIELD_LIMIT` so a huge cell reaches validation (which quarantines a value over :data:`MAX_CELL_CHARS`),
  and a field beyond even that is a file-level :class:`SourceError`, never a traceback;
- Excel workbooks: one :class:`Source` per sheet with something in it; dates become ISO text, whole numbers
  stored as floats stay as written (``12.0``, which the typed layer reads as 12), error cells (``#REF!``)
  are kept as text so validation can report them.

A :class:`Source` is materialised as the temp view ``_raw``: one VARCHAR column per heading as written, ``_extra``
and ``_blank``, data rows below the header in file order, empty lines dropped; a row of empty cells is kept,
marked ``_blank`` (a spreadsheet shows it as a row, so the rows after it are numbered as the person counts them),
and never validated or loaded. A clean UTF-8 CSV stays in the file (DuckDB reads it wherever ``_raw`` is scanned);
anything else is a temp table behind the view. Rows keep file order when copied into a table, so a row's place in
the copy is the 1-based row number problems cite.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import duckdb
import pandas as pd

from etl.sql_text import literal
from etl.wording import counted

EXCEL_SUFFIXES = (".xlsx", ".xlsm")
CSV_SUFFIXES = (".csv", ".txt")
HEADER_SEARCH_ROWS = 15
DELIMITERS = ",;\t|"
EXCEL_ERRORS = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!",
                "#CALC!")
assert all(e.startswith("#") for e in EXCEL_ERRORS)  # the loader's Excel-error test relies on it
# Excel's own limit on a cell's text: no value in a real extract is longer (validation quarantines one that is).
MAX_CELL_CHARS = 32_767
# The largest field Python's csv reads (its default, 128 KB, turns a huge cell into a traceback); beyond it the
# file is rejected with a clear message.
CSV_FIELD_LIMIT = 64 << 20
csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))


class SourceError(ValueError):
    """The input cannot be read as a table at all (a file-level problem)."""


@dataclass
class Source:
    """One table inside one file: the whole CSV, or one sheet of a workbook."""

    path: Path
    headers: list[str]
    sheet: str | None = None
    header_index: int = 0          # 0-based line/row of the header in the file or sheet
    encoding: str = "utf-8"
    delimiter: str = ","
    rows: list[list[str | None]] | None = field(default=None, repr=False)  # given rows (else read when loaded)

    @property
    def name(self) -> str:
        """How problems name it: ``file.xlsx [Requests]`` or just ``file.csv``."""
        return f"{self.path.name} [{self.sheet}]" if self.sheet else self.path.name

    @property
    def is_excel(self) -> bool:
        return self.sheet is not None


def is_excel(path: Path) -> bool:
    return path.suffix.lower() in EXCEL_SUFFIXES


def _filled(row: list) -> int:
    return sum(1 for c in row if c is not None and str(c).strip() != "")


def find_header(rows: list[list], is_header: Callable[[list[str]], bool] | None) -> int | None:
    """Index of the header among the first rows: the first the caller recognises, else the first with 2+ cells."""
    head = rows[:HEADER_SEARCH_ROWS]
    if is_header is not None:
        for i, row in enumerate(head):
            if _filled(row) >= 1 and is_header([("" if c is None else str(c)) for c in row]):
                return i
    for i, row in enumerate(head):
        if _filled(row) >= 2:
            return i
    return None


# --- CSV ----------------------------------------------------------------------------------------------------

def detect_encoding(path: Path) -> str:
    """'utf-8' (BOM or not) when the whole file decodes as UTF-8, else 'cp1252' (Windows), else 'latin-1'."""
    decoder_ok = True
    with open(path, "rb") as fh:
        import codecs

        dec = codecs.getincrementaldecoder("utf-8")()
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            try:
                dec.decode(chunk)
            except UnicodeDecodeError:
                decoder_ok = False
                break
        if decoder_ok:
            try:
                dec.decode(b"", final=True)
            except UnicodeDecodeError:
                decoder_ok = False
    if decoder_ok:
        return "utf-8"
    try:
        with open(path, encoding="cp1252") as fh:
            for _ in fh:
                pass
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _head_lines(path: Path, encoding: str, n: int = HEADER_SEARCH_ROWS + 5) -> str:
    with open(path, encoding="utf-8-sig" if encoding == "utf-8" else encoding, newline="") as fh:
        lines = []
        for _ in range(n):
            line = fh.readline()
            if not line:
                break
            lines.append(line)
    return "".join(lines)


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines most consistently (comma when undecided)."""
    lines = [ln for ln in text.splitlines() if ln.strip()][:HEADER_SEARCH_ROWS]
    best, best_score = ",", 0
    for d in DELIMITERS:
        counts = [len(next(csv.reader([ln], delimiter=d))) for ln in lines]
        many = [c for c in counts if c > 1]
        if not many:
            continue
        score = max(many.count(c) for c in set(many)) * max(many)
        if score > best_score:
            best, best_score = d, score
    return best


def open_csv(path: Path, is_header: Callable[[list[str]], bool] | None = None) -> Source:
    """Sniff a CSV: encoding, delimiter, where the header is and what it says."""
    try:
        encoding = detect_encoding(path)
        text = _head_lines(path, encoding)
    except OSError as exc:
        raise SourceError(f"cannot be read ({exc.strerror})") from exc
    if "\x00" in text:
        raise SourceError("cannot be read as CSV (it holds binary data; is it a spreadsheet saved with the "
                          "wrong extension?)")
    try:
        delimiter = sniff_delimiter(text)
        rows = list(csv.reader(text.splitlines(), delimiter=delimiter))
    except csv.Error as exc:
        raise SourceError(f"cannot be read as CSV near the top ({exc}; a cell over "
                          f"{CSV_FIELD_LIMIT >> 20} MB is not a case-system export)") from exc
    # csv.reader drops nothing, but DuckDB's line count for skip= counts every physical line, blank ones too.
    index = find_header(rows, is_header)
    if index is None:
        raise SourceError("holds no header row (no line with at least two filled cells near the top)")
    headers = [h.strip() for h in rows[index]]
    return Source(path, headers, None, index, encoding, delimiter)


# --- Excel --------------------------------------------------------------------------------------------------

def _cell_text(v) -> str | None:
    """Excel cell → text as a CSV export would hold it (dates ISO, floats as Python writes them)."""
    if v is None:
        return None
    if isinstance(v, datetime):
        return v.date().isoformat() if v.time() == time(0) else v.isoformat(sep=" ")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, bool):
        return "1" if v else "0"
    text = str(v).strip()
    return text or None


def open_workbook(path: Path, is_header: Callable[[list[str]], bool] | None = None) -> list[Source]:
    """One Source per sheet with a table in its first rows. Only those first rows are read here (a large workbook
    of another layout costs little); a sheet's data rows are read when it is loaded. Raises SourceError when the
    file is not a readable workbook."""
    sources = []
    try:
        wb = _open_book(path)
        try:
            for ws in wb.worksheets:
                head = [[_cell_text(v) for v in row]
                        for row in ws.iter_rows(max_row=HEADER_SEARCH_ROWS, values_only=True)]
                index = find_header(head, is_header)
                if index is None:
                    continue  # an empty sheet, or a note in one cell: no table in it
                headers = [(h or "").strip() for h in head[index]]
                sources.append(Source(path, headers, ws.title, index))
        finally:
            wb.close()
    except Exception as exc:  # zipfile, zlib, XML and openpyxl errors alike: the file is not a readable workbook
        raise _workbook_error(exc) from exc
    return sources


def _open_book(path: Path):
    from openpyxl import load_workbook

    return load_workbook(path, read_only=True, data_only=True)


def _workbook_error(exc: Exception) -> SourceError:
    detail = str(exc).splitlines()[0][:120] if str(exc) else "damaged file"
    return SourceError(f"cannot be read as an Excel workbook ({type(exc).__name__}: {detail})")


def sheet_rows(source: Source) -> list[list[str | None]]:
    """The data rows of a workbook sheet (everything below its header), as text."""
    try:
        wb = _open_book(source.path)
        try:
            ws = wb[source.sheet]
            return [[_cell_text(v) for v in row]
                    for row in ws.iter_rows(min_row=source.header_index + 2, values_only=True)]
        finally:
            wb.close()
    except Exception as exc:
        raise _workbook_error(exc) from exc


def open_sources(path: Path, is_header: Callable[[list[str]], bool] | None = None) -> list[Source]:
    """The tables in a file: one for a CSV, one per filled sheet for a workbook."""
    if is_excel(path):
        return open_workbook(path, is_header)
    return [open_csv(path, is_header)]


# --- into DuckDB --------------------------------------------------------------------------------------------

def _unique(headers: list[str]) -> list[str]:
    """Column names for DuckDB: blank headings get a placeholder, repeats a suffix (both reported as unmapped)."""
    out, seen = [], {}
    for i, h in enumerate(headers):
        name = h or f"_blank_{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
        out.append(name)
    return out


def materialise(con: duckdb.DuckDBPyConnection, source: Source) -> list[str]:
    """Create temp view ``_raw`` (one VARCHAR column per heading, then ``_extra`` and ``_blank``) and return the
    column names.

    Empty lines are dropped, rows of empty cells kept and marked ``_blank``, and the rows keep file order, so the
    Nth row of a copy of ``_raw`` is row N below the header. Cells beyond the header's width are counted in
    ``_extra`` (never kept: they may be identifiers shifted by an unquoted comma) so that validation can report the
    row. A clean UTF-8 CSV is read by DuckDB directly (fast path); anything unusual goes through Python's csv.
    """
    names = _unique(source.headers)
    if source.is_excel:
        _from_rows(con, names, source.rows if source.rows is not None else sheet_rows(source))
    elif not (source.encoding == "utf-8" and _duckdb_csv(con, source, names)):
        _from_rows(con, names, _csv_rows(source))
    return names


def _csv_rows(source: Source):
    enc = "utf-8-sig" if source.encoding == "utf-8" else source.encoding
    with open(source.path, encoding=enc, newline="") as fh:
        reader = csv.reader(fh, delimiter=source.delimiter)
        for i, row in enumerate(reader):
            if i > source.header_index:
                yield row


def blank_row_sql(names: list[str]) -> str:
    """SQL: true when every cell of the row is empty. The test of every cell runs only on the rare rows whose first
    cell is empty (a row is nearly always told by its first cell)."""
    if not names:
        return "FALSE"
    every = " AND ".join(f"nullif(trim({_q(n)}), '') IS NULL" for n in names)
    return f"CASE WHEN nullif(trim({_q(names[0])}), '') IS NOT NULL THEN FALSE ELSE {every} END"


def _duckdb_csv(con: duckdb.DuckDBPyConnection, source: Source, names: list[str]) -> bool:
    """The fast path: ``_raw`` is a view reading the file; False when DuckDB cannot read it strictly (ragged
    rows, odd quoting).

    Strictness is probed first by counting the rows on a private connection (the count parses every line): a
    failed statement would abort the caller's transaction. The file itself is then read by the caller's
    connection, with no copy through Python.
    """
    blank = blank_row_sql(names)
    cols = ", ".join(_q(n) for n in names)
    read = csv_read_sql([str(source.path)], source, names)
    probe = duckdb.connect()
    try:
        probe.execute(f"SELECT count(*) FROM {read}").fetchone()
    except duckdb.Error:
        return False
    finally:
        probe.close()
    _drop_raw(con)
    con.execute(f"CREATE TEMP VIEW _raw AS SELECT {cols}, CAST(NULL AS VARCHAR) AS _extra, ({blank}) AS _blank "
                f"FROM {read}")
    return True


# DuckDB reads a CSV on one core per buffer (32 MB by default), so a council's one large export would be read on one
# core. A 512 KB buffer splits it across cores (faster than 256 KB or 1 MB on the 413,233-row export, see
# docs/performance.md); but DuckDB 2.0.0 drops a line longer than its buffer without recording a reject, so the
# smaller buffer is used only where no record can come near it (see :class:`etl.inputs.FileScan`).
SPLIT_BUFFER = 1 << 19


def csv_read_sql(paths: list[str], source: Source, names: list[str],
                 rejects: tuple[str, str] | None = None, buffer_size: int | None = None) -> str:
    """The strict ``read_csv`` of UTF-8 CSVs laid out as ``source`` (header line, delimiter, columns ``names``).

    With ``rejects`` (scan table, error table) rows DuckDB cannot read strictly are recorded there instead of
    failing the statement (a failed statement would abort the caller's transaction): a file with any reject is
    not strictly readable. Several paths are read in one scan, rows in file order and files in the order given,
    each row with ``file_index`` (its file's place in ``paths``). ``buffer_size``: see :class:`etl.inputs.FileScan`."""
    columns = "{" + ", ".join(f"{literal(n)}: 'VARCHAR'" for n in names) + "}"
    files = literal(paths[0]) if len(paths) == 1 and rejects is None else "[" + ", ".join(map(literal, paths)) + "]"
    extra = ""
    if rejects is not None:
        extra = (f", ignore_errors=true, store_rejects=true, rejects_scan={literal(rejects[0])}, "
                 f"rejects_table={literal(rejects[1])}, rejects_limit=0")
    return (f"read_csv({files}, header=false, skip={source.header_index + 1}, "
            f"delim={literal(source.delimiter)}, quote='\"', escape='\"', columns={columns}, "
            f"strict_mode=true, auto_detect=false, null_padding=false{extra}"
            + (f", buffer_size={int(buffer_size)})" if buffer_size else ")"))


def _drop_raw(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DROP VIEW IF EXISTS _raw")
    con.execute("DROP TABLE IF EXISTS _rows_table")


def _from_rows(con: duckdb.DuckDBPyConnection, names: list[str], rows) -> None:
    """Rows of text (any width) → ``_raw``: empty lines dropped, rows of empty cells kept as ``_blank``, short rows
    padded, overflow counted in _extra."""
    width = len(names)
    kept, extra, blank = [], [], []
    for r in rows:
        if not r:  # an empty line of a CSV: not a row (DuckDB's reader skips it too)
            continue
        blank.append(not _filled(r))
        cells = [None if c is None or str(c).strip() == "" else str(c) for c in r]
        over = [c for c in cells[width:] if c is not None]
        kept.append((cells + [None] * width)[:width])
        # Counted only: they may be identifiers.
        extra.append(f"{counted(len(over), 'cell')}, not kept" if over else None)
    frame = pd.DataFrame(kept, columns=names, dtype=object) if kept else pd.DataFrame(
        {n: pd.Series([], dtype=object) for n in names})
    frame["_extra"] = pd.Series(extra, dtype=object)
    frame["_blank"] = pd.Series(blank, dtype=bool)
    _drop_raw(con)
    con.register("_rows_frame", frame)
    try:
        cols = ", ".join(f"CAST({_q(n)} AS VARCHAR) AS {_q(n)}" for n in names)
        con.execute(f"CREATE TEMP TABLE _rows_table AS SELECT {cols}, CAST(_extra AS VARCHAR) AS _extra, "
                    "CAST(_blank AS BOOLEAN) AS _blank FROM _rows_frame")
    finally:
        con.unregister("_rows_frame")
    con.execute("CREATE TEMP VIEW _raw AS SELECT * FROM _rows_table")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
