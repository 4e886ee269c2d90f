"""Deterministic synthetic referral-level waiting-list extract for the demo (etl/formats/waits_extract.py layout).

Calibrated to published figures: in January 2024 children waiting for speech and language therapy (SALT) in
Bedfordshire and Luton had waited a median of about 19 weeks (under-5s) and 40 weeks (school age). The
calibrated figure is the product's own ``wait_median_weeks`` definition (median weeks waited so far by those
waiting at the month end), split by age at referral (under 5 / 5 and over).

Model, per service and age group: referrals arrive as a Poisson stream (weekdays); each has a time to first
contact and a competing time to removal without being seen, both exponential. For a steady stream the
month-end "waited so far" of those still waiting is then exponential with mean 1/(1/μ + 1/ρ), so the target
median m gives the means directly (μ_eff = m / ln 2; removals are a fixed share). The target medians move
year by year (rising to 2024, easing after the APP), interpolated by referral date. Three years of burn-in
before the window make the list complete from the first month. Some children are re-referred after being
discharged or removed (a new referral, same patient); some referrals belong to children in the SEN2 extract
(``patient_id`` = their SEN2 person id, so both pseudonymise to the same key). Events on or after the export
date are left blank (still waiting). Waits are generated at one provider's size whatever the SEN2 scale: a
referral extract is a local provider's, not a national one.
"""

from __future__ import annotations

import csv
import datetime as _dt
import math
from pathlib import Path

import numpy as np

from demo.day_numbers import date_of, day_of
from etl.months import add, first_day, month_start

DEFAULT_SEED = 20230131
BURN_IN_YEARS = 3
REMOVED_SHARE = 0.2        # of referrals removed before being seen (competing exponential)
SAME_DAY_SHARE = 0.02      # seen on the day of referral (triage clinics)
DISCHARGED_SHARE = 0.4     # of those seen, discharged later in the window
RE_REFERRAL_SHARE = 0.08   # of ended referrals, re-referred to the same service
LINKED_SHARE = 0.15        # of SEN2 children who also appear in the referral extract
REMOVAL_REASONS = ("Moved out of area", "Parent declined", "Did not attend", "No longer required")
LOCALITIES = ("Leighton Buzzard", "Dunstable", "Houghton Regis", "Biggleswade", "Sandy", "Flitwick", "Ampthill",
              "Shefford", "Cranfield", "Stotfold")

# service → (referrals a month, ((age from, age to exclusive, share), ...),
#            {year: target median weeks, under 5}, {year: target median weeks, 5 and over})
SERVICES: dict[str, tuple] = {
    "SALT": (110, ((1, 5, 0.55), (5, 12, 0.35), (12, 18, 0.10)),
             {2016: 9, 2019: 11, 2020: 13, 2021: 15, 2022: 18, 2023: 20, 2024: 20, 2025: 15},
             {2016: 18, 2019: 22, 2020: 28, 2021: 34, 2022: 44, 2023: 50, 2024: 50, 2025: 38}),
    "OT": (40, ((2, 5, 0.2), (5, 12, 0.6), (12, 18, 0.2)),
           {2016: 10, 2021: 14, 2023: 16, 2025: 14}, {2016: 16, 2021: 24, 2023: 28, 2025: 24}),
    "PHYSIO": (35, ((0, 5, 0.5), (5, 18, 0.5)),
               {2016: 5, 2021: 7, 2023: 8, 2025: 7}, {2016: 7, 2021: 9, 2023: 11, 2025: 9}),
    "COMMUNITY_PAEDS": (80, ((0, 5, 0.35), (5, 18, 0.65)),
                        {2016: 12, 2021: 18, 2023: 22, 2025: 20}, {2016: 18, 2021: 26, 2023: 32, 2025: 30}),
    "NEURODEVELOPMENTAL": (60, ((2, 5, 0.25), (5, 12, 0.5), (12, 18, 0.25)),
                           {2016: 20, 2021: 35, 2023: 45, 2025: 50}, {2016: 30, 2021: 50, 2023: 62, 2025: 66}),
    "AUDIOLOGY": (50, ((0, 5, 0.6), (5, 18, 0.4)),
                  {2016: 4, 2021: 6, 2023: 7, 2025: 6}, {2016: 5, 2021: 7, 2023: 8, 2025: 7}),
}
HEADER = ["patient_id", "service", "referral_date", "first_contact_date", "removed_date", "removal_reason",
          "age_years", "locality"]


