"""The reconciliation as the Benchmarks page shows it (issue 20): flagged rows first, whole counts with thousands
separators, rates with their unit, notes written out in full."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from kpi.engine.reconcile import COLUMNS
from kpi.views.reconcile_view import notes_in_full, reconciliation_shown, reconciliation_table

NOTE = ("DfE takes the latest review decision on each plan held at the January census, whatever its year; the KPI "
        "counts every review decision notified in the year")


def _row(kpi_id, year, measure, local, published, flagged, note=None):
    return dict(zip(COLUMNS, (kpi_id, year, "E06000056", measure, local, published,
                              None if published is None else local - published, "", flagged, "ees", note),
                    strict=True))


@pytest.fixture
def recon() -> pd.DataFrame:
    return pd.DataFrame([
        _row("a", 2023, "value", 88.93, 88.9, False), _row("a", 2023, "numerator", 794.0, 794.0, False),
        _row("a", 2023, "denominator", 12893.0, 12890.0, False),
        _row("b", 2023, "value", 41.7, 35.2, True, NOTE), _row("b", 2023, "numerator", 1169.0, 1000.0, True, NOTE),
        _row("b", 2024, "denominator", 2806.0, None, False, "not published (x)"),
    ], columns=COLUMNS)


@pytest.fixture
def kpis(catalogue):
    rate = catalogue.get("ehcp_20wk_excl")
    return {"First KPI": rate, "Second KPI": rate}


def test_flagged_rows_come_first_and_stay_numbers_for_the_download(recon):
    table = reconciliation_table(recon, {"a": "First KPI", "b": "Second KPI"})
    assert table["Check"].tolist()[:2] == ["✖ Differs", "✖ Differs"]
    assert table["KPI"].tolist() == ["Second KPI", "Second KPI", "First KPI", "First KPI", "First KPI", "Second KPI"]
    assert table["Check"].iloc[-1] == "– Not published"
    assert table["Case records"].dtype.kind == "f" and table["Year"].dtype.kind == "i"
    only = reconciliation_table(recon, {"a": "First KPI", "b": "Second KPI"}, only_flagged=True)
    assert len(only) == 2 and set(only["Check"]) == {"✖ Differs"}


def test_counts_are_whole_with_separators_and_rates_carry_their_unit(recon, kpis):
    shown = reconciliation_shown(reconciliation_table(recon, {"a": "First KPI", "b": "Second KPI"}), kpis)
    counts = shown[shown["Measure"].isin(["Numerator", "Denominator"])]
    assert all(re.fullmatch(r"\d{1,3}(,\d{3})*", c) for c in counts["Case records"])
    assert "794" in set(counts["Case records"]) and "12,893" in set(counts["Case records"])
    assert not any("." in c for c in counts[["Case records", "DfE published", "Difference"]].to_numpy().ravel())
    rates = shown[shown["Measure"] == "Rate"].set_index("KPI")
    assert rates.loc["Second KPI", ["Case records", "DfE published", "Difference"]].tolist() == [
        "41.7%", "35.2%", "+6.5 pts"]
    assert rates.loc["First KPI", "Difference"] == "0.0 pts"  # no sign on nothing
    assert shown.set_index(["KPI", "Measure"]).loc[("Second KPI", "Numerator"), "Difference"] == "+169"
    unpublished = shown.iloc[-1]
    assert unpublished[["DfE published", "Difference"]].tolist() == ["", ""]
    assert not {"None", "nan", "–"} & set(shown.astype(str).to_numpy().ravel())


def test_each_note_is_written_out_once_in_full_flagged_first(recon):
    notes = notes_in_full(reconciliation_table(recon, {"a": "First KPI", "b": "Second KPI"}))
    assert notes == [f"Second KPI: {NOTE}", "Second KPI: not published (x)"]
