"""Command line: ``python -m etl demo``, ``python -m etl load`` and
``python -m etl published list|load|update`` (the public statistics bundled in ``data/published``)."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

import duckdb

from etl.db import OutdatedDatabase, default_db_path
from etl.load import AreaPaths, LoadRejected, LoadReport, expand_paths
from etl.pseudonymise import KeyError_
from etl.refresh import LoadInProgress, named_as_database, refresh_load
from etl.wording import counted

EXIT_OK, EXIT_QUARANTINED, EXIT_REJECTED = 0, 1, 2
MAX_PROBLEMS_SHOWN = 20


def _progress_callback(total: int, console=None):
    """A rich progress bar (on stderr) while files load, when stderr is a terminal; nothing when it is piped or
    redirected, so logs and scripts see only the report. One step per file (a workbook's sheets share one)."""
    from rich.console import Console

    console = console or Console(stderr=True)
    if not console.is_terminal or total == 0:
        return None, None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=console, transient=True)
    task = progress.add_task("Loading", total=total)
    progress.start()
    seen: set[Path] = set()

    def on_file(path: Path) -> None:
        """Called as each table starts: files already started (other sheets of a workbook) do not count again."""
        seen.add(path)
        progress.update(task, completed=len(seen) - 1, description=f"Loading {path.name}")

    return on_file, progress


def print_report(report: LoadReport) -> None:
    for f in report.files:
        if f.status == "unchanged":
            print(f"{f.name}: already loaded (identical file), nothing to do")
            continue
        line = f"{f.name}: {f.module}, {f.rows_loaded} of {f.rows_read} rows loaded"
        if f.rows_quarantined:
            line += f", {f.rows_quarantined} quarantined"
        print(line)
    warnings = report.all_warnings
    if warnings:
        print(f"{counted(len(warnings), 'warning')}:")
        for w in warnings[:MAX_PROBLEMS_SHOWN]:
            print(f"  warning: {w}")
    problems = [p for f in report.files for p in f.problems]
    if problems:
        print(f"{counted(report.rows_quarantined, 'row')} quarantined; see the quarantine table. First problems:")
        for p in problems[:MAX_PROBLEMS_SHOWN]:
            print(f"  {p}")
        if len(problems) > MAX_PROBLEMS_SHOWN:
            print(f"  … and {len(problems) - MAX_PROBLEMS_SHOWN} more")


def run_load(paths: list[Path], db: Path, area: str | None = None, groups: list[AreaPaths] | None = None,
             quiet: bool = False) -> int:
    """Load ``paths`` for ``area`` (or each of several areas' ``groups``), print the report, return the exit code."""
    groups = groups if groups is not None else [(area, paths)]
    total = sum(len(expand_paths(list(g[1]))[0]) for g in groups)
    on_file, progress = _progress_callback(total) if not quiet else (None, None)
    try:
        report = refresh_load([], db, on_file=on_file, groups=groups)  # into a copy, swapped in after the commit
    except LoadInProgress as exc:
        print(f"Load rejected: {exc}", file=sys.stderr)
        return EXIT_REJECTED
    except LoadRejected as exc:
        print("Load rejected: nothing was loaded.", file=sys.stderr)
        for p in exc.problems[:MAX_PROBLEMS_SHOWN]:
            print(f"  {p}", file=sys.stderr)
        return EXIT_REJECTED
    except duckdb.IOException as exc:
        reason = named_as_database(str(exc).splitlines()[0], Path(db))
        print(f"Load rejected: cannot open the database {db}: {reason}", file=sys.stderr)
        return EXIT_REJECTED
    except OutdatedDatabase as exc:
        print(f"Load rejected: {exc}", file=sys.stderr)
        return EXIT_REJECTED
    except KeyError_ as exc:
        print(f"Load rejected: {exc}", file=sys.stderr)
        return EXIT_REJECTED
    finally:
        if progress:
            progress.stop()
    if not quiet:
        print_report(report)
    return report.exit_code


def cmd_demo(args: argparse.Namespace) -> int:
    from demo.areas import generate_areas

    db = Path(args.db).resolve()
    out = Path(args.out) if args.out else db.parent / f"{db.stem}_demo_extract"
    if not args.out and out.exists():  # the last demo's files for this database: never loaded again beside new ones
        shutil.rmtree(out)
    history = args.scale != "england"  # earlier extracts carry the review history; england's bench loads one
    try:
        areas = generate_areas(out, scale=args.scale, seed=args.seed, start=args.start, months=args.months,
                               workers=min(4, os.cpu_count() or 1), history=history)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REJECTED
    where = out if len(areas) == 1 else f"{out}/<area code>/ for {len(areas)} areas"
    print(f"Wrote synthetic SEN2 Blade files, local extracts and a waiting-list referral extract to {where}")
    dates = sorted({d.name for _, folder in areas for d in (folder / "history").glob("*") if d.is_dir()})
    if dates:  # the earlier extracts first, oldest first, as a council would have loaded them month by month
        print(f"Loading {len(dates)} earlier SEN2 extracts ({dates[0]} to {dates[-1]}), oldest first")
        for day in dates:
            groups = [(code, [folder / "history" / day]) for code, folder in areas
                      if (folder / "history" / day).is_dir()]
            code = run_load([], Path(args.db), groups=groups, quiet=True)
            if code == EXIT_REJECTED:
                return code
    return run_load([], Path(args.db), groups=[(code, [folder]) for code, folder in areas])


