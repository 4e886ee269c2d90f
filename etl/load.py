"""Load extracts into DuckDB: detect layout → validate every row → pseudonymise → insert, atomically.

One call of :func:`load_paths` is one transaction. A file whose layout cannot be recognised, or that lacks
required columns, rejects the whole load (nothing is written). Rows that break a rule are kept out of the
clean tables and recorded in ``quarantine`` with file, row, column and reason, so nothing is silently lost.
Re-loading a file already loaded (same SHA-256) is a no-op. A record whose key was loaded before is replaced
by the newer extract's version (monthly extracts revise earlier records).

This module runs the transaction: which files (:mod:`etl.inputs`), what each holds (:mod:`etl.detect`), in what
order, and the load log. A module's tables are validated and inserted by :class:`etl.loader.Loader`, with the
expressions of :mod:`etl.typed` and the rules of :mod:`etl.checks`; each module's rules are declared with the
module (:mod:`etl.formats.sen2_blade`, :mod:`etl.formats.local_extracts`).
"""

from __future__ import annotations

import csv
import getpass
import tempfile
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import duckdb

from etl import area as area_config
from etl import db as dbmod
from etl import reference
from etl import sources as src
from etl.as_at import record_as_at, record_reviews
from etl.detect import ALL_MODULES, detect_module, layout_of, plan_file
from etl.formats.sen2_blade import Module
from etl.inputs import FileScan, expand_paths, gunzip_inputs, is_gzip_name, is_input_file, scan_file
from etl.loader import BatchFile, Loader, batch_key
from etl.pseudonymise import load_key
from etl.report import FileResult, LoadRejected, LoadReport, Problem

# What other modules and the tests import from here (some defined in the modules above).
__all__ = ["ALL_MODULES", "AreaPaths", "Loader", "LoadRejected", "LoadReport", "detect_module", "expand_paths",
           "is_gzip_name", "is_input_file", "load_areas", "load_paths", "log_row", "write_log"]

AreaPlanItem = tuple[src.Source | Path, object, dict[str, str], str | None]  # a PlanItem and its area (ONS code)


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
    # Each file is read for its facts (etl.inputs.scan_file) on a second thread, in plan order, while DuckDB
    # loads the files before it: the scan is Python's work on one core, a load's statements are often DuckDB's on
    # the other (0.1 s of 2.4 for the 100,000-person export).
    scanner, stop = ThreadPoolExecutor(max_workers=1, thread_name_prefix="etl-scan"), threading.Event()
    try:
        con.execute("BEGIN TRANSACTION")
        run = _Run(con, Loader(con, key), who, on_file)
        for item, *_ in plan:
            path = _path_of(item)
            if path not in run.pending:
                run.pending[path] = scanner.submit(scan_file, path, stop)
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
        write_log(con, run.log)
        record_as_at(con, first_load_id)
        record_reviews(con, first_load_id)
        dbmod.checkpoint_at_commit(con)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        stop.set()  # a failed or interrupted load does not wait for the scan of a large file to finish
        scanner.shutdown(cancel_futures=True)
        con.execute("RESET memory_limit")
        con.execute("RESET checkpoint_threshold")
        con.close()
    return LoadReport(run.results, warnings)


def _path_of(item: src.Source | Path) -> Path:
    """The file a plan item reads (a table of a CSV or workbook, or a file another layout loads whole)."""
    return item.path if isinstance(item, src.Source) else item


