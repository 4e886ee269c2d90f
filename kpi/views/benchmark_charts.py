"""Plotly figures for the comparison with England, the region and statistical neighbours (pure: no Streamlit).

Each series has its own marker shape and line style as well as colour, and the legend names it, so nothing
rests on colour alone. Quartile bands are written out in words ("Quartile 1 (best 25%)").
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from kpi.definitions import KpiDefinition
from kpi.engine.benchmark import Area
from kpi.views.charts import (
    DARK_BLUE,
    DARK_GREY,
    SERIES,
    _base_layout,
    axis_title,
    format_value,
    readable_text,
)

# role: (legend name or None for the area's own name, colour, marker, dash)
SERIES_STYLE = {
    "case_records": (None, SERIES["area"], "circle", "solid"),
    "area": (None, SERIES["area"], "square-open", "dot"),  # the same area, DfE's figure: same colour, open marker
    "england": ("England", SERIES["england"], "diamond", "dash"),
    "region": (None, SERIES["region"], "triangle-up", "dashdot"),
    "neighbours_pooled": ("Statistical neighbours (pooled)", SERIES["neighbours"], "x", "longdash"),
    "neighbours_median": ("Statistical neighbours (median)", SERIES["neighbours"], "star", "dot"),
}
QUARTILE_WORDS = {1: "Quartile 1 (best 25%)", 2: "Quartile 2", 3: "Quartile 3", 4: "Quartile 4 (worst 25%)"}


def quartile_text(quartile) -> str:
    """A quartile band in words; '–' when there is none."""
    if quartile is None or pd.isna(quartile):
        return "–"
    return QUARTILE_WORDS[int(quartile)]


def _name(role: str, area: Area) -> str:
    fixed = SERIES_STYLE[role][0]
    if fixed:
        return fixed
    if role == "case_records":
        return f"{area.name}: from its case records"
    if role == "area":
        return f"{area.name}: published by DfE"
    return area.region_name or "Region"


def comparison_figure(kpi: KpiDefinition, area: Area, hist: pd.DataFrame, local: pd.DataFrame,
                      target: float | None = None) -> go.Figure:
    """Calendar-year values: ours from the case records, DfE's for the area, England, the region, neighbours."""
    fig = go.Figure()
    series = [("case_records", local[["year", "value"]])]
    series += [(role, hist[hist["role"] == role][["year", "value"]]) for role in
               ("area", "england", "region", "neighbours_pooled", "neighbours_median")]
    for role, rows in series:
        rows = rows.dropna(subset=["value"]).sort_values("year")
        if rows.empty:
            continue
        _, colour, symbol, dash = SERIES_STYLE[role]
        name = _name(role, area)
        fig.add_trace(go.Scatter(
            x=rows["year"], y=rows["value"], name=name, mode="lines+markers",
            line={"color": colour, "dash": dash, "width": 3 if role == "case_records" else 2},
            marker={"symbol": symbol, "size": 9, "color": colour},
            hovertemplate=[f"{name}<br>{y}: {format_value(v, kpi.unit, kpi.decimals)}<extra></extra>"
                           for y, v in zip(rows["year"], rows["value"], strict=True)]))
    if target is not None:
        fig.add_hline(y=target, line={"color": SERIES["plan"], "width": 1.5, "dash": "dot"},
                      annotation_text=f"Plan target {format_value(target, kpi.unit, kpi.decimals)}",
                      annotation_position="top left")
    _base_layout(fig)
    fig.update_layout(height=420, margin={"l": 10, "r": 10, "t": 30, "b": 10}, hovermode="closest",
                      legend={"orientation": "h", "y": -0.18},
                      yaxis={"title": axis_title(kpi), "rangemode": "tozero"},
                      xaxis={"title": "Calendar year", "dtick": 1})
    return readable_text(fig)  # after the axis titles, which replace the title font


