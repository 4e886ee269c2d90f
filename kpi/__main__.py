"""Command line: ``python -m kpi series | validate | schema | benchmark | reconcile | sql | nhs-waits | note | changes
| pack | portfolio`` (the meeting commands in kpi/cli_meeting.py, the portfolio in kpi/cli_portfolio.py). Exit 0 on
success, 1 when validate finds problems, 2 with a one-line reason for bad input."""

from __future__ import annotations

import argparse
import json
import sys

import duckdb

from kpi import definitions
from kpi.engine.benchmark import published_map_problems
from kpi.engine.compute import check_against_database
from kpi.engine.series import kpi_series, open_readonly

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def _default_db() -> str:
    from etl.db import default_db_path

    return str(default_db_path())


def _fail(message: str, code: int = EXIT_USAGE) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code

def _load_catalogue(args: argparse.Namespace):
    """The KPI definitions, or an exit code after a one-line error naming the file and the failed stage."""
    try:
        return definitions.load(args.definitions)
    except definitions.DefinitionError as exc:
        return _fail(f"{args.definitions} is invalid ({exc.stage}): " + "; ".join(exc.problems))


def _open_db(db) -> duckdb.DuckDBPyConnection | int:
    """A read-only connection, or an exit code after a one-line error (missing file, unreadable database)."""
    try:
        return open_readonly(db)
    except FileNotFoundError as exc:
        return _fail(str(exc))
    except duckdb.Error as exc:
        return _fail(f"cannot open {db}: {str(exc).splitlines()[0]}")



def _iso_day(text: str):
    """An argparse type: a calendar day written YYYY-MM-DD (argparse turns the error into a one-line usage error)."""
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day written YYYY-MM-DD") from None


def cmd_series(args: argparse.Namespace) -> int:
    catalogue = _load_catalogue(args)
    if isinstance(catalogue, int):
        return catalogue
    unknown = [k for k in (args.kpi or []) if k not in catalogue.ids]
    if unknown:
        return _fail(f"unknown KPI id(s): {', '.join(unknown)}. Known: {', '.join(catalogue.ids)}")
    from kpi.cli_portfolio import load_plan_book, role_areas

    book = load_plan_book(catalogue)
    if isinstance(book, int):
        return book
    con = _open_db(args.db)
    if isinstance(con, int):
        return con
    try:
        areas = role_areas(con, args.role, args.area)
        if isinstance(areas, int):
            return areas
        df = kpi_series(con, catalogue, args.kpi, areas, args.as_of, plans=book)
    except duckdb.CatalogException:
        return _fail(f"{args.db} holds no SEN2 tables: load data with `python -m etl load` first")
    finally:
        con.close()
    suppressed = args.role is not None and not _exact(args.role)
    if args.role is not None:
        opened = _series_for_role(df, catalogue, args.role)
        if isinstance(opened, int):
            return opened
        df = opened
    for kpi_id in df["kpi_id"].unique():
        dp = catalogue.get(kpi_id).decimals + 1
        mask = df["kpi_id"] == kpi_id
        for col in ("value", "rolling_12m", "median", "trajectory"):
            df.loc[mask, col] = df.loc[mask, col].astype("float64").round(dp)
    if suppressed:
        from kpi.access.suppress import display_frame

        df = display_frame(df)
    if args.format == "json":
        records = json.loads(df.to_json(orient="records"))
        json.dump(records, sys.stdout, indent=1)
        print()
    else:
        df.to_csv(sys.stdout, index=False)
    return EXIT_OK


def _chosen_areas(con: duckdb.DuckDBPyConnection, given: list[str] | None) -> list[str] | None | int:
    """The ONS codes of the areas named (code, DfE number or name), None for every area, or an exit code after a
    one-line error (an unknown area, or one with no case records loaded)."""
    if not given:
        return None
    from etl.area import UnknownArea, resolve
    from kpi.engine.compute import case_areas

    try:
        codes = [resolve(a) for a in given]
    except UnknownArea as exc:
        return _fail(str(exc))
    loaded = case_areas(con)
    absent = [c for c in codes if c not in loaded]
    if absent:
        return _fail(f"no case records loaded for {', '.join(absent)}; areas loaded: {', '.join(loaded) or 'none'}")
    return codes