class _Run:
    """The state of one load_areas transaction: load ids, files already loaded (by SHA and area), results."""

    def __init__(self, con: duckdb.DuckDBPyConnection, loader: Loader, who: str,
                 on_file: Callable[[Path], None] | None):
        self.con, self.loader, self.who, self.on_file = con, loader, who, on_file
        self.next_id = 1
        self.known_files: set[tuple[str, str | None]] = set()
        self.known_sheets: set[tuple[str, str, str | None]] = set()
        self.pending: dict[Path, Future[FileScan]] = {}  # each input file's scan, started ahead (_load_areas)
        self.scans: dict[Path, FileScan] = {}  # …and its facts once needed (etl.inputs.scan_file)
        self.results: list[FileResult] = []
        self.log: list[tuple[list, list[Problem]]] = []  # load_log rows and their warnings, written at the end

    def _fresh(self, item, handler, mapping, area) -> str | None:
        """The file's SHA-256 when it is to be loaded; None (reported unchanged) when this area loaded it before."""
        path = _path_of(item)
        if path not in self.scans:
            # The scan ran ahead, on its thread: the file must still be the one it read, now, just before DuckDB
            # reads it (as when the scan ran here).
            try:
                scan = self.pending[path].result()  # every planned file's scan was started (_load_areas)
                changed = scan.changed(path)
            except OSError as exc:  # moved, deleted or locked since the load began
                raise LoadRejected([Problem(path.name, None, None,
                                            f"cannot be read ({exc.strerror or exc})")]) from exc
            if changed:
                raise LoadRejected([Problem(path.name, None, None, "changed while the load was reading it (still "
                                            "being written or copied?): load it again once it is complete")])
            self.scans[path] = scan
        digest = self.scans[path].sha256
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
            scan = self.scans[item.path]
            bkey = batch_key(item, mapping) if not scan.odd_line_ends else None  # odd ends: read the careful way
            batches.setdefault((k, bkey) if bkey is not None else (k, None, n), []).append(
                (BatchFile(item, self.next_id, area, scan.buffer), mapping, digest))
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
                if self.scans[f.source.path].odd_line_ends:
                    results = [self.loader.load_single(f.source, module, mapping, f.load_id, f.area)]
                else:
                    results = [self.loader.load_file(f.source, module, mapping, f.load_id, f.area, f.buffer)]
            if module.name == "sen2":
                for f in files:
                    _check_header_area(self.con, f.load_id, f.area, f.source.name, mapping)
        except (duckdb.Error, src.SourceError, UnicodeDecodeError, ValueError, csv.Error) as exc:
            what = files[0].source.name if len(files) == 1 else f"the {module.name} files ({len(files)} areas)"
            raise LoadRejected([Problem(what, None, None,
                                        f"cannot be loaded ({str(exc).splitlines()[0][:200]})")]) from exc
        for (f, mapping_, digest), result in zip(batch, results, strict=True):
            self.log.append(log_row(f.load_id, result, digest, layout_of(module, f.source, mapping_), started,
                                    self.who, f.area))
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
                results, left_out = handler.load_batch(self.con, files, self.scans) if len(files) > 1 else ([], files)
                done = dict(zip([f for f in files if f not in left_out], results, strict=True))
                for f in left_out:
                    done[f] = handler.load(self.con, *f, self.scans[f[0]])
            except (duckdb.Error, src.SourceError, UnicodeDecodeError, ValueError, csv.Error) as exc:
                what = files[0][0].name if len(files) == 1 else f"the {handler.name} files ({len(files)} areas)"
                raise LoadRejected([Problem(what, None, None,
                                            f"cannot be loaded ({str(exc).splitlines()[0][:200]})")]) from exc
            for (_, load_id, area, digest), f in zip(batch, files, strict=True):
                self.log.append(log_row(load_id, done[f], digest, handler.layout, started, self.who, area))
                self.results.append(done[f])

    def _load_other(self, item, handler, area: str | None, digest: str) -> None:
        path = _path_of(item)
        if self.on_file:
            self.on_file(path)
        started = datetime.now()
        load_id = self.next_id
        try:
            result = handler.load(self.con, path, load_id, area) if area else handler.load(self.con, path, load_id)
        except (duckdb.Error, src.SourceError, UnicodeDecodeError, ValueError, csv.Error) as exc:
            raise LoadRejected([Problem(item.name, None, None,
                                        f"cannot be loaded ({str(exc).splitlines()[0][:200]})")]) from exc
        self.log.append(log_row(load_id, result, digest, handler.layout, started, self.who, area))
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


def log_row(load_id: int, result: FileResult, digest: str, layout: str, started: datetime | None = None,
            who: str | None = None, area: str | None = None) -> tuple[list, list[Problem]]:
    """One file's (or sheet's) load_log row, finished now, and its warnings (for :func:`write_log`)."""
    finished = datetime.now()
    return ([load_id, finished, result.source_name or result.path.name, digest, layout, result.module,
             result.rows_read, result.rows_loaded, result.rows_quarantined,
             "loaded_with_quarantine" if result.rows_quarantined else "loaded", started or finished, finished,
             who or _who(), area], result.warnings)


def write_log(con: duckdb.DuckDBPyConnection, rows: list[tuple[list, list[Problem]]]) -> None:
    """The load's load_log rows and warnings, each table in one statement."""
    if rows:
        con.execute("INSERT INTO load_log (load_id, loaded_at, source_file, file_sha256, layout, module, rows_read, "
                    "rows_loaded, rows_quarantined, status, started_at, finished_at, loaded_by, area_code) VALUES "
                    + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(rows)),
                    [v for row, _ in rows for v in row])
    warned = [[row[0], w.file, w.column, w.reason] for row, warnings in rows for w in warnings]
    if warned:
        con.execute("INSERT INTO load_warning VALUES " + ", ".join(["(?, ?, ?, ?)"] * len(warned)),
                    [v for w in warned for v in w])
