"""Command line for review meetings: ``python -m kpi note add|done|withdraw|list``, ``python -m kpi changes`` and
``python -m kpi pack`` (the board pack, HTML or PDF).

Registered by kpi/__main__.py (:func:`add_commands`); the shared helpers (one-line errors, opening the database)
are the CLI's own. Bad input exits 2 with a one-line reason, never a traceback.
"""

from __future__ import annotations

import argparse
import getpass

import duckdb

from kpi import notes


def _cli():
    from kpi import __main__ as cli  # the CLI's helpers; imported late, since that module imports this one

    return cli


def _area(given: str | None):
    """The ONS code of the area named, or of the home area (area.yaml); an exit code after a one-line error."""
    from etl import area

    try:
        return area.resolve(given) if given else area.default_area_code()
    except (area.UnknownArea, area.AreaConfigError) as exc:
        return _cli()._fail(str(exc))


def _writer(args: argparse.Namespace):
    """(author, role) for a write from the command line: ``--author`` or local:<os user>, and the local role of
    access.yaml (``APP_ROLE`` previews another); an exit code after a one-line error."""
    from kpi.access import roles

    try:
        role, _ = roles.local_role(roles.load().roles)
    except roles.AccessConfigError as exc:
        return _cli()._fail(str(exc))
    return args.author or f"local:{getpass.getuser()}", role


def _no_database(args: argparse.Namespace) -> int | None:
    """An exit code after a one-line error when ``--db`` names no database (notes beside a mistyped path would
    never be seen again), else None."""
    from pathlib import Path

    if Path(args.db).is_file():
        return None
    return _cli()._fail(f"no database at {args.db}: notes are kept beside the database they are about "
                        "(give its path with --db)")


def _printable(df):
    """Dates and times as ISO text, so CSV and JSON show them alike."""
    df = df.copy()
    for column in ("due", "written_at", "created_at"):
        if column in df.columns:
            df[column] = [None if v is None or v != v else v.isoformat() for v in df[column]]
    return df


def cmd_note_add(args: argparse.Namespace) -> int:
    cli = _cli()
    if (missing := _no_database(args)) is not None:
        return missing
    catalogue = cli._load_catalogue(args)
    if isinstance(catalogue, int):
        return catalogue
    if args.kpi not in catalogue.ids:
        return cli._fail(f"unknown KPI id: {args.kpi} (see `python -m kpi series --help`; e.g. ehcp_20wk_excl)")
    if args.narrative is not None and (args.owner or args.due):
        return cli._fail("--owner and --due belong to an --action, not a --narrative")
    if args.action is not None and not (args.owner and args.due):
        return cli._fail("an --action needs --owner NAME and --due YYYY-MM-DD")
    area, writer = _area(args.area), _writer(args)
    for opened in (area, writer):
        if isinstance(opened, int):
            return opened
    author, role = writer
    where = dict(area_code=area, kpi_id=args.kpi, period=args.period, author=author, role=role)
    try:
        if args.narrative is not None:
            row = notes.add_narrative(args.db, text=args.narrative, **where)
        else:
            row = notes.add_action(args.db, text=args.action, owner=args.owner, due=args.due, **where)
    except notes.NoteRefused as exc:
        return cli._fail(str(exc))
    print(f"{row['kind']} {row['note_id']} version {row['version']} written for {args.kpi}, {args.period}, {area}")
    return cli.EXIT_OK


def _set_status(args: argparse.Namespace, status: str) -> int:
    cli = _cli()
    if (missing := _no_database(args)) is not None:
        return missing
    writer = _writer(args)
    if isinstance(writer, int):
        return writer
    author, role = writer
    try:
        if status == notes.WITHDRAWN:
            row = notes.update_note(args.db, args.id, author=author, role=role, status=status)
        else:
            row = notes.update_action(args.db, args.id, author=author, role=role, status=status)
    except notes.NoteRefused as exc:
        return cli._fail(str(exc))
    print(f"{row['kind']} {row['note_id']} is {status} (version {row['version']})")
    return cli.EXIT_OK