def _exact(role: str) -> bool:
    from kpi.access import roles

    try:
        return roles.exact_figures(role, roles.load().roles)
    except roles.AccessConfigError:
        return False  # the error itself is reported by _series_for_role


def _series_for_role(df, catalogue, role: str):
    """The series as ``role`` sees it, or an exit code after a one-line error."""
    from kpi.access import roles

    try:
        config = roles.load(catalogue=catalogue)
    except roles.AccessConfigError as exc:
        return _fail(str(exc))
    return roles.series_for_role(df, catalogue, role, config)


def _write(df, fmt: str) -> None:
    if fmt == "json":
        json.dump(json.loads(df.to_json(orient="records")), sys.stdout, indent=1)
        print()
    else:
        df.to_csv(sys.stdout, index=False)


def _open_published(args: argparse.Namespace):
    """(catalogue, connection, area) for the published-data commands, or an exit code after a one-line error."""
    from kpi.engine import area as area_config
    from kpi.engine.benchmark import BenchmarkError, resolve_area

    catalogue = _load_catalogue(args)
    if isinstance(catalogue, int):
        return catalogue
    try:
        code = args.area or area_config.load().area_code
    except area_config.AreaConfigError as exc:
        return _fail(str(exc))
    con = _open_db(args.db)
    if isinstance(con, int):
        return con
    try:
        area = resolve_area(con, code)
    except BenchmarkError as exc:
        con.close()
        return _fail(str(exc))
    return catalogue, con, area


def _with_published(args: argparse.Namespace, compute, errors: tuple[type[Exception], ...]):
    """Open the database for a published-data command and run ``compute(catalogue, con, area)``; the result, or an
    exit code after a one-line error (the connection is always closed)."""
    opened = _open_published(args)
    if isinstance(opened, int):
        return opened
    catalogue, con, area = opened
    try:
        return compute(catalogue, con, area)
    except errors as exc:
        return _fail(str(exc))
    finally:
        con.close()


def cmd_benchmark(args: argparse.Namespace) -> int:
    from kpi.engine.benchmark import BenchmarkError, benchmark

    def compute(catalogue, con, area):
        published_ids = sorted(m.id for m in catalogue.published_entries)
        if args.kpi not in catalogue.ids and args.kpi not in published_ids:
            return _fail(f"unknown KPI id: {args.kpi}. Known: {', '.join(catalogue.ids)}; "
                         f"with published figures: {', '.join(published_ids)}")
        known = args.kpi in catalogue.ids or args.kpi in {m.id for m in catalogue.published_measures}
        measure = catalogue.measure(args.kpi) if known else None
        df = benchmark(con, args.kpi, area, args.year, measure.polarity if measure else None)
        df["value"] = df["value"].astype("float64").round((measure.decimals if measure else 1) + 1)
        return df

    df = _with_published(args, compute, (BenchmarkError,))
    if isinstance(df, int):
        return df
    for col in ("numerator", "denominator", "rank", "quartile", "neighbour_rank", "n_areas", "n_ranked"):
        df[col] = df[col].astype("Float64").round(0).astype("Int64")
    _write(df, args.format)
    return EXIT_OK


def cmd_reconcile(args: argparse.Namespace) -> int:
    from kpi.engine.reconcile import ReconcileError, reconcile

    df = _with_published(args, lambda catalogue, con, area: reconcile(con, catalogue, area), (ReconcileError,))
    if isinstance(df, int):
        return df
    for col in ("local", "published", "difference"):
        df[col] = df[col].astype("float64").round(2)
    _write(df, args.format)
    flagged = int(df["flagged"].sum()) if len(df) else 0
    print(f"{len(df)} comparisons, {flagged} flagged (over 1 percentage point, or 2% of a count)", file=sys.stderr)
    return EXIT_OK


def _access_problems(catalogue) -> list[str]:
    """access.yaml (or APP_ACCESS_CONFIG) against the catalogue: the KPI ids its suppression rule names must exist."""
    from kpi.access import roles

    try:
        roles.load(catalogue=catalogue)
    except roles.AccessConfigError as exc:
        return [str(exc)]
    return []


