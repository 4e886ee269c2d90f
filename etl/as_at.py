"""The date an extract's figures stand at ("data as at"), recorded per file in ``load_log`` by every load.

A case extract is a snapshot: nothing after its as-at date is known, so a month that ends after it is incomplete
and a month-end count for it does not exist yet (DESIGN §4). The date is taken, in order of trust, from:

1. the SEN2 header loaded with the file (Blade ``datetime``, the export time, else ``referencedate``);
2. a date in the file's name (``Blade-Export_10-03-2024_requests.csv``, ``referrals_2024-03-10.csv``);
3. the day the file was loaded.

``as_at_source`` says which (``sen2 header``, ``file name``, ``load time``), so Data quality can say how sure it is.
"""

from __future__ import annotations

import re
from datetime import date

import duckdb

from etl.formats.sen2_blade import MODULES

SEN2_MODULES = tuple(m.name for m in MODULES)
_DMY = re.compile(r"(?<!\d)(\d{2})[-_.](\d{2})[-_.](\d{4})(?!\d)")
_YMD = re.compile(r"(?<!\d)(\d{4})[-_.]?(\d{2})[-_.]?(\d{2})(?!\d)")


def file_name_date(name: str) -> date | None:
    """The date written in a file name (DD-MM-YYYY as Blade writes it, or YYYY-MM-DD / YYYYMMDD), or None."""
    for pattern, order in ((_DMY, (2, 1, 0)), (_YMD, (0, 1, 2))):
        for m in pattern.finditer(name):
            parts = [int(g) for g in m.groups()]
            try:
                return date(parts[order[0]], parts[order[1]], parts[order[2]])
            except ValueError:
                continue
    return None


def record_as_at(con: duckdb.DuckDBPyConnection, first_load_id: int) -> None:
    """Fill ``as_at`` and ``as_at_source`` for the case-extract files of the load that began at ``first_load_id``
    (published statistics name their own periods and get none)."""
    headers = dict(con.execute(
        "SELECT area_code, max(coalesce(extract_datetime, reference_date)) FROM sen2_return "
        "WHERE load_id >= ? GROUP BY 1", [first_load_id]).fetchall())
    rows = con.execute("SELECT load_id, source_file, module, area_code, CAST(loaded_at AS DATE) FROM load_log "
                       "WHERE load_id >= ? AND area_code IS NOT NULL", [first_load_id]).fetchall()
    updates = []
    for load_id, name, module, area, loaded in rows:
        header = headers.get(area) if module in SEN2_MODULES else None
        named = file_name_date(name)
        if header is not None:
            updates.append((header, "sen2 header", load_id))
        elif named is not None:
            updates.append((named, "file name", load_id))
        else:
            updates.append((loaded, "load time", load_id))
    if updates:  # one statement for every file of the load
        con.execute("UPDATE load_log SET as_at = u.as_at, as_at_source = u.source FROM (VALUES "
                    + ", ".join(["(CAST(? AS DATE), CAST(? AS VARCHAR), CAST(? AS INTEGER))"] * len(updates))
                    + ") u(as_at, source, load_id) WHERE load_log.load_id = u.load_id",
                    [v for u in updates for v in u])


def extracts_as_at(con: duckdb.DuckDBPyConnection, family: str, areas=None, as_of: date | None = None
                   ) -> dict[str, date]:
    """Per area, the as-at date of the newest extract of a source family: ``sen2`` (the SEN2 modules) or
    ``waits`` (the referral list). With ``as_of``, only extracts dated on or before it count."""
    columns = {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'load_log'").fetchall()}
    if "as_at" not in columns:  # a database from before as-at dates were recorded
        return {}
    modules = list(SEN2_MODULES) if family == "sen2" else ["referral"]
    query = (f"SELECT area_code, max(as_at) FROM load_log WHERE area_code IS NOT NULL AND as_at IS NOT NULL "
             f"AND module IN ({', '.join('?' for _ in modules)})")
    params: list = list(modules)
    if as_of is not None:
        query += " AND as_at <= ?"
        params.append(as_of)
    if areas is not None:
        if not areas:
            return {}
        query += f" AND area_code IN ({', '.join('?' for _ in areas)})"
        params += list(areas)
    return dict(con.execute(query + " GROUP BY 1", params).fetchall())


def record_reviews(con: duckdb.DuckDBPyConnection, first_load_id: int) -> None:
    """Add the reviews the load that began at ``first_load_id`` showed to ``review_history``, each with its
    extract's as-at date (run after :func:`record_as_at`). A review already held from the same load is not added
    twice; nothing is ever removed."""
    con.execute("""
        INSERT INTO review_history
        SELECT ap.area_code, ap.request_id, ap.active_plan_id, ap.review_meeting_date, ap.review_decision_date,
               ap.review_outcome, ap.load_id, l.as_at
        FROM active_plan ap JOIN load_log l USING (load_id)
        WHERE ap.load_id >= ? AND (ap.review_meeting_date IS NOT NULL OR ap.review_decision_date IS NOT NULL)""",
                [first_load_id])