def cmd_note_list(args: argparse.Namespace) -> int:
    cli = _cli()
    if (missing := _no_database(args)) is not None:
        return missing
    area = _area(args.area) if args.area else None
    if isinstance(area, int):
        return area
    if args.period is not None:
        try:
            notes.check_period(args.period)
        except notes.NoteRefused as exc:
            return cli._fail(str(exc))
    df = notes.list_notes(args.db, args.kpi, args.period, area, include_withdrawn=args.all)
    cli._write(_printable(df), args.format)
    return cli.EXIT_OK


def _catalogue_and_plans(args: argparse.Namespace):
    """(catalogue, every area's plans: kpi/area_plans.py), or (an exit code, None) after a one-line error."""
    from kpi.cli_portfolio import load_plan_book

    catalogue = _cli()._load_catalogue(args)
    if isinstance(catalogue, int):
        return catalogue, None
    book = load_plan_book(catalogue)
    return (book, None) if isinstance(book, int) else (catalogue, book)


def cmd_changes(args: argparse.Namespace) -> int:
    from kpi.views.changes import since_last_meeting

    cli = _cli()
    for month in (args.period, args.since):
        try:
            notes.check_period(month)
        except notes.NoteRefused as exc:
            return cli._fail(str(exc))
    if args.since >= args.period:
        return cli._fail(f"--since {args.since} must be a month before --period {args.period}")
    catalogue, book = _catalogue_and_plans(args)
    if book is None:
        return catalogue
    con = cli._open_db(args.db)
    if isinstance(con, int):
        return con
    try:
        areas = cli._chosen_areas(con, [args.area] if args.area else None)
        if isinstance(areas, int):
            return areas
        df = since_last_meeting(con, catalogue, args.db, args.period, args.since, areas, args.since_as_of, args.on,
                                plans=book)
    except duckdb.CatalogException:
        return cli._fail(f"{args.db} holds no SEN2 tables: load data with `python -m etl load` first")
    finally:
        con.close()
    for column in ("value_then", "value_now", "since_value_now", "revision"):
        df[column] = [None if v is None or v != v else round(v, catalogue.get(k).decimals + 1)
                      for v, k in zip(df[column], df["kpi_id"], strict=True)]
    cli._write(df, args.format)
    return cli.EXIT_OK


def cmd_pack(args: argparse.Namespace) -> int:
    from pathlib import Path

    from kpi.access import roles
    from kpi.area_plans import NO_PLAN
    from kpi.views import pdf
    from kpi.views.pack import load_pack, pack_html

    cli = _cli()
    out = Path(args.out)
    if out.suffix.lower() not in (".pdf", ".html"):
        return cli._fail(f"--out {args.out}: name a .pdf or an .html file")
    for month in (args.period, args.since):
        try:
            notes.check_period(month) if month else None
        except notes.NoteRefused as exc:
            return cli._fail(str(exc))
    if args.since and args.since >= args.period:
        return cli._fail(f"--since {args.since} must be a month before --period {args.period}")
    if out.suffix.lower() == ".pdf":
        try:
            pdf.chromium()
        except pdf.BrowserMissing as exc:
            return cli._fail(str(exc))
    catalogue, book = _catalogue_and_plans(args)
    if book is None:
        return catalogue
    try:
        config = roles.load(catalogue=catalogue)
    except roles.AccessConfigError as exc:
        return cli._fail(str(exc))
    con = cli._open_db(args.db)
    if isinstance(con, int):
        return con
    try:
        areas = cli._chosen_areas(con, [args.area] if args.area else None)
    finally:
        con.close()
    if isinstance(areas, int):
        return areas
    try:
        pack = load_pack(args.db, catalogue, config, args.period, args.role, areas[0] if areas else None,
                         args.since, args.on, plans=book)
        html = pack_html(pack)
        if out.suffix.lower() == ".html":
            out.write_text(html, encoding="utf-8")
        else:
            pdf.html_to_pdf(html, out)
    except duckdb.CatalogException:
        return cli._fail(f"{args.db} holds no SEN2 tables: load data with `python -m etl load` first")
    except (ValueError, OSError, pdf.PrintFailed) as exc:
        return cli._fail(str(exc).splitlines()[0])
    without = "" if pack.planned else f" ({NO_PLAN})"  # an area without a plan: figures without status
    print(f"board pack for {args.period}, {pack.area_name}{without}, for {args.role}: {out}")
    return cli.EXIT_OK


