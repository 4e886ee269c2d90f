"""The files a load reads: folders expanded to their CSV and Excel files, gzip copies unpacked, files fingerprinted.

Why apart from the loader: which files are inputs, and what their bytes are (SHA-256, for "already loaded"), is
decided before any layout is recognised or any row read.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import zlib
from collections.abc import Iterable
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
    return scan_file(path)[0]


def scan_file(path: Path) -> tuple[str, bool]:
    """The file's SHA-256, and whether its line ends are odd: some CR LF and some LF alone (a file edited on two
    systems), or a CR not before an LF. DuckDB's strict CSV reader can stop at such a file with no reject recorded,
    which would abort the load, so the loader reads it the careful way (:meth:`etl.loader.Loader.load_single`);
    one read of the file answers both questions."""
    h = hashlib.sha256()
    crlf = lf = cr = 0
    last = b""
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
            crlf += chunk.count(b"\r\n") + (last == b"\r" and chunk.startswith(b"\n"))
            lf += chunk.count(b"\n")
            cr += chunk.count(b"\r")
            last = chunk[-1:]
    return h.hexdigest(), 0 < crlf < lf or cr != crlf
