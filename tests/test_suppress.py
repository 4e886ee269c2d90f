"""Small-number suppression (kpi/access/suppress.py): primary, rates and complements, rolling values, nested KPIs,
breakdown tables with totals, and ``python -m kpi series --role``.

The breakdown tests play the attacker: from what is shown (and the fact that a shown 0 is a real 0, so a hidden
cell could be anything), enumerate every table consistent with it and check that no protected small count has
only one possible value."""

from __future__ import annotations

import csv
import io
import itertools
import random

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from kpi.__main__ import main as kpi_main
from kpi.access.suppress import (
    SUPPRESSED,
    NestedPair,
    SuppressionRule,
    display_frame,
    is_small,
    rate_row_hidden,
    secondary_1d,
    series_masks,
    suppress_rate_table,
    suppress_series,
)
from tests.support.blade import Blade

RULE = SuppressionRule()
LINKED = SuppressionRule(nested=[NestedPair(child="excl", parent="incl")], same_events=[["incl", "weeks"]])
UNITS = {"rate": "percent", "weeks": "weeks", "count": "count", "excl": "percent", "incl": "percent"}


def frame(kpi_id: str, rows: list[tuple], start: int = 1) -> pd.DataFrame:
    """A series for one KPI from (numerator, denominator) pairs, one per month of 2023 (then 2024)."""
    out = []
    for i, (n, d) in enumerate(rows):
        m = start - 1 + i
        value = (n if d is None else (100 * n / d if UNITS[kpi_id] == "percent" else n / d) if d else np.nan)
        out.append({"kpi_id": kpi_id, "period": f"{2023 + m // 12}-{m % 12 + 1:02d}", "numerator": float(n),
                    "denominator": d, "value": value, "rolling_12m": 50.0, "median": 20.0 if kpi_id == "weeks"
                    else np.nan, "target": 60.0, "trajectory": 40.0, "status": "on_track"})
    df = pd.DataFrame(out)
    df["denominator"] = df["denominator"].astype("Int64")
    return df


# --- single cells ----------------------------------------------------------------------------------------------

def test_counts_1_to_4_are_small_and_0_and_5_are_not():
    assert is_small([0, 1, 4, 5, np.nan], RULE).tolist() == [False, True, True, False, False]
    assert is_small(4, RULE) is True and is_small(0, RULE) is False
    nhs = SuppressionRule(min_count=1, max_count=7)
    assert is_small([7, 8], nhs).tolist() == [True, False]


def test_rule_is_checked():
    with pytest.raises(ValidationError, match="below min_count"):
        SuppressionRule(min_count=5, max_count=4)
    with pytest.raises(ValidationError):
        SuppressionRule(minimum=1)


@pytest.mark.parametrize("n,d,num_hidden,den_hidden", [
    (3, 50, True, False),    # small numerator: numerator and rate hidden, denominator shown
    (0, 3, True, True),      # small denominator hides the row (0 of c would say all were late)
    (4, 4, True, True),
    (48, 50, True, False),   # complement 2 (plans late) is small: numerator and rate hidden
    (45, 50, False, False),  # complement 5: shown
    (50, 50, False, False),  # complement 0: shown (100%)
    (0, 50, False, False),   # 0 of 50: shown
    (5, 5, False, False),
    (0, 0, False, False),    # no events: nothing to hide (the value is empty anyway)
])
def test_rate_row_rule(n, d, num_hidden, den_hidden):
    num, den = rate_row_hidden([n], [d], RULE)
    assert (bool(num[0]), bool(den[0])) == (num_hidden, den_hidden)


def test_complement_rule_can_be_switched_off():
    num, _ = rate_row_hidden([48], [50], SuppressionRule(complement=False))
    assert not num[0]


# --- breakdown tables with a total ------------------------------------------------------------------------------

def test_one_small_cell_beside_a_total_takes_the_next_smallest_with_it():
    hidden, total_hidden = secondary_1d([3, 10, 20], 33, rule=RULE)
    assert hidden.tolist() == [True, True, False] and not total_hidden
    hidden, total_hidden = secondary_1d([3, 10, 20], None, rule=RULE)  # no total: primary only
    assert hidden.tolist() == [True, False, False] and not total_hidden


def test_small_cells_only_beside_a_total_take_a_big_one_too():
    # 1 and 1 hidden with total 32 shown would give 2 = 1 + 1, i.e. both 1s.
    hidden, _ = secondary_1d([1, 1, 30, 40], 72, rule=RULE)
    assert hidden.tolist() == [True, True, True, False]


