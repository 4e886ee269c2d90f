"""The SEND Tribunal appeal-rate table (MoJ/DfE): a report sheet saved as CSV, title rows above a two-row header of
years and measures, region headings, footnote digits stuck to names. Its LA numbers are not reliable (it gives
Central Bedfordshire 873, which is Cambridgeshire's number), so areas are matched by *name* and the year; a
contradicting code is kept in ``source_code``. Cells follow the rules of etl/formats/dfe_release.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from etl import reference
from etl.formats.dfe_csv import norm, read_rows
from etl.formats.dfe_long import LONG_COLUMNS, finish_long, seed_all
from etl.insert import insert_rows
from etl.report import FileResult

TRIBUNAL_MEASURES = [  # (label prefix, normalised) → measure
    ("indevelopmenttotalappealabledecisions", "appealable_decisions_in_development"),
    ("indevelopmentsendtribunalappealrate", "appeal_rate_in_development"),
    ("appealsregistered", "appeals_registered"),
    ("totalappealabledecisions", "appealable_decisions"),
    ("sendtribunalappealrate", "appeal_rate"),
]


def _strip_footnote(text: str) -> str:
    """'Cumberland8' → 'Cumberland', 'Total Appealable Decisions1,9' → 'Total Appealable Decisions'."""
    return re.sub(r"[\d,\s]+$", "", text.strip())


def _tribunal_header(rows: list[list[str]]) -> int | None:
    for i, row in enumerate(rows[:15]):
        if len(row) > 2 and norm(row[0]) == "localauthority" and norm(row[1]) == "lacode":
            return i
    return None


class TribunalAppealRate:
    """SEND Tribunal appeal rate by local authority (MoJ/DfE table, a report sheet saved as CSV)."""

    name = "send_tribunal_appeal_rate"
    layout = "dfe_tribunal"
    description = ("the SEND Tribunal appeal-rate table (title rows, then 'Local Authority, LA code, <year>…' with "
                   "Appeals registered / Total Appealable Decisions / SEND Tribunal Appeal Rate per year)")

    def matches(self, path: Path, headers: list[str] | None) -> bool:
        rows = read_rows(path, 15)
        at = _tribunal_header(rows)
        if at is None or at + 1 >= len(rows):
            return False
        return any(norm(c).startswith("appealsregistered") for c in rows[at + 1])

    def load(self, con: duckdb.DuckDBPyConnection, path: Path, load_id: int) -> FileResult:
        seed_all(con)
        rows = read_rows(path)
        at = _tribunal_header(rows)
        years_row, labels = rows[at], rows[at + 1]
        columns: list[tuple[int, int, str, str]] = []  # (index, year, measure, label as written)
        year = None
        for i in range(2, max(len(years_row), len(labels))):
            cell = years_row[i].strip() if i < len(years_row) else ""
            if re.fullmatch(r"\d{4}", cell):
                year = int(cell)
            label = labels[i].strip() if i < len(labels) else ""
            key = norm(_strip_footnote(label))
            measure = next((m for prefix, m in TRIBUNAL_MEASURES if key.startswith(prefix)), None)
            if measure and year:
                columns.append((i, year, measure, f"{year} {_strip_footnote(label)}"))
        region_names = {reference.normalise_name(n): c for c, n in reference.regions().items()}
        long_rows: list[list] = []
        extra: list[tuple[int, str, str | None, str]] = []
        data_rows = 0
        for n, row in enumerate(rows[at + 2:], start=at + 3):
            if not row or not row[0].strip():
                continue
            first = row[0].strip()
            if norm(first).startswith(("sources", "notes")) or re.match(r"^\d+\.", first):
                break
            values = [row[i] if i < len(row) else "" for i, _, _, _ in columns]
            if not any(v.strip() for v in values):
                if reference.normalise_name(first) not in region_names and not first.isupper():
                    extra.append((n, "Local Authority", first, "row has a name but no figures"))
                continue  # a region heading (NORTH EAST, INNER LONDON, …)
            data_rows += 1
            name = _strip_footnote(first)
            code = row[1].strip() if len(row) > 1 else ""
            if norm(name).startswith("englandtotal"):
                topic, breakdown = ("Total", "Total")
                if "excluding" in norm(name):
                    topic, breakdown = ("Suppression", "England total excluding suppressed authorities")
                for (_i, yr, measure, label), value in zip(columns, values, strict=True):
                    long_rows.append([n, str(yr), "Calendar year", "National", reference.ENGLAND_CODE,
                                      reference.ENGLAND_NAME, None, None, None, None, None, topic, breakdown, label,
                                      measure, value, None, None])
                continue
            unresolved = False
            for (_i, yr, measure, label), value in zip(columns, values, strict=True):
                la = reference.resolve_name(name, yr, code)
                if la is None:
                    unresolved = True
                    continue
                if value.strip() in ("..", "") and not la.exists_in(yr):
                    continue  # the area did not exist that year: nothing to store
                source_code = code if code and code not in la.codes else None
                long_rows.append([n, str(yr), "Calendar year", "Local authority", None, None, la.region_code,
                                  la.region_name, None, la.old_la_code, la.name, "Total", "Total", label, measure,
                                  value, source_code, la.new_la_code])
            if unresolved:
                extra.append((n, "Local Authority", first, "local authority name not recognised"))
        con.execute("CREATE OR REPLACE TEMP TABLE _pub_long (_row BIGINT, "
                    + ", ".join(f"{c} VARCHAR" for c in LONG_COLUMNS[1:]) + ")")
        insert_rows(con, "_pub_long", long_rows)
        return finish_long(con, path, self.name, load_id, data_rows, extra)
