"""The Explore engine on hand-built extracts: breakdowns add up to the headline, blanks are 'Not recorded',
filters, ranges and comparisons (figures worked out in tests/support/explore_fixture.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from kpi.engine import explore as ex
from kpi.engine.compute import series_window
from kpi.engine.explore import NOT_RECORDED, TOTAL, Span
from kpi.engine.series import kpi_series, open_readonly
from tests.support.blade import Blade
from tests.support.explore_fixture import small_extract, varied_extract


@pytest.fixture
def small(build_db):
    con = open_readonly(build_db(small_extract()))
    yield con
    con.close()


@pytest.fixture
def varied(build_db):
    con = open_readonly(build_db(varied_extract()))
    yield con
    con.close()


def groups(df: pd.DataFrame) -> pd.DataFrame:
    return df[~df["is_total"]].set_index("group")


def total(df: pd.DataFrame) -> pd.Series:
    assert df.iloc[-1]["group"] == TOTAL and bool(df.iloc[-1]["is_total"])
    return df.iloc[-1]


def _same(a, b) -> bool:
    if a is None or pd.isna(a):
        return b is None or pd.isna(b)
    return b is not None and not pd.isna(b) and a == pytest.approx(b)


@pytest.mark.slow  # every KPI × breakdown × month (~18 s)
def test_every_kpi_breakdown_adds_up_to_the_headline_every_month(varied, catalogue):
    series = kpi_series(varied, catalogue).set_index(["kpi_id", "period"])
    window = series_window(varied, catalogue)
    assert window.months > 24
    periods = sorted(series.index.get_level_values("period").unique())
    checked = skipped = 0
    for kpi in map(catalogue.get, catalogue.event_ids):  # the waiting lists have no SEN2 event rows
        assert series.loc[kpi.id, "numerator"].fillna(0).sum() > 0, f"{kpi.id}: fixture has no events"
        for i, period in enumerate(periods):
            by = ex.DIMENSIONS[i % len(ex.DIMENSIONS)].id  # every dimension, in turn, over the months
            df = ex.breakdown(varied, kpi, by, Span.month(period))
            head = series.loc[(kpi.id, period)]
            if kpi.is_snapshot and not head["complete"]:
                skipped += 1  # the headline has no month-end count for a month the extract covers in part
                continue
            t = total(df)
            g = groups(df)
            head_num = 0 if pd.isna(head["numerator"]) else head["numerator"]  # a month without plans sums to 0
            assert t["numerator"] == pytest.approx(head_num), (kpi.id, period)
            assert g["numerator"].sum() == pytest.approx(t["numerator"]), (kpi.id, period, by)
            if kpi.is_snapshot:
                assert pd.isna(t["denominator"])
            else:
                assert t["denominator"] == head["denominator"] == g["denominator"].sum(), (kpi.id, period, by)
            assert _same(head["value"], t["value"]), (kpi.id, period, head["value"], t["value"])
            if not pd.isna(head["median"]):
                assert t["median"] == pytest.approx(head["median"])
            checked += 1
    partial = len(series[~series["complete"].astype(bool)].index.get_level_values("period").unique())
    snapshots = sum(catalogue.get(k).is_snapshot for k in catalogue.event_ids)
    assert skipped == snapshots * partial and partial == 1  # the extract's own month
    assert checked + skipped == len(catalogue.event_ids) * len(periods)


def test_a_range_of_months_sums_the_months_and_a_count_is_taken_at_its_end(varied, catalogue):
    series = kpi_series(varied, catalogue).set_index(["kpi_id", "period"])
    span = Span("2022-07", "2022-12")
    months = [f"2022-{m:02d}" for m in range(7, 13)]
    for kpi in map(catalogue.get, catalogue.event_ids):  # the waiting lists have no SEN2 event rows
        t = total(ex.breakdown(varied, kpi, "sex", span))
        rows = series.loc[[(kpi.id, p) for p in months]]
        if kpi.is_snapshot:
            assert t["numerator"] == series.loc[(kpi.id, "2022-12"), "numerator"]
        else:
            assert t["numerator"] == pytest.approx(rows["numerator"].fillna(0).sum())
            assert t["denominator"] == rows["denominator"].sum()


def test_sex_breakdown_of_march_2023_by_hand(small, catalogue):
    df = ex.breakdown(small, catalogue.get("ehcp_20wk_incl"), "sex", Span.month("2023-03"))
    assert list(df["group"]) == ["Female", "Male", NOT_RECORDED, TOTAL]
    g = groups(df)
    assert (g.loc["Female", "numerator"], g.loc["Female", "denominator"], g.loc["Female", "value"]) == (0, 2, 0.0)
    assert (g.loc["Male", "numerator"], g.loc["Male", "denominator"]) == (1, 1)
    assert (g.loc[NOT_RECORDED, "numerator"], g.loc[NOT_RECORDED, "denominator"]) == (1, 1)
    t = total(df)
    assert (t["numerator"], t["denominator"], t["value"]) == (2, 4, 50.0)


def test_exceptions_are_left_out_as_in_the_headline(small, catalogue):
    df = ex.breakdown(small, catalogue.get("ehcp_20wk_excl"), "ethnicity", Span.month("2023-03"))
    g = groups(df)
    assert list(g.index) == ["Mixed", "White", NOT_RECORDED]  # C (exception) is not counted; D refused
    assert (g.loc["White", "numerator"], g.loc["White", "denominator"]) == (1, 1)
    assert (g.loc[NOT_RECORDED, "numerator"], g.loc[NOT_RECORDED, "denominator"]) == (0, 1)
    assert total(df)["value"] == pytest.approx(100 / 3)


def test_age_bands_follow_the_boundaries_and_are_in_age_order(small, catalogue):
    df = ex.breakdown(small, catalogue.get("ehcp_20wk_incl"), "age_band", Span("2023-03", "2023-04"))
    g = groups(df)
    assert list(g.index) == ["Under 5", "5 to 10", "11 to 15", "16 to 19"]  # ages 3; 10 and 7; 11; 16
    assert g["denominator"].tolist() == [1, 2, 1, 1]
    assert g["numerator"].tolist() == [1, 1, 1, 0]
    t = total(df)
    assert (t["numerator"], t["denominator"], t["value"]) == (3, 5, 60.0)


def test_locality_need_and_placement_with_blanks_as_not_recorded(small, catalogue):
    kpi = catalogue.get("ehcp_20wk_incl")
    march = Span.month("2023-03")
    loc = groups(ex.breakdown(small, kpi, "locality", march))
    assert loc["denominator"].to_dict() == {"LU5": 2, "MK45": 1, NOT_RECORDED: 1}
    need = groups(ex.breakdown(small, kpi, "primary_need", march))
    # A's latest active-plan record says ASD (rank 1; SLCN is rank 2 and an older record says MLD)
    assert need["denominator"].to_dict() == {"Autistic spectrum disorder (ASD)": 1,
                                             "Social, emotional and mental health (SEMH)": 1, NOT_RECORDED: 2}
    place = groups(ex.breakdown(small, kpi, "placement", march))
    assert place["denominator"].to_dict() == {"Elective home education (EHE)": 1, "School (URN)": 1, NOT_RECORDED: 2}
    src = groups(ex.breakdown(small, kpi, "request_source", march))
    assert src["denominator"].to_dict() == {"Parent": 1, "School": 1, "Young person": 1, NOT_RECORDED: 1}


def test_ethnicity_codes_map_to_groups_and_unknown_codes_are_shown(varied):
    values = ex.dimension_values(varied, "ethnicity")
    assert values == ["Any other ethnic group", "Asian or Asian British", "Black or Black British", "Chinese",
                      "Mixed", "Unrecognised code ZZZZ", "White", NOT_RECORDED]


def test_filters_narrow_the_breakdown_and_not_recorded_can_be_chosen(small, catalogue):
    kpi = catalogue.get("ehcp_20wk_incl")
    march = Span.month("2023-03")
    df = ex.breakdown(small, kpi, "age_band", march, filters={"sex": ["Female"]})
    assert groups(df)["denominator"].to_dict() == {"5 to 10": 1, "16 to 19": 1}
    df = ex.breakdown(small, kpi, "sex", march, filters={"locality": ["LU5", NOT_RECORDED]})
    assert total(df)["denominator"] == 3
    df = ex.breakdown(small, kpi, "sex", march, filters={"locality": ["LU5"], "sex": ["Female"]})
    assert (total(df)["numerator"], total(df)["denominator"]) == (0, 1)  # D only
    df = ex.breakdown(small, kpi, "sex", march, filters={"locality": ["LU5"], "sex": []})  # empty = no filter
    assert total(df)["denominator"] == 2


def test_filter_values_are_bound_not_pasted(small, catalogue):
    df = ex.breakdown(small, catalogue.get("ehcp_20wk_incl"), "sex", Span.month("2023-03"),
                      filters={"locality": ["LU5') OR TRUE OR ('"]})
    assert list(df["group"]) == [TOTAL]
    assert total(df)["denominator"] == 0 and pd.isna(total(df)["value"])


def test_empty_month_has_no_value_not_zero(small, catalogue):
    df = ex.breakdown(small, catalogue.get("ehcp_20wk_incl"), "sex", Span.month("2023-02"))
    t = total(df)
    assert (t["numerator"], t["denominator"]) == (0, 0)
    assert pd.isna(t["value"])


def test_compare_two_periods_keeps_groups_seen_in_either(small, catalogue):
    df = ex.breakdown(small, catalogue.get("ehcp_20wk_incl"), "age_band", Span.month("2023-04"),
                      compare=Span.month("2023-03"))
    g = groups(df)
    assert list(g.index) == ["Under 5", "5 to 10", "11 to 15", "16 to 19"]
    assert g.loc["Under 5", "denominator"] == 0 and pd.isna(g.loc["Under 5", "value"])
    assert (g.loc["Under 5", "numerator_b"], g.loc["Under 5", "denominator_b"]) == (1, 1)
    assert pd.isna(g.loc["Under 5", "change"])
    assert (g.loc["5 to 10", "value"], g.loc["5 to 10", "value_b"], g.loc["5 to 10", "change"]) == (100.0, 0.0, 100.0)
    t = total(df)
    assert (t["value"], t["value_b"], t["change"]) == (100.0, 50.0, 50.0)


def test_mean_weeks_breakdown_sums_weeks_and_gives_medians(small, catalogue):
    df = ex.breakdown(small, catalogue.get("ehcp_weeks_to_issue"), "sex", Span.month("2023-03"))
    g = groups(df)
    assert g.loc["Female", "denominator"] == 2
    assert g.loc["Female", "value"] == pytest.approx((160 + 150) / 2 / 7)
    assert g.loc["Female", "median"] == pytest.approx((160 + 150) / 2 / 7)
    assert total(df)["value"] == pytest.approx((58 + 160 + 109 + 150) / 4 / 7)


def test_count_kpi_breakdown_is_taken_at_month_end(small, catalogue):
    # B: received 2022-10-01, over 20 weeks from 2023-02-19, plan issued 2023-03-10
    kpi = catalogue.get("ehcna_open_over_20wk")
    feb = ex.breakdown(small, kpi, "sex", Span.month("2023-02"))
    assert groups(feb)["numerator"].to_dict() == {"Female": 1}
    assert total(ex.breakdown(small, kpi, "sex", Span.month("2023-03")))["numerator"] == 0


def test_available_dimensions_are_those_the_tables_hold(build_db):
    b = Blade()
    b.issued_plan("2023-01-02", "2023-03-01")
    con = open_readonly(build_db(b))
    try:
        ids = [d.id for d in ex.available_dimensions(con)]
    finally:
        con.close()
    assert "placement" not in ids and "primary_need" not in ids and "request_source" not in ids
    assert {"age_band", "sex", "ethnicity", "locality"} <= set(ids)


def test_bad_choices_are_refused_with_a_reason():
    with pytest.raises(ValueError, match="unknown breakdown 'shoe_size'"):
        ex.dimension("shoe_size")
    with pytest.raises(ValueError, match="YYYY-MM"):
        Span("2023-13", "2023-13")
    with pytest.raises(ValueError, match="after it ends"):
        Span("2023-05", "2023-04")


def test_default_comparison_is_a_year_earlier_or_the_months_before():
    months = [f"{y}-{m:02d}" for y in (2022, 2023) for m in range(1, 13)]
    assert ex.default_comparison(Span("2023-04", "2023-06"), months) == Span("2022-04", "2022-06")
    assert ex.default_comparison(Span("2022-04", "2022-06"), months) == Span("2022-01", "2022-03")
    assert ex.default_comparison(Span.month("2022-01"), months) == Span.month("2022-01")
    assert Span("2022-11", "2023-02").months == 4 and Span.month("2023-01").months == 1
