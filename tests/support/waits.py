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


# The referral extract of tests/test_waits_engine.py, with known month-end answers (31 Jan, 28 Feb, 31 Mar 2023;
# days waited at a month end = month end − referral date). Other waits tests load it too.
ROWS = [
    referral("A1", "SALT", "2023-01-10", seen="2023-01-10"),                 # seen on the day: never waiting
    referral("B1", "SALT", "2023-01-31"),                                    # referred on a month end: 0 days
    referral("C1", "SALT", "2022-09-26", removed="2023-02-15", reason="Moved away"),  # 127 d at 31 Jan; unseen
    referral("D1", "SALT", "2022-09-27", seen="2023-03-01"),                 # 126 d at 31 Jan; seen after 155 d
    referral("E1", "SALT", "2022-01-31"),                                    # 365 d at 31 Jan: over 52 weeks
    referral("F1", "SALT", "2022-02-01"),                                    # 364 d at 31 Jan: not over 52 weeks
    referral("P1", "SALT", "2022-06-01", removed="2022-08-01", reason="Did not attend"),
    referral("P1", "SALT", "2022-12-01"),                                    # re-referral: a new clock, 61 d
    referral("O1", "OT", "2023-01-05", seen="2023-01-20"),                   # OT: nobody waiting at month ends
    referral("N1", "NEURODEVELOPMENTAL", "2023-01-01", seen="2023-04-02"),   # 91 days: within 13 weeks
    referral("N2", "NEURODEVELOPMENTAL", "2023-01-02", seen="2023-04-04"),   # 92 days: not within 13 weeks
]
