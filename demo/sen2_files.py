"""The SEN2 COLLECT "Blade" files the demo writes: the nine modules and their fields, the file
names, Blade's date text and the CSV writer.

Why apart from the simulation (demo/sen2_simulation.py): the earlier extracts (demo/history.py) and the samples
(demo/samples.py) write the same files from other data.
"""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from demo.day_numbers import NA, date_of
from etl.months import first_day, index
from etl.sql_text import literal

MODULES: tuple[str, ...] = (
    "sen2", "person", "requests", "assessment", "namedplan", "plandetail",
    "activeplans", "placementdetail", "senneed",
)
FIELDS: dict[str, tuple[str, ...]] = {
    "sen2": ("sen2tableid", "collection", "year", "referencedate", "sourcelevel", "lea", "softwarecode",
             "release", "serialno", "datetime", "dmo", "dco", "dsco"),
    "person": ("persontableid", "sen2tableid", "surname", "forename", "personbirthdate", "sex", "ethnicity",
               "postcode", "upn", "uniquelearnernumber", "upnunknown"),
    "requests": ("requeststableid", "persontableid", "receiveddate", "requestsource", "rya",
                 "requestoutcomedate", "requestoutcome", "requestmediation", "requesttribunal", "exported"),
    "assessment": ("assessmenttableid", "requeststableid", "assessmentoutcome", "assessmentoutcomedate",
                   "assessmentmediation", "assessmenttribunal", "othermediation", "othertribunal", "week20"),
    "namedplan": ("namedplantableid", "assessmenttableid", "startdate", "planres", "planwbp", "pb", "oa", "dp",
                  "ceasedate", "ceasereason"),
    "plandetail": ("plandetailtableid", "namedplantableid", "urn", "ukprn", "sensetting", "sensettingother",
                   "placementrank", "senunitindicator", "resourcedprovisionindicator"),
    "activeplans": ("activeplanstableid", "requeststableid", "transferla", "reviewmeeting", "lastreview",
                    "reviewoutcome", "reviewdraft", "phasetransferduedate", "phasetransferfinaldate"),
    "placementdetail": ("placementdetailtableid", "activeplanstableid", "urn", "ukprn", "sensetting",
                        "sensettingother", "placementrank", "entrydate", "leavingdate", "senunitindicator",
                        "resourcedprovisionindicator", "res", "wbp"),
    "senneed": ("senneedtableid", "activeplanstableid", "sentype", "sentyperank"),
}
DATE_FORMAT = "%Y-%b-%d %H:%M:%S"  # how Blade writes dates, e.g. 2024-Sep-28 00:00:00
_MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

def columns(module: str) -> list[str]:
    """Exact header of a module's Blade CSV: its SEN2 fields, then the three Blade bookkeeping columns."""
    return [*FIELDS[module], "NativeId", f"{module}orderseqcolumn", "sourceid"]


def parse_start(start: str) -> tuple[int, int]:
    """Parse 'YYYY-MM' into (year, month); ValueError on anything else."""
    m = re.fullmatch(r"(\d{4})-(\d{2})", start.strip()) if isinstance(start, str) else None
    if not m or not 1 <= int(m.group(2)) <= 12 or not 1990 <= int(m.group(1)) <= 2100:
        raise ValueError(f"start must be a 'YYYY-MM' string between 1990-01 and 2100-12, got {start!r}")
    return int(m.group(1)), int(m.group(2))


def export_date(start: str = "2019-01", months: int = 72) -> _dt.date:
    """The export ('today') date: the first day after the window."""
    parse_start(start)
    return first_day(index(start) + months)


def file_name(module: str, export: _dt.date) -> str:
    """Blade file name, e.g. Blade-Export_01-01-2025_requests.csv."""
    return f"Blade-Export_{export:%d-%m-%Y}_{module}.csv"


def blade_date(day: _dt.date) -> str:
    """A date as Blade writes it ('2024-Sep-28 00:00:00'), the same in every locale."""
    return f"{day.year:04d}-{_MONTH_ABBR[day.month - 1]}-{day.day:02d} 00:00:00"


def blade_dates(days: np.ndarray) -> np.ndarray:
    """Blade date strings ('2024-Sep-28 00:00:00'), '' for NA; locale-independent lookup formatting."""
    days = np.asarray(days, dtype=np.int64)
    present = days != NA
    if not present.any():
        return np.full(len(days), "", dtype=object)
    lo, hi = int(days[present].min()), int(days[present].max())
    labels = [""]  # index 0: no date; index k: day lo + k - 1 (a dense table: O(n), no sort)
    for u in range(lo, hi + 1):
        labels.append(blade_date(date_of(u)))
    return np.array(labels, dtype=object)[np.where(present, days - lo + 1, 0)]


def write_module(path: Path, module: str, data: dict[str, np.ndarray]) -> None:
    """Write one module as CSV: header row, UTF-8, '\\n' line endings, quotes only where needed, blanks empty.

    DuckDB (a project dependency) writes ~5x faster than pandas.to_csv, which matters at england scale;
    rows are written in id order, so the bytes depend only on the data.
    """
    n = len(next(iter(data.values())))
    frame = {c: data[c] for c in FIELDS[module]}
    frame["NativeId"] = data[FIELDS[module][0]]
    frame[f"{module}orderseqcolumn"] = np.arange(1, n + 1)
    frame["sourceid"] = np.ones(n, dtype=np.int64)
    cols = {}
    for c in columns(module):
        v = np.asarray(frame[c])
        if v.dtype == object:  # '' means blank: pass NULL, which DuckDB writes as an empty field
            cols[c] = pd.Series(np.where(v == "", None, v), dtype=object)
        else:
            cols[c] = v
    con = duckdb.connect()
    try:
        con.register("t", pd.DataFrame(cols))
        con.execute(f"COPY (SELECT * FROM t ORDER BY \"{module}orderseqcolumn\") TO {literal(path)} "
                    "(FORMAT csv, HEADER, DELIMITER ',')")
    finally:
        con.close()