def _benchmark_target_problems(con, catalogue) -> list[str]:
    """Benchmark targets against the published data, when some is loaded: the home area's plan, then every plan of
    every area plan file, each against its own area's figures (its region, its neighbours)."""
    from kpi import area_plans
    from kpi.engine import area as area_config
    from kpi.engine.benchmark import BenchmarkError, require_published, resolve_area
    from kpi.views.comparison import target_problems

    try:
        require_published(con)
    except BenchmarkError:
        return []  # nothing published loaded: nothing to check the targets against
    try:
        home = area_config.load().area_code
        problems = target_problems(con, catalogue, resolve_area(con, home))
    except (area_config.AreaConfigError, BenchmarkError) as exc:
        return [f"home area: {exc}"]
    book = area_plans.load(catalogue, home)  # the files passed their own checks before the database's
    for code in book.areas:
        where = area_plans.plans_dir() / f"{code}.yaml"
        for plan in (p for p in book.plans(code) if p is not book.home_plan):
            try:
                found = target_problems(con, book.catalogue_for(code, plan.start), resolve_area(con, code))
            except BenchmarkError as exc:
                found = [str(exc)]
            problems += [f"{where}, plan {plan.name!r}: {p}" for p in found]
    return problems


def _area_plan_problems(catalogue) -> list[str]:
    """Every plan file (plans/*.yaml, or APP_PLANS_DIR) against the definitions and the home area's plan."""
    from kpi import area_plans
    from kpi.engine import area as area_config

    try:
        home = area_config.load().area_code
    except area_config.AreaConfigError:
        home = None
    return area_plans.check(catalogue, home, area_plans.plan_files())


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
    access = _access_problems(catalogue)
    if access:
        print("access configuration check failed:", file=sys.stderr)
        for p in access:
            print(f"  - {p}", file=sys.stderr)
        return EXIT_PROBLEMS
    print("access configuration: ok")
    plan_problems = _area_plan_problems(catalogue)
    if plan_problems:
        print("area plans check failed:", file=sys.stderr)
        for p in plan_problems:
            print(f"  - {p}", file=sys.stderr)
        return EXIT_PROBLEMS
    print("area plans: ok")
    if args.db:
        try:
            con = open_readonly(args.db)
        except (FileNotFoundError, duckdb.Error) as exc:
            print(f"database check failed: {str(exc).splitlines()[0]}", file=sys.stderr)
            return EXIT_PROBLEMS
        try:
            problems = (check_against_database(con, catalogue) + published_map_problems(con, catalogue)
                        + _benchmark_target_problems(con, catalogue))
        finally:
            con.close()
        if problems:
            print("database check failed:", file=sys.stderr)
            for p in problems:
                print(f"  - {p}", file=sys.stderr)
            return EXIT_PROBLEMS
        print(f"database: ok ({args.db})")
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    """The JSON schema of kpi_definitions.yaml, from its pydantic models, for editors to check the file as it is
    typed (e.g. VS Code's YAML extension: ``# yaml-language-server: $schema=kpi_definitions.schema.json``)."""
    print(json.dumps(definitions.json_schema(), indent=2, ensure_ascii=False))
    return EXIT_OK


def cmd_sql(args: argparse.Namespace) -> int:
    """The analysts' read-only SQL sandbox (kpi/access/sql_sandbox.py): exit 0 and the result, 2 and a reason
    if refused."""
    from kpi.access.sql_sandbox import SqlRefused, run_query

    if args.max_rows < 1 or args.timeout <= 0:
        return _fail("--max-rows must be at least 1 and --timeout above 0")
    try:
        result = run_query(args.db, args.query, row_limit=args.max_rows, time_limit_s=args.timeout)
    except SqlRefused as exc:
        return _fail(f"refused: {exc}" if not str(exc).startswith(("refused", "stopped")) else str(exc))
    _write(result.frame, args.format)
    if result.notice:
        print(result.notice, file=sys.stderr)
    return EXIT_OK


