"""Deterministic synthetic SEN2 COLLECT "Blade" CSVs for demos and tests.

Why: the dashboard, the loader and the KPI engine need realistic person-level SEN2 data that is safe to
share. This module simulates the statutory EHCP process for a local area — request, decision whether to
assess (6 weeks), assessment, final plan (20 weeks), annual reviews (12 months, decision within 4 weeks)
and ceasing — calibrated to Central Bedfordshire's published figures (DOMAIN.md §5). It simulates past
the export date and then censors at it, exactly as a case-system extract would look: anything that has not
happened yet is blank (pending).

Public API: ``generate(out_dir, seed, start, months, scale) -> list[Path]`` writes the nine module files
(DOMAIN.md §3.2). Everything is vectorised with numpy (no per-row Python loops), so england scale
(~1M requests) runs in seconds; the same arguments always give byte-identical files.
"""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

__all__ = ["MODULES", "FIELDS", "SCALES", "columns", "export_date", "file_name", "generate"]

# ---------------------------------------------------------------------------------------------------------
# File layout (DOMAIN.md §3.2)
# ---------------------------------------------------------------------------------------------------------
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

SCALES: dict[str, int] = {"la": 1, "region": 10, "england": 150}
DEFAULT_SEED = 20230131  # the day Central Bedfordshire's APP was approved
LEA = "823"  # Central Bedfordshire's old LA code
CENSUS_DAY = (1, 18)  # SEN2 census taken as 18 January each year (brief; real dates vary by a few days)
FUTURE_MONTHS = 24  # simulate this far past the export date, then censor: gives a realistic pending stock

# ---------------------------------------------------------------------------------------------------------
# Calibration targets: Central Bedfordshire's published figures, DOMAIN.md §5 (DfE "EHC plans" 2025 release)
# ---------------------------------------------------------------------------------------------------------
REQUESTS_RECEIVED = {2019: 375, 2020: 478, 2021: 618, 2022: 736, 2023: 909, 2024: 944}
PLANS_ISSUED = {2019: 206, 2020: 324, 2021: 474, 2022: 530, 2023: 721, 2024: 649}
PLANS_ISSUED_NO_EXCEPTION = {2019: 205, 2020: 268, 2021: 401, 2022: 391, 2023: 583, 2024: 555}
PCT_20WK_INCL = {2019: 88.3, 2020: 51.2, 2021: 10.8, 2022: 9.4, 2023: 27.5, 2024: 42.5}
PCT_20WK_EXCL = {2019: 88.8, 2020: 61.9, 2021: 12.7, 2022: 12.0, 2023: 33.4, 2024: 48.8}
PLANS_HELD_JAN = {2019: 1747, 2020: 1833, 2021: 2105, 2022: 2546, 2023: 2919, 2024: 3541, 2025: 4035}
REQUEST_DECISION_6WK_PCT_2024 = 92.9
AR_DECISION_4WK_PCT_2024 = 50.8

# ---------------------------------------------------------------------------------------------------------
# Modelling assumptions (not published; chosen so the published figures above come out, and documented here)
# ---------------------------------------------------------------------------------------------------------
# Share of non-exception plans issued within 20 weeks at the start and end of each year (linear in between,
# rescaled to the published yearly rate): COVID collapse in 2020, recovery plan working through 2023.
ONTIME_RAMP = {2019: (0.90, 0.87), 2020: (0.88, 0.36), 2021: (0.15, 0.11), 2022: (0.10, 0.14),
               2023: (0.10, 0.55), 2024: (0.45, 0.53)}
# Mean days beyond 20 weeks for late plans, by issue year (exceptions run 30% longer).
LATE_EXCESS_DAYS = {2019: 30, 2020: 90, 2021: 35, 2022: 70, 2023: 65, 2024: 70}
# Share of decisions whether to assess made within 6 weeks, by year of receipt (published 2024: 92.9%).
DECISION_6WK = {2019: 0.86, 2020: 0.80, 2021: 0.66, 2022: 0.69, 2023: 0.91, 2024: 0.935}
# Assessments ending in a decision not to issue (per plan issued) and share notified within 16 weeks.
NOT_ISSUE_RATE = {2019: 0.05, 2020: 0.04, 2021: 0.04, 2022: 0.045, 2023: 0.05, 2024: 0.065}
NOT_ISSUE_16WK = {2019: 0.85, 2020: 0.60, 2021: 0.30, 2022: 0.30, 2023: 0.40, 2024: 0.45}
ASSESS_WITHDRAWN_RATE = 0.015  # assessments withdrawn (per plan issued)
REQUEST_WITHDRAWN_SHARE = 0.12  # of requests not going to assessment, share withdrawn before a decision
MIN_NOT_ASSESSED_SHARE = 0.04  # floor on refused + withdrawn requests per month
# Annual reviews: share of meetings held late (>12 months after the last), decisions within 4 weeks, and
# mean extra days for late decisions; by year (2024 published: 50.8% within 4 weeks).
REVIEW_LATE = {2019: 0.10, 2020: 0.30, 2021: 0.30, 2022: 0.28, 2023: 0.20, 2024: 0.15}
REVIEW_DECISION_4WK = {2019: 0.72, 2020: 0.60, 2021: 0.33, 2022: 0.30, 2023: 0.42, 2024: 0.52}
REVIEW_DECISION_TAIL_DAYS = {2019: 30, 2020: 45, 2021: 85, 2022: 95, 2023: 75, 2024: 48}
REVIEW_DECISION_LOST = 0.01  # decisions never recorded (outstanding at export whatever the meeting date)

SEN_TYPES = ("ASD", "SLCN", "SEMH", "MLD", "SPLD", "SLD", "PD", "PMLD", "HI", "VI", "MSI", "OTH", "DS")
SEN_WEIGHTS = (0.27, 0.165, 0.19, 0.10, 0.065, 0.04, 0.03, 0.01, 0.01, 0.006, 0.004, 0.02, 0.015)
ETHNICITIES = ("WBRI", "WIRI", "WIRT", "WOTH", "WROM", "MWBC", "MWBA", "MWAS", "MOTH", "AIND", "APKN",
               "ABAN", "AOTH", "BCRB", "BAFR", "BOTH", "CHNE", "OOTH", "REFU", "NOBT")
ETHNICITY_WEIGHTS = (0.775, 0.004, 0.004, 0.045, 0.003, 0.022, 0.007, 0.014, 0.022, 0.012, 0.010,
                     0.005, 0.007, 0.007, 0.013, 0.003, 0.002, 0.007, 0.010, 0.028)
# Age (whole years) at request: mostly 2-16 (DfE request counts by age); at most 23, so that a plan is always
# issued before the young person's 25th birthday.
_AGE_WEIGHTS = (1, 2, 7, 12, 10, 8, 6.5, 6.5, 6, 5.5, 5, 5, 5, 5, 4.5, 4, 2.5, 1.5, 1, 0.5, 0.3, 0.2, 0.15)

NA = -(10**8)  # "no date" sentinel for day numbers (days since 1970-01-01)