def cmd_load(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.paths]
    if args.area_per_folder:
        if args.area:
            print("error: give --area or --area-per-folder, not both", file=sys.stderr)
            return EXIT_REJECTED
        not_folders = [str(p) for p in paths if not p.is_dir()]
        if not_folders:
            print(f"error: --area-per-folder takes folders named by their area; not a folder: "
                  f"{', '.join(not_folders)}", file=sys.stderr)
            return EXIT_REJECTED
        return run_load(paths, Path(args.db), groups=[(p.name, [p]) for p in paths])
    return run_load(paths, Path(args.db), area=args.area)


def cmd_published_list(args: argparse.Namespace) -> int:
    from etl import published as pub

    folder = pub.bundle_dir(args.dir)
    try:
        entries = pub.read_manifest(folder)
        differences = pub.check(folder)
    except pub.PublishedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REJECTED
    print(f"Public statistics bundled in {folder} ({pub.LICENCE}; provenance in {folder / pub.PROVENANCE_MD}):")
    width = max(len(e["file"]) for e in entries) if entries else 4
    print(f"{'file':<{width}}  {'rows':>7}  {'licence':<28}  release")
    for e in sorted(entries, key=lambda e: e["file"]):
        print(f"{e['file']:<{width}}  {e['rows']:>7}  {e['licence']:<28}  {e['release']} ({e['publisher']})")
    for d in differences:
        print(f"warning: {d}")
    return EXIT_QUARANTINED if differences else EXIT_OK


def cmd_published_load(args: argparse.Namespace) -> int:
    from etl import published as pub

    try:
        files = pub.bundled_files(pub.bundle_dir(args.dir))
    except pub.PublishedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REJECTED
    return run_load(files, Path(args.db))


def cmd_published_update(args: argparse.Namespace) -> int:
    from etl import published as pub

    folder = pub.bundle_dir(args.dir)
    try:
        report, written = pub.update([Path(p) for p in args.paths], folder, taken_from=args.taken_from,
                                     release=args.release)
    except LoadRejected as exc:
        print("Update refused: the bundled copy is unchanged.", file=sys.stderr)
        for p in exc.problems[:MAX_PROBLEMS_SHOWN]:
            print(f"  {p}", file=sys.stderr)
        return EXIT_REJECTED
    except (pub.PublishedError, KeyError_, OSError) as exc:
        print(f"Update refused: {exc}", file=sys.stderr)
        return EXIT_REJECTED
    print_report(report)
    for e in written:
        print(f"bundled {e['file']} ({e['release']}, sha256 {e['sha256_taken'][:12]}… taken {e['taken_on']})")
    print(f"Provenance updated: {folder / pub.PROVENANCE_MD}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m etl", description="Load SEND case extracts into DuckDB.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="generate deterministic synthetic SEN2 extracts and load them")
    demo.add_argument("--db", default=str(default_db_path()), help="DuckDB file (default: %(default)s)")
    demo.add_argument("--seed", type=int, default=20230131)
    demo.add_argument("--months", type=int, default=72, help="months of history from --start (default 72)")
    demo.add_argument("--start", default="2019-01", help="first month, YYYY-MM (default 2019-01)")
    demo.add_argument("--scale", choices=["la", "region", "england"], default="la")
    demo.add_argument("--out", help="folder for the generated CSVs, loaded whole (default: "
                                    "<database name>_demo_extract/ beside the database, replaced on each run)")
    demo.set_defaults(func=cmd_demo)
    load = sub.add_parser("load", help="load extract files or folders (layout detected from headers)")
    load.add_argument("paths", nargs="+", help="files or folders")
    load.add_argument("--db", default=str(default_db_path()), help="DuckDB file (default: %(default)s)")
    load.add_argument("--area", help="the local area the case extracts are for: ONS code (E06000056), DfE LA "
                      "number (823) or name (default: the home area of area.yaml)")
    load.add_argument("--area-per-folder", action="store_true",
                      help="each folder given holds one area's extracts and is named by its ONS code or LA number")
    load.set_defaults(func=cmd_load)
    published = sub.add_parser("published", help="the public statistics bundled with the product (DfE, NHS England)")
    psub = published.add_subparsers(dest="action", required=True)
    dir_help = "the bundled copy (default: $APP_PUBLISHED_DIR, else data/published in the checkout)"
    plist = psub.add_parser("list", help="what is bundled: file, rows, licence, release")
    plist.add_argument("--dir", help=dir_help)
    plist.set_defaults(func=cmd_published_list)
    pload = psub.add_parser("load", help="load the bundled copy (or a download laid out like it) into a database")
    pload.add_argument("--db", default=str(default_db_path()), help="DuckDB file (default: %(default)s)")
    pload.add_argument("--dir", help=dir_help + "; or any folder of published files (its subfolders too)")
    pload.set_defaults(func=cmd_published_load)
    pupdate = psub.add_parser("update", help="replace bundled files with a newer download, after validating it")
    pupdate.add_argument("paths", nargs="+", help="downloaded files or folders (e.g. the release's data/ folder)")
    pupdate.add_argument("--dir", help=dir_help)
    pupdate.add_argument("--release", help="the release, as text (default: the years or month the data covers)")
    pupdate.add_argument("--taken-from", help="where the files were downloaded from, as text")
    pupdate.set_defaults(func=cmd_published_update)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
