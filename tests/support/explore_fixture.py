"""Hand-built extracts for the Explore and Explain tests.

``small_extract``: five plans whose figures are worked out by hand (below). ``varied_extract``: forty requests
cycling through every kind of event and every characteristic, blanks included, for the check that a breakdown
always adds up to the headline figure.

small_extract, plans issued (ehcp_20wk_incl counts all five, ehcp_20wk_excl leaves out C's exception):

| child | sex | ethn. | postcode | age (band)    | source       | received   | issued     | days | need  | placement |
|-------|-----|-------|----------|---------------|--------------|------------|------------|------|-------|-----------|
| A     | M   | WBRI  | LU5 1AA  | 3 (Under 5)   | Parent       | 2023-01-02 | 2023-03-01 |   58 | ASD   | URN       |
| B     | F   | MWBC  | MK45 2BB | 10 (5 to 10)  | School       | 2022-10-01 | 2023-03-10 |  160 | SEMH  | EHE       |
| C     | –   | –     | –        | 11 (11 to 15) | –            | 2022-12-01 | 2023-03-20 |  109 | –     | –         |
| D     | F   | REFU  | LU5 3CC  | 16 (16 to 19) | Young person | 2022-11-01 | 2023-03-31 |  150 | –     | –         |
| E     | M   | BAFR  | SG19 4DD | 7 (5 to 10)   | Health       | 2023-01-05 | 2023-04-20 |  105 | –     | –         |

C has a week-20 exception. So March 2023: incl 2 of 4 = 50.0%, excl 1 of 3 = 33.3%; April 2023: incl 1 of 1;
February 2023 has no plans (no value). A's older active-plan record names MLD as primary need, the later one ASD.
"""

from __future__ import annotations

from datetime import date, timedelta

from tests.support.blade import Blade, blade_date


def add_need(b: Blade, active_plan: int, sen_type: str, rank: int = 1) -> None:
    b.rows["senneed"].append({"senneedtableid": b.next_id(), "activeplanstableid": active_plan, "sentype": sen_type,
                              "sentyperank": rank})


def add_placement(b: Blade, active_plan: int, urn: str = "", ukprn: str = "", setting: str = "", unit: int = 0,
                  resourced: int = 0, entry: str = "2022-09-01") -> None:
    b.rows["placementdetail"].append({
        "placementdetailtableid": b.next_id(), "activeplanstableid": active_plan, "urn": urn, "ukprn": ukprn,
        "sensetting": setting, "placementrank": 1, "entrydate": blade_date(entry), "senunitindicator": unit,
        "resourcedprovisionindicator": resourced})


def _plan(b: Blade, received: str, issued: str, week20: int = 0, source: str = "", **person) -> int:
    p = b.person(**person)
    decided = (date.fromisoformat(received) + timedelta(days=30)).isoformat()
    r = b.request(p, received, "Y", decided, requestsource=source)
    b.plan(b.assessment(r, "Y", issued, week20), issued)
    return r


def small_extract() -> Blade:
    b = Blade()
    a = _plan(b, "2023-01-02", "2023-03-01", source="Parent", birth="2019-01-10", sex="M", ethnicity="WBRI",
              postcode="LU5 1AA")
    add_need(b, b.review(a, None), "MLD")
    latest = b.review(a, "2024-02-01")
    add_need(b, latest, "ASD")
    add_need(b, latest, "SLCN", rank=2)
    add_placement(b, latest, urn="100001")
    bb = _plan(b, "2022-10-01", "2023-03-10", source="School", birth="2012-06-01", sex="F", ethnicity="MWBC",
               postcode="MK45 2BB")
    ap = b.review(bb, None)
    add_need(b, ap, "SEMH")
    add_placement(b, ap, setting="EHE")
    _plan(b, "2022-12-01", "2023-03-20", week20=1, birth="2011-12-01", sex="", ethnicity="", postcode="")
    _plan(b, "2022-11-01", "2023-03-31", source="Young person", birth="2006-05-05", sex="F", ethnicity="REFU",
          postcode="LU5 3CC")
    _plan(b, "2023-01-05", "2023-04-20", source="Health", birth="2015-01-01", sex="M", ethnicity="BAFR",
          postcode="SG19 4DD")
    return b