def benchmark_bars(kpi: KpiDefinition, table: pd.DataFrame) -> go.Figure:
    """One year's values as horizontal bars, best at the top; the area, England, region and neighbour averages
    are labelled in the bar text so they are found without colour."""
    rows = table.dropna(subset=["value"]).copy()
    ascending = kpi.polarity == "down"
    rows = rows.sort_values("value", ascending=not ascending)  # plotly draws the first row at the bottom
    role_words = {"area": "this area", "region": "region"}  # the other aggregates' names say what they are
    colours = {"area": SERIES["area"], "england": SERIES["england"], "region": SERIES["region"],
               "neighbours_pooled": SERIES["neighbours"], "neighbours_median": SERIES["neighbours"]}
    labels = [f"{n} ({role_words[r]})" if r in role_words else n
              for n, r in zip(rows["area_name"], rows["role"], strict=True)]
    fig = go.Figure(go.Bar(
        x=rows["value"], y=labels, orientation="h",
        marker={"color": [colours.get(r, "#B1B4B6") for r in rows["role"]],
                "pattern": {"shape": ["/" if r in ("area",) else "" for r in rows["role"]]}},
        text=[format_value(v, kpi.unit, kpi.decimals) for v in rows["value"]], textposition="outside",
        hovertemplate="%{y}: %{text}<extra></extra>", showlegend=False))
    _base_layout(fig)
    top = float(rows["value"].max()) if len(rows) else 1.0
    fig.update_layout(height=max(320, 30 * len(rows) + 80), margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      xaxis={"title": axis_title(kpi), "range": [0, top * 1.18 or 1]}, yaxis={"automargin": True})
    return readable_text(fig)  # after the axis titles, which replace the title font


def rank_ticks(n: int) -> list[int]:
    """The rank axis's ticks among ``n`` ranked areas: 1 (the best), the quartile boundaries and n; never 0."""
    return sorted({1, *(round(n * q / 4) for q in (1, 2, 3)), n} - {0})


def rank_figure(hist: pd.DataFrame, area: Area) -> go.Figure:
    """The area's rank among all local areas by year (1 = best, at the top), with quartile bands shaded and named
    beside the plot. Only the first and latest years carry a "82 of 151" label (every year has it on hover), so
    labels never overlap one another or the band names; the axis runs from rank 1 to the last rank."""
    own = hist[(hist["role"] == "area") & hist["rank"].notna()].sort_values("year")
    own = own.astype({"rank": "float64", "n_ranked": "float64", "year": "int64"})
    fig = go.Figure()
    if not own.empty:
        n = int(own["n_ranked"].max())
        for q in range(4):
            fig.add_hrect(y0=q * n / 4 + 0.5, y1=(q + 1) * n / 4 + 0.5, line_width=0, layer="below",
                          fillcolor="#F3F2F1" if q % 2 else "#FFFFFF")
            fig.add_annotation(xref="paper", x=1.01, xanchor="left", y=(q + 0.5) * n / 4 + 0.5, showarrow=False,
                               text=QUARTILE_WORDS[q + 1].replace(" (", "<br>("), align="left",
                               font={"size": 11, "color": DARK_GREY})
        words = [f"{int(r)} of {int(m)}" for r, m in zip(own["rank"], own["n_ranked"], strict=True)]
        ends = {0, len(words) - 1}
        fig.add_trace(go.Scatter(
            x=own["year"], y=own["rank"], mode="lines+markers+text", name=f"{area.name}: rank",
            text=[w if i in ends else "" for i, w in enumerate(words)], customdata=words,
            textposition=["bottom center" if r < n / 8 else "top center" for r in own["rank"]],
            line={"color": DARK_BLUE, "width": 2}, textfont={"color": DARK_BLUE},
            marker={"symbol": "circle", "size": 9, "color": DARK_BLUE}, showlegend=False,
            cliponaxis=False, hovertemplate="%{x}: rank %{customdata}<extra></extra>"))
        fig.update_yaxes(range=[n + 0.5, 0.5], tickmode="array", tickvals=rank_ticks(n))
    _base_layout(fig)
    fig.update_layout(height=340, margin={"l": 10, "r": 120, "t": 20, "b": 10},
                      yaxis={"title": "Rank among English local areas (1 = best)"},
                      xaxis={"title": "Calendar year", "dtick": 2 if own["year"].nunique() > 6 else 1})
    return readable_text(fig)  # after the axis titles, which replace the title font
