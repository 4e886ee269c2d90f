"""Deterministic synthetic local extracts (docs/extracts.md) for the demo, consistent with its SEN2 records.

Why: the advice, audit, placement, reduced-timetable and returns KPIs need data that hangs together with the
SEN2 extract: the same (synthetic) people, advice requested when an assessment was agreed, audits of the plans
actually issued, waits only for children who hold a plan. This module reads the Blade CSVs that
:func:`demo.sen2.generate` wrote and derives the five local extracts from them with seeded numpy streams, so the
same seed always gives byte-identical files. Nothing is written for events on or after the export date
(pending advice has no received date, a child still waiting has no placed date).

Calibration (published figures and the plan in kpi_definitions.yaml): the 2021 audit (≈1% Outstanding, just over a
third Good, 58% Requires Improvement, ≈4% Inadequate); about 52 children awaiting a special school place; advice
timeliness low before the APP; after the APP starts (February 2023) each measure improves towards its target.
"""

from __future__ import annotations

import csv
import datetime as _dt
import re
from pathlib import Path

import duckdb
import numpy as np

from demo.day_numbers import date_of, day_of
from etl.months import month_start
from etl.sql_text import literal

APP_START = _dt.date(2023, 2, 1)
APP_END = _dt.date(2024, 1, 31)

HEADERS = {
    "advice_requests": ["request_id", "person_id", "advice_type", "requested_date", "received_date"],
    "ehcp_audits": ["audit_id", "person_id", "audit_date", "auditor", "grade", "score", "plan_type"],
    "placement_sufficiency": ["person_id", "need_date", "placed_date", "setting_needed"],
    "reduced_timetables": ["person_id", "start_date", "end_date", "hours_per_week"],
    "kpi_returns": ["kpi_id", "period", "numerator", "denominator", "value", "note"],
}
# Share of advice returned within 6 weeks: before the APP, at its end (linear in between), by giver.
ADVICE_ON_TIME = {"EP": (0.33, 0.82), "HEALTH": (0.55, 0.86), "SOCIAL_CARE": (0.60, 0.90), "OTHER": (0.65, 0.80)}
ADVICE_ASKED = {"EP": 1.0, "HEALTH": 1.0, "SOCIAL_CARE": 0.6, "OTHER": 0.3}  # share of assessments asking each
GRADES = ("Outstanding", "Good", "Requires Improvement", "Inadequate")
GRADE_BEFORE = (0.01, 0.35, 0.60, 0.04)
GRADE_AFTER = (0.06, 0.70, 0.23, 0.01)
SCORE_RANGE = {"Outstanding": (9, 10), "Good": (6.5, 8.5), "Requires Improvement": (4, 6), "Inadequate": (1, 3.5)}
AUDITORS = ("EDUCATION", "HEALTH", "SOCIAL_CARE", "MULTI_AGENCY", "PARENT")
AUDITOR_SHARE = (0.5, 0.15, 0.1, 0.2, 0.05)
AUDITS_FROM = _dt.date(2021, 1, 1)  # the audit programme began with the 2021 independent audit
SETTINGS = ("Special school", "Resourced provision", "Independent special school", "Alternative provision")


