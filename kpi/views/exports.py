"""What every CSV download carries beside its figures: the month, the KPI's name and unit, the target, the change,
the numerator and denominator, and a note on each row saying which figures were suppressed and why.

The figures come in already as the reader may see them (kpi/access/suppress.py hides small counts before any page
or export has them); these functions only say so, on the row, so that a CSV read on its own is never mistaken for
a table with gaps, and never put a hidden count back.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpi.access.suppress import DEFAULT_RULE, SYMBOL, SuppressionRule
from kpi.definitions import Catalogue, KpiDefinition, PublishedMeasure
from kpi.views.charts import SUPPRESSED, format_number, judged_column

NOTE = "Suppression note"


def suppression_note(rule: SuppressionRule = DEFAULT_RULE) -> str:
    """Why a row's 'c' cells are hidden, in words, under the access rules in force."""
    return (f"{SYMBOL}: suppressed (small numbers). Counts of {rule.min_count} to {rule.max_count} children, and "
            "figures that would give one back by subtraction, are not shown outside the analysts' team.")


def export_frame(frame: pd.DataFrame, context: dict[str, object], rule: SuppressionRule = DEFAULT_RULE
                 ) -> pd.DataFrame:
    """``frame`` with the columns of ``context`` (name → one value or one per row) it lacks put first, in that order
    (a column it has already stays where it is), and a last column, the suppression note, on every row holding a
    suppressed cell (one that reads 'c') and empty on the others."""
    out = frame.copy()
    for position, (name, value) in enumerate(context.items()):
        if name not in out.columns:
            out.insert(min(position, len(out.columns)), name, value)
    hidden = out.astype(str).eq(SYMBOL).any(axis=1).to_numpy() if len(out.columns) else np.zeros(len(out), bool)
    out[NOTE] = np.where(hidden, suppression_note(rule), "")
    return out


def _count(value, decimals: int, hidden: bool) -> str:
    """A numerator or denominator as exported: 'c' when the row's figure is suppressed and this count is hidden,
    blank when there is none, else the number (no thousands separator)."""
    if value is None or pd.isna(value):
        return SYMBOL if hidden else ""
    return format_number(value, decimals).replace(",", "")


def board_export(board: pd.DataFrame, table: pd.DataFrame, period: str, catalogue: Catalogue,
                 rule: SuppressionRule = DEFAULT_RULE) -> pd.DataFrame:
    """The Overview's board summary CSV: the table shown (kpi.views.board.board_table, row for row with ``board``,
    the board rows it was made from) with the month, the KPI's id and unit, the numerator and denominator of the
    figure judged (over 12 months for a rolling figure), and the suppression note."""
    kpis = [catalogue.get(k) for k in board["kpi_id"]]
    hidden = (board["status"] == SUPPRESSED).to_numpy()
    counts = {
        "Numerator": [_count(n, k.decimals if k.unit == "weeks" else 0, h)
                      for n, k, h in zip(board["numerator"], kpis, hidden, strict=True)],
        "Denominator": [_count(n, 0, h) for n, h in zip(board["denominator"], hidden, strict=True)],
    }
    shown = table.reset_index(drop=True)
    at = shown.columns.get_loc("Value") + 1
    for name, values in reversed(counts.items()):
        shown.insert(at, name, values)
    return export_frame(shown, {"Month": period, "KPI": None, "KPI id": [k.id for k in kpis],
                                "Unit": [k.unit for k in kpis]}, rule)


def trajectory_export(table: pd.DataFrame, kpi: KpiDefinition, rule: SuppressionRule = DEFAULT_RULE
                      ) -> pd.DataFrame:
    """The KPI trajectory page's monthly CSV: its table (kpi.views.charts.table_frame, newest month first) with the
    KPI's name and unit, the change of the figure judged since the month before (blank when either is missing or
    suppressed), and the suppression note."""
    judged = judged_column(kpi)
    values = pd.to_numeric(table[judged], errors="coerce").astype("float64")
    change = (values - values.shift(-1)).round(kpi.decimals)
    shown = table.reset_index(drop=True)
    shown.insert(shown.columns.get_loc("Status"), "Change since last month", change.to_numpy())
    return export_frame(shown, {"Period": None, "KPI": kpi.short_name, "KPI id": kpi.id, "Unit": kpi.unit},
                        rule)


def portfolio_export(rows: pd.DataFrame, period: str, rule: SuppressionRule = DEFAULT_RULE) -> pd.DataFrame:
    """The portfolio CSV (kpi.views.portfolio.portfolio): the month first, then one row per area as shown (counts of
    KPIs by status, never of children; a KPI whose figures are suppressed counts as not judged)."""
    return export_frame(rows, {"month": period}, rule)


def benchmark_export(shown: pd.DataFrame, kpi: KpiDefinition | PublishedMeasure, year: int,
                     rule: SuppressionRule = DEFAULT_RULE) -> pd.DataFrame:
    """A benchmark table's CSV (the Benchmarks page's table for one KPI and calendar year): the year, the KPI's
    name and unit and the plan's target first, then the areas as shown (DfE's published figures)."""
    target = kpi.plan.target if getattr(kpi, "plan", None) is not None else None
    return export_frame(shown, {"Year": year, "KPI": kpi.short_name, "KPI id": kpi.id, "Unit": kpi.unit,
                                "Target": target.value if target else None,
                                "Target month": target.period if target else None}, rule)