def test_zero_cells_are_never_the_secondary_and_the_total_goes_when_nothing_else_can():
    hidden, total_hidden = secondary_1d([3, 4, 0], 7, rule=RULE)
    assert hidden.tolist() == [True, True, False] and total_hidden
    hidden, total_hidden = secondary_1d([3, 0, 0], 3, rule=RULE)  # the total itself is small
    assert hidden.tolist() == [True, False, False] and total_hidden


def test_rate_table_secondary_down_the_numerators():
    # 2 of 10 and 20 of 40: the total numerator 22 would give row 0's 2 back, so row 1's numerator goes too.
    mask = suppress_rate_table([2, 20], [10, 40], 22, 50, RULE)
    assert mask["numerator"].tolist() == [True, True] and not mask["denominator"].any()
    # 0 of 3 and 20 of 40: row 0 is hidden whole; the denominator total 43 would give its 3 back.
    mask = suppress_rate_table([0, 20], [3, 40], 20, 43, RULE)
    assert mask["denominator"].tolist() == [True, True] and mask["numerator"].tolist() == [True, True]


def test_nothing_small_nothing_hidden():
    hidden, total_hidden = secondary_1d([0, 10, 20], 30, rule=RULE)
    assert not hidden.any() and not total_hidden


def _possible_1d(counts, hidden, total, total_hidden, cap):
    """Every assignment of the hidden cells consistent with what is shown (hidden means not 0)."""
    k = int(np.sum(hidden))
    shown = sum(c for c, h in zip(counts, hidden, strict=True) if not h)
    out = []
    for combo in itertools.product(range(1, cap + 1), repeat=k):
        if total_hidden or shown + sum(combo) == total:
            out.append(combo)
    return out


@pytest.mark.parametrize("seed", range(300))
def test_attacker_cannot_recover_a_small_cell_of_a_breakdown(seed):
    rng = random.Random(seed)
    counts = [rng.choice([0, 1, 2, 3, 4, 5, 6, 9, 14]) for _ in range(rng.randint(2, 5))]
    total = sum(counts)
    hidden, total_hidden = secondary_1d(counts, total, rule=RULE)
    assert all(h for c, h in zip(counts, hidden, strict=True) if 1 <= c <= 4)
    if total_hidden:
        assert 1 <= total <= 4 or hidden.any()
    idx = [i for i, h in enumerate(hidden) if h]
    worlds = _possible_1d(counts, hidden, total, total_hidden, cap=total + 5)
    for j, i in enumerate(idx):
        if 1 <= counts[i] <= 4:
            assert len({w[j] for w in worlds}) >= 2, (counts, hidden.tolist(), total_hidden)


def _rate_worlds(n, d, mask, total_n, total_d, cap):
    """Every (n, d) table consistent with the shown cells of a rate breakdown."""
    rows = range(len(n))
    d_opts = [[d[i]] if not mask["denominator"][i] else range(0, cap + 1) for i in rows]
    for ds in itertools.product(*d_opts):
        if not mask["total_denominator"] and sum(ds) != total_d:
            continue
        n_opts = [[n[i]] if not mask["numerator"][i] else range(0, ds[i] + 1) for i in rows]
        for ns in itertools.product(*n_opts):
            if any(ns[i] > ds[i] for i in rows):
                continue
            if not mask["total_numerator"] and sum(ns) != total_n:
                continue
            yield ns, ds


@pytest.mark.parametrize("seed", range(120))
def test_attacker_cannot_recover_a_small_count_of_a_rate_breakdown(seed):
    rng = random.Random(1000 + seed)
    d = [rng.choice([0, 2, 3, 5, 6, 8]) for _ in range(rng.randint(2, 3))]
    n = [rng.randint(0, x) for x in d]
    mask = suppress_rate_table(n, d, sum(n), sum(d), RULE)
    worlds = list(_rate_worlds(n, d, mask, sum(n), sum(d), cap=sum(d) + 3))
    assert (tuple(n), tuple(d)) in worlds
    for i in range(len(d)):
        for name, true, of in (("numerator", n[i], lambda w, i=i: w[0][i]),
                               ("denominator", d[i], lambda w, i=i: w[1][i]),
                               ("complement", d[i] - n[i], lambda w, i=i: w[1][i] - w[0][i])):
            if 1 <= true <= 4:
                assert len({of(w) for w in worlds}) >= 2, (name, i, n, d, mask)


