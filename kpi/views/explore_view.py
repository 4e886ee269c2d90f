"""How the Explore and Explain pages show a breakdown: the table, the bar chart and its data, CSV and Excel files.

Pure functions (no Streamlit). The table and the chart's data are built once, rounded as displayed, and the
downloads are made from exactly those frames, so a file holds what the screen shows.
"""

from __future__ import annotations

import io

import pandas as pd
import plotly.graph_objects as go

from kpi.definitions import KpiDefinition
from kpi.engine.explore import DIMENSION_BY_ID, TOTAL, Span, family
from kpi.engine.explore_waits import WAIT_DIMENSION_BY_ID
from kpi.views.charts import FONT, _base_layout, _rounded, format_period, format_value
from kpi.views.palette import COMPARED_PERIODS

MEASURES = {  # family -> (numerator, denominator, value, median) column headings; None = not shown
    "rate": ("Numerator", "Denominator", "Rate (%)", None),
    "mean": ("Total weeks", "Plans issued", "Mean weeks", "Median weeks"),
    "count": (None, None, "Count at month end", None),
    "median": (None, "Waiting", "Median weeks waited", None),
}


def _label(by: str) -> str:
    """The heading of a breakdown's group column (SEN2 or waiting-list dimension)."""
    return (DIMENSION_BY_ID.get(by) or WAIT_DIMENSION_BY_ID[by]).label


def span_label(span: Span) -> str:
    """'July 2023', 'April – June 2023', 'November 2022 – February 2023'."""
    if span.start == span.end:
        return format_period(span.start)
    first, last = format_period(span.start), format_period(span.end)
    if span.start[:4] == span.end[:4]:
        first = first.split(" ")[0]
    return f"{first} – {last}"


def _headings(kpi: KpiDefinition) -> list[tuple[str, str]]:
    """(breakdown column, heading) pairs for this KPI's family."""
    names = MEASURES[family(kpi)]
    return [(col, h) for col, h in zip(("numerator", "denominator", "value", "median"), names, strict=True) if h]


def _decimals(kpi: KpiDefinition, col: str) -> int:
    if col == "denominator" or (col == "numerator" and family(kpi) != "mean"):
        return 0
    return kpi.decimals if col in ("value", "median") else 1


def breakdown_table(df: pd.DataFrame, kpi: KpiDefinition, by: str, span: Span,
                    compare: Span | None = None) -> pd.DataFrame:
    """The breakdown as the page shows it and the files hold it: one row per group, then the total."""
    out = pd.DataFrame({_label(by): df["group"].astype(str).to_numpy()})
    heads = _headings(kpi)
    if compare is None:
        for col, head in heads:
            out[head] = _rounded(df[col], _decimals(kpi, col)).to_numpy()
        return out
    for suffix, s in (("", span), ("_b", compare)):
        for col, head in heads:
            out[f"{head}, {span_label(s)}"] = _rounded(df[col + suffix], _decimals(kpi, col)).to_numpy()
    unit = {"percent": "pts", "weeks": "weeks", "count": ""}[kpi.unit]
    out[f"Change{f' ({unit})' if unit else ''}"] = _rounded(df["change"], kpi.decimals).to_numpy()
    return out


def chart_frame(df: pd.DataFrame, kpi: KpiDefinition, by: str, span: Span, compare: Span | None = None) -> pd.DataFrame:
    """The data the bar chart draws, one row per bar (and the total per period), rounded as labelled."""
    rows = []
    for suffix, s in (("", span), ("_b", compare)) if compare else (("", span),):
        for _, r in df.iterrows():
            rows.append({_label(by): r["group"], "Period": span_label(s), "Value": r["value" + suffix],
                         "Numerator": r["numerator" + suffix], "Denominator": r["denominator" + suffix]})
    out = pd.DataFrame(rows)
    out["Value"] = _rounded(out["Value"], kpi.decimals)
    out["Numerator"] = _rounded(out["Numerator"], 1 if family(kpi) == "mean" else 0)
    out["Denominator"] = _rounded(out["Denominator"], 0)
    if family(kpi) == "count":
        out = out.drop(columns=["Numerator", "Denominator"])
    return out


def _bar_text(value, unit: str, decimals: int) -> str:
    return "no events" if pd.isna(value) else format_value(value, unit, decimals)


def breakdown_figure(frame: pd.DataFrame, kpi: KpiDefinition, by: str) -> go.Figure:
    """Horizontal bars of the value for each group (two bars per group when comparing, told apart by pattern and
    legend as well as colour); the total as a labelled dashed line for the first period."""
    label = _label(by)
    periods = list(dict.fromkeys(frame["Period"]))
    fig = go.Figure()
    bars = frame[frame[label] != TOTAL]
    for i, period in enumerate(periods):
        part = bars[bars["Period"] == period]
        values = pd.to_numeric(part["Value"], errors="coerce").astype("float64")
        fig.add_bar(
            y=part[label], x=values.fillna(0), orientation="h", name=period,
            marker={"color": COMPARED_PERIODS[i % 2], "pattern": {"shape": ("", "/")[i % 2]}},
            text=[_bar_text(v, kpi.unit, kpi.decimals) for v in values], textposition="outside",
            hovertemplate="%{y}<br>" + period + ": %{text}<extra></extra>", cliponaxis=False)
    totals = frame[(frame[label] == TOTAL) & (frame["Period"] == periods[0])]["Value"]
    if len(totals) and not pd.isna(totals.iloc[0]):
        t = float(totals.iloc[0])
        fig.add_vline(x=t, line={"color": "#0B0C0C", "dash": "dash", "width": 1.5}, layer="below",
                      annotation={"text": f"Total {periods[0]}: {format_value(t, kpi.unit, kpi.decimals)}",
                                  "font": {"family": FONT, "size": 13}}, annotation_position="top")
    n = bars[label].nunique()
    fig.update_layout(barmode="group", height=max(260, 60 + n * (34 if len(periods) == 1 else 52)),
                      margin={"l": 10, "r": 60, "t": 40, "b": 40},
                      legend={"orientation": "h", "y": -0.15 if n > 3 else -0.3}, showlegend=len(periods) > 1,
                      xaxis={"title": {"percent": "Percentage (%)", "weeks": "Mean weeks", "count": "Number"}[kpi.unit],
                             "rangemode": "tozero", **({"range": [0, 105]} if kpi.unit == "percent" else {})},
                      yaxis={"autorange": "reversed", "title": None, "automargin": True,
                             "tickfont": {"color": "#0B0C0C"}})
    return _base_layout(fig)


def table_formats(frame: pd.DataFrame, kpi: KpiDefinition) -> dict[str, str]:
    """printf formats that show each numeric column exactly as the files hold it ('20.0', not '20')."""
    return {c: "%d" if pd.api.types.is_integer_dtype(frame[c]) else f"%.{max(kpi.decimals, 1)}f"
            for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])}


def table_height(frame: pd.DataFrame, most: int = 20) -> int:
    """Pixels for a table showing every row up to ``most`` (then it scrolls)."""
    return 38 + 35 * min(len(frame), most)


def excel_bytes(frame: pd.DataFrame, sheet: str) -> bytes:
    """The frame as an Excel workbook (one sheet, header row, values exactly as in the frame)."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name=sheet[:31], index=False)
        ws = writer.sheets[sheet[:31]]
        for i, col in enumerate(frame.columns, 1):
            width = max([len(str(col))] + [len(str(v)) for v in frame[col].head(200)])
            ws.column_dimensions[ws.cell(1, i).column_letter].width = min(max(10, width + 2), 70)
    return buf.getvalue()
