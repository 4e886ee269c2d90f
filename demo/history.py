"""The demo's SEN2 history as councils have it: successive extracts, each holding only each plan's latest review.

The simulation (demo/sen2_simulation.py) knows every review of every plan. A real SEN2 extract does not:
``activeplans`` holds one row per plan, its latest review as at the extract's date. So the demo writes

- the final extract (dated the export day) with one ``activeplans`` row per plan, its latest review; and
- earlier extracts (``history/<YYYY-MM-DD>/``): one at each quarter end and January census day before it, and one
  at each month end across the plan window, each with the SEN2 header dated that day, the people and requests known
  then, and each plan's latest review as at that day (a decision not yet made is blank).

Loaded oldest first (``python -m etl demo`` does), the product keeps every review any extract showed
(``review_history``), which is how a council's monthly extracts build the history one extract cannot hold.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import numpy as np

from demo.day_numbers import NA, date_of, day_of
from demo.sen2_files import blade_dates, file_name, write_module
from etl import months


def snapshot_days(first_day: int, export_day: int, plan_start: str = "2023-02", plan_end: str = "2024-01"
                  ) -> list[int]:
    """Days (since 1970-01-01) of the earlier extracts, all after ``first_day`` and before the export day: each
    quarter's last day and each January census day (18 January), and the last day of every month of the plan
    window (the monthly extracts of the APP's monitoring). Quarterly is often enough that a plan's reviews, about a
    year apart, each appear in some extract."""
    first, export = date_of(first_day), date_of(export_day)
    days = {_dt.date(y, 1, 18) for y in range(first.year, export.year + 1)}
    month = months.month_start(first)
    while month < export:
        if month.month % 3 == 0 or plan_start <= months.period_of(month) <= plan_end:
            days.add(months.last_day(months.index(month)))
        month = months.month_start(month, 1)
    return sorted(day_of(d) for d in days if first < d < export)


def latest_rows(plan: np.ndarray, meet: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
    """Indexes of each plan's latest review row (by meeting day; a plan with no meeting keeps its one row), among the
    rows ``keep`` allows."""
    idx = np.flatnonzero(np.ones(len(plan), dtype=bool) if keep is None else keep)
    if len(idx) == 0:
        return idx
    order = idx[np.lexsort((meet[idx], plan[idx]))]
    last = np.r_[plan[order][1:] != plan[order][:-1], True]
    return order[last]


def take(table: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    return {c: np.asarray(v)[rows] for c, v in table.items()}


def snapshot_tables(tables: dict, raw: dict, day: int) -> dict[str, dict[str, np.ndarray]]:
    """The modules of an earlier extract dated ``day``: ``raw`` carries the simulation's day numbers (request
    received day per request row; per review row its plan row, meeting, decision, and plan start/cease day)."""
    received = raw["received"]
    requests = np.flatnonzero(received <= day)
    rid_known = set(np.asarray(tables["requests"]["requeststableid"])[requests].tolist())
    persons = np.flatnonzero(np.isin(tables["person"]["persontableid"],
                                     np.unique(np.asarray(tables["requests"]["persontableid"])[requests])))
    meet, decision = raw["meet"], raw["decision"]
    alive = (raw["start"] <= day) & ((raw["cease"] == NA) | (raw["cease"] > day))
    known = alive & ((meet == NA) | (meet <= day))
    rows = latest_rows(raw["plan"], np.where(meet == NA, -1, meet), known)
    rows = rows[np.isin(np.asarray(tables["activeplans"]["requeststableid"])[rows], list(rid_known))]
    ap = take(tables["activeplans"], rows)
    ap["activeplanstableid"] = raw["final_id"][rows]  # one id per plan, as the final extract has it
    late = (decision[rows] == NA) | (decision[rows] > day)
    for col in ("lastreview", "reviewoutcome"):
        ap[col] = np.where(late, "", ap[col]).astype(object)
    for col in ("reviewdraft", "phasetransferduedate", "phasetransferfinaldate"):
        ap[col] = np.full(len(rows), "", dtype=object)  # not needed for the history the product keeps
    header = {k: np.asarray(v).copy() for k, v in tables["sen2"].items()}
    header["referencedate"] = blade_dates(np.array([day]))
    header["datetime"] = blade_dates(np.array([day]))
    return {"sen2": header, "person": take(tables["person"], persons), "requests": take(tables["requests"], requests),
            "activeplans": ap}


def write_history(out: Path, tables: dict, raw: dict, days: list[int]) -> list[Path]:
    """Write each earlier extract into ``out/history/<YYYY-MM-DD>/``; returns the folders, oldest first."""
    folders = []
    for day in days:
        when = date_of(day)
        folder = out / "history" / when.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        for module, data in snapshot_tables(tables, raw, day).items():
            write_module(folder / file_name(module, when), module, data)
        folders.append(folder)
    return folders
