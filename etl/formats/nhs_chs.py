"""NHS England Community Health Services (CHS) waiting-list workbooks → ``nhs_chs_wait`` (long form).

Each monthly release is an .xlsx with Table 4 (total waiting list by service) and Tables 4a–4g/4h (the number
waiting in each weeks-waiting band): one row per organisation (England, regions, ICBs, providers), one column
per service (``(A) …`` adult, ``(CYP) …`` children and young people). Layouts handled, all detected from the
workbook itself:

- releases to July 2023: a blank first column, no organisation code, and the organisation type (Region, ICB,
  Organisation = provider) only on the first row of each group; England's row has no type;
- August and September 2023: ``Organisation Type, Organisation Name``;
- from October 2023: ``Organisation Type, Organisation Code, Organisation Name``;
- bands: to 2023 they end at "over 52 weeks" (band ``>52``); the current layout splits it into
  ">52-104 weeks" (Table 4g) and "over 104 weeks" (Table 4h).

The band of a table is read from its title, and so is the **data month** ("…by service, January 2023"),
which is not the publication month in the file name. One release (March 2023 publication) has titles without a
month: the month then comes from the table's line on the Contents sheet. All tables of a workbook must agree.

Cells: a number is the count; blank = not submitted (value NULL, marker ``not_submitted``); ``*`` = suppressed
(marker ``suppressed``); anything else is quarantined (row = the Excel row, column = ``<sheet>: <service>``).
On each ``total`` row ``bands_differ`` says whether the published bands (blanks as 0) add up to something
other than the total — kept, with the flag, as NHS England warns the bands may not sum; NULL when the total
or a band is suppressed.

After each load, across everything stored: organisations without a published code (older releases) get the
code of the same-type organisation with the same name in the latest release that has one (names compared
case-insensitively, ``&`` read as "and", punctuation ignored); each service shows the name as written in the
latest release (capitalisation changed in 2023, e.g. "speech and language" → "Speech and language").
England's code is E92000001. A reload of a data month replaces that month.
"""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path

import duckdb

from etl import reference
from etl.insert import insert_rows
from etl.months import NAMES as MONTH_NAMES
from etl.months import number as month_number
from etl.report import FileResult, LoadRejected, Problem

MONTH_RE = re.compile(r"\b(" + "|".join(MONTH_NAMES) + r")\s+(20\d{2})\b", re.I)
# title text → band (checked in order: ">52-104" before "over 52")
BAND_PATTERNS = [
    (re.compile(r"^total waiting list", re.I), "total"),
    (re.compile(r"waiting 0-1 weeks", re.I), "0-1"),
    (re.compile(r"waiting >1-2 weeks", re.I), ">1-2"),
    (re.compile(r"waiting >2-4 weeks", re.I), ">2-4"),
    (re.compile(r"waiting >4-12 weeks", re.I), ">4-12"),
    (re.compile(r"waiting >12-18 weeks", re.I), ">12-18"),
    (re.compile(r"waiting >18-52 weeks", re.I), ">18-52"),
    (re.compile(r"waiting >52-104 weeks", re.I), ">52-104"),
    (re.compile(r"waiting over 104 weeks", re.I), ">104"),
    (re.compile(r"waiting over 52 weeks", re.I), ">52"),
]
BANDS = ("total", "0-1", ">1-2", ">2-4", ">4-12", ">12-18", ">18-52", ">52", ">52-104", ">104")
ORG_TYPES = {"national": "National", "region": "Region", "icb": "ICB", "provider": "Provider",
             "organisation": "Provider"}


def band_of(title: str) -> str | None:
    for pattern, band in BAND_PATTERNS:
        if pattern.search(title):
            return band
    return None


def month_of(text: str) -> _dt.date | None:
    m = MONTH_RE.search(text or "")
    return _dt.date(int(m.group(2)), month_number(m.group(1)), 1) if m else None


def _title(rows: list[tuple]) -> str:
    for row in rows[:3]:
        for cell in row:
            if isinstance(cell, str) and cell.strip():
                return cell.strip()
    return ""


def _open(path: Path):
    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - not a readable workbook: the caller reports it, never a traceback
        return None


def _rows(ws) -> list[tuple]:
    ws.reset_dimensions()  # some releases record a wrong sheet size: read every cell
    return list(ws.iter_rows(values_only=True))


