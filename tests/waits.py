"""Hand-built referral-level waiting-list extracts for tests (CSV or XLSX)."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

HEADER = ["patient_id", "service", "referral_date", "first_contact_date", "removed_date", "removal_reason",
          "age_years", "locality"]


def referral(patient: str, service: str, referred: str, seen: str = "", removed: str = "", reason: str = "",
             age: str | int = 4, locality: str = "Leighton Buzzard") -> list[str]:
    return [patient, service, referred, seen, removed, reason, str(age), locality]


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    """Dates become real Excel date cells and ages numbers, as a case system's export would write them."""
    import openpyxl

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        cells = []
        for h, v in zip(header, r, strict=True):
            if h.endswith("_date") and v:
                try:
                    v = date.fromisoformat(v)
                except ValueError:
                    pass
            elif h == "age_years" and v.isdigit():
                v = float(v)
            cells.append(v if v != "" else None)
        ws.append(cells)
    wb.save(path)
    return path