# ---------------------------------------------------------------------------------------------------------
# Name, postcode and identifier material (fake but realistic; used to exercise pseudonymisation)
# ---------------------------------------------------------------------------------------------------------
_M_NAMES = (
    "Oliver George Harry Jack Jacob Noah Charlie Muhammad Thomas Oscar William James Henry Leo Alfie "
    "Joshua Freddie Archie Ethan Isaac Alexander Joseph Edward Samuel Max Daniel Arthur Lucas Mohammed "
    "Logan Theo Harrison Benjamin Mason Sebastian Finley Adam Dylan Zachary Riley Teddy Theodore David "
    "Elijah Jake Toby Louie Reuben Arlo Hugo Luca Jaxon Matthew Harvey Reggie Michael Harley Jude Albert "
    "Tommy Luke Stanley Jenson Frankie Jayden Gabriel Elliot Rory Ronnie Carter Louis Tyler Kai Ryan "
    "Connor Callum Kieran Liam Nathan Jamie Ben Owen Lewis Aaron Bradley Kyle Dominic Patrick Rhys Caleb "
    "Ollie Bobby Mohammad Yusuf Ibrahim Ayaan Arjun Rohan Kacper Jakub Filip Kwame Tobi Chinedu"
).split()
_F_NAMES = (
    "Olivia Amelia Isla Ava Mia Ivy Lily Isabella Rosie Sophia Grace Willow Freya Florence Emily Ella "
    "Poppy Evie Elsie Charlotte Evelyn Sienna Sofia Daisy Phoebe Sophie Alice Harper Matilda Ruby Emilia "
    "Maya Millie Isabelle Eva Luna Jessica Erin Esme Chloe Scarlett Hannah Lucy Holly Megan Lola Aria "
    "Maisie Imogen Layla Zara Georgia Molly Amber Katie Bethany Lauren Abigail Eleanor Harriet Heidi "
    "Lexi Leah Niamh Orla Paige Robyn Summer Tilly Violet Nancy Edith Mabel Rose Bonnie Thea Aisha Fatima "
    "Maryam Zainab Amira Hafsa Anaya Priya Aaliyah Amara Zuzanna Lena Nia Ellie Caitlin Jasmine Kayla"
).split()
_SURNAMES = (
    "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson Thompson Wright "
    "Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson Wood Turner Martin Cooper Hill "
    "Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen James Scott Phillips Watson Davis Parker "
    "Price Bennett Young Griffiths Mitchell Kelly Cook Carter Richardson Bailey Collins Bell Shaw Murphy "
    "Miller Cox Richards Khan Marshall Anderson Simpson Ellis Adams Singh Begum Wilkinson Foster Chapman "
    "Powell Webb Rogers Gray Mason Ali Hunt Hussain Campbell Matthews Owen Palmer Holmes Mills Barnes Knight "
    "Lloyd Butler Russell Barker Fisher Stevens Jenkins Murray Dixon Harvey Graham Pearson Ahmed Fletcher "
    "Walsh Kaur Gibson Howard Andrews Stewart Elliott Reynolds Saunders Payne Fox Ford Pearce Day Brooks "
    "West Lawrence Cole Atkinson Bradley Spencer Gill Dawson Ball Burton O'Brien Watts Rose Booth Perry Ryan "
    "Grant Wells Armstrong Francis Rees Hayes Hart Hudson Newman Barrett Webster Hunter Gregory Carr Lowe "
    "Page Marsh Riley Dunn Woods Parsons Berry Stone Reid Holland Hawkins Harding Porter Robertson Newton "
    "Oliver Reed Kennedy Williamson Bird Gardner Shah Dean Lane Cooke Bates Henderson Parry Burgess Bishop "
    "Walton Burns Nicholson Shepherd Ross Cross Long Freeman Warren Nicholls Hamilton Byrne Sutton McDonald "
    "Yates Hodgson Robson Curtis Hopkins O'Connor Harper Coleman Watkins Moss McCarthy Chambers O'Neill "
    "Griffin Sharp Hardy Wheeler Potter Osborne Johnston Gordon Doyle Wallace George Jordan Hutchinson Rowe "
    "Burke May Pritchard Gilbert Willis Higgins Read Miles Stevenson Stephenson Hammond Arnold Buckley Walters "
    "Hewitt Barber Nelson Slater Austin Sullivan Whitehead Mann Frost Lambert Stephens Blake Akhtar Lynch "
    "Goodwin Barton Woodward Thomson Cunningham Quinn Barnett Baxter Bibi Clayton Nash Greenwood Jennings "
    "Holt Kemp Poole Gallagher Bond Stokes Tucker Davidson Fowler Heath Norman Middleton Lawson Banks French "
    "Stanley Jarvis Gibbs Ferguson Hayward Carroll Douglas Hicks Kowalski Nowak Wisniewski Okafor Adeyemi "
    "Mensah Osei Nguyen Chen Wang Li Zhang Smith-Jones Lloyd-Williams Hughes-Davies"
).split()
_INWARD_LETTERS = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))  # letters used in inward codes
_OUTWARD_LA = ("LU5", "LU6", "LU7", "SG5", "SG15", "SG16", "SG17", "SG18", "SG19", "MK17", "MK43", "MK45")
_REGION_AREAS = {"LU": 7, "MK": 46, "SG": 19, "AL": 10, "CB": 11, "PE": 38, "CO": 16, "CM": 24, "IP": 33,
                 "NR": 35, "SS": 17, "WD": 25, "EN": 11, "HP": 4}
_ENGLAND_AREAS = {**_REGION_AREAS, "B": 99, "M": 90, "L": 40, "LS": 29, "S": 99, "NE": 70, "BS": 49, "SO": 53,
                  "PO": 41, "OX": 49, "RG": 45, "GU": 52, "ME": 20, "CT": 21, "TN": 40, "BN": 45, "NG": 34,
                  "LE": 19, "CV": 47, "DE": 75, "ST": 21, "WV": 16, "WS": 15, "DY": 14, "PR": 26, "BB": 18,
                  "BL": 9, "OL": 16, "SK": 23, "WA": 16, "CH": 66, "HU": 20, "YO": 62, "DN": 41, "HD": 9,
                  "BD": 24, "WF": 17, "DL": 17, "TS": 29, "SR": 8, "DH": 9, "CA": 28, "LA": 23, "EX": 39,
                  "PL": 35, "TQ": 14, "TR": 27, "TA": 24, "BA": 22, "GL": 56, "HR": 9, "WR": 15, "SY": 25,
                  "TF": 13, "NN": 18, "LN": 13, "N": 22, "E": 18, "SE": 28, "SW": 20, "W": 14, "NW": 11}
_OTHER_LAS = ("821", "822", "826", "825", "919", "873", "881", "882", "883", "855", "856", "925", "926",
              "928", "931", "935", "202", "304", "330", "340", "350", "380", "800", "908", "937")
_UPN_CHECK = np.array(list("ABCDEFGHJKLMNPQRTUVWXYZ"))
_REQUEST_SOURCES = ("Parent", "School", "Early years setting", "Young person", "Health", "Social care", "Other")
_REQUEST_SOURCE_WEIGHTS = (0.46, 0.33, 0.10, 0.03, 0.04, 0.02, 0.02)


# ---------------------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------------------
def columns(module: str) -> list[str]:
    """Exact header of a module's Blade CSV: its SEN2 fields, then the three Blade bookkeeping columns."""
    return [*FIELDS[module], "NativeId", f"{module}orderseqcolumn", "sourceid"]


def _parse_start(start: str) -> tuple[int, int]:
    """Parse 'YYYY-MM' into (year, month); ValueError on anything else."""
    m = re.fullmatch(r"(\d{4})-(\d{2})", start.strip()) if isinstance(start, str) else None
    if not m or not 1 <= int(m.group(2)) <= 12 or not 1990 <= int(m.group(1)) <= 2100:
        raise ValueError(f"start must be a 'YYYY-MM' string between 1990-01 and 2100-12, got {start!r}")
    return int(m.group(1)), int(m.group(2))


