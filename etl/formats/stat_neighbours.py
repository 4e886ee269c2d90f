"""DfE children's services statistical neighbours: the wide list, stored as a versioned set.

The file (``statistical_neighbours.csv``) has one column per local authority, headed by its name, and under
it its 10 neighbours, nearest first. Names only, no codes: each is matched to an area with
``etl.reference.resolve_name`` (case, punctuation and known aliases such as "Bedford Borough" ignored).

Each load becomes a *set* (``stat_neighbour_set``) with the date it takes effect, so a later DfE list is
added beside the old one rather than replacing it; benchmarks for a year use the newest set in effect by the
end of that year (``kpi.engine.benchmark.neighbour_set_for``). The effective date comes from the file name when it
holds one (``statistical_neighbours_2025-03.csv`` → 2025-03-01; a bare year → 1 April of it), otherwise
from the list itself: 1 April of the year the newest authority it names came into being (this list names
Cumberland and Westmorland and Furness, so 2023-04-01), because a list cannot predate the areas it names.
Loading a list with the same effective date as a stored set replaces that set (a corrected file).

A name that matches no area, a neighbour equal to the area itself or named twice is quarantined
(row = neighbour position 1–10, column = the area's heading); the rest of the list loads.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime
from pathlib import Path

import duckdb

from etl import reference
from etl.formats.dfe_csv import read_rows
from etl.formats.dfe_long import seed_all
from etl.insert import insert_rows
from etl.report import FileResult, Problem

MIN_AREAS = 10
MATCH_SHARE = 0.8


def _effective_from(path: Path, areas: list[reference.LocalAuthority]) -> tuple[date, str]:
    m = re.search(r"(20\d{2})(?:[-_]?(0[1-9]|1[0-2]))?(?:[-_]?(0[1-9]|[12]\d|3[01]))?(?!\d)", path.stem)
    if m:
        year, month, day = int(m.group(1)), m.group(2), m.group(3)
        if month:
            return date(year, int(month), int(day or 1)), f"date in the file name {path.name}"
        return date(year, 4, 1), f"year in the file name {path.name} (1 April)"
    newest = max((la for la in areas if la.first_year), key=lambda la: la.first_year, default=None)
    if newest is None:
        return date(2014, 4, 1), "no date in the file name and no area newer than 2014: assumed 2014-04-01"
    return (date(newest.first_year, 4, 1),
            f"no date in the file name: 1 April {newest.first_year}, when {newest.name}, the newest area it names, "
            "came into being")


class StatNeighbours:
    """The wide statistical-neighbours list."""

    name = "stat_neighbours"
    layout = "dfe_stat_neighbours"
    description = "DfE statistical neighbours, wide (one column per local authority name, its 10 neighbours below)"

    def matches(self, path: Path, headers: list[str] | None) -> bool:
        rows = read_rows(path, 1)
        if not rows:
            return False
        names = [h for h in rows[0] if h.strip()]
        if len(names) < MIN_AREAS:
            return False
        known = sum(1 for h in names if reference.by_name(h))
        return known / len(names) >= MATCH_SHARE

    def load(self, con: duckdb.DuckDBPyConnection, path: Path, load_id: int) -> FileResult:
        seed_all(con)
        rows = read_rows(path)
        header, body = rows[0], rows[1:]
        named = [reference.resolve_name(h) for h in header if h.strip()]  # ambiguous names (Dorset) give None
        effective, basis = _effective_from(path, [la for la in named if la])
        year = effective.year
        heads = [reference.resolve_name(h, year) if h.strip() else None for h in header]
        problems: list[Problem] = []
        pairs: list[list] = []
        read = 0
        for col, (head, area) in enumerate(zip(header, heads, strict=True)):
            if not head.strip():
                continue
            seen: set[str] = set()
            for rank, row in enumerate(body, start=1):
                cell = row[col].strip() if col < len(row) else ""
                if not cell:
                    continue
                read += 1
                if area is None:
                    problems.append(Problem(path.name, rank, head, "local authority name not recognised", head))
                    continue
                neighbour = reference.resolve_name(cell, year)
                if neighbour is None:
                    problems.append(Problem(path.name, rank, head, "neighbour name not recognised", cell))
                elif neighbour == area:
                    problems.append(Problem(path.name, rank, head, "an area cannot be its own neighbour", cell))
                elif neighbour.new_la_code in seen:
                    problems.append(Problem(path.name, rank, head, "neighbour named twice in one list", cell))
                else:
                    seen.add(neighbour.new_la_code)
                    pairs.append([load_id, area.new_la_code, head.strip(), rank, neighbour.new_la_code, cell])
        old = [r[0] for r in con.execute(
            "SELECT set_id FROM stat_neighbour_set WHERE effective_from = ?", [effective]).fetchall()]
        for set_id in old:
            con.execute("DELETE FROM stat_neighbour WHERE set_id = ?", [set_id])
            con.execute("DELETE FROM stat_neighbour_set WHERE set_id = ?", [set_id])
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        con.execute(
            "INSERT INTO stat_neighbour_set VALUES (?, ?, ?, ?, ?, ?, ?)",
            [load_id, effective, basis, path.name, digest, len({p[1] for p in pairs}), datetime.now()],
        )
        if pairs:
            insert_rows(con, "stat_neighbour", pairs)
        for p in problems:
            con.execute("INSERT INTO quarantine VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [load_id, p.file, self.name, p.row, p.column, p.value, p.reason])
        bad = len(problems)
        return FileResult(path, self.name, "quarantined" if bad else "loaded", read, read - bad, bad, problems)