def _iso(days: int) -> str:
    return date_of(days).isoformat()


def _target_days(table: dict[int, float], days: np.ndarray) -> np.ndarray:
    """Target month-end median wait (days) at each referral date: linear between 1 Januarys."""
    xs = np.array([day_of(_dt.date(y, 1, 1)) for y in sorted(table)], dtype=float)
    ys = np.array([table[y] * 7.0 for y in sorted(table)])
    return np.interp(days, xs, ys)


def _waits(rng: np.random.Generator, referred: np.ndarray, target: np.ndarray):
    """(first contact, removal) day numbers, NA as -1, for referrals with target snapshot medians (days)."""
    mean_end = target / math.log(2)  # the combined (contact or removal) mean
    contact = referred + np.floor(rng.exponential(mean_end / (1 - REMOVED_SHARE)))
    removal = referred + np.floor(rng.exponential(mean_end / REMOVED_SHARE))
    same_day = rng.random(len(referred)) < SAME_DAY_SHARE
    contact = np.where(same_day, referred, contact)
    seen = contact <= removal
    first_contact = np.where(seen, contact, -1)
    discharged = seen & (rng.random(len(referred)) < DISCHARGED_SHARE)
    removed = np.where(seen, np.where(discharged, contact + 14 + np.floor(rng.exponential(120, len(referred))), -1),
                       removal)
    return first_contact.astype(np.int64), removed.astype(np.int64), discharged


def _weekday(days: np.ndarray) -> np.ndarray:
    wd = (days + 3) % 7  # 0 = Monday
    return days + np.where(wd == 5, 2, np.where(wd == 6, 1, 0))