def export_date(start: str = "2019-01", months: int = 72) -> _dt.date:
    """The export ('today') date: the first day after the window."""
    y, m = _parse_start(start)
    k = (y * 12 + m - 1) + months
    return _dt.date(k // 12, k % 12 + 1, 1)


def file_name(module: str, export: _dt.date) -> str:
    """Blade file name, e.g. Blade-Export_01-01-2025_requests.csv."""
    return f"Blade-Export_{export:%d-%m-%Y}_{module}.csv"


def _day(y: int, m: int, d: int = 1) -> int:
    return (_dt.date(y, m, d) - _dt.date(1970, 1, 1)).days


def _month_start(mi: np.ndarray | int) -> np.ndarray:
    """Day number of the first day of month index mi (months since 1970-01)."""
    return np.asarray(mi, dtype="datetime64[M]").astype("datetime64[D]").astype(np.int64)


def _month_index(days: np.ndarray) -> np.ndarray:
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def _year(days: np.ndarray) -> np.ndarray:
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def _lookup(table: dict[int, float], years: np.ndarray | int) -> np.ndarray:
    """Per-year parameter, clamping years outside the table to its first/last year."""
    keys = np.array(sorted(table))
    vals = np.array([table[k] for k in keys], dtype=float)
    return vals[np.clip(np.asarray(years) - keys[0], 0, len(keys) - 1)]


def _weekday_in_month(days: np.ndarray) -> np.ndarray:
    """Move Saturday to Friday and Sunday to Monday without leaving the month (office events)."""
    wd = (days + 3) % 7  # 0 = Monday
    out = days + np.where(wd == 5, -1, np.where(wd == 6, 1, 0))
    alt = days + np.where(wd == 5, 2, np.where(wd == 6, -2, 0))
    return np.where(_month_index(out) != _month_index(days), alt, out)


def _weekday_back(days: np.ndarray) -> np.ndarray:
    """Move weekend days back to the Friday before (decisions are dated on working days)."""
    wd = (days + 3) % 7
    return days - np.where(wd == 5, 1, np.where(wd == 6, 2, 0))


def _pick_exact(rng: np.random.Generator, weights: np.ndarray, k: int) -> np.ndarray:
    """Select exactly k items with inclusion probability proportional to weights (systematic sampling).

    Why: calibrated yearly counts (e.g. plans issued within 20 weeks) must hold for any seed, while which
    plans are picked — and the month-to-month pattern — stays random.
    """
    n = len(weights)
    mask = np.zeros(n, dtype=bool)
    k = int(min(max(k, 0), n))
    if k == 0:
        return mask
    if k == n:
        mask[:] = True
        return mask
    p = np.asarray(weights, dtype=float) + 1e-12
    p = p * k / p.sum()
    for _ in range(50):
        over = p > 1
        if not over.any():
            break
        p[over] = 1.0
        rest = ~over
        p[rest] *= (k - over.sum()) / p[rest].sum()
    order = rng.permutation(n)
    c = np.cumsum(p[order])
    c *= k / c[-1]
    u = rng.random() * 0.999999 + 5e-7
    prev = np.concatenate(([0.0], c[:-1]))
    mask[order[np.floor(c - u) > np.floor(prev - u)]] = True
    return mask


def _unique_ints(rng: np.random.Generator, low: int, high: int, n: int) -> np.ndarray:
    """n distinct random integers in [low, high), in random order (deterministic for a given rng)."""
    if n > high - low:
        raise ValueError("not enough distinct values")
    out = np.empty(0, dtype=np.int64)
    while len(out) < n:
        draw = np.concatenate((out, rng.integers(low, high, size=int((n - len(out)) * 1.2) + 16)))
        _, first = np.unique(draw, return_index=True)
        out = draw[np.sort(first)][:n]
    return out


def _fmt_dates(days: np.ndarray) -> np.ndarray:
    """Blade date strings ('2024-Sep-28 00:00:00'), '' for NA; locale-independent lookup formatting."""
    days = np.asarray(days, dtype=np.int64)
    present = days != NA
    if not present.any():
        return np.full(len(days), "", dtype=object)
    lo, hi = int(days[present].min()), int(days[present].max())
    epoch = _dt.date(1970, 1, 1)
    labels = [""]  # index 0: no date; index k: day lo + k - 1 (a dense table: O(n), no sort)
    for u in range(lo, hi + 1):
        d = epoch + _dt.timedelta(days=u)
        labels.append(f"{d.year:04d}-{_MONTH_ABBR[d.month - 1]}-{d.day:02d} 00:00:00")
    return np.array(labels, dtype=object)[np.where(present, days - lo + 1, 0)]


def _str_or_blank(values: np.ndarray, present: np.ndarray) -> np.ndarray:
    out = np.asarray(values).astype(str).astype(object)
    out[~present] = ""
    return out


def _choice(rng: np.random.Generator, options, weights, n: int) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return np.asarray(options)[rng.choice(len(w), size=n, p=w / w.sum())]


# ---------------------------------------------------------------------------------------------------------
# The simulation
# ---------------------------------------------------------------------------------------------------------
class _Sim:
    """One run: builds every module as a dict of column arrays. Dates are int day numbers (NA = none)."""

    def __init__(self, seed: int, start: str, months: int, scale: str, factor: float | None = None,
                 lea: str = LEA, pct_shift: float = 0.0):
        if scale not in SCALES:
            raise ValueError(f"unknown scale {scale!r}; expected one of {sorted(SCALES)}")
        if isinstance(months, bool) or not isinstance(months, int | np.integer) or months < 1:
            raise ValueError(f"months must be a positive integer, got {months!r}")
        y, m = _parse_start(start)
        if (y * 12 + m - 1 + months) // 12 > 2100:
            raise ValueError("window extends past 2100")
        self.seed = int(seed)
        self.scale_name = scale
        self.scale = SCALES[scale] if factor is None else float(factor)
        self.lea = lea
        self.pct_shift = float(pct_shift)  # an area's own timeliness: points added to the 20-week rates
        self.s_mi = (y - 1970) * 12 + (m - 1)
        self.e_mi = self.s_mi + int(months)
        self.S = int(_month_start(self.s_mi))
        self.E = int(_month_start(self.e_mi))  # export date: nothing on or after it has happened

    def _pct(self, table: dict[int, float], year) -> float:
        """A published percentage for the year, moved by this area's shift (kept within 1-99%)."""
        return float(np.clip(float(_lookup(table, year)) + self.pct_shift, 1.0, 99.0))

    def rng(self, key: int) -> np.random.Generator:
        """Independent stream per component, so tuning one part does not reshuffle the others."""
        return np.random.default_rng([self.seed, key])

    # -- monthly volumes ----------------------------------------------------------------------------------
    def _monthly_counts(self, rng, table, season, mi_lo, mi_hi):
        """Counts per month for months [mi_lo, mi_hi): yearly totals = table[year] x scale (pro rata for
        partial years), spread by a seasonal profile and the local growth trend."""
        mis = np.arange(mi_lo, mi_hi)
        years = 1970 + mis // 12
        counts = np.zeros(len(mis), dtype=np.int64)
        season = np.asarray(season, dtype=float)
        for y in np.unique(years):
            sel = years == y
            g = 0.5 * np.log(_lookup(table, y + 1) / _lookup(table, y - 1))
            w_all = season * np.exp(g * (np.arange(12) - 5.5) / 12)
            w_in = w_all[mis[sel] % 12]
            n = int(round(float(_lookup(table, y)) * self.scale * w_in.sum() / w_all.sum()))
            counts[sel] = rng.multinomial(n, w_in / w_in.sum())
        return mis, counts

    @staticmethod
    def _days_in_months(rng, mis, counts):
        m = np.repeat(mis, counts)
        first = _month_start(m)
        length = _month_start(m + 1) - first
        return first + np.floor(rng.random(len(m)) * length).astype(np.int64)

    @staticmethod
    def _decision_lag(rng, received, max_lag):
        """Days from request to the decision whether to assess (6-week compliance varies by year)."""
        n = len(received)
        q = _lookup(DECISION_6WK, _year(received))
        on = rng.random(n) < q
        late = 43 + np.minimum(np.floor(rng.exponential(24, n)), 75).astype(np.int64)
        lag = np.where(on, rng.integers(12, 43, n), late)
        lag = np.clip(np.minimum(lag, max_lag), 3, None)
        return _weekday_back(received + lag) - received

    # -- assessment track: issued plans, not issued, withdrawn --------------------------------------------
    def assessment_track(self):
        rng = self.rng(1)
        lo, hi = self.s_mi, self.e_mi + FUTURE_MONTHS
        plan_season = (0.95, 1.0, 1.05, 0.95, 1.0, 1.05, 1.1, 0.9, 0.9, 1.0, 1.05, 0.95)
        mis, counts = self._monthly_counts(rng, PLANS_ISSUED, plan_season, lo, hi)
        issue = _weekday_in_month(self._days_in_months(rng, mis, counts))
        issue.sort()
        n = len(issue)
        year = _year(issue)
        frac = (issue - _month_start((year - 1970) * 12)) / 365.25
        exc = np.zeros(n, dtype=bool)
        ontime = np.zeros(n, dtype=bool)
        for y in np.unique(year):
            idx = np.flatnonzero(year == y)
            ny = len(idx)
            n_exc = int(round(ny * (1 - _lookup(PLANS_ISSUED_NO_EXCEPTION, y) / _lookup(PLANS_ISSUED, y))))
            w = np.ones(ny)
            if y == 2020:  # COVID-19 exceptions (1 May - 25 Sep 2020) land on plans issued from June
                w[issue[idx] >= _day(2020, 6, 1)] = 3.0
            exc[idx] = _pick_exact(rng, w, n_exc)
            ne = idx[~exc[idx]]
            k_ne = int(round(len(ne) * self._pct(PCT_20WK_EXCL, y) / 100))
            a, b = ONTIME_RAMP.get(int(y), ONTIME_RAMP[2019] if y < 2019 else ONTIME_RAMP[2024])
            ontime[ne] = _pick_exact(rng, a + (b - a) * frac[ne], k_ne)
            k_all = int(round(ny * self._pct(PCT_20WK_INCL, y) / 100))
            ex = idx[exc[idx]]
            ontime[ex] = _pick_exact(rng, np.ones(len(ex)), max(0, k_all - k_ne))
        d = np.empty(n, dtype=np.int64)
        d[ontime] = 140 - np.minimum(np.floor(rng.gamma(1.4, 13.0, ontime.sum())), 80).astype(np.int64)
        late = ~ontime
        mean = _lookup(LATE_EXCESS_DAYS, year[late]) * np.where(exc[late], 1.3, 1.0)
        d[late] = 141 + np.minimum(np.floor(rng.exponential(1.0, late.sum()) * mean), 560).astype(np.int64)
        plans = {"received": issue - d, "outcome": np.full(n, "Y"), "outcome_date": issue,
                 "week20": exc.astype(np.int64)}

        # Decisions not to issue (N) and assessments withdrawn (W), by month of outcome.
        not_issue = {y: PLANS_ISSUED[y] * NOT_ISSUE_RATE[y] for y in PLANS_ISSUED}
        mis, counts = self._monthly_counts(rng, not_issue, plan_season, lo, hi)
        n_date = _weekday_in_month(self._days_in_months(rng, mis, counts))
        on16 = rng.random(len(n_date)) < _lookup(NOT_ISSUE_16WK, _year(n_date))
        dn = np.where(on16, rng.integers(56, 113, len(n_date)),
                      113 + np.minimum(np.floor(rng.exponential(70, len(n_date))), 450).astype(np.int64))
        withdrawn = {y: PLANS_ISSUED[y] * ASSESS_WITHDRAWN_RATE for y in PLANS_ISSUED}
        mis, counts = self._monthly_counts(rng, withdrawn, plan_season, lo, hi)
        w_date = _weekday_in_month(self._days_in_months(rng, mis, counts))
        dw = rng.integers(45, 250, len(w_date))
        track = {
            "received": np.concatenate((plans["received"], n_date - dn, w_date - dw)),
            "outcome": np.concatenate((plans["outcome"], np.full(len(n_date), "N"), np.full(len(w_date), "W"))),
            "outcome_date": np.concatenate((issue, n_date, w_date)),
            "week20": np.concatenate((plans["week20"], np.zeros(len(n_date) + len(w_date), dtype=np.int64))),
        }
        dur = track["outcome_date"] - track["received"]
        track["decision"] = track["received"] + self._decision_lag(rng, track["received"], dur - 14)
        keep = track["received"] < self.E
        return {k: v[keep] for k, v in track.items()}

    # -- requests refused / withdrawn before a decision ---------------------------------------------------
    def not_assessed(self, track_received):
        """Requests that never reach assessment, sized so requests received per month hit the targets."""
        rng = self.rng(2)
        req_season = (1.0, 1.05, 1.1, 0.9, 1.05, 1.15, 1.15, 0.55, 0.85, 1.05, 1.15, 0.95)
        mis = np.arange(self.s_mi, self.e_mi)
        years = 1970 + mis // 12
        target = np.zeros(len(mis))
        for y in np.unique(years):
            sel = years == y
            g = 0.5 * np.log(_lookup(REQUESTS_RECEIVED, y + 1) / _lookup(REQUESTS_RECEIVED, y - 1))
            w_all = np.asarray(req_season) * np.exp(g * (np.arange(12) - 5.5) / 12)
            target[sel] = _lookup(REQUESTS_RECEIVED, y) * self.scale * w_all[mis[sel] % 12] / w_all.sum()
        off = _month_index(track_received) - self.s_mi
        have = np.bincount(off[(off >= 0) & (off < len(mis))], minlength=len(mis))
        raw = np.maximum(target - have, MIN_NOT_ASSESSED_SHARE * target)
        counts = np.zeros(len(mis), dtype=np.int64)
        for y in np.unique(years):
            sel = years == y
            total = int(round(max(target[sel].sum() - have[sel].sum(), MIN_NOT_ASSESSED_SHARE * target[sel].sum())))
            counts[sel] = rng.multinomial(total, raw[sel] / raw[sel].sum())
        received = self._days_in_months(rng, mis, counts)
        n = len(received)
        wd = rng.random(n) < REQUEST_WITHDRAWN_SHARE
        lag_n = self._decision_lag(rng, received, np.full(n, 400))
        lag_w = _weekday_back(received + rng.integers(7, 60, n)) - received
        return {"received": received, "outcome": np.where(wd, "W", "N"),
                "decision": received + np.where(wd, lag_w, lag_n)}

    # -- legacy stock of plans issued before the window ---------------------------------------------------
    def stock_target(self, day: int) -> float:
        """Plans held on a date: published January figures interpolated (log-linear outside 2019-2025)."""
        ys = sorted(PLANS_HELD_JAN)
        xs = np.array([_day(y, *CENSUS_DAY) for y in ys], dtype=float)
        ls = np.log(np.array([PLANS_HELD_JAN[y] for y in ys], dtype=float))
        if day < xs[0]:
            v = ls[0] + (ls[1] - ls[0]) / (xs[1] - xs[0]) * (day - xs[0])
        elif day > xs[-1]:
            v = ls[-1] + (ls[-1] - ls[-2]) / (xs[-1] - xs[-2]) * (day - xs[-1]) * 0.5
        else:
            v = np.interp(day, xs, ls)
        return float(np.exp(v)) * self.scale

    def legacy(self):
        """Plans issued before the window and still held at its start (requests with outcome H)."""
        rng = self.rng(3)
        n = int(round(self.stock_target(self.S)))
        age_w = np.array([0, 1.0, 1.2, 1.4, 1.6] + [5.8] * 6 + [7.4] * 5 + [6.5, 5.5, 4.5, 3.5] + [1.2, 0.8, 0.5,
                                                                                                     0.3, 0.2])
        age = rng.choice(len(age_w), size=n, p=age_w / age_w.sum()) + rng.random(n)
        birth = self.S - np.floor(age * 365.25).astype(np.int64)
        hi = self.S - 20
        lo = np.minimum(np.maximum(birth + 400, _day(2006, 6, 1)), hi - 30)
        start = lo + np.floor((hi - lo) * rng.random(n) ** 0.55).astype(np.int64)
        start = np.minimum(_weekday_back(np.maximum(start, lo)), hi)
        d = 100 + np.floor(rng.gamma(2.0, 40.0, n)).astype(np.int64)
        received = np.maximum(np.maximum(start - d, birth + 30), _day(2006, 1, 3))
        decision = _weekday_back(received + np.minimum(rng.integers(20, 60, n), (start - received) // 2 + 1))
        decision = np.maximum(np.minimum(decision, start - 1), received)
        return {"received": received, "decision": decision, "start": start, "birth": birth}

    # -- ceasing, calibrated to plans held each January --------------------------------------------------
    def ceases(self, start, birth):
        rng = self.rng(4)
        n = len(start)
        cease = np.full(n, NA, dtype=np.int64)
        reason = np.zeros(n, dtype=np.int64)
        bday25 = birth + np.floor(25 * 365.25).astype(np.int64)
        y0 = _year(np.array([self.S]))[0]
        points = [self.S] + [_day(y, *CENSUS_DAY) for y in range(y0, y0 + 200)
                             if self.S < _day(y, *CENSUS_DAY)]
        points = [p for i, p in enumerate(points) if i == 0 or points[i - 1] < self.E]
        for a, b in zip(points[:-1], points[1:], strict=True):
            alive = (start <= a) & (cease == NA)
            issued_in = (start > a) & (start <= b)
            in_range = _day(2019, *CENSUS_DAY) <= b <= _day(2025, *CENSUS_DAY) + 1
            if in_range:
                need = int(alive.sum() + issued_in.sum() - round(self.stock_target(b)))
            else:  # outside the published years: a steady 4.5% a year
                need = int(round(0.045 * alive.sum() * (b - a) / 365.25))
            forced = (start <= b) & (cease == NA) & (bday25 <= b)  # plans end at 25 (reason 1)
            cease[forced] = np.maximum(bday25[forced], np.maximum(a, start[forced]) + 1)
            reason[forced] = 1
            rest = need - int(forced.sum())
            cand = np.flatnonzero(alive & ~forced)
            if rest > 0 and len(cand):
                age = (a - birth[cand]) / 365.25
                w = np.select([age < 5, age < 11, age < 16, age < 17, age < 18, age < 19, age < 23],
                              [0.6, 0.45, 0.55, 1.5, 2.0, 3.5, 5.0], 8.0)
                chosen = cand[_pick_exact(rng, w, rest)]
                cease[chosen] = a + 1 + np.floor(rng.random(len(chosen)) * (b - a)).astype(np.int64)
        ceased = cease != NA
        cease[ceased] = _weekday_back(cease[ceased])
        cease[ceased] = np.maximum(cease[ceased], start[ceased] + 1)
        age = (cease - birth) / 365.25
        pick = rng.random(n)

        def draw(codes, probs):
            return np.asarray(codes)[np.searchsorted(np.cumsum(probs) / np.sum(probs), pick, side="right")]

        old = draw((1, 2, 3, 4, 5, 6, 7, 9), (0.30, 0.08, 0.17, 0.22, 0.10, 0.05, 0.03, 0.05))
        mid = draw((2, 3, 4, 5, 6, 7, 9), (0.25, 0.10, 0.20, 0.20, 0.08, 0.07, 0.10))
        young = draw((2, 5, 7, 8, 9), (0.40, 0.36, 0.13, 0.01, 0.10))
        chosen_reason = np.where(age >= 19, old, np.where(age >= 16, mid, young))
        reason = np.where(ceased & (reason == 0), chosen_reason, reason)
        reason[~ceased] = 0
        after = cease >= self.E  # not happened yet at export
        cease[after] = NA
        reason[after] = 0
        return cease, reason

    # -- annual reviews -----------------------------------------------------------------------------------
    def reviews(self, start, cease):
        """One row per annual review cycle: meetings ~12-monthly (some late), decisions within 4 weeks for a
        varying share. Keeps the last meeting before the window (for 'overdue' at its start) and all later ones;
        plans without a meeting yet get one row with a blank meeting."""
        rng = self.rng(5)
        n = len(start)
        end = np.where(cease == NA, self.E, np.minimum(cease, self.E))
        rows_plan, rows_meet = [], []
        prev = start.copy()
        last_before = np.full(n, NA, dtype=np.int64)
        alive = np.ones(n, dtype=bool)
        while alive.any():
            idx = np.flatnonzero(alive)
            due_year = _year(prev[idx] + 365)
            late = rng.random(len(idx)) < _lookup(REVIEW_LATE, due_year)
            gap = np.where(late, 366 + np.floor(rng.exponential(70, len(idx))).astype(np.int64),
                           365 - np.minimum(np.floor(rng.gamma(2.0, 10.0, len(idx))), 70).astype(np.int64))
            meet = _weekday_back(prev[idx] + gap)
            ok = meet < end[idx]
            before = ok & (meet < self.S)
            last_before[idx[before]] = meet[before]
            inside = ok & (meet >= self.S)
            rows_plan.append(idx[inside])
            rows_meet.append(meet[inside])
            prev[idx] = meet
            alive[idx[~ok]] = False
        has_before = last_before != NA
        rows_plan.append(np.flatnonzero(has_before))
        rows_meet.append(last_before[has_before])
        plan = np.concatenate(rows_plan)
        meet = np.concatenate(rows_meet)
        none = np.flatnonzero(np.bincount(plan, minlength=n) == 0)
        plan = np.concatenate((plan, none))
        meet = np.concatenate((meet, np.full(len(none), NA, dtype=np.int64)))
        order = np.lexsort((meet, plan))
        plan, meet = plan[order], meet[order]

        m = len(plan)
        has = meet != NA
        my = _year(np.where(has, meet, self.S))
        on4 = rng.random(m) < _lookup(REVIEW_DECISION_4WK, my)
        lag = np.where(on4, rng.integers(2, 29, m),
                       29 + np.floor(rng.exponential(1.0, m) * _lookup(REVIEW_DECISION_TAIL_DAYS, my)).astype(np.int64))
        decision = np.where(has, _weekday_back(meet + lag), NA)
        decision = np.where(has & (decision < meet), meet, decision)
        lost = rng.random(m) < REVIEW_DECISION_LOST
        ceased = cease[plan] != NA
        # A review that leads to ceasing: decision no later than the cease date.
        decision = np.where(has & ceased & (decision > cease[plan]), np.maximum(meet, cease[plan] - 1), decision)
        decision = np.where(lost | (decision >= self.E), NA, decision)
        outcome = _choice(rng, ("A", "M"), (0.64, 0.36), m).astype(object)
        # The last decided review before a plan ceased is usually the decision to cease.
        last_row = np.r_[plan[1:] != plan[:-1], True]
        to_cease = last_row & ceased & (decision != NA) & (rng.random(m) < 0.7)
        outcome[to_cease] = "C"
        outcome[decision == NA] = ""
        draft = np.where((outcome == "A") & (decision != NA), _weekday_back(decision + rng.integers(2, 15, m)), NA)
        draft = np.where(draft >= self.E, NA, draft)
        return {"plan": plan, "meet": meet, "decision": decision, "outcome": outcome, "draft": draft}

    # -- the whole dataset --------------------------------------------------------------------------------
    def build(self) -> dict[str, dict[str, np.ndarray]]:
        E = self.E
        track = self.assessment_track()
        refused = self.not_assessed(track["received"])
        leg = self.legacy()
        n_t, n_r, n_l = len(track["received"]), len(refused["received"]), len(leg["received"])

        # ---- requests (legacy H, assessment track Y/A, refused N / withdrawn W / awaiting A) ------------
        received = np.concatenate((leg["received"], track["received"], refused["received"]))
        decision = np.concatenate((leg["decision"], track["decision"], refused["decision"]))
        req_out = np.concatenate((np.full(n_l, "H"), np.full(n_t, "Y"), refused["outcome"])).astype(object)
        kind = np.concatenate((np.zeros(n_l, np.int8), np.ones(n_t, np.int8), np.full(n_r, 2, np.int8)))
        a_out = np.concatenate((np.full(n_l, "Y"), track["outcome"], np.full(n_r, ""))).astype(object)
        a_date = np.concatenate((leg["start"], track["outcome_date"], np.full(n_r, NA)))
        week20 = np.concatenate((np.zeros(n_l, np.int64), track["week20"], np.zeros(n_r, np.int64)))
        pending_dec = decision >= E
        req_out[pending_dec] = "A"
        decision = np.where(pending_dec, NA, decision)
        a_pending = (a_date >= E) & (kind == 1)
        a_out[a_pending] = "A"
        a_date = np.where(a_pending, NA, a_date)
        a_out[pending_dec] = ""  # no decision to assess yet: no assessment row

        order = np.lexsort((np.arange(len(received)), received))
        received, decision, req_out, kind, a_out, a_date, week20 = (
            x[order] for x in (received, decision, req_out, kind, a_out, a_date, week20))
        src = np.empty(len(order), dtype=np.int64)
        src[order] = np.arange(len(order))
        leg_rows = src[:n_l]  # legacy request i sits at row leg_rows[i]
        n_req = len(received)
        rid = np.arange(1, n_req + 1)

        # ---- persons: one per request, then link some later requests to an earlier requester ------------
        rng = self.rng(6)
        age_w = np.asarray(_AGE_WEIGHTS)
        age_years = rng.choice(len(age_w), size=n_req, p=age_w / age_w.sum()) + rng.random(n_req)
        birth = received - np.floor(age_years * 365.25).astype(np.int64)
        birth[leg_rows] = leg["birth"]
        is_plan = (a_out == "Y") & (a_date != NA)
        plan_rows = np.flatnonzero(is_plan)
        start = a_date[plan_rows]

        # Candidates for a later, second request by the same person: requests refused or withdrawn, and
        # assessments that ended without a plan (e.g. refused at 7, assessed and issued at 9).
        person = np.arange(n_req)
        ended = np.isin(a_out, ["N", "W"]) & (a_date != NA)
        closed = ((kind == 2) & (req_out != "A")) | ended
        first_day = np.where(ended, a_date, decision)
        cand = np.flatnonzero(closed & (age_years <= 20) & (first_day != NA) & (first_day < E - 120))
        n_pairs = min(len(cand), int(round(0.11 * n_req)))
        firsts = rng.permutation(cand)[: int(n_pairs * 1.25)]
        pool = np.setdiff1d(np.flatnonzero(kind != 0), firsts)
        pool_days = received[pool] + rng.random(len(pool))  # fractional day: spreads same-day requests
        order_pool = np.argsort(pool_days, kind="stable")
        pool, pool_days = pool[order_pool], pool_days[order_pool]
        taken = np.zeros(len(pool), dtype=bool)
        todo = firsts
        matched = 0
        for _ in range(6):
            if len(todo) == 0 or matched >= n_pairs:
                break
            target = first_day[todo] + 60 + rng.random(len(todo)) * 700
            j = np.searchsorted(pool_days, target)
            ok = j < len(pool)
            ok[ok] = ~taken[j[ok]]
            cand_f, cand_j = todo[ok], j[ok]
            _, first_idx = np.unique(cand_j, return_index=True)
            first_idx = np.sort(first_idx)[: max(0, n_pairs - matched)]
            f, jj = cand_f[first_idx], cand_j[first_idx]
            taken[jj] = True
            second = pool[jj]
            person[second] = person[f]
            birth[second] = birth[f]
            matched += len(f)
            todo = np.setdiff1d(todo, f)
        cease, reason = self.ceases(start, birth[plan_rows])
        # persontableid in order of first request
        uniq_first, inv = np.unique(person, return_inverse=True)
        first_seen = np.full(len(uniq_first), n_req, dtype=np.int64)
        np.minimum.at(first_seen, inv, np.arange(n_req))
        pid_of = np.empty(len(uniq_first), dtype=np.int64)
        pid_of[np.argsort(first_seen)] = np.arange(1, len(uniq_first) + 1)
        pid = pid_of[inv]
        n_person = len(uniq_first)
        p_birth = np.empty(n_person, dtype=np.int64)
        p_birth[pid - 1] = birth

        tables = {}
        tables["requests"] = self._requests(rid, pid, received, decision, req_out, birth)
        assess_rows = np.flatnonzero(a_out != "")
        aid_of_row = np.zeros(n_req, dtype=np.int64)
        aid_of_row[assess_rows] = np.arange(1, len(assess_rows) + 1)
        tables["assessment"] = self._assessment(assess_rows, rid, a_out, a_date, week20)
        # plan_rows ascend, and so do their assessment ids: namedplan id k belongs to plan_rows[k-1]
        plan_age = (start - birth[plan_rows]) / 365.25
        rev = self.reviews(start, cease)
        # What the earlier extracts need (demo/history.py): day numbers of requests and of each review row.
        self.history_raw = {"received": received, "plan": rev["plan"], "meet": rev["meet"],
                            "decision": rev["decision"], "start": start[rev["plan"]], "cease": cease[rev["plan"]]}
        tables["namedplan"], tables["plandetail"], tables["activeplans"], tables["placementdetail"], \
            tables["senneed"] = self._plans(plan_rows, aid_of_row, rid, start, cease, reason, birth, plan_age, rev)
        tables["person"] = self._person(n_person, p_birth)
        tables["sen2"] = {
            "sen2tableid": np.array([1]), "collection": np.array(["SEN2"], dtype=object),
            "year": np.array([_year(np.array([E]))[0]]), "referencedate": _fmt_dates(np.array([E])),
            "sourcelevel": np.array(["L"], dtype=object), "lea": np.array([self.lea], dtype=object),
            "softwarecode": np.array(["SYNTH"], dtype=object), "release": np.array(["1.0"], dtype=object),
            "serialno": np.array(["001"], dtype=object), "datetime": _fmt_dates(np.array([E])),
            "dmo": np.array([1]), "dco": np.array([1]), "dsco": np.array([1]),
        }
        return tables

    # -- module builders -----------------------------------------------------------------------------------
    def _requests(self, rid, pid, received, decision, outcome, birth):
        rng = self.rng(7)
        n = len(rid)
        refused = outcome == "N"
        age = (received - birth) / 365.25
        src = _choice(rng, _REQUEST_SOURCES, _REQUEST_SOURCE_WEIGHTS, n).astype(object)
        src[(age < 4.5) & (src == "School")] = "Early years setting"
        src[(age >= 16) & (rng.random(n) < 0.25)] = "Young person"
        last_year_start = _month_start(((self.e_mi - 1) // 12) * 12)
        return {
            "requeststableid": rid, "persontableid": pid, "receiveddate": _fmt_dates(received),
            "requestsource": src,
            "rya": ((age >= 10) & (age < 18) & (rng.random(n) < 0.0015)).astype(np.int64),
            "requestoutcomedate": _fmt_dates(decision), "requestoutcome": outcome,
            "requestmediation": (refused & (rng.random(n) < 0.12)).astype(np.int64),
            "requesttribunal": (refused & (rng.random(n) < 0.08)).astype(np.int64),
            "exported": (received < last_year_start).astype(np.int64),
        }

    def _assessment(self, rows, rid, a_out, a_date, week20):
        rng = self.rng(8)
        n = len(rows)
        out = a_out[rows]
        no = out == "N"
        yes = out == "Y"
        return {
            "assessmenttableid": np.arange(1, n + 1), "requeststableid": rid[rows],
            "assessmentoutcome": out, "assessmentoutcomedate": _fmt_dates(a_date[rows]),
            "assessmentmediation": (no & (rng.random(n) < 0.12)).astype(np.int64),
            "assessmenttribunal": (no & (rng.random(n) < 0.10)).astype(np.int64),
            "othermediation": (yes & (rng.random(n) < 0.01)).astype(np.int64),
            "othertribunal": (yes & (rng.random(n) < 0.04)).astype(np.int64),
            "week20": week20[rows],
        }

    def _settings(self, rng, n, age, pool_urn, pool_special, pool_college):
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
        return (_str_or_blank(urn, ~has_code), _str_or_blank(ukprn, (ukprn > 0) & ~has_code), setting)

    def _plans(self, plan_rows, aid_of_row, rid, start, cease, reason, birth, plan_age, rev):
        rng = self.rng(9)
        E = self.E
        n = len(plan_rows)
        npid = np.arange(1, n + 1)
        ceased = cease != NA
        k = max(1, round(self.scale))  # school pools grow with the area (whole multiples)
        pools = self.rng(10)
        pool_urn = _unique_ints(pools, 100000, 150000, 130 * k)
        pool_special = _unique_ints(pools, 150000, 160000, 9 * k)
        pool_college = np.stack((_unique_ints(pools, 130000, 131000, min(900, 6 * k)),
                                 _unique_ints(pools, 10001000, 10099999, min(900, 6 * k))), axis=1)
        age_now = (np.where(ceased, cease, E) - birth[plan_rows]) / 365.25
        namedplan = {
            "namedplantableid": npid, "assessmenttableid": aid_of_row[plan_rows],
            "startdate": _fmt_dates(start),
            "planres": (rng.random(n) < 0.03).astype(np.int64),
            "planwbp": ((age_now >= 16) & (rng.random(n) < 0.04)).astype(np.int64),
            "pb": (rng.random(n) < 0.09).astype(np.int64),
            "oa": (rng.random(n) < 0.02).astype(np.int64),
            "dp": (rng.random(n) < 0.05).astype(np.int64),
            "ceasedate": _fmt_dates(cease), "ceasereason": _str_or_blank(reason, ceased),
        }
        urn, ukprn, setting = self._settings(rng, n, plan_age, pool_urn, pool_special, pool_college)
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
        transfer_la = _choice(rng, _OTHER_LAS, np.ones(len(_OTHER_LAS)), n).astype(object)
        transfer_la[~transfer_in] = ""
        # Phase transfer (Year 6 -> 15 Feb, Year 11 -> 31 Mar) for reviews held in those school years.
        meet = rev["meet"]
        has_meet = meet != NA
        my = _year(np.where(has_meet, meet, E))
        acad = np.where(_month_index(np.where(has_meet, meet, E)) % 12 >= 8, my, my - 1)
        aug31 = _month_start((acad - 1970) * 12 + 8) - 1
        age_aug = np.floor((aug31 - birth[plan_rows][rp]) / 365.25)
        due = np.where(age_aug == 10, _month_start((acad + 1 - 1970) * 12 + 1) + 14,
                       np.where(age_aug == 15, _month_start((acad + 1 - 1970) * 12 + 3) - 1, NA))
        due = np.where(has_meet & (due != NA) & (due < E) & (~ceased[rp] | (cease[rp] > due)), due, NA)
        final = np.where(rng.random(m) < 0.7, -rng.integers(0, 45, m), rng.integers(1, 90, m))
        final = np.where(due != NA, _weekday_back(due + final), NA)
        final = np.where(final >= E, NA, final)
        activeplans = {
            "activeplanstableid": apid, "requeststableid": rid[plan_rows][rp], "transferla": transfer_la[rp],
            "reviewmeeting": _fmt_dates(meet), "lastreview": _fmt_dates(rev["decision"]),
            "reviewoutcome": rev["outcome"], "reviewdraft": _fmt_dates(rev["draft"]),
            "phasetransferduedate": _fmt_dates(due), "phasetransferfinaldate": _fmt_dates(final),
        }

        # placementdetail: one row per plan, linked to the plan's latest activeplans row
        last_ap = np.zeros(n, dtype=np.int64)
        last_ap[rp] = apid  # rows are sorted by plan then meeting, so the last write wins
        urn2, ukprn2, setting2 = self._settings(rng, n, age_now, pool_urn, pool_special, pool_college)
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
        entry = np.minimum(_weekday_back(entry), E - 1)
        leaving = np.where(ceased, cease, NA)
        placementdetail = {
            "placementdetailtableid": npid, "activeplanstableid": last_ap, "urn": urn2, "ukprn": ukprn2,
            "sensetting": setting2, "sensettingother": np.full(n, "", dtype=object),
            "placementrank": np.ones(n, dtype=np.int64), "entrydate": _fmt_dates(entry),
            "leavingdate": _fmt_dates(leaving),
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

    def _person(self, n, birth):
        rng = self.rng(11)
        E = self.E
        sex = np.where(rng.random(n) < 0.71, "M", "F").astype(object)
        eth = _choice(rng, ETHNICITIES, ETHNICITY_WEIGHTS, n).astype(object)
        male = sex == "M"
        fore = np.where(male, np.asarray(_M_NAMES, dtype=object)[rng.integers(0, len(_M_NAMES), n)],
                        np.asarray(_F_NAMES, dtype=object)[rng.integers(0, len(_F_NAMES), n)])
        sur = np.asarray(_SURNAMES, dtype=object)[rng.integers(0, len(_SURNAMES), n)]

        # Postcodes: outward code of the area + inward 'digit letter letter'; unique where the space allows.
        if self.scale_name == "la":
            outward = np.asarray(_OUTWARD_LA)
        else:
            areas = _REGION_AREAS if self.scale_name == "region" else _ENGLAND_AREAS
            outward = np.asarray([f"{a}{d}" for a, top in areas.items() for d in range(1, top + 1)])
        space = len(outward) * 10 * 400
        code = (_unique_ints(rng, 0, space, n) if n <= space // 2 else rng.integers(0, space, n))
        inward = (code % 4000)
        postcode = (outward[code // 4000].astype(object) + " " + (inward // 400).astype(str).astype(object)
                    + _INWARD_LETTERS[(inward // 20) % 20].astype(object) + _INWARD_LETTERS[inward % 20].astype(object))

        # UPN: check letter + LA (3) + establishment (4) + year allocated (2) + serial (3); valid check letter.
        age_e = (E - birth) / 365.25
        has_upn = ~((age_e < 3.0) | (rng.random(n) < 0.01))
        la = np.full(n, int(self.lea))
        other = rng.random(n) < 0.15
        la_codes = np.asarray(_OTHER_LAS, dtype=np.int64)
        if self.scale_name != "la":
            la_codes = np.concatenate((la_codes, np.arange(201, 214), np.arange(301, 321), np.arange(800, 897)))
            other = np.ones(n, dtype=bool)
        la[other] = la_codes[rng.integers(0, len(la_codes), other.sum())]
        estab_base = np.asarray([1000, 2000, 3000, 4000, 5200, 7000])
        estab = _choice(rng, estab_base, (0.03, 0.50, 0.15, 0.20, 0.07, 0.05), n) + rng.integers(0, 400, n)
        yy = (_year(birth) + 4) % 100
        key = ((la * 10000 + estab) * 100 + yy) * 1000
        serial = rng.integers(0, 1000, n)
        for _ in range(100):
            full = key + serial
            _, first = np.unique(full, return_index=True)
            dup = np.ones(n, dtype=bool)
            dup[first] = False
            if not dup.any():
                break
            serial[dup] = rng.integers(0, 1000, dup.sum())
        number = key + serial
        digits = number[:, None] // 10 ** np.arange(11, -1, -1, dtype=np.int64) % 10  # characters 2..13
        check = _UPN_CHECK[(digits * np.arange(2, 14)).sum(axis=1) % 23]
        upn = check.astype(object) + np.char.zfill(number.astype(str), 12).astype(object)
        upn[~has_upn] = ""
        unknown = np.where(age_e < 6, "UN1", "UN2").astype(object)
        unknown[has_upn] = ""

        # ULN: 10 digits with the ESFA mod-11 check digit, for young people 14+ at export.
        has_uln = age_e >= 14
        base = _unique_ints(rng, 100_000_000, 1_000_000_000, n)
        bd = base[:, None] // 10 ** np.arange(8, -1, -1, dtype=np.int64) % 10
        rem = (bd * np.arange(10, 1, -1)).sum(axis=1) % 11
        for _ in range(100):  # remainder 0 would need check digit 10: draw a fresh base
            bad = rem == 0
            if not bad.any():
                break
            fresh = rng.integers(100_000_000, 1_000_000_000, bad.sum())
            base[bad] = fresh
            _, first = np.unique(base, return_index=True)
            dupe = np.ones(n, dtype=bool)
            dupe[first] = False
            base[dupe] = base[dupe] + 1  # nudge rare duplicates, re-checked next round
            bd = base[:, None] // 10 ** np.arange(8, -1, -1, dtype=np.int64) % 10
            rem = (bd * np.arange(10, 1, -1)).sum(axis=1) % 11
        uln = (base * 10 + (10 - rem)).astype(str).astype(object)
        uln[~has_uln] = ""
        return {
            "persontableid": np.arange(1, n + 1), "sen2tableid": np.ones(n, dtype=np.int64),
            "surname": sur, "forename": fore, "personbirthdate": _fmt_dates(birth), "sex": sex,
            "ethnicity": eth, "postcode": postcode, "upn": upn, "uniquelearnernumber": uln,
            "upnunknown": unknown,
        }


def _write(path: Path, module: str, data: dict[str, np.ndarray]) -> None:
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
        target = str(path).replace("'", "''")
        con.execute(f"COPY (SELECT * FROM t ORDER BY \"{module}orderseqcolumn\") TO '{target}' "
                    "(FORMAT csv, HEADER, DELIMITER ',')")
    finally:
        con.close()


def _as_extracts(out: Path, sim, tables: dict, history: bool) -> dict:
    """The final extract holds each plan's latest review only, as SEN2 does; with ``history``, the earlier
    extracts that carry the rest are written under ``out/history/`` (demo/history.py)."""
    from demo import history as sh

    raw = dict(sim.history_raw)
    ap = tables["activeplans"]
    apid = np.asarray(ap["activeplanstableid"])
    meet = np.where(raw["meet"] == NA, -1, raw["meet"])
    latest = sh.latest_rows(raw["plan"], meet)
    final_id = np.zeros(int(raw["plan"].max()) + 1 if len(raw["plan"]) else 1, dtype=np.int64)
    final_id[raw["plan"][latest]] = apid[latest]
    raw["final_id"] = final_id[raw["plan"]]
    if history:
        days = sh.snapshot_days(sim.S, sim.E)  # the window's census days and the plan window's month ends
        sh.write_history(out, tables, raw, days, _fmt_dates, file_name, _write)
    kept = apid[latest]
    need = np.flatnonzero(np.isin(tables["senneed"]["activeplanstableid"], kept))
    return {**tables, "activeplans": sh.take(ap, latest), "senneed": sh.take(tables["senneed"], need)}


def generate(out_dir: Path, seed: int = DEFAULT_SEED, start: str = "2019-01", months: int = 72,
             scale: str = "la", factor: float | None = None, lea: str = LEA, pct_shift: float = 0.0,
             history: bool = False) -> list[Path]:
    """Write the nine SEN2 Blade CSVs for the window [start, start + months) into out_dir.

    seed: same seed and arguments give byte-identical files. start: 'YYYY-MM'. months: window length.
    scale: 'la' (one area, Central Bedfordshire-sized), 'region' (~10x) or 'england' (~150x).
    factor, lea, pct_shift: one area of a multi-area demo (demo/areas.py): its size relative to Central
    Bedfordshire, its DfE LA number, and points added to the published 20-week rates (its own history).
    The export date is the first day after the window; events on or after it are left blank (pending).
    The extract holds each plan's latest review only (as SEN2 does); ``history`` also writes the earlier extracts
    that carry the rest into ``history/<YYYY-MM-DD>/`` (demo/history.py), to be loaded oldest first.
    Returns the paths in MODULES order. Raises ValueError for a bad scale, months or start.
    """
    sim = _Sim(seed, start, months, scale, factor, lea, pct_shift)
    tables = sim.build()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    export = _dt.date(1970, 1, 1) + _dt.timedelta(days=sim.E)
    tables = _as_extracts(out, sim, tables, history)
    paths = []
    for module in MODULES:
        path = out / file_name(module, export)
        _write(path, module, tables[module])
        paths.append(path)
    return paths