def cmd_nhs_waits(args: argparse.Namespace) -> int:
    from kpi.engine.nhs_waits import NhsWaitsError, nhs_waits

    con = _open_db(args.db)
    if isinstance(con, int):
        return con
    try:
        df = nhs_waits(con, args.org)
    except NhsWaitsError as exc:
        return _fail(str(exc))
    finally:
        con.close()
    df["value"] = df["value"].astype("Float64").round(0).astype("Int64")
    _write(df, args.format)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m kpi", description="APP KPI engine.")
    parser.add_argument("--definitions", default=str(definitions.DEFAULT_PATH), help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("series", help="monthly KPI series with trajectory, target and status")
    s.add_argument("--db", default=_default_db(), help="DuckDB file (default: %(default)s)")
    s.add_argument("--kpi", nargs="+", metavar="ID", help="KPI id(s); default all")
    s.add_argument("--area", nargs="+", metavar="AREA",
                   help="local area(s): ONS code, DfE LA number or name; default every area loaded")
    s.add_argument("--format", choices=["csv", "json"], default="csv")
    s.add_argument("--role", choices=["leadership", "monitor", "analyst"],
                   help="the series as that role sees it: small counts suppressed (access.yaml) except for analysts")
    s.add_argument("--as-of", dest="as_of", type=_iso_day, metavar="YYYY-MM-DD",
                   help="the series as it stood with only the extracts dated on or before this day")
    s.set_defaults(func=cmd_series)
    v = sub.add_parser("validate", help="check kpi_definitions.yaml (shape, references, then the database)")
    v.add_argument("--db", help="also check against this DuckDB file")
    v.set_defaults(func=cmd_validate)
    sc = sub.add_parser("schema", help="print the JSON schema of kpi_definitions.yaml (for editors to check it as "
                                       "it is typed: python -m kpi schema > kpi_definitions.schema.json)")
    sc.set_defaults(func=cmd_schema)
    b = sub.add_parser("benchmark", help="the area beside England, region and statistical neighbours (DfE published)")
    b.add_argument("--db", default=_default_db(), help="DuckDB file (default: %(default)s)")
    b.add_argument("--kpi", required=True, metavar="ID", help="KPI id, e.g. ehcp_20wk_excl")
    b.add_argument("--area", metavar="CODE", help="DfE LA number or ONS code (default: the home area, area.yaml)")
    b.add_argument("--year", type=int, metavar="YYYY", help="calendar year (default: the latest published)")
    b.add_argument("--format", choices=["csv", "json"], default="csv")
    b.set_defaults(func=cmd_benchmark)
    r = sub.add_parser("reconcile", help="the area's own calendar-year figures beside DfE's published ones")
    r.add_argument("--db", default=_default_db(), help="DuckDB file (default: %(default)s)")
    r.add_argument("--area", metavar="CODE", help="DfE LA number or ONS code (default: the home area, area.yaml)")
    r.add_argument("--format", choices=["csv", "json"], default="csv")
    r.set_defaults(func=cmd_reconcile)
    q = sub.add_parser("sql", help="one read-only SELECT in the analysts' sandbox (no files, row and time limits)")
    q.add_argument("--db", default=_default_db(), help="DuckDB file (default: %(default)s)")
    q.add_argument("--query", required=True, metavar="SQL", help="a single SELECT (or WITH … SELECT) statement")
    q.add_argument("--format", choices=["csv", "json"], default="csv")
    q.add_argument("--max-rows", type=int, default=5000, metavar="N", help="row limit (default: %(default)s)")
    q.add_argument("--timeout", type=float, default=10.0, metavar="S", help="time limit in s (default: %(default)s)")
    q.set_defaults(func=cmd_sql)
    w = sub.add_parser("nhs-waits", help="NHS England CHS waiting lists by data month, organisation, service, band")
    w.add_argument("--db", default=_default_db(), help="DuckDB file (default: %(default)s)")
    w.add_argument("--org", metavar="CODE", help="organisation code (e.g. RYV, QUE, Y61) or name; default all")
    w.add_argument("--format", choices=["csv", "json"], default="csv")
    w.set_defaults(func=cmd_nhs_waits)
    from kpi import cli_meeting, cli_portfolio  # review meetings: note, changes; monitors: portfolio

    cli_meeting.add_commands(sub, _default_db(), _iso_day)
    cli_portfolio.add_command(sub, _default_db())
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly, no traceback
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