def _people(out_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """(SEN2 person ids, birth day numbers) from the demo's person file, if written."""
    files = sorted(out_dir.glob("Blade-Export_*_person.csv"))
    if not files:
        return np.array([], dtype=np.int64), np.array([], dtype=np.int64)
    ids, births = [], []
    with open(files[0], newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            try:
                birth = _dt.datetime.strptime(row["personbirthdate"], "%Y-%b-%d %H:%M:%S").date()
            except (KeyError, ValueError):
                continue
            ids.append(int(row["persontableid"]))
            births.append(day_of(birth))
    return np.array(ids, dtype=np.int64), np.array(births, dtype=np.int64)


def build(seed: int, start: str, months: int, people: tuple[np.ndarray, np.ndarray] | None = None,
          factor: float = 1.0) -> list[list]:
    """The extract's rows (header excluded), sorted by referral date, service and patient; ``factor`` scales the
    referral rates (an area of a multi-area demo, relative to Bedfordshire's provider)."""
    first = first_day(add(start, -12 * BURN_IN_YEARS))
    export = day_of(first_day(add(start, months)))
    rng = np.random.default_rng([int(seed), 5])
    cols = {c: [] for c in ("pid", "service", "ref", "age", "group")}
    month_starts = []
    d = first
    while day_of(d) < export:
        month_starts.append(day_of(d))
        d = month_start(d, 1)
    month_starts.append(export)
    next_pid = 10_000_000
    for service, (monthly, ages, _, _) in SERVICES.items():
        for a, b in zip(month_starts[:-1], month_starts[1:], strict=True):
            n = rng.poisson(monthly * factor)
            refs = _weekday(a + rng.integers(0, b - a, n))
            refs = np.minimum(refs, b - 1)
            shares = np.array([s for *_, s in ages])
            grp = rng.choice(len(ages), n, p=shares / shares.sum())
            lo = np.array([ages[g][0] for g in grp])
            hi = np.array([ages[g][1] for g in grp])
            age = lo + np.floor(rng.random(n) * (hi - lo)).astype(np.int64)
            cols["pid"].extend(range(next_pid, next_pid + n))
            next_pid += n
            cols["service"].extend([service] * n)
            cols["ref"].extend(refs.tolist())
            cols["age"].extend(age.tolist())
    if people is not None and len(people[0]):
        ids, births = people
        pick = rng.random(len(ids)) < LINKED_SHARE
        ids, births = ids[pick], births[pick]
        lo = np.maximum(births + 365, day_of(first))
        hi = np.minimum(births + 16 * 365, export - 1)
        ok = hi > lo
        ids, births, lo, hi = ids[ok], births[ok], lo[ok], hi[ok]
        refs = np.minimum(_weekday(lo + np.floor(rng.random(len(ids)) * (hi - lo)).astype(np.int64)), export - 1)
        age = np.floor((refs - births) / 365.25).astype(np.int64)
        names = list(SERVICES)
        service = rng.choice(len(names), len(ids), p=[0.35, 0.1, 0.05, 0.15, 0.3, 0.05])
        cols["pid"].extend(ids.tolist())
        cols["service"].extend(names[s] for s in service)
        cols["ref"].extend(refs.tolist())
        cols["age"].extend(age.tolist())
    pid = np.array(cols["pid"], dtype=np.int64)
    service = np.array(cols["service"], dtype=object)
    ref = np.array(cols["ref"], dtype=np.int64)
    age = np.array(cols["age"], dtype=np.int64)
    rows: list[list] = []
    for _round in range(2):  # the referrals, then one round of re-referrals
        target = np.empty(len(ref))
        for s, (_, _, under5, school) in SERVICES.items():
            sel = service == s
            target[sel] = np.where(age[sel] < 5, _target_days(under5, ref[sel]), _target_days(school, ref[sel]))
        contact, removed, discharged = _waits(rng, ref, target)
        reason_pick = rng.integers(0, len(REMOVAL_REASONS), len(ref))
        locality = rng.integers(0, len(LOCALITIES), len(ref))
        for i in range(len(ref)):
            fc = contact[i] if 0 <= contact[i] < export else -1
            rm = removed[i] if 0 <= removed[i] < export else -1
            reason = ("" if rm < 0 else "Discharged after treatment" if discharged[i]
                      else REMOVAL_REASONS[reason_pick[i]])
            rows.append([str(pid[i]), service[i], _iso(ref[i]), _iso(fc) if fc >= 0 else "",
                         _iso(rm) if rm >= 0 else "", reason, int(age[i]), LOCALITIES[locality[i]]])
        ended = np.where(removed >= 0, removed, -1)
        again = (ended >= 0) & (rng.random(len(ref)) < RE_REFERRAL_SHARE)
        new_ref = _weekday(ended + 30 + rng.integers(0, 335, len(ref)))
        again &= new_ref < export
        older = np.minimum(age[again] + (new_ref[again] - ref[again]) // 365, 25)
        pid, service, age = pid[again], service[again], older
        ref = new_ref[again]
        if not len(ref):
            break
    rows = [r for r in rows if r[2] >= first.isoformat()]
    rows.sort(key=lambda r: (r[2], r[1], r[0]))
    return rows


def file_name(start: str, months: int) -> str:
    return f"waiting_list_referrals_{first_day(add(start, months)):%d-%m-%Y}.csv"


def generate(out_dir: Path, seed: int = DEFAULT_SEED, start: str = "2019-01", months: int = 72,
             factor: float = 1.0) -> Path:
    """Write the referral extract into out_dir (beside the Blade files, whose children it partly shares)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = build(seed, start, months, _people(out), factor)
    path = out / file_name(start, months)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(HEADER)
        w.writerows(rows)
    return path
