"""The SEN2 modules built from the simulated process (demo/sen2_simulation.py): requests, assessments, plans, their
reviews, placements and needs, as columns of Blade values.

Each builder draws from its own seeded stream (``sim.rng(key)``), so the files depend only on the seed and the
arguments.
"""

from __future__ import annotations

import numpy as np

from demo.day_numbers import (
    NA,
    january_of,
    month_first_day,
    month_in_year,
    month_of_day,
    weekday_back,
    year_of_day,
    year_of_month,
)
from demo.sampling import choice, str_or_blank, unique_ints
from demo.sen2_calibration import REQUEST_SOURCE_WEIGHTS, REQUEST_SOURCES, SEN_TYPES, SEN_WEIGHTS
from demo.sen2_files import blade_dates
from demo.sen2_people import OTHER_LAS


def requests_module(sim, rid, pid, received, decision, outcome, birth) -> dict[str, np.ndarray]:
    """The requests module: one row per request (ids, person, received and decision days, outcome codes)."""
    rng = sim.rng(7)
    n = len(rid)
    refused = outcome == "N"
    age = (received - birth) / 365.25
    src = choice(rng, REQUEST_SOURCES, REQUEST_SOURCE_WEIGHTS, n).astype(object)
    src[(age < 4.5) & (src == "School")] = "Early years setting"
    src[(age >= 16) & (rng.random(n) < 0.25)] = "Young person"
    last_year_start = month_first_day(january_of(year_of_month(sim.e_mi - 1)))
    return {
        "requeststableid": rid, "persontableid": pid, "receiveddate": blade_dates(received),
        "requestsource": src,
        "rya": ((age >= 10) & (age < 18) & (rng.random(n) < 0.0015)).astype(np.int64),
        "requestoutcomedate": blade_dates(decision), "requestoutcome": outcome,
        "requestmediation": (refused & (rng.random(n) < 0.12)).astype(np.int64),
        "requesttribunal": (refused & (rng.random(n) < 0.08)).astype(np.int64),
        "exported": (received < last_year_start).astype(np.int64),
    }


def assessment_module(sim, rows, rid, a_out, a_date, week20) -> dict[str, np.ndarray]:
    """The assessment module: one row per request ``rows`` that reached an assessment decision."""
    rng = sim.rng(8)
    n = len(rows)
    out = a_out[rows]
    no = out == "N"
    yes = out == "Y"
    return {
        "assessmenttableid": np.arange(1, n + 1), "requeststableid": rid[rows],
        "assessmentoutcome": out, "assessmentoutcomedate": blade_dates(a_date[rows]),
        "assessmentmediation": (no & (rng.random(n) < 0.12)).astype(np.int64),
        "assessmenttribunal": (no & (rng.random(n) < 0.10)).astype(np.int64),
        "othermediation": (yes & (rng.random(n) < 0.01)).astype(np.int64),
        "othertribunal": (yes & (rng.random(n) < 0.04)).astype(np.int64),
        "week20": week20[rows],
    }


def _settings(rng, n, age, pool_urn, pool_special, pool_college):
    """Setting per plan: school URN, college (URN + UKPRN) or a sensetting code with blank URN."""
    r = rng.random(n)
    urn = pool_urn[rng.integers(0, len(pool_urn), n)].copy()
    special = rng.random(n) < np.where(age >= 5, 0.22, 0.08)
    urn[special] = pool_special[rng.integers(0, len(pool_special), special.sum())]
    college = (age >= 16.2) & (rng.random(n) < 0.55)
    col_idx = rng.integers(0, len(pool_college), n)
    urn[college] = pool_college[col_idx[college], 0]
    ukprn = np.where(college, pool_college[col_idx, 1], 0)
    setting = np.full(n, "", dtype=object)
    code = np.select(
        [(age < 4.5) & (r < 0.55), r < 0.015, r < 0.027, r < 0.037, r < 0.042],
        ["EYP", "EHE", "OLA", "NIEO", "OTH"], "")
    setting[:] = code
    has_code = setting != ""
    return (str_or_blank(urn, ~has_code), str_or_blank(ukprn, (ukprn > 0) & ~has_code), setting)


