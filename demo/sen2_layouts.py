"""Write SEN2 records in the other layouts areas hand over: the DfE Excel template and per-module CSVs.

Why: to prove that every layout of the same records gives the same KPIs (tests), and to make the sample files
of docs/extracts.md. Input is the Blade form: for each module, rows keyed by Blade field names with Blade's
values (dates like ``2024-Sep-28 00:00:00`` or ISO). Output follows the layouts' habits:

- template (``.xlsx``): a sheet per module named as in the template, the template's human headings, dates as
  real Excel dates (read back as ISO), ids as text written as floats (``12.0``);
- module CSVs: one file per module, the same human headings, dates ``dd/mm/yyyy``, ids as written.
"""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

from etl.formats import sen2_human as human
from etl.formats.sen2_blade import LOAD_ORDER, MODULE_BY_NAME

Rows = dict[str, list[dict]]


def parse_blade_date(value) -> date | None:
    """A Blade or ISO date string → date (None for blank); anything else is returned unchanged by callers."""
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    for fmt in ("%Y-%b-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(str(value), fmt).date()
        except ValueError:
            continue
    return None


def _kinds(module: str) -> dict[str, str]:
    m = MODULE_BY_NAME[module]
    return {f.source: ("date" if f.kind == "date" or f.source == "personbirthdate" else f.kind)
            for f in m.all_fields}


def _columns(module: str) -> list[str]:
    return [f.source for f in MODULE_BY_NAME[module].all_fields]


def write_template(rows: Rows, path: Path) -> Path:
    """The DfE SEN2 Excel template: one sheet per module with human headings, Excel dates, float ids."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for module in LOAD_ORDER:
        ws = wb.create_sheet(human.SHEET_NAMES[module])
        cols, kinds = _columns(module), _kinds(module)
        ws.append([human.heading(module, c) for c in cols])
        for row in rows.get(module, []):
            out = []
            for c in cols:
                v = row.get(c, "")
                if kinds[c] == "date":
                    d = parse_blade_date(v)
                    out.append(datetime(d.year, d.month, d.day) if d else (v or None))
                elif kinds[c] in ("id", "person_id") and str(v).isdigit():
                    out.append(str(float(v)))  # "12.0": how ids look after a round trip through pandas/Excel
                else:
                    out.append(None if v in (None, "") else v)
            ws.append(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def write_module_csvs(rows: Rows, folder: Path, prefix: str = "sen2") -> list[Path]:
    """One CSV per module with the template's human headings and dd/mm/yyyy dates."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for module in LOAD_ORDER:
        cols, kinds = _columns(module), _kinds(module)
        path = folder / f"{prefix}_{module}.csv"
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow([human.heading(module, c) for c in cols])
            for row in rows.get(module, []):
                out = []
                for c in cols:
                    v = row.get(c, "")
                    d = parse_blade_date(v) if kinds[c] == "date" else None
                    out.append(d.strftime("%d/%m/%Y") if d else ("" if v is None else v))
                w.writerow(out)
        paths.append(path)
    return paths