def test_rate_table_worked_example():
    # Age bands: 2 of 10, 20 of 40, 30 of 31. Row 0's numerator is small; row 2's complement (1) is small, so its
    # numerator (30) goes too. The two hidden numerators sum to 32 and include one above 4: no secondary needed.
    mask = suppress_rate_table([2, 20, 30], [10, 40, 31], 52, 81, RULE)
    assert mask["numerator"].tolist() == [True, False, True]
    assert mask["denominator"].tolist() == [False, False, False]
    assert not mask["total_numerator"] and not mask["total_denominator"]


# --- the monthly series --------------------------------------------------------------------------------------

def test_rate_series_cells_status_and_symbol():
    s = frame("rate", [(3, 50), (0, 3), (48, 50), (20, 50), (0, 0)])
    out = suppress_series(s, UNITS, RULE)
    assert out["suppressed"].tolist()[:4] == [
        "numerator,value,rolling_12m,status", "numerator,denominator,value,rolling_12m,status",
        "numerator,value,rolling_12m,status", "rolling_12m"]
    assert out["status"].tolist()[:4] == [SUPPRESSED, SUPPRESSED, SUPPRESSED, "on_track"]
    assert out["numerator"].isna().tolist()[:4] == [True, True, True, False]
    assert out.loc[0, "denominator"] == 50 and pd.isna(out.loc[1, "denominator"])
    assert out.loc[3, "value"] == 40.0
    shown = display_frame(out)
    assert shown.loc[0, ["numerator", "denominator", "value", "status"]].tolist() == ["c", 50, "c", "suppressed"]
    assert shown.loc[1, ["numerator", "denominator"]].tolist() == ["c", "c"]
    assert shown.loc[3, "numerator"] == 20.0 and pd.isna(shown.loc[4, "value"])  # an empty month stays empty
    assert "suppressed" not in shown.columns


def test_weeks_series_hides_mean_total_and_median_with_few_plans():
    out = suppress_series(frame("weeks", [(60.0, 3), (200.0, 10)]), UNITS, RULE)
    assert out.loc[0, ["numerator", "denominator", "value", "median"]].isna().all()
    assert out.loc[1, "value"] == 20.0 and out.loc[1, "median"] == 20.0


def test_count_series_hides_1_to_4_and_shows_0_and_5():
    s = frame("count", [(0, None), (1, None), (4, None), (5, None)])
    out = suppress_series(s, UNITS, RULE)
    assert out["value"].isna().tolist() == [False, True, True, False]
    assert out["status"].tolist() == ["on_track", SUPPRESSED, SUPPRESSED, "on_track"]


def test_rolling_value_hidden_while_a_suppressed_month_is_in_its_window():
    rows = [(20, 50)] * 3 + [(2, 50)] + [(20, 50)] * 14  # April 2023 suppressed
    m = series_masks(frame("rate", rows), UNITS, RULE)
    assert m["rolling_12m"].tolist() == [False] * 3 + [True] * 12 + [False] * 3  # April 2023 – March 2024


def test_rolling_value_would_give_the_suppressed_month_back():
    """Why rule 4 exists: rolling numerator = rate × shown denominators, minus the shown numerators."""
    rows = [(20, 50)] * 11 + [(2, 50)]
    s = frame("rate", rows)
    rolling = 100 * sum(n for n, _ in rows) / sum(d for _, d in rows)
    recovered = round(rolling / 100 * 600) - 20 * 11
    assert recovered == 2
    assert series_masks(s, UNITS, RULE).loc[11, "rolling_12m"]


def test_nested_kpis_hide_the_parent_when_the_difference_is_small():
    excl = frame("excl", [(5, 38), (12, 58), (10, 45), (10, 3)])
    incl = frame("incl", [(6, 47), (12, 74), (12, 47), (11, 60)])
    weeks = frame("weeks", [(900.0, 47), (1500.0, 74), (900.0, 47), (1200.0, 60)])
    out = suppress_series(pd.concat([excl, incl, weeks], ignore_index=True), UNITS, LINKED)
    value_hidden = out.pivot(index="period", columns="kpi_id", values="status").eq(SUPPRESSED)
    # January: 6 − 5 = 1 plan with an exception within 20 weeks. February: differences 0 and 16: fine.
    # March: 47 − 45 = 2 plans with an exception. April: the child's own denominator is hidden, so the difference
    # cannot be taken from shown cells.
    assert value_hidden["excl"].tolist() == [False, False, False, True]
    assert value_hidden["incl"].tolist() == [True, False, True, False]
    assert value_hidden["weeks"].tolist() == [True, False, True, False]  # same events as incl: same months hidden


