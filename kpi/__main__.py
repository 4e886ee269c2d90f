"""Command line: ``python -m kpi series`` and ``python -m kpi validate`` (contract in DESIGN.md §2)."""

from __future__ import annotations

import argparse
import json
import sys

import duckdb

from kpi import definitions
from kpi.compute import check_against_database
from kpi.series import kpi_series, open_readonly

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def _default_db() -> str:
    from etl.db import default_db_path

    return str(default_db_path())


def _fail(message: str, code: int = EXIT_USAGE) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def cmd_series(args: argparse.Namespace) -> int:
    try:
        catalogue = definitions.load(args.definitions)
    except definitions.DefinitionError as exc:
        return _fail(f"{args.definitions} is invalid ({exc.stage}): " + "; ".join(exc.problems))
    unknown = [k for k in (args.kpi or []) if k not in catalogue.ids]
    if unknown:
        return _fail(f"unknown KPI id(s): {', '.join(unknown)}. Known: {', '.join(catalogue.ids)}")
    try:
        con = open_readonly(args.db)
    except FileNotFoundError as exc:
        return _fail(str(exc))
    except duckdb.Error as exc:
        return _fail(f"cannot open {args.db}: {str(exc).splitlines()[0]}")
    try:
        df = kpi_series(con, catalogue, args.kpi)
    except duckdb.CatalogException:
        return _fail(f"{args.db} holds no SEN2 tables: load data with `python -m etl load` first")
    finally:
        con.close()
    for kpi_id in df["kpi_id"].unique():
        dp = catalogue.get(kpi_id).decimals + 1
        mask = df["kpi_id"] == kpi_id
        for col in ("value", "rolling_12m", "median", "trajectory"):
            df.loc[mask, col] = df.loc[mask, col].astype("float64").round(dp)
    if args.format == "json":
        records = json.loads(df.to_json(orient="records"))
        json.dump(records, sys.stdout, indent=1)
        print()
    else:
        df.to_csv(sys.stdout, index=False)
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    try:
        catalogue = definitions.load(args.definitions)
    except definitions.DefinitionError as exc:
        print(f"{args.definitions}: {exc.stage} check failed:", file=sys.stderr)
        for p in exc.problems:
            print(f"  - {p}", file=sys.stderr)
        return EXIT_PROBLEMS
    print(f"shape: ok ({len(catalogue.kpis)} KPIs)")
    print("references: ok")
    if args.db:
        try:
            con = open_readonly(args.db)
        except (FileNotFoundError, duckdb.Error) as exc:
            print(f"database check failed: {str(exc).splitlines()[0]}", file=sys.stderr)
            return EXIT_PROBLEMS
        try:
            problems = check_against_database(con, catalogue)
        finally:
            con.close()
        if problems:
            print("database check failed:", file=sys.stderr)
            for p in problems:
                print(f"  - {p}", file=sys.stderr)
            return EXIT_PROBLEMS
        print(f"database: ok ({args.db})")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m kpi", description="APP KPI engine.")
    parser.add_argument("--definitions", default=str(definitions.DEFAULT_PATH), help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("series", help="monthly KPI series with trajectory, target and status")
    s.add_argument("--db", default=_default_db(), help="DuckDB file (default: %(default)s)")
    s.add_argument("--kpi", nargs="+", metavar="ID", help="KPI id(s); default all")
    s.add_argument("--format", choices=["csv", "json"], default="csv")
    s.set_defaults(func=cmd_series)
    v = sub.add_parser("validate", help="check kpi_definitions.yaml (shape, references, then the database)")
    v.add_argument("--db", help="also check against this DuckDB file")
    v.set_defaults(func=cmd_validate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
