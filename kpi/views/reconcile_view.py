"""The reconciliation with DfE (kpi/engine/reconcile.py) as the Benchmarks page shows it: flagged rows first, each
figure in its own unit (a rate "48.8%", a count "1,794", never "794.00"), and every note written out in full.
"""

from __future__ import annotations

import pandas as pd

from kpi.definitions import KpiDefinition
from kpi.views.charts import format_amount, format_value

MEASURE_WORDS = {"value": "Rate", "numerator": "Numerator", "denominator": "Denominator"}
CHECK_WORDS = {"flagged": "✖ Differs", "agrees": "✔ Agrees", "unpublished": "– Not published"}
COLUMNS = ["KPI", "Year", "Measure", "Case records", "DfE published", "Difference", "Check", "Note"]
FIGURES = ["Case records", "DfE published", "Difference"]


def _check(flagged: bool, published) -> str:
    if flagged:
        return CHECK_WORDS["flagged"]
    return CHECK_WORDS["agrees"] if pd.notna(published) else CHECK_WORDS["unpublished"]


def reconciliation_table(recon: pd.DataFrame, names: dict[str, str], only_flagged: bool = False) -> pd.DataFrame:
    """The reconciliation's rows with the KPI named and the check in words, flagged rows first (then in the
    engine's order: KPI, year, measure); figures stay numbers (for a download). ``names``: KPI id → short name."""
    rows = recon[recon["flagged"]] if only_flagged else recon
    rows = rows.sort_values("flagged", ascending=False, kind="stable")
    out = pd.DataFrame({
        "KPI": [names.get(k, k) for k in rows["kpi_id"]], "Year": rows["year"].astype("int64"),
        "Measure": rows["measure"], "Case records": rows["local"], "DfE published": rows["published"],
        "Difference": rows["difference"],
        "Check": [_check(f, p) for f, p in zip(rows["flagged"], rows["published"], strict=True)],
        "Note": rows["note"]})
    return out.reset_index(drop=True)


def _figure(value, measure: str, kpi: KpiDefinition) -> str:
    """A rate in the KPI's unit and decimals, a count whole with thousands separators; blank when missing."""
    if pd.isna(value):
        return ""
    return format_value(value, kpi.unit, kpi.decimals) if measure == "value" else format_value(value, "count", 0)


def _difference(value, measure: str, kpi: KpiDefinition) -> str:
    """A signed difference: '+38.0 pts' between rates, '−12' between counts ('0' unsigned); blank when none."""
    if pd.isna(value):
        return ""
    amount = format_amount(value, kpi.unit, kpi.decimals) if measure == "value" else format_amount(value, "count", 0)
    if not any(c in "123456789" for c in amount):
        return amount
    return ("+" if value > 0 else "−") + amount


def reconciliation_shown(table: pd.DataFrame, kpis: dict[str, KpiDefinition]) -> pd.DataFrame:
    """``table`` (from :func:`reconciliation_table`) as text to read: figures in their units, the measure in
    words, no empty cell reading "None". ``kpis``: KPI name as in the table → its definition (unit, decimals)."""
    shown = table.copy()
    for column in FIGURES:
        style = _difference if column == "Difference" else _figure
        shown[column] = [style(v, m, kpis[k]) for v, m, k in zip(table[column], table["Measure"], table["KPI"],
                                                                 strict=True)]
    shown["Measure"] = [MEASURE_WORDS.get(m, m) for m in table["Measure"]]
    shown["Note"] = table["Note"].astype("object").where(table["Note"].notna(), "")
    return shown[COLUMNS]


def notes_in_full(table: pd.DataFrame) -> list[str]:
    """Each distinct note once, with the KPIs it belongs to ('EHCPs within 20 weeks: DfE counts …'), flagged
    rows' notes first: written out under the table, where no cell cuts them short."""
    notes: dict[str, list[str]] = {}
    for kpi, note in zip(table["KPI"], table["Note"], strict=True):
        if isinstance(note, str) and note and kpi not in notes.setdefault(note, []):
            notes[note].append(kpi)
    return [f"{', '.join(kpis)}: {note}" for note, kpis in notes.items()]