def _iso(days: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(days.astype("datetime64[D]"), unit="D")


def _progress(days: np.ndarray) -> np.ndarray:
    """0 before the APP, rising linearly to 1 at its end, 1 afterwards."""
    return np.clip((days - day_of(APP_START)) / (day_of(APP_END) - day_of(APP_START)), 0.0, 1.0)


def _blade(out_dir: Path) -> tuple[dict[str, np.ndarray], _dt.date]:
    """The SEN2 facts the local extracts build on, read from the Blade files, and the export date."""
    req = sorted(out_dir.glob("Blade-Export_*_requests.csv"))
    if not req:
        raise ValueError(f"no Blade requests file in {out_dir}: generate the SEN2 extract first")
    m = re.search(r"Blade-Export_(\d{2})-(\d{2})-(\d{4})_requests", req[-1].name)
    export = _dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    stem = req[-1].name.replace("_requests.csv", "")
    con = duckdb.connect()
    try:
        def q(sql: str) -> dict[str, np.ndarray]:
            return {k: np.asarray(v) for k, v in con.execute(sql).fetchnumpy().items()}

        def f(module: str) -> str:
            return literal(out_dir / f"{stem}_{module}.csv")

        fmt = "'%Y-%b-%d %H:%M:%S'"
        days = "CAST(date_diff('day', DATE '1970-01-01', CAST(try_strptime({c}, " + fmt + ") AS DATE)) AS BIGINT)"
        facts = q(f"""
            SELECT CAST(r.persontableid AS VARCHAR) AS person, {days.format(c='r.requestoutcomedate')} AS decided
            FROM read_csv({f('requests')}, all_varchar=true) r
            WHERE r.requestoutcome = 'Y' AND r.requestoutcomedate IS NOT NULL ORDER BY r.requeststableid""")
        plans = q(f"""
            SELECT CAST(r.persontableid AS VARCHAR) AS person, {days.format(c='a.assessmentoutcomedate')} AS issued
            FROM read_csv({f('assessment')}, all_varchar=true) a
            JOIN read_csv({f('requests')}, all_varchar=true) r USING (requeststableid)
            WHERE a.assessmentoutcome = 'Y' AND a.assessmentoutcomedate IS NOT NULL ORDER BY a.assessmenttableid""")
        amended = q(f"""
            SELECT CAST(r.persontableid AS VARCHAR) AS person, {days.format(c='ap.lastreview')} AS decided
            FROM read_csv({f('activeplans')}, all_varchar=true) ap
            JOIN read_csv({f('requests')}, all_varchar=true) r USING (requeststableid)
            WHERE ap.reviewoutcome = 'A' AND ap.lastreview IS NOT NULL ORDER BY ap.activeplanstableid""")
        stock = q(f"""
            SELECT CAST(r.persontableid AS VARCHAR) AS person, {days.format(c='np.startdate')} AS start,
                   coalesce({days.format(c='np.ceasedate')}, 999999) AS cease
            FROM read_csv({f('namedplan')}, all_varchar=true) np
            JOIN read_csv({f('assessment')}, all_varchar=true) a USING (assessmenttableid)
            JOIN read_csv({f('requests')}, all_varchar=true) r USING (requeststableid)
            WHERE np.startdate IS NOT NULL ORDER BY 2, np.namedplantableid""")
    finally:
        con.close()
    return {"assess_person": facts["person"], "assess_day": facts["decided"],
            "issued_person": plans["person"], "issued_day": plans["issued"],
            "amended_person": amended["person"], "amended_day": amended["decided"],
            "plan_person": stock["person"], "plan_start": stock["start"], "plan_cease": stock["cease"]}, export


def _write(path: Path, header: list[str], columns: list[np.ndarray]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(zip(*columns, strict=True))
    return path


def _advice(rng: np.random.Generator, facts: dict, export: int) -> list[np.ndarray]:
    persons, asked, types = [], [], []
    for t, share in ADVICE_ASKED.items():
        keep = rng.random(len(facts["assess_day"])) < share
        persons.append(facts["assess_person"][keep])
        asked.append(facts["assess_day"][keep] + rng.integers(0, 4, keep.sum()))
        types.append(np.full(keep.sum(), t, dtype=object))
    person, requested, kind = np.concatenate(persons), np.concatenate(asked), np.concatenate(types)
    order = np.lexsort((kind, requested))
    person, requested, kind = person[order], requested[order], kind[order]
    before = np.array([ADVICE_ON_TIME[k][0] for k in kind])
    after = np.array([ADVICE_ON_TIME[k][1] for k in kind])
    p = before + (after - before) * _progress(requested)
    on_time = rng.random(len(requested)) < p
    lag = np.where(on_time, rng.integers(10, 43, len(requested)), rng.integers(43, 130, len(requested)))
    received = requested + lag
    keep = requested < export
    person, requested, kind, received = person[keep], requested[keep], kind[keep], received[keep]
    received_text = np.where(received < export, _iso(received), "")
    ids = np.char.add("ADV", np.arange(1, len(person) + 1).astype(str))
    return [ids, person, kind, _iso(requested), received_text]


def _audits(rng: np.random.Generator, facts: dict, export: int) -> list[np.ndarray]:
    people = np.concatenate([facts["issued_person"], facts["amended_person"]])
    events = np.concatenate([facts["issued_day"], facts["amended_day"]])
    plan_type = np.concatenate([np.full(len(facts["issued_day"]), "NEW", dtype=object),
                                np.full(len(facts["amended_day"]), "AMENDED", dtype=object)])
    sampled = rng.random(len(events)) < np.where(plan_type == "NEW", 0.25, 0.10)
    day = events + rng.integers(7, 60, len(events))
    keep = sampled & (day >= day_of(AUDITS_FROM)) & (day < export)
    people, day, plan_type = people[keep], day[keep], plan_type[keep]
    order = np.argsort(day, kind="stable")
    people, day, plan_type = people[order], day[order], plan_type[order]
    progress = _progress(day)[:, None]
    probs = np.array(GRADE_BEFORE) * (1 - progress) + np.array(GRADE_AFTER) * progress
    u = rng.random(len(day))
    grade_idx = (u[:, None] > np.cumsum(probs, axis=1)).sum(axis=1).clip(0, 3)
    grade = np.array(GRADES, dtype=object)[grade_idx]
    lo = np.array([SCORE_RANGE[g][0] for g in grade])
    hi = np.array([SCORE_RANGE[g][1] for g in grade])
    score = np.round(lo + (hi - lo) * rng.random(len(day)), 1).astype(str)
    score[rng.random(len(day)) < 0.1] = ""  # the score is optional: some auditors grade only
    auditor = np.array(AUDITORS, dtype=object)[rng.choice(len(AUDITORS), len(day), p=AUDITOR_SHARE)]
    ids = np.char.add("AUD", np.arange(1, len(day) + 1).astype(str))
    return [ids, people, _iso(day), auditor, grade, score, plan_type]


def _active(facts: dict, days: np.ndarray) -> np.ndarray:
    """Number of plans active on each of ``days`` (plans sorted by start)."""
    start, cease = facts["plan_start"], np.sort(facts["plan_cease"])
    return np.searchsorted(start, days, side="right") - np.searchsorted(cease, days, side="right")


def _episodes(rng, facts: dict, first: int, export: int, per_plan: float, mean_before: float,
              mean_after: float, fall: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Waiting or reduced-timetable episodes: starts at a rate per active plan, lengths (days) by start date.

    Returns (person, start day, end day exclusive); each person holds a plan that started before the episode."""
    days = np.arange(first, export)
    rate = per_plan * _active(facts, days) * (1 - fall * _progress(days)) / 30.44
    counts = rng.poisson(np.clip(rate, 0, None))
    start = np.repeat(days, counts)
    n_started = np.searchsorted(facts["plan_start"], start, side="right")
    ok = n_started > 0
    start, n_started = start[ok], n_started[ok]
    person = facts["plan_person"][(rng.random(len(start)) * n_started).astype(np.int64)]
    mean = mean_before + (mean_after - mean_before) * _progress(start)
    length = np.maximum(1, np.round(rng.exponential(mean))).astype(np.int64)
    # One episode per person and start day (the extract's key).
    _, first_idx = np.unique(np.char.add(person.astype(str), start.astype(str)), return_index=True)
    first_idx.sort()
    return person[first_idx], start[first_idx], start[first_idx] + length[first_idx]


def _placements(rng, facts: dict, first: int, export: int) -> list[np.ndarray]:
    person, start, end = _episodes(rng, facts, first, export, per_plan=0.0041, mean_before=137.0,
                                   mean_after=60.0, fall=0.2)
    placed = np.where(end < export, _iso(end), "")
    setting = np.array(SETTINGS, dtype=object)[rng.choice(len(SETTINGS), len(start), p=(0.6, 0.2, 0.15, 0.05))]
    return [person, _iso(start), placed, setting]


def _reduced(rng, facts: dict, first: int, export: int) -> list[np.ndarray]:
    person, start, end = _episodes(rng, facts, first, export, per_plan=0.0049, mean_before=180.0,
                                   mean_after=80.0, fall=0.3)
    last_day = end - 1
    ended = np.where(last_day < export, _iso(last_day), "")
    hours = rng.choice(np.array(["5", "10", "12.5", "15", "20", "25"]), len(start))
    return [person, _iso(start), ended, hours]


def _returns(rng, facts: dict, first: _dt.date, export: _dt.date) -> list[np.ndarray]:
    """Monthly attendance of pupils with a plan from the Education Welfare team (no return in August)."""
    months = []
    d = month_start(first)
    while d < export:
        if d.month != 8:
            months.append(d)
        d = month_start(d, 1)
    mid = np.array([day_of(m) + 14 for m in months])
    pupils = np.maximum(_active(facts, mid) * 0.8, 1)
    sessions = np.round(pupils * rng.uniform(34, 40, len(months))).astype(np.int64)
    season = np.array([{12: -1.2, 1: -0.8, 2: -0.4, 6: 0.3, 7: -0.6, 9: 0.8}.get(m.month, 0.0) for m in months])
    rate = 86.0 + 3.2 * _progress(mid) + season + rng.normal(0, 0.5, len(months))
    attended = np.round(sessions * rate / 100).astype(np.int64)
    value = np.round(100 * attended / sessions, 1)
    return [np.full(len(months), "ehcp_pupil_attendance", dtype=object), np.array([f"{m:%Y-%m}" for m in months]),
            attended.astype(str), sessions.astype(str), value.astype(str),
            np.full(len(months), "sessions attended / possible, pupils with an EHCP", dtype=object)]


def generate_local(out_dir: Path, seed: int = 20230131) -> list[Path]:
    """Write the five local extracts beside the Blade files in ``out_dir``; returns their paths."""
    out = Path(out_dir)
    facts, export_date = _blade(out)
    export = day_of(export_date)
    first_day = int(min(facts["plan_start"].min(), facts["assess_day"].min())) if len(facts["plan_start"]) else export
    window_start = max(date_of(first_day), month_start(export_date, -72))
    tag = f"{export_date:%d-%m-%Y}"
    streams = {name: np.random.default_rng([seed, 7000 + i]) for i, name in enumerate(HEADERS)}
    year_before = day_of(window_start) - 365
    columns = {
        "advice_requests": _advice(streams["advice_requests"], facts, export),
        "ehcp_audits": _audits(streams["ehcp_audits"], facts, export),
        "placement_sufficiency": _placements(streams["placement_sufficiency"], facts, year_before, export),
        "reduced_timetables": _reduced(streams["reduced_timetables"], facts, year_before, export),
        "kpi_returns": _returns(streams["kpi_returns"], facts, window_start, export_date),
    }
    return [_write(out / f"Local-Export_{tag}_{name}.csv", HEADERS[name], columns[name]) for name in HEADERS]