def plan_modules(sim, plan_rows, aid_of_row, rid, start, cease, reason, birth, plan_age, rev) -> tuple[dict, ...]:
    """namedplan, plandetail, activeplans (one row per review, ``rev``), placementdetail and senneed for the issued
    plans (request rows ``plan_rows``, starting on ``start``)."""
    rng = sim.rng(9)
    E = sim.E
    n = len(plan_rows)
    npid = np.arange(1, n + 1)
    ceased = cease != NA
    k = max(1, round(sim.scale))  # school pools grow with the area (whole multiples)
    pools = sim.rng(10)
    pool_urn = unique_ints(pools, 100000, 150000, 130 * k)
    pool_special = unique_ints(pools, 150000, 160000, 9 * k)
    pool_college = np.stack((unique_ints(pools, 130000, 131000, min(900, 6 * k)),
                             unique_ints(pools, 10001000, 10099999, min(900, 6 * k))), axis=1)
    age_now = (np.where(ceased, cease, E) - birth[plan_rows]) / 365.25
    namedplan = {
        "namedplantableid": npid, "assessmenttableid": aid_of_row[plan_rows],
        "startdate": blade_dates(start),
        "planres": (rng.random(n) < 0.03).astype(np.int64),
        "planwbp": ((age_now >= 16) & (rng.random(n) < 0.04)).astype(np.int64),
        "pb": (rng.random(n) < 0.09).astype(np.int64),
        "oa": (rng.random(n) < 0.02).astype(np.int64),
        "dp": (rng.random(n) < 0.05).astype(np.int64),
        "ceasedate": blade_dates(cease), "ceasereason": str_or_blank(reason, ceased),
    }
    urn, ukprn, setting = _settings(rng, n, plan_age, pool_urn, pool_special, pool_college)
    plandetail = {
        "plandetailtableid": npid, "namedplantableid": npid, "urn": urn, "ukprn": ukprn,
        "sensetting": setting, "sensettingother": np.full(n, "", dtype=object),
        "placementrank": np.ones(n, dtype=np.int64),
        "senunitindicator": (rng.random(n) < 0.03).astype(np.int64),
        "resourcedprovisionindicator": (rng.random(n) < 0.04).astype(np.int64),
    }

    # activeplans: review rows, ordered by request id (plans are already in request order)
    rp = rev["plan"]
    m = len(rp)
    apid = np.arange(1, m + 1)
    transfer_in = rng.random(n) < 0.02
    transfer_la = choice(rng, OTHER_LAS, np.ones(len(OTHER_LAS)), n).astype(object)
    transfer_la[~transfer_in] = ""
    # Phase transfer (Year 6 -> 15 Feb, Year 11 -> 31 Mar) for reviews held in those school years.
    meet = rev["meet"]
    has_meet = meet != NA
    my = year_of_day(np.where(has_meet, meet, E))
    acad = np.where(month_in_year(month_of_day(np.where(has_meet, meet, E))) >= 8, my, my - 1)
    aug31 = month_first_day(january_of(acad) + 8) - 1
    age_aug = np.floor((aug31 - birth[plan_rows][rp]) / 365.25)
    due = np.where(age_aug == 10, month_first_day(january_of(acad + 1) + 1) + 14,
                   np.where(age_aug == 15, month_first_day(january_of(acad + 1) + 3) - 1, NA))
    due = np.where(has_meet & (due != NA) & (due < E) & (~ceased[rp] | (cease[rp] > due)), due, NA)
    final = np.where(rng.random(m) < 0.7, -rng.integers(0, 45, m), rng.integers(1, 90, m))
    final = np.where(due != NA, weekday_back(due + final), NA)
    final = np.where(final >= E, NA, final)
    activeplans = {
        "activeplanstableid": apid, "requeststableid": rid[plan_rows][rp], "transferla": transfer_la[rp],
        "reviewmeeting": blade_dates(meet), "lastreview": blade_dates(rev["decision"]),
        "reviewoutcome": rev["outcome"], "reviewdraft": blade_dates(rev["draft"]),
        "phasetransferduedate": blade_dates(due), "phasetransferfinaldate": blade_dates(final),
    }

    # placementdetail: one row per plan, linked to the plan's latest activeplans row
    last_ap = np.zeros(n, dtype=np.int64)
    last_ap[rp] = apid  # rows are sorted by plan then meeting, so the last write wins
    urn2, ukprn2, setting2 = _settings(rng, n, age_now, pool_urn, pool_special, pool_college)
    same = rng.random(n) < 0.8
    urn2 = np.where(same, urn, urn2)
    ukprn2 = np.where(same, ukprn, ukprn2)
    setting2 = np.where(same, setting, setting2)
    awaiting = (rng.random(n) < 0.015) & ~ceased & (start < E - 60)
    setting2[awaiting] = "NIEO"
    urn2[awaiting] = ""
    ukprn2[awaiting] = ""
    entry = np.maximum(start - np.floor(rng.random(n) * 3 * 365).astype(np.int64), birth[plan_rows] + 2 * 365)
    entry = np.where(awaiting, start + np.floor(rng.random(n) * np.maximum(E - start - 1, 1)).astype(np.int64),
                     entry)
    entry = np.minimum(weekday_back(entry), E - 1)
    leaving = np.where(ceased, cease, NA)
    placementdetail = {
        "placementdetailtableid": npid, "activeplanstableid": last_ap, "urn": urn2, "ukprn": ukprn2,
        "sensetting": setting2, "sensettingother": np.full(n, "", dtype=object),
        "placementrank": np.ones(n, dtype=np.int64), "entrydate": blade_dates(entry),
        "leavingdate": blade_dates(leaving),
        "senunitindicator": plandetail["senunitindicator"],
        "resourcedprovisionindicator": plandetail["resourcedprovisionindicator"],
        "res": namedplan["planres"], "wbp": namedplan["planwbp"],
    }

    # senneed: a fixed primary need per plan (younger children: more SLCN), a secondary for ~40%
    w = np.asarray(SEN_WEIGHTS)
    young_w = w * np.array([1, 1.4, 0.5, 0.6, 0.1, 1.3, 1.2, 1.5, 1, 1, 1, 1, 1.5])
    prim = np.where(plan_age < 6, rng.choice(len(w), n, p=young_w / young_w.sum()),
                    rng.choice(len(w), n, p=w / w.sum()))
    sec = rng.choice(len(w), n, p=w / w.sum())
    for _ in range(4):
        clash = sec == prim
        sec[clash] = rng.choice(len(w), clash.sum(), p=w / w.sum())
    sec = np.where(sec == prim, np.where(prim == 2, 1, 2), sec)
    has_sec = rng.random(n) < 0.40
    need_rows = np.concatenate((apid, apid[has_sec[rp]]))
    need_type = np.concatenate((prim[rp], sec[rp][has_sec[rp]]))
    need_rank = np.concatenate((np.ones(m, np.int64), np.full(int(has_sec[rp].sum()), 2, np.int64)))
    order = np.lexsort((need_rank, need_rows))
    senneed = {
        "senneedtableid": np.arange(1, len(order) + 1), "activeplanstableid": need_rows[order],
        "sentype": np.asarray(SEN_TYPES, dtype=object)[need_type[order]], "sentyperank": need_rank[order],
    }
    return namedplan, plandetail, activeplans, placementdetail, senneed
