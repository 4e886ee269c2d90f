"""The small sample files of docs/extracts.md, one per layout, written from a few synthetic records.

Run ``python -m demo.samples [FOLDER]`` (default ``data/samples``) to rewrite them; a test checks that the
committed files are what this module writes and that each loads cleanly. Every name, id and postcode here is
made up (postcodes in the ZZ99 "no fixed abode" range that no real address has).
"""

from __future__ import annotations

import csv
import sys
from datetime import date
from pathlib import Path

from demo.sen2 import columns
from demo.sen2_files import blade_date
from demo.sen2_layouts import write_module_csvs, write_template
from etl.formats.local_extracts import LOCAL_MODULES

EXPORT = "01-02-2024"


def _blade_date(iso: str) -> str:
    return blade_date(date.fromisoformat(iso)) if iso else ""


def sen2_rows() -> dict[str, list[dict]]:
    """Three children: a plan issued within 20 weeks and reviewed, one issued late with an exception, one refused."""
    d = _blade_date
    return {
        "sen2": [{"sen2tableid": "1", "collection": "SEN2", "year": "2024", "referencedate": d("2024-01-18"),
                  "lea": "823", "softwarecode": "SAMPLE", "release": "1"}],
        "person": [
            {"persontableid": str(pid), "sen2tableid": "1", "surname": "Example", "forename": name,
             "personbirthdate": d(birth), "sex": sex, "ethnicity": "WBRI", "postcode": f"ZZ99 {n}ZZ",
             "upn": f"X99900000000{n}", "uniquelearnernumber": "", "upnunknown": ""}
            for n, (pid, name, birth, sex) in enumerate(
                [(1001, "Alex", "2015-04-02", "M"), (1002, "Sam", "2012-09-30", "F"),
                 (1003, "Jo", "2018-01-15", "F")], 1)],
        "requests": [
            {"requeststableid": "2001", "persontableid": "1001", "receiveddate": d("2023-03-06"),
             "requestsource": "P", "requestoutcomedate": d("2023-04-14"), "requestoutcome": "Y"},
            {"requeststableid": "2002", "persontableid": "1002", "receiveddate": d("2023-04-03"),
             "requestsource": "S", "requestoutcomedate": d("2023-05-12"), "requestoutcome": "Y"},
            {"requeststableid": "2003", "persontableid": "1003", "receiveddate": d("2023-06-01"),
             "requestsource": "P", "requestoutcomedate": d("2023-07-10"), "requestoutcome": "Y"},
        ],
        "assessment": [
            {"assessmenttableid": "3001", "requeststableid": "2001", "assessmentoutcome": "Y",
             "assessmentoutcomedate": d("2023-07-17"), "week20": "0"},
            {"assessmenttableid": "3002", "requeststableid": "2002", "assessmentoutcome": "Y",
             "assessmentoutcomedate": d("2023-10-02"), "week20": "1"},
            {"assessmenttableid": "3003", "requeststableid": "2003", "assessmentoutcome": "N",
             "assessmentoutcomedate": d("2023-09-15"), "week20": "0"},
        ],
        "namedplan": [
            {"namedplantableid": "4001", "assessmenttableid": "3001", "startdate": d("2023-07-17")},
            {"namedplantableid": "4002", "assessmenttableid": "3002", "startdate": d("2023-10-02")},
        ],
        "plandetail": [
            {"plandetailtableid": "5001", "namedplantableid": "4001", "urn": "100000", "placementrank": "1"},
            {"plandetailtableid": "5002", "namedplantableid": "4002", "sensetting": "NIEO", "placementrank": "1"},
        ],
        "activeplans": [
            {"activeplanstableid": "6001", "requeststableid": "2001", "reviewmeeting": d("2024-01-08"),
             "lastreview": d("2024-01-26"), "reviewoutcome": "M"},
            {"activeplanstableid": "6002", "requeststableid": "2002"},
        ],
        "placementdetail": [
            {"placementdetailtableid": "7001", "activeplanstableid": "6001", "urn": "100000", "placementrank": "1",
             "entrydate": d("2023-09-04")},
        ],
        "senneed": [
            {"senneedtableid": "8001", "activeplanstableid": "6001", "sentype": "ASD", "sentyperank": "1"},
            {"senneedtableid": "8002", "activeplanstableid": "6001", "sentype": "SLCN", "sentyperank": "2"},
            {"senneedtableid": "8003", "activeplanstableid": "6002", "sentype": "SEMH", "sentyperank": "1"},
        ],
    }


LOCAL_ROWS: dict[str, list[list[str]]] = {
    "advice_requests": [
        ["ADV-1", "1001", "EP", "2023-04-17", "2023-05-26"],
        ["ADV-2", "1001", "HEALTH", "2023-04-17", "2023-06-05"],
        ["ADV-3", "1002", "SOCIAL_CARE", "2023-05-15", "2023-06-19"],
        ["ADV-4", "1002", "EP", "2023-05-15", ""],
    ],
    "ehcp_audits": [
        ["AUD-1", "1001", "2023-08-10", "MULTI_AGENCY", "Good", "7.5", "NEW"],
        ["AUD-2", "1002", "2023-10-20", "EDUCATION", "Requires Improvement", "5", "NEW"],
    ],
    "placement_sufficiency": [
        ["1002", "2023-10-02", "", "Special school"],
    ],
    "reduced_timetables": [
        ["1002", "2023-09-11", "2023-11-03", "15"],
    ],
    "kpi_returns": [
        ["ehcp_pupil_attendance", "2023-11", "5820", "6600", "88.2", "Education Welfare team"],
        ["ehcp_pupil_attendance", "2023-12", "", "", "86.9", "value only: counts not available"],
    ],
}


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return path


def write_samples(folder: Path) -> list[Path]:
    """Write every sample: Blade CSVs, the Excel template, module CSVs, and the five local extracts."""
    rows = sen2_rows()
    paths = []
    for module, records in rows.items():
        cols = columns(module)
        table = [[r.get(c, "") if c not in ("NativeId", f"{module}orderseqcolumn", "sourceid") else
                  (str(i) if c != "sourceid" else "1") for c in cols] for i, r in enumerate(records, 1)]
        paths.append(_write_csv(folder / "blade" / f"Blade-Export_{EXPORT}_{module}.csv", cols, table))
    paths.append(write_template(rows, folder / "sen2_template.xlsx"))
    paths += write_module_csvs(rows, folder / "modules_csv")
    for module in LOCAL_MODULES:
        header = [f.source for f in module.all_fields]
        paths.append(_write_csv(folder / "local" / f"{module.name}.csv", header, LOCAL_ROWS[module.name]))
    return paths


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("data/samples")
    for p in write_samples(target):
        print(p)
