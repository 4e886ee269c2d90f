"""What the Waiting lists page shows, as pure functions: a service's local month-end figures from the KPI
series, the comparison with NHS England's published series, and the plotly figures. No Streamlit here.

Bands are the NHS England CHS ones, so the local stacked bars read like the published ones: up to 18 weeks
(0–126 days), over 18 to 52 weeks (127–364 days), over 52 weeks (more than 364 days).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from kpi.definitions import Catalogue
from kpi.views.charts import FONT, format_period, readable_text
from kpi.views.palette import LOCAL_WAIT_BANDS, WAIT_BANDS

SERVICE_LABELS = {
    "SALT": "Speech and language therapy",
    "OT": "Occupational therapy",
    "PHYSIO": "Physiotherapy",
    "COMMUNITY_PAEDS": "Community paediatrics",
    "NEURODEVELOPMENTAL": "Neurodevelopmental (autism and ADHD) assessment",
    "AUDIOLOGY": "Audiology",
}
LOCAL_COLUMNS = ["period", "waiting", "over_18wk", "pct_over_18wk", "over_52wk", "median_weeks", "first_contacts",
                 "pct_seen_within_18wk"]
# NHS band → (legend label, colour): each band its own colour, short waits light, long waits dark, blues up to 18
# weeks and wine over (kpi/views/palette.py WAIT_BANDS)
NHS_BANDS = [(band, name, WAIT_BANDS[band]) for band, name in (
    ("0-1", "Up to 1 week"), (">1-2", "Over 1 to 2 weeks"), (">2-4", "Over 2 to 4 weeks"),
    (">4-12", "Over 4 to 12 weeks"), (">12-18", "Over 12 to 18 weeks"), (">18-52", "Over 18 to 52 weeks"),
    (">52", "Over 52 weeks"), (">52-104", "Over 52 to 104 weeks"), (">104", "Over 104 weeks"))]


# The page's figures by role → (computation method, days): the KPIs are found in the catalogue by computation and
# service, so their ids have one source, kpi_definitions.yaml (renaming one never breaks the page).
ROLES: dict[str, tuple[str, int | None]] = {
    "size": ("waiting_list_size", None), "over18": ("waiting_over", 126), "over52": ("waiting_over_count", 364),
    "median": ("waiting_median_weeks", None), "seen": ("seen_within", 126),
}


def kpi_ids(service: str, catalogue: Catalogue) -> dict[str, str | None]:
    """The ids of a service's waiting-list KPIs by role ('size', 'over18', …): the first KPI in the catalogue
    computed that way for the service, None when it defines none."""
    ids: dict[str, str | None] = {}
    for role, (method, days) in ROLES.items():
        ids[role] = next((k.id for k in catalogue.kpis if k.computation.method == method
                          and getattr(k.computation, "service", None) == service
                          and (days is None or getattr(k.computation, "days", None) == days)), None)
    return ids


def service_table(series: pd.DataFrame, service: str, catalogue: Catalogue) -> pd.DataFrame:
    """One row per month for a service: waiting, over 18 weeks (count and %), over 52, median weeks waited,
    first contacts and % of them within 18 weeks. Empty figures stay empty (never 0%)."""
    ids = kpi_ids(service, catalogue)
    rows = series[series["kpi_id"].isin(ids.values())]
    if rows.empty:
        return pd.DataFrame(columns=LOCAL_COLUMNS)

    def col(key: str, field: str) -> pd.Series:
        return rows[rows["kpi_id"] == ids[key]].set_index("period")[field].astype("float64")

    out = pd.DataFrame({
        "waiting": col("size", "value"),
        "over_18wk": col("over18", "numerator"),
        "pct_over_18wk": col("over18", "value"),
        "over_52wk": col("over52", "value"),
        "median_weeks": col("median", "value"),
        "first_contacts": col("seen", "denominator"),
        "pct_seen_within_18wk": col("seen", "value"),
    }).rename_axis("period").reset_index().sort_values("period")
    return out[LOCAL_COLUMNS].reset_index(drop=True)


def _layout(fig: go.Figure, y_title: str) -> go.Figure:
    """The waits charts' common layout. No title in the figure: plotly never wraps one, so on a phone it ran off the
    screen; the page writes it above the chart (``local_bands_title``, ``nhs_bands_title``), where it wraps."""
    fig.update_layout(template="plotly_white", barmode="stack", height=360,
                      font={"family": FONT, "color": "#0B0C0C", "size": 14}, margin={"l": 10, "r": 10, "t": 20,
                                                                                     "b": 10},
                      legend={"orientation": "h", "y": -0.15, "traceorder": "normal"}, yaxis_title=y_title,
                      hovermode="x unified")
    return readable_text(fig)


def local_bands_title(label: str) -> str:
    """The heading of the local bands chart."""
    return f"{label}: children waiting at month end, by time waited"


def nhs_bands_title(org_name: str, service: str) -> str:
    """The heading of the NHS England bands chart."""
    return f"{org_name}: {service} (NHS England, published)"


def local_bands_figure(table: pd.DataFrame) -> go.Figure:
    """Children waiting at each month end, stacked by time waited (up to 18, 18–52, over 52 weeks)."""
    t = table.dropna(subset=["waiting"])
    x = pd.to_datetime(t["period"] + "-01")
    parts = [("Up to 18 weeks", t["waiting"] - t["over_18wk"], LOCAL_WAIT_BANDS["up_to_18"]),
             ("Over 18 to 52 weeks", t["over_18wk"] - t["over_52wk"], LOCAL_WAIT_BANDS["18_to_52"]),
             ("Over 52 weeks", t["over_52wk"], LOCAL_WAIT_BANDS["over_52"])]
    fig = go.Figure([go.Bar(x=x, y=y, name=name, marker_color=colour,
                            hovertemplate="%{y:,.0f}<extra>" + name + "</extra>") for name, y, colour in parts])
    return _layout(fig, "Children waiting")


def local_bands_alt(table: pd.DataFrame, label: str) -> str:
    t = table.dropna(subset=["waiting"])
    if t.empty:
        return f"No local waiting-list figures for {label}."
    last = t.iloc[-1]
    return (f"Stacked bars of children waiting for {label} at each month end from {format_period(t['period'].iloc[0])}"
            f" to {format_period(last['period'])}; in {format_period(last['period'])} {last['waiting']:,.0f} waiting, "
            f"{last['over_18wk']:,.0f} over 18 weeks and {last['over_52wk']:,.0f} over 52 weeks.")


def nhs_bands_figure(bands: pd.DataFrame) -> go.Figure:
    """NHS England's published weeks-waiting bands per data month (stacked), for one organisation and service, on
    a date axis: the months not loaded show as the gap they are (October 2023 stands two years from October 2025)."""
    fig = go.Figure()
    for band, name, colour in NHS_BANDS:
        b = bands[bands["band"] == band]
        if b.empty or b["value"].isna().all():
            continue
        fig.add_trace(go.Bar(x=pd.to_datetime(b["period"] + "-01"), y=b["value"], name=name, marker_color=colour,
                             xperiod="M1", xperiodalignment="middle",
                             hovertemplate="%{x|%b %Y}: %{y:,.0f}<extra>" + name + "</extra>"))
    _layout(fig, "Children waiting")
    fig.update_xaxes(type="date", tickformat="%b %Y")  # data months: the caption says so (a title would hit the legend)
    return fig


def comparison(local: pd.DataFrame, nhs: pd.DataFrame) -> pd.DataFrame:
    """The NHS data months side by side: local waiting and % over 18 weeks, the organisation's published total,
    % over 18 weeks and number over 52 weeks, and whether its bands add up to its total."""
    merged = nhs.merge(local[["period", "waiting", "pct_over_18wk", "over_52wk"]], on="period", how="left",
                       suffixes=("_nhs", "_local"))
    return pd.DataFrame({
        "Month": [format_period(p) for p in merged["period"]],
        "Local: waiting": merged["waiting"],
        "Local: % over 18 weeks": merged["pct_over_18wk_local"].round(1),
        "Local: over 52 weeks": merged["over_52wk_local"],
        "NHS: waiting": merged["total"],
        "NHS: % over 18 weeks": merged["pct_over_18wk_nhs"].astype("float64").round(1),
        "NHS: over 52 weeks": merged["over_52wk_nhs"],
        "NHS bands add up": merged["bands_differ"].map({True: "✖ No", False: "✔ Yes"}).fillna("–"),
    })


def suppressed_in(series: pd.DataFrame, service: str, period: str, catalogue: Catalogue) -> dict[str, bool]:
    """For each of the service's KPIs ('size', 'over18', …), whether its value for the month is suppressed
    (small numbers, for roles without exact figures: kpi/access/suppress.py)."""
    ids = kpi_ids(service, catalogue)
    rows = series[(series["period"] == period) & series["kpi_id"].isin(ids.values())].set_index("kpi_id")["status"]
    return {key: rows.get(kpi_id) == "suppressed" for key, kpi_id in ids.items()}