def add_commands(sub, default_db: str, iso_day) -> None:
    """The ``note``, ``changes`` and ``pack`` subcommands (``iso_day``: the CLI's YYYY-MM-DD argument type)."""
    n = sub.add_parser("note", help="commentary and actions of review meetings, per KPI, month and area")
    verbs = n.add_subparsers(dest="note_command", required=True)
    a = verbs.add_parser("add", help="write a narrative (a new version if there is one) or an action")
    a.add_argument("--kpi", required=True, metavar="ID")
    a.add_argument("--period", required=True, metavar="YYYY-MM")
    a.add_argument("--area", metavar="CODE", help="ONS code, DfE LA number or name (default: the home area)")
    what = a.add_mutually_exclusive_group(required=True)
    what.add_argument("--narrative", metavar="TEXT", help="why the KPI stands where it does")
    what.add_argument("--action", metavar="TEXT", help="what will be done (with --owner and --due)")
    a.add_argument("--owner", metavar="NAME")
    a.add_argument("--due", type=iso_day, metavar="YYYY-MM-DD")
    a.set_defaults(func=cmd_note_add)
    d = verbs.add_parser("done", help="mark an action done")
    d.set_defaults(func=lambda args: _set_status(args, notes.DONE))
    w = verbs.add_parser("withdraw", help="withdraw a narrative or an action (it stays in the history)")
    w.set_defaults(func=lambda args: _set_status(args, notes.WITHDRAWN))
    for p in (d, w):
        p.add_argument("id", metavar="ID", help="the note's id (python -m kpi note list)")
    for p in (a, d, w):
        p.add_argument("--author", metavar="NAME", help="who writes it (default: local:<your user name>)")
    ls = verbs.add_parser("list", help="the current version of each note")
    ls.add_argument("--kpi", metavar="ID")
    ls.add_argument("--period", metavar="YYYY-MM")
    ls.add_argument("--area", metavar="CODE", help="ONS code, DfE LA number or name (default: every area)")
    ls.add_argument("--all", action="store_true", help="withdrawn notes too")
    ls.add_argument("--format", choices=["csv", "json"], default="csv")
    ls.set_defaults(func=cmd_note_list)
    for p in (a, d, w, ls):
        p.add_argument("--db", default=default_db, help="DuckDB file; the notes sit beside it (default: %(default)s)")

    c = sub.add_parser("changes", help="what changed since the last meeting: status, revised figures, new SPC "
                                       "signals, actions due")
    c.add_argument("--db", default=default_db, help="DuckDB file (default: %(default)s)")
    c.add_argument("--period", required=True, metavar="YYYY-MM", help="the month this meeting discusses")
    c.add_argument("--since", required=True, metavar="YYYY-MM", help="the month the last meeting discussed")
    c.add_argument("--since-as-of", dest="since_as_of", type=iso_day, metavar="YYYY-MM-DD",
                   help="the day the last meeting's figures stood at (default: the last day of --since)")
    c.add_argument("--area", metavar="AREA", help="ONS code, DfE LA number or name (default: every area loaded)")
    c.add_argument("--on", type=iso_day, metavar="YYYY-MM-DD",
                   help="the meeting's day, for actions due or overdue (default: today)")
    c.add_argument("--format", choices=["csv", "json"], default="csv")
    c.set_defaults(func=cmd_changes)

    k = sub.add_parser("pack", help="the board pack for a month's review meeting (A4 PDF, or HTML)")
    k.add_argument("--db", default=default_db, help="DuckDB file; its notes sit beside it (default: %(default)s)")
    k.add_argument("--period", required=True, metavar="YYYY-MM", help="the month the meeting discusses")
    k.add_argument("--out", required=True, metavar="FILE", help="FILE.pdf (printed by Chromium) or FILE.html")
    k.add_argument("--role", choices=["leadership", "monitor", "analyst"], default="leadership",
                   help="who it is for: figures as that role sees them (default: %(default)s)")
    k.add_argument("--since", metavar="YYYY-MM", help="the month the last meeting discussed (changes since then)")
    k.add_argument("--area", metavar="AREA", help="ONS code, DfE LA number or name (default: the home area)")
    k.add_argument("--on", type=iso_day, metavar="YYYY-MM-DD",
                   help="the meeting's day, for actions overdue (default: today)")
    k.set_defaults(func=cmd_pack)
