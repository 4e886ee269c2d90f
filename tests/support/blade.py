"""Hand-built SEN2 Blade extracts for tests: declare a few records, write real Blade CSV files.

Dates are written in Blade's own format (``2024-Sep-28 00:00:00``) so the loader is exercised as in life.
Identifiers look real so that the pseudonymisation tests have something to look for.
"""

from __future__ import annotations

import csv
import itertools
from datetime import date, timedelta
from pathlib import Path

from etl.formats.sen2_blade import LOAD_ORDER, MODULE_BY_NAME

EXPORT_DATE = "01-01-2025"


def blade_date(d: date | str | None) -> str:
    if d is None or d == "":
        return ""
    if isinstance(d, str):
        try:
            d = date.fromisoformat(d)
        except ValueError:
            return d  # deliberately bad input, written as given
    return d.strftime("%Y-") + ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                                "Dec"][d.month - 1] + d.strftime("-%d 00:00:00")


def headers(module: str) -> list[str]:
    m = MODULE_BY_NAME[module]
    return ["NativeId", *[f.source for f in m.all_fields], f"{module}orderseqcolumn", "sourceid"]


class Blade:
    """A tiny SEN2 extract built record by record."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict]] = {m: [] for m in LOAD_ORDER}
        self._ids = itertools.count(1)
        self.rows["sen2"].append({"sen2tableid": 1, "collection": "SEN2", "year": 2025, "lea": "823",
                                  "referencedate": blade_date("2025-01-16")})

    def next_id(self) -> int:
        return next(self._ids)

    def person(self, pid: int | None = None, birth: str = "2014-03-05", **extra) -> int:
        pid = pid or self.next_id()
        n = len(self.rows["person"]) + 1
        self.rows["person"].append({
            "persontableid": pid, "sen2tableid": 1, "surname": f"Featherstonehaugh{n}", "forename": f"Imogen{n}",
            "personbirthdate": blade_date(birth), "sex": "F", "ethnicity": "WBRI", "postcode": f"LU7 {n}QX",
            "upn": f"A8231234{n:05d}", "uniquelearnernumber": f"{9876500000 + n}", **extra,
        })
        return pid

    def request(self, person: int, received: str, outcome: str = "Y", decided: str | None = None,
                rid: int | None = None, **extra) -> int:
        rid = rid or self.next_id()
        self.rows["requests"].append({
            "requeststableid": rid, "persontableid": person, "receiveddate": blade_date(received),
            "requestoutcome": outcome, "requestoutcomedate": blade_date(decided), **extra,
        })
        return rid

    def assessment(self, request: int, outcome: str, decided: str | None, week20: int | str = 0,
                   aid: int | None = None) -> int:
        aid = aid or self.next_id()
        self.rows["assessment"].append({
            "assessmenttableid": aid, "requeststableid": request, "assessmentoutcome": outcome,
            "assessmentoutcomedate": blade_date(decided), "week20": week20,
        })
        return aid

    def plan(self, assessment: int, start: str, cease: str | None = None, reason: str = "") -> int:
        npid = self.next_id()
        self.rows["namedplan"].append({
            "namedplantableid": npid, "assessmenttableid": assessment, "startdate": blade_date(start),
            "ceasedate": blade_date(cease), "ceasereason": reason,
        })
        return npid

    def review(self, request: int, meeting: str | None, decision: str | None = None, outcome: str = "") -> int:
        apid = self.next_id()
        self.rows["activeplans"].append({
            "activeplanstableid": apid, "requeststableid": request, "reviewmeeting": blade_date(meeting),
            "lastreview": blade_date(decision), "reviewoutcome": outcome,
        })
        return apid

    def phase_transfer(self, request: int, due: str, final: str | None = None, meeting: str | None = None) -> int:
        """An activeplans row with a phase transfer due (and finalised) on the given dates."""
        apid = self.next_id()
        self.rows["activeplans"].append({
            "activeplanstableid": apid, "requeststableid": request, "reviewmeeting": blade_date(meeting),
            "phasetransferduedate": blade_date(due), "phasetransferfinaldate": blade_date(final),
        })
        return apid

    def issued_plan(self, received: str, issued: str, week20: int = 0, decided: str | None = None) -> int:
        """Person, request agreed for assessment, plan issued: returns the request id."""
        p = self.person()
        decided = decided or (date.fromisoformat(received) + timedelta(days=30)).isoformat()
        r = self.request(p, received, "Y", decided)
        a = self.assessment(r, "Y", issued, week20)
        self.plan(a, issued)
        return r

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for module in LOAD_ORDER:
            cols = headers(module)
            with open(folder / f"Blade-Export_{EXPORT_DATE}_{module}.csv", "w", newline="") as fh:
                w = csv.DictWriter(fh, fieldnames=cols, extrasaction="raise")
                w.writeheader()
                for i, row in enumerate(self.rows[module], 1):
                    w.writerow({"NativeId": i, f"{module}orderseqcolumn": i, "sourceid": "T", **row})
        return folder