SEXES = ("M", "F", "", "U", "F")
ETHNICITIES = ("WBRI", "MWBC", "APKN", "BAFR", "CHNE", "OOTH", "REFU", "", "NOBT", "WOTH", "ZZZZ")
POSTCODES = ("LU5 1AA", "MK45 2BB", "", "SG19 3CC", "LU7 9XY")
SOURCES = ("Parent", "School", "", "Health", "Early years setting", "Young person")
AGES = (1, 4, 5, 10, 11, 15, 16, 19, 20, 8, 13)
NEEDS = ("ASD", "SLCN", "SEMH", None, "MLD", "PMLD")
PLACEMENTS = ({"urn": "100001"}, {"setting": "EHE"}, None, {"urn": "130001", "ukprn": "10012345"},
              {"urn": "100002", "unit": 1}, {"setting": "NIEO"}, {"urn": "100003", "resourced": 1})


def varied_extract() -> Blade:
    """Forty requests from January 2022, one every 17 days, each with a different mix of characteristics and a
    different path: refused, not issued after assessment (in or out of 16 weeks), plans issued in or out of
    20 weeks (some with exceptions), reviews decided in or out of 4 weeks, assessments left open, plans left
    without a review (overdue), plans ceased."""
    b = Blade()
    start = date(2022, 1, 3)
    for i in range(40):
        received = start + timedelta(days=17 * i)
        birth = date(received.year - AGES[i % len(AGES)], 1, 1) - timedelta(days=1)
        p = b.person(birth=birth.isoformat(), sex=SEXES[i % len(SEXES)], ethnicity=ETHNICITIES[i % len(ETHNICITIES)],
                     postcode=POSTCODES[i % len(POSTCODES)])
        source = SOURCES[i % len(SOURCES)]
        day = received.isoformat()
        path = i % 6
        if path == 0:  # refused within or just outside 6 weeks
            b.request(p, day, "N", (received + timedelta(days=42 if i % 12 == 0 else 43)).isoformat(),
                      requestsource=source)
            continue
        r = b.request(p, day, "Y", (received + timedelta(days=30 + (i % 3) * 7)).isoformat(), requestsource=source)
        if path == 1:  # not issued, within or outside 16 weeks
            b.assessment(r, "N", (received + timedelta(days=112 if i % 4 == 1 else 113)).isoformat())
            continue
        if path == 2 and i % 4 == 2:  # left open: in the backlog once over 20 weeks
            continue
        issued = received + timedelta(days=(100, 140, 141, 200)[i % 4])
        a = b.assessment(r, "Y", issued.isoformat(), week20=1 if i % 7 == 0 else 0)
        cease = (issued + timedelta(days=500)).isoformat() if i % 9 == 0 else None
        b.plan(a, issued.isoformat(), cease=cease, reason="2" if cease else "")
        if path == 5:  # no review: overdue a year after the plan starts
            continue
        meeting = issued + timedelta(days=300 + i)
        ap = b.review(r, meeting.isoformat(), (meeting + timedelta(days=28 if i % 2 else 29)).isoformat(), "M")
        if i % 4 == 3:  # a phase transfer due the next 15 February, finalised on time, late or not yet
            due = date(meeting.year + 1, 2, 15)
            final = (None, due, due + timedelta(days=5), due - timedelta(days=10), due)[i % 5]
            b.rows["activeplans"][-1].update(phasetransferduedate=blade_date(due),
                                             phasetransferfinaldate=blade_date(final))
        need = NEEDS[i % len(NEEDS)]
        if need is not None:
            add_need(b, ap, need)
        place = PLACEMENTS[i % len(PLACEMENTS)]
        if place is not None:
            add_placement(b, ap, **place)
    # Month-end edges: an assessment open over 20 weeks closed on 31 January (not open at that month end); a plan
    # whose review is held on 31 March, a year and a half after it started (overdue until then); two active-plan
    # records for one request, each with a primary need and a placement (the request counts once).
    p = b.person(sex="M", ethnicity="WBRI", postcode="LU5 2ZZ")
    r = b.request(p, "2022-06-01", "Y", "2022-07-01", requestsource="Parent")
    a = b.assessment(r, "Y", "2023-01-31")
    b.plan(a, "2023-01-31")
    p = b.person(sex="F", ethnicity="WBRI", postcode="MK45 1ZZ")
    r = b.request(p, "2021-08-02", "Y", "2021-09-01", requestsource="School")
    b.plan(b.assessment(r, "Y", "2021-10-15"), "2021-10-15")
    for meeting, need, setting in (("2023-03-31", "ASD", "EHE"), ("2023-07-31", "SLD", "OLA")):
        ap = b.review(r, meeting, (date.fromisoformat(meeting) + timedelta(days=20)).isoformat(), "M")
        add_need(b, ap, need)
        add_placement(b, ap, setting=setting)
    return b
