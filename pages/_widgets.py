"""Streamlit widgets more than one page draws the same way."""

from __future__ import annotations

import pandas as pd
import streamlit as st


def comparison_table(wide: pd.DataFrame) -> None:
    """The year-by-year comparison table (kpi.views.comparison.comparison_wide) with values to one decimal place and the
    quartile in words."""
    from kpi.views.benchmark_charts import quartile_text

    shown = wide.assign(Quartile=[quartile_text(q) for q in wide["Quartile"]])
    numbers = [c for c in shown.columns if c not in ("Year", "Rank", "Of", "Quartile")]
    st.dataframe(shown, hide_index=True, width="stretch", placeholder="–", column_config={
        "Year": st.column_config.NumberColumn(format="%d", pinned=True),
        **{c: st.column_config.NumberColumn(c, format="%.1f") for c in numbers}})


def whole_cells(*columns: str) -> dict:
    """Column settings that show these text columns' cells whole ("◐ Within tolerance", "26.6 weeks"), where the
    grid's own width would cut them short ("◐ Within toleranc", "26.6 we")."""
    return {c: st.column_config.TextColumn(c, width="medium") for c in columns}


def fitted_columns(frame: pd.DataFrame, pinned: str | None = None) -> dict:
    """Column settings that size each text column to its longest cell or heading, so that no cell is cut short in
    the grid (the grid scrolls sideways instead, with the ``pinned`` column held in view)."""
    def width(column: str) -> int:
        longest = max([len(str(column)), *(len(str(v)) for v in frame[column])])
        return int(longest * 7.4) + 30  # the grid's 14 px type is about 7.4 px a character, plus cell padding

    return {c: st.column_config.TextColumn(c, width=width(c), pinned=c == pinned or None) for c in frame.columns}
