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