def test_masks_align_with_a_shuffled_index():
    s = frame("rate", [(3, 50), (20, 50)]).iloc[::-1]
    out = suppress_series(s, UNITS, RULE)
    assert out.loc[0, "status"] == SUPPRESSED and out.loc[1, "status"] == "on_track"


def test_unknown_unit_is_an_error():
    with pytest.raises(ValueError, match="no unit"):
        series_masks(frame("rate", [(3, 50)]), {}, RULE)


# --- python -m kpi series --role ------------------------------------------------------------------------------

def _small_db(build_db):
    b = Blade()
    for day in range(1, 4):  # three plans in March 2023, all within 20 weeks: 3 of 3
        b.issued_plan("2022-12-01", f"2023-03-{day:02d}")
    for day in range(1, 8):  # seven in April: 5 within, 2 late
        b.issued_plan("2022-12-01" if day <= 5 else "2022-08-01", f"2023-04-{day:02d}")
    return build_db(b)


def _rows(capsys):
    return {(r["kpi_id"], r["period"]): r for r in csv.DictReader(io.StringIO(capsys.readouterr().out))}


def test_cli_monitor_sees_c_and_analyst_sees_exact(build_db, capsys):
    db = str(_small_db(build_db))
    assert kpi_main(["series", "--db", db, "--kpi", "ehcp_20wk_incl", "--role", "monitor"]) == 0
    monitor = _rows(capsys)
    march, april = monitor[("ehcp_20wk_incl", "2023-03")], monitor[("ehcp_20wk_incl", "2023-04")]
    assert (march["numerator"], march["denominator"], march["value"], march["status"]) == ("c", "c", "c",
                                                                                          "suppressed")
    assert (april["numerator"], april["denominator"], april["value"]) == ("c", "7", "c")  # 2 late: complement
    assert kpi_main(["series", "--db", db, "--kpi", "ehcp_20wk_incl", "--role", "analyst"]) == 0
    analyst = _rows(capsys)
    assert (analyst[("ehcp_20wk_incl", "2023-03")]["numerator"], analyst[("ehcp_20wk_incl", "2023-04")]["value"]) \
        == ("3", "71.43")
    assert kpi_main(["series", "--db", db, "--kpi", "ehcp_20wk_incl"]) == 0
    assert _rows(capsys) == analyst


def test_cli_leadership_is_suppressed_too(build_db, capsys):
    db = str(_small_db(build_db))
    assert kpi_main(["series", "--db", db, "--kpi", "ehcp_20wk_incl", "--role", "leadership"]) == 0
    assert _rows(capsys)[("ehcp_20wk_incl", "2023-03")]["numerator"] == "c"


def test_cli_bad_access_config_is_one_line(build_db, capsys, tmp_path, monkeypatch):
    bad = tmp_path / "access.yaml"
    bad.write_text("roles: {pages: {monitor: [overview]}}\nsuppression: {min_count: 5, max_count: 4}\n")
    monkeypatch.setenv("APP_ACCESS_CONFIG", str(bad))
    assert kpi_main(["series", "--db", str(_small_db(build_db)), "--role", "monitor"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and str(bad) in err and err.count("\n") == 1


def test_a_series_of_several_areas_is_protected_area_by_area():
    """Two areas' series together (a monitor's portfolio, `kpi series --role monitor` over every assigned area):
    each area's cells are hidden exactly as when that area is suppressed alone, nested KPIs included."""
    one = pd.concat([frame("incl", [(3, 20), (12, 30)]), frame("excl", [(2, 18), (11, 27)])])
    two = pd.concat([frame("incl", [(30, 40), (2, 3)]), frame("excl", [(28, 39), (2, 3)])])
    both = pd.concat([one.assign(area_code="E06000056"), two.assign(area_code="E06000032")], ignore_index=True)
    together = suppress_series(both, UNITS, LINKED)
    alone = pd.concat([suppress_series(one.reset_index(drop=True), UNITS, LINKED).assign(area_code="E06000056"),
                       suppress_series(two.reset_index(drop=True), UNITS, LINKED).assign(area_code="E06000032")],
                      ignore_index=True)
    pd.testing.assert_frame_equal(together, alone[together.columns])
    assert together["suppressed"].ne("").any() and together["suppressed"].eq("").any()  # the check has teeth