def _contents_months(wb) -> dict[str, _dt.date]:
    """'Table 4a' → data month, from the Contents sheet's lines ('Table 4a: Number waiting …, February 2023')."""
    out: dict[str, _dt.date] = {}
    if "Contents" not in wb.sheetnames:
        return out
    for row in _rows(wb["Contents"]):
        for cell in row:
            if isinstance(cell, str) and ":" in cell:
                label, text = cell.split(":", 1)
                month = month_of(text)
                if month and label.strip().lower().startswith("table"):
                    out[label.strip().lower()] = month
    return out


def _header_index(rows: list[tuple]) -> int | None:
    for i, row in enumerate(rows[:15]):
        if any(isinstance(c, str) and c.strip().startswith(("(A)", "(CYP)")) for c in row):
            return i
    return None


def _cell(value) -> tuple[float | None, str | None, bool]:
    """(value, marker, ok) for one published cell."""
    if value is None:
        return None, "not_submitted", True
    if isinstance(value, bool):
        return None, None, False
    if isinstance(value, int | float):
        return float(value), None, True
    text = str(value).strip()
    if text == "":
        return None, "not_submitted", True
    if text == "*":
        return None, "suppressed", True
    try:
        return float(text.replace(",", "")), None, True
    except ValueError:
        return None, None, False


