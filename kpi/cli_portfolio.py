"""Command line for monitors: ``python -m kpi portfolio`` (one row per area with a plan, kpi/views/portfolio.py), and
what every command shares about areas' own plans (plans/*.yaml) and a role's assigned areas (access.yaml)."""

from __future__ import annotations

import argparse
import sys

import pandas as pd

EXIT_OK, EXIT_USAGE = 0, 2


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_USAGE


def load_plan_book(catalogue):
    """Every area's plans (kpi/area_plans.py), or an exit code after a one-line error naming the file and field."""
    from kpi import area_plans
    from kpi.engine import area as area_config

    try:
        home = area_config.load().area_code
    except area_config.AreaConfigError:
        home = None  # no home area configured: only the plan files' areas have plans
    try:
        return area_plans.load(catalogue, home)
    except area_plans.AreaPlansError as exc:
        return _fail("area plans are invalid: " + "; ".join(exc.problems))


def scoped_areas(role: str | None, wanted: list[str] | None, loaded: list[str]) -> list[str] | None | int:
    """The areas a command may read for ``role`` (access.yaml ``areas``): ``wanted`` (None: every loaded area)
    narrowed to the role's; an exit code after a one-line error when ``wanted`` names an area not assigned to it.
    None when the role sees every area and none was named."""
    if role is None:
        return wanted
    from kpi.access import roles

    try:
        allowed = roles.allowed_areas(role, roles.load().roles)
    except roles.AccessConfigError as exc:
        return _fail(str(exc))
    if allowed is None:
        return wanted
    refused = [a for a in (wanted or []) if a not in allowed]
    if refused:
        return _fail(f"area(s) {', '.join(refused)} are not assigned to the {role} role (access.yaml roles.areas)")
    return wanted if wanted else [a for a in loaded if a in allowed]


def role_areas(con, role: str | None, named: list[str] | None) -> list[str] | None | int:
    """The areas a command reads: those named (``--area``: code, number or name) kept to ``role``'s assigned areas
    (access.yaml), or every area the role may see; None when nothing restricts them; an exit code when refused."""
    from kpi.__main__ import _chosen_areas
    from kpi.engine.compute import case_areas

    chosen = _chosen_areas(con, named)
    if isinstance(chosen, int):
        return chosen
    return scoped_areas(role, chosen, case_areas(con))


def cmd_portfolio(args: argparse.Namespace) -> int:
    from kpi.__main__ import _load_catalogue, _open_db, _series_for_role, _write
    from kpi.engine.compute import case_areas
    from kpi.plans import PERIOD_RE
    from kpi.views.portfolio import portfolio, read_inputs

    if not PERIOD_RE.match(args.period):
        return _fail(f"--period {args.period!r} is not a month written YYYY-MM")
    catalogue = _load_catalogue(args)
    if isinstance(catalogue, int):
        return catalogue
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
        areas = [a for a in (areas or case_areas(con)) if book.plans(a)]
        series, names, as_at = read_inputs(con, catalogue, book, areas)
    finally:
        con.close()
    if args.role is not None and len(series):
        parts = [_series_for_role(rows, catalogue, args.role) for _, rows in series.groupby("area_code")]
        failed = next((p for p in parts if isinstance(p, int)), None)
        if failed is not None:
            return failed
        series = pd.concat(parts, ignore_index=True)  # suppression is per area, as everywhere else
    _write(portfolio(series, book, args.period, names, as_at, areas), args.format)
    return EXIT_OK


def add_command(sub, default_db: str) -> None:
    """The ``portfolio`` subcommand."""
    p = sub.add_parser("portfolio", help="one row per area with a plan: plan month, statuses, KPIs off track")
    p.add_argument("--db", default=default_db, help="DuckDB file (default: %(default)s)")
    p.add_argument("--period", required=True, metavar="YYYY-MM", help="the month to judge")
    p.add_argument("--area", nargs="+", metavar="AREA", help="only these areas (ONS code, DfE number or name)")
    p.add_argument("--role", choices=["leadership", "monitor", "analyst"],
                   help="as that role sees it: its assigned areas only (access.yaml), small counts suppressed")
    p.add_argument("--format", choices=["csv", "json"], default="csv")
    p.set_defaults(func=cmd_portfolio)
