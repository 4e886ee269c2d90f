"""Tests for demo.sen2: file layout, integrity, realistic identifiers and calibration to Central Bedfordshire's
published figures.

The calibration checks read the CSVs back with pandas and recompute the published measures from scratch
(nothing here reuses generator internals), so they test what a loader and the KPI engine will actually see.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from demo.sen2 import generate

FMT = "%Y-%b-%d %H:%M:%S"
EXPORT = pd.Timestamp(2025, 1, 1)
YEARS = range(2019, 2025)
MODULES = ["sen2", "person", "requests", "assessment", "namedplan", "plandetail", "activeplans",
           "placementdetail", "senneed"]
# Field lists as DfE's SEN2 Blade export names them (spelled out here, not imported, so a drift in the generator shows).
FIELDS = {
    "sen2": "sen2tableid collection year referencedate sourcelevel lea softwarecode release serialno datetime "
            "dmo dco dsco",
    "person": "persontableid sen2tableid surname forename personbirthdate sex ethnicity postcode upn "
              "uniquelearnernumber upnunknown",
    "requests": "requeststableid persontableid receiveddate requestsource rya requestoutcomedate requestoutcome "
                "requestmediation requesttribunal exported",
    "assessment": "assessmenttableid requeststableid assessmentoutcome assessmentoutcomedate assessmentmediation "
                  "assessmenttribunal othermediation othertribunal week20",
    "namedplan": "namedplantableid assessmenttableid startdate planres planwbp pb oa dp ceasedate ceasereason",
    "plandetail": "plandetailtableid namedplantableid urn ukprn sensetting sensettingother placementrank "
                  "senunitindicator resourcedprovisionindicator",
    "activeplans": "activeplanstableid requeststableid transferla reviewmeeting lastreview reviewoutcome "
                   "reviewdraft phasetransferduedate phasetransferfinaldate",
    "placementdetail": "placementdetailtableid activeplanstableid urn ukprn sensetting sensettingother "
                       "placementrank entrydate leavingdate senunitindicator resourcedprovisionindicator res wbp",
    "senneed": "senneedtableid activeplanstableid sentype sentyperank",
}
DATE_COLUMNS = {
    "sen2": ["referencedate", "datetime"], "person": ["personbirthdate"],
    "requests": ["receiveddate", "requestoutcomedate"], "assessment": ["assessmentoutcomedate"],
    "namedplan": ["startdate", "ceasedate"], "plandetail": [],
    "activeplans": ["reviewmeeting", "lastreview", "reviewdraft", "phasetransferduedate", "phasetransferfinaldate"],
    "placementdetail": ["entrydate", "leavingdate"], "senneed": [],
}
# Central Bedfordshire's published figures, calendar years (DfE, Education, health and care plans, 2025)
REQUESTS = dict(zip(YEARS, [375, 478, 618, 736, 909, 944], strict=True))
ISSUED = dict(zip(YEARS, [206, 324, 474, 530, 721, 649], strict=True))
PCT_INCL = dict(zip(YEARS, [88.3, 51.2, 10.8, 9.4, 27.5, 42.5], strict=True))
PCT_EXCL = dict(zip(YEARS, [88.8, 61.9, 12.7, 12.0, 33.4, 48.8], strict=True))
NO_EXC = dict(zip(YEARS, [205, 268, 401, 391, 583, 555], strict=True))
HELD_JAN = dict(zip(range(2019, 2026), [1747, 1833, 2105, 2546, 2919, 3541, 4035], strict=True))


def _expected_columns(module: str) -> list[str]:
    return [*FIELDS[module].split(), "NativeId", f"{module}orderseqcolumn", "sourceid"]


def _dates(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s.where(s != ""), format=FMT)


def _upn_check_letter(body12: str) -> str:
    """DfE UPN check letter: characters 2-13 weighted 2..13, sum mod 23 into the 23-letter alphabet."""
    total = sum(int(ch) * w for ch, w in zip(body12, range(2, 14), strict=True))
    return "ABCDEFGHJKLMNPQRTUVWXYZ"[total % 23]


def _uln_valid(uln: str) -> bool:
    """ULN: 10 digits; weights 10..2 on the first nine, check digit = 10 - (sum mod 11)."""
    rem = sum(int(ch) * w for ch, w in zip(uln[:9], range(10, 1, -1), strict=True)) % 11
    return rem != 0 and int(uln[9]) == 10 - rem


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> list[Path]:
    return generate(tmp_path_factory.mktemp("synth"), history=True)


@pytest.fixture(scope="module")
def every_review(out, data) -> pd.DataFrame:
    """Every review any extract showed (the final one and the earlier ones under history/), one row per plan and
    meeting in its newest extract's version: what the product's review_history holds after loading them in order."""
    folders = sorted((out[0].parent / "history").iterdir())
    frames = [pd.read_csv(next(f.glob("*_activeplans.csv")), dtype=str, keep_default_na=False) for f in folders]
    ap = pd.concat([*frames, data["activeplans"]], ignore_index=True)
    return ap.drop_duplicates(["requeststableid", "reviewmeeting"], keep="last")


@pytest.fixture(scope="module")
def data(out) -> dict[str, pd.DataFrame]:
    return {m: pd.read_csv(p, dtype=str, keep_default_na=False) for m, p in zip(MODULES, out, strict=True)}


@pytest.fixture(scope="module")
def flows(data) -> pd.DataFrame:
    """Assessments joined to their requests, with parsed dates and days from request to outcome."""
    r = data["requests"].assign(rec=lambda d: _dates(d.receiveddate), dec=lambda d: _dates(d.requestoutcomedate))
    a = data["assessment"].assign(out=lambda d: _dates(d.assessmentoutcomedate))
    f = a.merge(r[["requeststableid", "rec", "dec", "requestoutcome"]], on="requeststableid", how="left")
    return f.assign(days=(f.out - f.rec).dt.days)


@pytest.fixture(scope="module")
def requests(data) -> pd.DataFrame:
    return data["requests"].assign(rec=lambda d: _dates(d.receiveddate), dec=lambda d: _dates(d.requestoutcomedate))


# ---------------------------------------------------------------------------------------------------------
# Layout, determinism, integrity
# ---------------------------------------------------------------------------------------------------------
def test_file_names_and_headers(out):
    assert [p.name for p in out] == [f"Blade-Export_01-01-2025_{m}.csv" for m in MODULES]
    for module, path in zip(MODULES, out, strict=True):
        raw = path.read_bytes()
        assert b"\r" not in raw
        text = raw.decode("utf-8")
        assert text.endswith("\n")
        assert text.split("\n", 1)[0].split(",") == _expected_columns(module)


def test_same_seed_same_bytes_and_other_seed_differs(out, tmp_path):
    again = generate(tmp_path / "again")
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in out]
    other = generate(tmp_path / "other", seed=7)
    assert other[2].read_bytes() != out[2].read_bytes()
    assert other[1].read_bytes() != out[1].read_bytes()


def test_dates_parse_and_nothing_after_export(data):
    for module, cols in DATE_COLUMNS.items():
        for col in cols:
            s = data[module][col]
            assert s.str.fullmatch(r"(\d{4}-[A-Z][a-z]{2}-\d{2} 00:00:00)?").all(), (module, col)
            parsed = _dates(s)
            assert parsed.notna().sum() == (s != "").sum()
            assert (parsed.dropna() <= EXPORT).all(), (module, col)
    # events strictly before the export date (the header's reference date is the export date itself)
    for module, col in [("requests", "receiveddate"), ("requests", "requestoutcomedate"),
                        ("assessment", "assessmentoutcomedate"), ("namedplan", "ceasedate"),
                        ("activeplans", "lastreview"), ("activeplans", "reviewmeeting")]:
        assert (_dates(data[module][col]).dropna() < EXPORT).all()


def test_ids_unique_and_foreign_keys_resolve(data):
    for module in MODULES:
        ids = data[module][f"{module}tableid"].astype(int)
        assert ids.is_unique and (ids > 0).all()
        assert (data[module][f"{module}orderseqcolumn"].astype(int) == np.arange(1, len(ids) + 1)).all()
    assert len(data["sen2"]) == 1 and data["sen2"].lea.iloc[0] == "823"
    fks = [("person", "sen2tableid", "sen2"), ("requests", "persontableid", "person"),
           ("assessment", "requeststableid", "requests"), ("namedplan", "assessmenttableid", "assessment"),
           ("plandetail", "namedplantableid", "namedplan"), ("activeplans", "requeststableid", "requests"),
           ("placementdetail", "activeplanstableid", "activeplans"), ("senneed", "activeplanstableid", "activeplans")]
    for child, col, parent in fks:
        assert data[child][col].isin(data[parent][f"{parent}tableid"]).all(), (child, col)


def test_process_consistency(data, flows):
    r, a, n = data["requests"], data["assessment"], data["namedplan"]
    assert set(r.requestoutcome) <= {"Y", "N", "W", "A", "H"}
    assert set(a.assessmentoutcome) <= {"Y", "N", "W", "A"}
    # one assessment per request decided Y (or H, the legacy stock), none for the others
    assessed = r.requeststableid[r.requestoutcome.isin(["Y", "H"])]
    assert sorted(a.requeststableid) == sorted(assessed)
    assert ((r.requestoutcome == "A") == (r.requestoutcomedate == "")).all()
    assert ((a.assessmentoutcome == "A") == (a.assessmentoutcomedate == "")).all()
    # a plan for exactly the issued assessments; each plan starts on its issue date
    issued = a[a.assessmentoutcome == "Y"]
    assert sorted(n.assessmenttableid) == sorted(issued.assessmenttableid)
    assert (n.set_index("assessmenttableid").startdate.loc[issued.assessmenttableid].values
            == issued.assessmentoutcomedate.values).all()
    assert (flows.dec >= flows.rec).all() and (flows.out.dropna() >= flows.dec[flows.out.notna()]).all()
    assert ((n.ceasedate == "") == (n.ceasereason == "")).all()
    # legacy stock: H requests received 2006-2018 with plans issued before the window
    legacy = flows[flows.requestoutcome == "H"]
    assert len(legacy) > 1000 and legacy.rec.dt.year.between(2006, 2018).all()
    assert (legacy.out < pd.Timestamp(2019, 1, 1)).all() and (legacy.assessmentoutcome == "Y").all()
    # every plan has review rows and exactly one placement, each review row a primary need
    plan_requests = set(flows.requeststableid[flows.assessmentoutcome == "Y"])
    ap = data["activeplans"]
    assert set(ap.requeststableid) == plan_requests
    pl = data["placementdetail"].merge(ap[["activeplanstableid", "requeststableid"]], on="activeplanstableid")
    assert pl.requeststableid.is_unique and set(pl.requeststableid) == plan_requests
    need = data["senneed"]
    assert set(need.activeplanstableid[need.sentyperank == "1"]) == set(ap.activeplanstableid)
    assert not need.duplicated(["activeplanstableid", "sentyperank"]).any()


# ---------------------------------------------------------------------------------------------------------
# People and identifiers
# ---------------------------------------------------------------------------------------------------------
def test_identifiers_look_real_and_are_unique(data):
    p = data["person"]
    assert p.persontableid.is_unique
    upn = p.upn[p.upn != ""]
    assert len(upn) > 0.9 * len(p) and upn.is_unique
    assert upn.str.fullmatch(r"[A-Z]\d{12}").all()
    assert all(u[0] == _upn_check_letter(u[1:]) for u in upn)
    assert (p.upnunknown[p.upn == ""] != "").all() and (p.upnunknown[p.upn != ""] == "").all()
    uln = p.uniquelearnernumber[p.uniquelearnernumber != ""]
    assert len(uln) > 0.3 * len(p) and uln.is_unique
    assert uln.str.fullmatch(r"\d{10}").all() and all(_uln_valid(u) for u in uln)
    cb = r"(LU[567]|SG(5|1[5-9])|MK(17|43|45)) \d[ABDEFGHJLNPQRSTUWXYZ]{2}"
    assert p.postcode.str.fullmatch(cb).all() and p.postcode.is_unique
    assert p.forename.str.fullmatch(r"[A-Z][a-z]+").all()
    assert p.surname.str.fullmatch(r"[A-Z][A-Za-z'\-]+").all()
    assert p.surname.nunique() > 150 and p.forename.nunique() > 150
    assert set(p.sex) == {"M", "F"} and 0.6 < (p.sex == "M").mean() < 0.8
    eth = p.ethnicity.value_counts(normalize=True)
    assert 0.6 < eth["WBRI"] < 0.9 and len(eth) >= 15


def test_ages_and_repeat_requests(data, requests):
    r = requests.merge(data["person"][["persontableid", "personbirthdate"]], on="persontableid")
    age = (r.rec - _dates(r.personbirthdate)).dt.days / 365.25
    assert (age >= 0).all() and (age <= 25).all()
    assert 0.75 < age.between(2, 17).mean() < 0.98
    per_person = r.groupby("persontableid").size()
    assert 0.10 <= (per_person >= 2).mean() <= 0.15
    # a repeat request comes after the earlier one was decided; typically an early refusal then assessment
    multi = r[r.persontableid.isin(per_person.index[per_person >= 2])].sort_values(["persontableid", "rec"])
    first, second = multi.groupby("persontableid").nth(0), multi.groupby("persontableid").nth(1)
    assert (second.rec.values > first.dec.values).all()
    assert ((first.requestoutcome.values == "N") & (second.requestoutcome.values == "Y")).sum() > 100


# ---------------------------------------------------------------------------------------------------------
# Calibration to the published figures above (default seed, 'la' scale, Jan 2019 - Dec 2024)
# ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("year", YEARS)
def test_requests_received_per_year(requests, year):
    n = (requests.rec.dt.year == year).sum()
    assert abs(n - REQUESTS[year]) <= 0.10 * REQUESTS[year]


@pytest.mark.parametrize("year", YEARS)
def test_plans_issued_and_20_week_rates(flows, year):
    issued = flows[(flows.assessmentoutcome == "Y") & (flows.out.dt.year == year)]
    assert abs(len(issued) - ISSUED[year]) <= 0.10 * ISSUED[year]
    assert abs(100 * (issued.days <= 140).mean() - PCT_INCL[year]) <= 5
    no_exc = issued[issued.week20 == "0"]
    assert abs(len(no_exc) - NO_EXC[year]) <= 0.10 * NO_EXC[year]
    assert abs(100 * (no_exc.days <= 140).mean() - PCT_EXCL[year]) <= 5
    exc = issued[issued.week20 == "1"]
    if year >= 2020:
        assert len(exc) > 0.10 * len(issued) and (exc.days > 140).mean() > 0.9


def test_twenty_week_boundary_is_hit(flows):
    issued = flows[flows.assessmentoutcome == "Y"]
    assert (issued.days == 140).any() and (issued.days == 141).any()


def test_2023_recovery_is_progressive(flows):
    p = flows[(flows.assessmentoutcome == "Y") & (flows.out.dt.year == 2023) & (flows.week20 == "0")]
    monthly = (p.days <= 140).groupby(p.out.dt.month).mean() * 100
    q1, q4 = monthly.loc[1:3].mean(), monthly.loc[10:12].mean()
    assert q1 < 25 and 40 <= q4 <= 60 and q4 - q1 >= 20
    assert monthly.loc[12] >= 35


def test_request_decisions_within_6_weeks(requests):
    yn = requests[requests.requestoutcome.isin(["Y", "N"])]
    rate = ((yn.dec - yn.rec).dt.days <= 42).groupby(yn.dec.dt.year).mean() * 100
    assert abs(rate[2024] - 92.9) <= 5
    assert 60 <= rate[2021] <= 75 and 60 <= rate[2022] <= 75


def test_refusals_withdrawals_and_pending_requests(requests):
    decided = requests[requests.requestoutcome.isin(["Y", "N"]) & requests.dec.dt.year.between(2019, 2024)]
    assert 0.12 <= (decided.requestoutcome == "N").mean() <= 0.30
    refused = (decided.requestoutcome == "N").groupby(decided.dec.dt.year).mean()
    assert refused[2019] >= 0.15 and refused[2024] >= 0.15  # published figures leave little room in 2020-22
    for year in YEARS:
        assert ((requests.requestoutcome == "N") & (requests.dec.dt.year == year)).sum() > 10
    withdrawn = requests[requests.requestoutcome == "W"]
    assert 0.01 <= len(withdrawn) / len(requests[requests.rec.dt.year >= 2019]) <= 0.05
    pending = requests[requests.requestoutcome == "A"]
    assert len(pending) > 20 and pending.dec.isna().all()
    assert pending.rec.min() >= EXPORT - pd.Timedelta(weeks=17)
    assert (pending.rec >= EXPORT - pd.Timedelta(weeks=8)).mean() >= 0.9
    # almost everything received in the last six weeks is still awaiting a decision
    recent = requests[requests.rec >= EXPORT - pd.Timedelta(days=14)]
    assert (recent.requestoutcome == "A").mean() > 0.9


def test_decisions_not_to_issue(flows):
    no = flows[flows.assessmentoutcome == "N"]
    by_year = no.groupby(no.out.dt.year)
    share = by_year.size() / flows[flows.assessmentoutcome.isin(["Y", "N"])].groupby(flows.out.dt.year).size()
    for year in YEARS:
        assert 0.015 <= share[year] <= 0.10
    within16 = (no.days <= 112).groupby(no.out.dt.year).mean()
    assert within16[2019] >= 0.7 and within16[[2021, 2022]].max() < within16[2019]
    assert (flows.assessmentoutcome == "W").sum() > 10


def test_pending_assessments_and_backlog(flows):
    open_now = flows[flows.assessmentoutcome == "A"]
    assert len(open_now) > 100 and open_now.out.isna().all()
    assert (open_now.requestoutcome == "Y").all()
    # open assessments older than 20 weeks at month ends (KPI ehcna_open_over_20wk)
    assessed = flows[flows.requestoutcome == "Y"]
    backlog = {}
    for t in pd.date_range("2019-01-31", "2024-12-31", freq="ME"):
        is_open = (assessed.dec <= t) & (assessed.out.isna() | (assessed.out > t))
        backlog[t] = int((is_open & (assessed.rec < t - pd.Timedelta(days=140))).sum())
    series = pd.Series(backlog)
    late = series[series.index.year >= 2022]
    assert late.min() >= 10 and 80 <= late.max() <= 200
    assert series[series.index.year == 2019].max() < late.max()


def test_plans_held_on_census_dates(flows, data):
    n = data["namedplan"].assign(s=lambda d: _dates(d.startdate), c=lambda d: _dates(d.ceasedate))
    for year, target in HELD_JAN.items():
        census = pd.Timestamp(year, 1, 18)
        held = ((n.s <= census) & (n.c.isna() | (n.c > census))).sum()
        assert abs(held - target) <= 0.10 * target, (year, held)


def test_ceased_plans_have_realistic_reasons(data):
    n = data["namedplan"]
    reasons = n.ceasereason[n.ceasereason != ""].astype(int)
    assert len(reasons) > 300 and reasons.between(1, 9).all()
    share = reasons.value_counts(normalize=True)
    assert share[[1, 2, 4, 5]].sum() > 0.6 and {7, 9} <= set(share.index)


def test_an_extract_holds_each_plans_latest_review_only(data, out):
    """As SEN2 does: one activeplans row per plan; the earlier reviews are in the earlier extracts."""
    assert data["activeplans"].groupby("requeststableid").size().max() == 1
    folders = sorted((out[0].parent / "history").iterdir())
    assert [f.name for f in folders][:2] == ["2019-01-18", "2019-03-31"] and "2023-07-31" in [f.name for f in folders]
    for folder in folders[::9]:
        header = pd.read_csv(next(folder.glob("*_sen2.csv")), dtype=str)
        assert _dates(header.referencedate).iloc[0].date().isoformat() == folder.name
        ap = pd.read_csv(next(folder.glob("*_activeplans.csv")), dtype=str, keep_default_na=False)
        assert ap.groupby("requeststableid").size().max() == 1
        assert (_dates(ap.reviewmeeting).dropna() <= pd.Timestamp(folder.name)).all()  # nothing after its date
        assert (_dates(ap.lastreview).dropna() <= pd.Timestamp(folder.name)).all()


def test_annual_reviews(every_review):
    ap = every_review.assign(m=lambda d: _dates(d.reviewmeeting), d=lambda d: _dates(d.lastreview))
    assert set(ap.reviewoutcome) <= {"M", "A", "C", ""}
    assert ((ap.lastreview == "") == (ap.reviewoutcome == "")).all()
    assert (ap.d.dropna() >= ap.m[ap.d.notna()]).all()
    assert ap.groupby("requeststableid").size().max() > 1  # the extracts together hold every review cycle
    decided = ap[ap.d.notna()]
    within4 = ((decided.d - decided.m).dt.days <= 28).groupby(decided.d.dt.year).mean() * 100
    assert 40 <= within4[2024] <= 55
    assert within4[[2021, 2022]].max() < within4[2024]
    meetings_2024 = ap[ap.m.dt.year == 2024]
    assert 0.10 <= meetings_2024.d.isna().mean() <= 0.16
    gaps = ap.dropna(subset=["m"]).sort_values(["requeststableid", "m"]).groupby("requeststableid").m.diff().dt.days
    gaps = gaps.dropna()
    assert 0.5 < gaps.between(280, 366).mean() < 0.95 and (gaps > 366).mean() > 0.05


def test_needs_settings_and_placements(data):
    need = data["senneed"]
    primary = need[need.sentyperank == "1"].sentype.value_counts(normalize=True)
    assert 0.25 <= primary["ASD"] <= 0.36 and 0.15 <= primary["SLCN"] <= 0.25 and 0.12 <= primary["SEMH"] <= 0.22
    assert {"MLD", "SPLD", "SLD", "PD", "PMLD", "HI", "VI", "MSI", "OTH", "DS"} <= set(primary.index)
    assert 0.3 <= (need.sentyperank == "2").sum() / (need.sentyperank == "1").sum() <= 0.5
    for module in ("plandetail", "placementdetail"):
        t = data[module]
        has_urn = t.urn != ""
        assert t.urn[has_urn].str.fullmatch(r"\d{6}").all()
        assert ((t.sensetting != "") ^ has_urn).all()
        assert (t.placementrank == "1").all()
    assert (data["placementdetail"].sensetting == "NIEO").sum() > 5


# ---------------------------------------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [
    {"scale": "county"}, {"months": 0}, {"months": -1}, {"start": "2019-13"}, {"start": "2019/01"},
    {"start": "Jan 2019"}, {"start": ""},
])
def test_bad_arguments_raise(tmp_path, kwargs):
    with pytest.raises(ValueError):
        generate(tmp_path, **kwargs)


def test_other_windows_use_their_own_export_date(tmp_path):
    paths = generate(tmp_path, start="2021-04", months=9)
    assert paths[0].name == "Blade-Export_01-01-2022_sen2.csv"
    r = pd.read_csv(paths[2], dtype=str, keep_default_na=False)
    assert (_dates(r.receiveddate) < pd.Timestamp(2022, 1, 1)).all()
    assert re.fullmatch(r"\d+", r.requeststableid.iloc[-1])