class NhsChsWorkbook:
    """An NHS England CHS waiting-list workbook (any of the three layouts)."""

    name = "nhs_chs"
    layout = "nhs_chs"
    description = ("an NHS England Community Health Services waiting-list workbook (.xlsx with 'Table 4: Total "
                   "waiting list by service' and the weeks-waiting band tables 4a–4h)")

    def matches(self, path: Path, headers: list[str] | None) -> bool:
        if path.suffix.lower() != ".xlsx":
            return False
        wb = _open(path)
        if wb is None:
            return False
        try:
            if "Table 4" not in wb.sheetnames:
                return False
            return band_of(_title(list(wb["Table 4"].iter_rows(max_row=3, values_only=True)))) == "total"
        finally:
            wb.close()

    def load(self, con: duckdb.DuckDBPyConnection, path: Path, load_id: int) -> FileResult:
        wb = _open(path)
        if wb is None:
            raise LoadRejected([Problem(path.name, None, None, "cannot be read as an .xlsx workbook")])
        try:
            long_rows, problems, months, data_rows = self._read(wb, path)
        finally:
            wb.close()
        if len(set(months.values())) != 1:
            found = ", ".join(f"{s}: {m:%B %Y}" for s, m in sorted(months.items())) if months else "none"
            detail = ("the tables give different data months (" + found + ")" if months
                      else "no data month in the table titles or the Contents sheet")
            raise LoadRejected([Problem(path.name, None, None, detail)])
        period = next(iter(set(months.values())))
        con.execute("DELETE FROM nhs_chs_wait WHERE period = ?", [period])
        rows = [[period, *r, path.name, load_id] for r in long_rows]
        insert_rows(con, "nhs_chs_wait", rows)
        _flag_band_sums(con, load_id)
        refresh_names(con)
        for p in problems:
            con.execute("INSERT INTO quarantine VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [load_id, p.file, self.name, p.row, p.column, p.value, p.reason])
        bad = len({(p.column.split(":")[0], p.row) for p in problems})
        return FileResult(path, self.name, "quarantined" if bad else "loaded", data_rows, data_rows - bad, bad,
                          problems)

    def _read(self, wb, path: Path):
        contents = _contents_months(wb)
        long_rows: list[list] = []
        problems: list[Problem] = []
        months: dict[str, _dt.date] = {}
        data_rows = 0
        bands_seen: set[str] = set()
        for sheet in wb.sheetnames:
            if not re.fullmatch(r"Table 4[a-z]?", sheet):
                continue
            rows = _rows(wb[sheet])
            title = _title(rows)
            band = band_of(title)
            if band is None:
                raise LoadRejected([Problem(path.name, 1, sheet, f"table title not recognised as a waiting-list "
                                                                 f"band ({title!r})")])
            if band in bands_seen:
                raise LoadRejected([Problem(path.name, 1, sheet, f"band {band} appears in two tables")])
            bands_seen.add(band)
            month = month_of(title) or contents.get(sheet.lower())
            if month:
                months[sheet] = month
            at = _header_index(rows)
            if at is None:
                raise LoadRejected([Problem(path.name, None, sheet, "no header row with service names")])
            header = rows[at]
            services = [(i, str(c).strip()) for i, c in enumerate(header)
                        if isinstance(c, str) and c.strip().startswith("(")]
            first_service = services[0][0]
            lead = {str(c).strip().lower(): i for i, c in enumerate(header[:first_service]) if c}
            name_col = lead.get("organisation name", first_service - 1)
            type_col = lead.get("organisation type", name_col - 1)
            code_col = lead.get("organisation code")
            org_type = None
            for n, row in enumerate(rows[at + 1:], start=at + 2):
                name = row[name_col] if name_col < len(row) else None
                if not isinstance(name, str) or not name.strip():
                    continue
                name = name.strip()
                typed = row[type_col] if 0 <= type_col < len(row) else None
                if name.lower() == "england":
                    org_type = "National"
                elif isinstance(typed, str) and typed.strip():
                    org_type = ORG_TYPES.get(typed.strip().lower(), typed.strip())
                # else: older releases give the type on a group's first row only, so it carries down
                if org_type is None:
                    problems.append(Problem(path.name, n, f"{sheet}: organisation type", "no organisation type",
                                            name))
                    continue
                code = row[code_col] if code_col is not None and code_col < len(row) else None
                code = str(code).strip() if code not in (None, "") else None
                if org_type == "National":
                    code, source = reference.ENGLAND_CODE, "national"
                else:
                    source = "published" if code else "none"
                if band == "total":
                    data_rows += 1
                for i, service in services:
                    raw = row[i] if i < len(row) else None
                    value, marker, ok = _cell(raw)
                    if not ok:
                        problems.append(Problem(path.name, n, f"{sheet}: {service}",
                                                "not a count, a blank (not submitted) or * (suppressed)", str(raw)))
                        continue
                    long_rows.append([org_type, code, source, name, service, service.lower(), band, value, marker,
                                      None])
        if "total" not in bands_seen:
            raise LoadRejected([Problem(path.name, None, "Table 4", "no total waiting list table")])
        return long_rows, problems, months, data_rows


NAME_KEY = "regexp_replace(replace(lower({0}), '&', 'and'), '[^a-z0-9]', '', 'g')"


def _flag_band_sums(con: duckdb.DuckDBPyConnection, load_id: int) -> None:
    con.execute(f"""
        UPDATE nhs_chs_wait t SET bands_differ = (s.band_sum <> t.value)
        FROM (SELECT org_type, org_name, service_key, coalesce(sum(value), 0) AS band_sum,
                     count(*) FILTER (WHERE marker = 'suppressed') AS suppressed
              FROM nhs_chs_wait WHERE load_id = {int(load_id)} AND band <> 'total' GROUP BY ALL) s
        WHERE t.load_id = {int(load_id)} AND t.band = 'total' AND t.value IS NOT NULL AND s.suppressed = 0
          AND t.org_type = s.org_type AND t.org_name = s.org_name AND t.service_key = s.service_key
    """)


def refresh_names(con: duckdb.DuckDBPyConnection) -> None:
    """Fill codes by name from the latest release that publishes one; show each service's latest spelling."""
    con.execute(f"""
        UPDATE nhs_chs_wait t SET org_code = c.code, org_code_source = 'name_match'
        FROM (SELECT org_type, {NAME_KEY.format('org_name')} AS name_key, arg_max(org_code, period) AS code
              FROM nhs_chs_wait WHERE org_code_source = 'published' GROUP BY ALL) c
        WHERE t.org_code_source IN ('none', 'name_match') AND t.org_type = c.org_type
          AND {NAME_KEY.format('t.org_name')} = c.name_key AND t.org_code IS DISTINCT FROM c.code
    """)
    con.execute("""
        UPDATE nhs_chs_wait t SET service = s.service
        FROM (SELECT service_key, arg_max(service, period) AS service FROM nhs_chs_wait GROUP BY 1) s
        WHERE t.service_key = s.service_key AND t.service <> s.service
    """)
