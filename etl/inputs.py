"""The files a load reads: folders expanded to their CSV and Excel files, gzip copies unpacked, each file scanned once.

Why apart from the loader: which files are inputs, and what their bytes are (SHA-256, for "already loaded"; line
ends, encoding and longest line, for how DuckDB may read them: :class:`FileScan`), is decided before any layout is
recognised or any row read.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import os
import shutil
import threading
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from etl import sources as src
from etl.report import Problem

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


def sha256_of(path: Path) -> str:
    return scan_file(path).sha256


@dataclass(frozen=True)
class FileScan:
    """What one read of a file tells the loader, before any layout is recognised.

    ``sha256``: its fingerprint ("already loaded"). ``odd_line_ends``: some lines end CR LF and some LF alone (a file
    edited on two systems), or a CR is not followed by LF; DuckDB's strict CSV reader can stop at such a file with
    no reject recorded, which would abort the load, so the loader reads it the careful way
    (:meth:`etl.loader.Loader.load_single`). ``utf8``: the whole file decodes as UTF-8. ``buffer``: the ``read_csv``
    buffer size for reading the file on its own (:func:`etl.sources.csv_read_sql`): :data:`etl.sources.SPLIT_BUFFER`
    when the file spans several such buffers and provably no record is longer than a quarter of one (no quote
    character, so a record is one line, and every line that short), None (DuckDB's default) otherwise.
    """

    sha256: str
    odd_line_ends: bool
    utf8: bool
    buffer: int | None
    size: int  # bytes read
    mtime_ns: int  # the file's modification time when the read began

    def changed(self, path: Path) -> bool:
        """Whether the file is no longer the one scanned (written to or replaced since): its facts would not hold
        for the read, nor its SHA-256 for the load log."""
        st = path.stat()
        return (st.st_size, st.st_mtime_ns) != (self.size, self.mtime_ns)


_SCAN_CHUNK = 8 << 20  # scan_file reads a file in parts this size: its memory stays small for any file


class ScanStopped(Exception):
    """A scan given up part-way because its load no longer needs it (the load failed or was interrupted)."""


def scan_file(path: Path, stop: threading.Event | None = None) -> FileScan:
    """Every :class:`FileScan` fact of the file, from one read of it in parts (C-speed byte searches, no loop over
    lines: a line is too long for the split buffer exactly when some stretch of ``limit + 1`` bytes after a line's
    start holds no newline, so the scan jumps from the last newline of one stretch to the next). Raises
    :class:`ScanStopped` at the next part once ``stop`` is set (a scan running ahead of a load that has ended)."""
    h = hashlib.sha256()
    crlf = lf = cr = 0
    last = b""
    quote = long = False
    limit = src.SPLIT_BUFFER // 4
    run = 0  # bytes of the line in progress (since the last newline)
    utf8 = codecs.getincrementaldecoder("utf-8")()
    decodes = True
    size = 0
    with open(path, "rb") as fh:
        mtime_ns = os.fstat(fh.fileno()).st_mtime_ns
        while chunk := fh.read(_SCAN_CHUNK):
            if stop is not None and stop.is_set():
                raise ScanStopped(path)
            size += len(chunk)
            h.update(chunk)
            if b"\r" in chunk:
                crlf += chunk.count(b"\r\n")
                cr += chunk.count(b"\r")
            crlf += last == b"\r" and chunk.startswith(b"\n")
            lf += chunk.count(b"\n")
            last = chunk[-1:]
            quote = quote or b'"' in chunk
            decodes = decodes and _decodes(utf8, chunk)
            long = long or _long_line(chunk, run, limit)
            end = chunk.rfind(b"\n")
            run = run + len(chunk) if end < 0 else len(chunk) - end - 1
    decodes = decodes and _decodes(utf8, b"", final=True)
    split = size >= 2 * src.SPLIT_BUFFER and not quote and not long and run <= limit
    return FileScan(h.hexdigest(), 0 < crlf < lf or cr != crlf, decodes, src.SPLIT_BUFFER if split else None,
                    size, mtime_ns)


def _decodes(decoder: codecs.IncrementalDecoder, chunk: bytes, final: bool = False) -> bool:
    try:
        decoder.decode(chunk, final)
    except UnicodeDecodeError:
        return False
    return True


def _long_line(chunk: bytes, run: int, limit: int) -> bool:
    """Whether a line ending in ``chunk`` is longer than ``limit`` bytes, ``run`` bytes of the first having come
    before it (a line still in progress at the chunk's end is the next call's ``run``)."""
    first = chunk.find(b"\n")
    if first < 0:
        return run + len(chunk) > limit
    if run + first > limit:
        return True
    start, end = first + 1, chunk.rfind(b"\n")
    while end - start > limit:  # the lines from start to end could hold one longer than limit
        nl = chunk.rfind(b"\n", start, start + limit + 1)
        if nl < 0:
            return True
        start = nl + 1
    return False
