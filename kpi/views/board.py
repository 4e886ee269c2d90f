"""The board summary: one row per KPI a meeting can act on (issue: Making Data Count).

For the chosen month each KPI gets its value, trajectory status, SPC variation and assurance icons (over the
whole monthly history up to that month), a forecast verdict for the plan's target month, and a sentence a chair
could read aloud.
"""

from __future__ import annotations

import pandas as pd

from kpi.definitions import Catalogue, KpiDefinition
from kpi.engine.forecast import LIKELY, MET, NOT_MET, TOO_FEW, UNCERTAIN, UNLIKELY, Forecast, forecast_target
from kpi.engine.series import scorecard
from kpi.engine.spc import XmrResult, xmr
from kpi.engine.trajectory import STATUS_LABELS
from kpi.views.charts import SUPPRESSED, format_change, format_period, format_value, status_text, telling_decimals

VARIATION_LABELS = {
    "common_cause": "Common cause variation",
    "improvement_high": "Special cause: improvement (higher)",
    "improvement_low": "Special cause: improvement (lower)",
    "concern_high": "Special cause: concern (higher)",
    "concern_low": "Special cause: concern (lower)",
    "neutral_high": "Special cause: neither (higher)",
    "neutral_low": "Special cause: neither (lower)",
    None: "Too few points for SPC",
}
ASSURANCE_LABELS = {
    "consistent_pass": "Consistently passing the target",
    "consistent_fail": "Consistently failing the target",
    "inconsistent": "Hit and miss against the target",
    None: "No assurance (no target or too few points)",
}
BASIS_LABELS = {"month": "The month", "rolling_12m": "12 months to the month"}
FORECAST_LABELS = {
    LIKELY: "Likely to reach target",
    UNLIKELY: "Unlikely to reach target",
    UNCERTAIN: "Uncertain to reach target",
    MET: "Target met",
    NOT_MET: "Target missed",
    TOO_FEW: "Too few months to forecast",
}


def spc_for(rows: pd.DataFrame, kpi: KpiDefinition, as_of: str) -> tuple[list[str], XmrResult | None]:
    """XmR over one KPI's months up to ``as_of`` that have a value (months with no events are left out, since an
    XmR chart needs values), with the KPI's method, recalculations and baseline, and its target for assurance."""
    s = rows[(rows["period"] <= as_of) & rows["value"].notna()].sort_values("period")
    periods = list(s["period"])
    if len(periods) < 2:
        return periods, None
    recalc_at = sorted({sum(p < r.period for p in periods) for r in kpi.spc.recalculations} - {0, len(periods)})
    # A segment needs two points: drop a recalculation that would leave one.
    bounds = [0, *recalc_at, len(periods)]
    recalc_at = [b for a, b, c in zip(bounds, bounds[1:], bounds[2:], strict=False) if b - a >= 2 and c - b >= 2]
    baseline = kpi.spc.baseline if kpi.spc.baseline and kpi.spc.baseline <= len(periods) else None
    result = xmr(
        s["value"].astype(float).to_numpy(),
        improvement="increase" if kpi.polarity == "up" else "decrease",
        target=kpi.plan.target.value if kpi.plan else None,
        recalc_at=recalc_at or None,
        baseline=baseline,
        method=kpi.spc.method,
    )
    return periods, result


def forecast_for(rows: pd.DataFrame, kpi: KpiDefinition, as_of: str) -> Forecast | None:
    """The target month's figure forecast on the plan's basis (the rolling 12 months for a calendar-year target),
    from complete months only; once the target month has passed, whether it was met."""
    if kpi.plan is None:
        return None
    if "complete" in rows.columns:
        rows = rows[rows["complete"].astype(bool)]
    return forecast_target(
        list(rows["period"]), [None if pd.isna(v) else float(v) for v in rows[kpi.basis_column]],
        kpi.plan.target.value, kpi.plan.target.period, kpi.polarity, as_of,
        bounds=(0.0, 100.0) if kpi.unit == "percent" else (0.0, float("inf")),
    )


def sentence(kpi: KpiDefinition, row: dict, forecast: Forecast | None, variation: str | None) -> str:
    """A plain-English summary a chair could read aloud."""
    fmt = lambda v: format_value(v, kpi.unit, kpi.decimals)  # noqa: E731
    told = telling_decimals(row["value"], row["trajectory"], kpi.decimals)
    month = format_period(row["period"])
    if row["status"] == "suppressed":
        text = (f"{kpi.short_name}: the 12 months to {month} are suppressed (small numbers in them, or in one of "
                "their months, which the 12-month figure would give away)." if kpi.basis == "rolling_12m" else
                f"{kpi.short_name}: the {month} figure is suppressed (small numbers).")
    elif row["value"] is None:
        text = f"{kpi.short_name}: no value for {month}."
    else:
        over = f"over the 12 months to {month}" if kpi.basis == "rolling_12m" else f"in {month}"
        text = f"{kpi.short_name} was {format_value(row['value'], kpi.unit, told)} {over}"
        if row["trajectory"] is not None:
            verdict = STATUS_LABELS.get(row["status"], "")
            judged = f" ({verdict.lower()})" if verdict else ""
            text += f" against a planned {format_value(row['trajectory'], kpi.unit, told)}{judged}"
        text += "."
    if variation in ("improvement_high", "improvement_low"):  # a signal the latest month is part of (a run, a shift)
        text += " SPC: the latest month is part of a special-cause improvement."
    elif variation in ("concern_high", "concern_low"):
        text += " SPC: the latest month is part of a special-cause concern."
    elif variation == "common_cause":
        text += " Variation is within the normal range."
    if forecast is not None and kpi.plan is not None:
        target = f"the target of {fmt(kpi.plan.target.value)} by {format_period(kpi.plan.target.period)}"
        if forecast.verdict in (LIKELY, UNLIKELY, UNCERTAIN):
            text += f" On current performance, {forecast.verdict} to reach {target}."
        elif forecast.verdict == MET:
            text += f" It met {target}."
        elif forecast.verdict == NOT_MET:
            text += f" It did not meet {target}."
    return text


def board_row(rows: pd.DataFrame, kpi: KpiDefinition, period: str, current: pd.Series | None = None) -> dict:
    """One KPI's variation, assurance, forecast and sentence for ``period`` (``rows``: that KPI's series).
    ``current``: the month's scorecard row (kpi.engine.series.scorecard); without it, the month's row of ``rows``
    with its judged figure (the rolling 12 months for a rolling KPI, as the status is), never the month's own."""
    rows = rows.sort_values("period")
    if current is None:
        at = rows[rows["period"] == period]
        current = pd.Series({"value": at.iloc[0][kpi.basis_column], "trajectory": at.iloc[0]["trajectory"],
                             "status": at.iloc[0]["status"]} if len(at) else
                            {"value": None, "trajectory": None, "status": None})
    _, spc = spc_for(rows, kpi, period)
    variation = spc.variation_icon if spc is not None else None
    assurance = spc.assurance if spc is not None else None
    fc = forecast_for(rows, kpi, period)
    row = {"period": period, "value": _opt(current["value"]), "trajectory": _opt(current["trajectory"]),
           "status": current["status"]}
    return {
        "kpi_id": kpi.id,
        "variation": variation,
        "variation_label": VARIATION_LABELS[variation],
        "assurance": assurance,
        "assurance_label": ASSURANCE_LABELS[assurance],
        "forecast": fc.value if fc else None,
        "forecast_lower": fc.lower if fc else None,
        "forecast_upper": fc.upper if fc else None,
        "forecast_verdict": fc.verdict if fc else None,
        "forecast_label": FORECAST_LABELS[fc.verdict] if fc else "No target",
        "forecast_note": forecast_note(fc.value, fc.lower, fc.upper, fc.verdict, kpi.unit, kpi.decimals)
        if fc else None,
        "sentence": sentence(kpi, row, fc, variation),
    }


def board(series: pd.DataFrame, catalogue: Catalogue, period: str) -> pd.DataFrame:
    """The scorecard for ``period`` with variation, assurance, forecast and a sentence per KPI."""
    card = scorecard(series, catalogue, period)
    by_kpi = dict(tuple(series.groupby("kpi_id", sort=False)))  # one pass, not a filter of the whole series per KPI
    current = card.set_index("kpi_id", drop=False)
    extra = [board_row(by_kpi.get(kpi.id, series.iloc[:0]), kpi, period, current.loc[kpi.id])
             for kpi in catalogue.kpis]
    codes = pd.DataFrame(extra)
    for c in ("variation", "assurance", "forecast_verdict", "forecast_note"):  # missing stays None, not NaN
        codes[c] = pd.Series([e[c] for e in extra], dtype=object, index=codes.index)
    return card.merge(codes, on="kpi_id")


def _opt(v) -> float | None:
    return None if v is None or pd.isna(v) else float(v)


# --- ordering and the sortable table ---------------------------------------------------------------------

# Worst first: what a meeting should discuss first comes to the top.
_STATUS_RANK = {"off_track": 0, "no_data": 1, "within_tolerance": 2, "too_few": 3, "on_track": 4}
_VARIATION_RANK = {"concern_high": 0, "concern_low": 0, "neutral_high": 1, "neutral_low": 1, "common_cause": 2,
                   "improvement_high": 3, "improvement_low": 3}
_FORECAST_RANK = {"not_met": 0, "unlikely": 1, "uncertain": 2, "too_few": 3, "likely": 4, "met": 5}
_ASSURANCE_RANK = {"consistent_fail": 0, "inconsistent": 1, "consistent_pass": 2}
SORT_KEYS = {
    "plan": "APP area (plan order)",
    "status": "Status (off track first)",  # short enough to show whole in the Order box
    "variation": "Variation (concern first)",
    "assurance": "Assurance (failing first)",
    "forecast": "Forecast (unlikely first)",
}


def sort_board(rows: pd.DataFrame, catalogue: Catalogue, key: str) -> pd.DataFrame:
    """The board in the order a chair asked for; ties keep the plan's order. Unknown keys are refused."""
    if key not in SORT_KEYS:
        raise ValueError(f"unknown sort key {key!r}; expected one of {', '.join(SORT_KEYS)}")
    order = {k.id: i for i, k in enumerate(catalogue.kpis)}
    plan = rows["kpi_id"].map(order)
    ranks = {
        "plan": pd.Series(0, index=rows.index),
        "status": rows["status"].map(lambda s: _STATUS_RANK.get(s, 5)),
        "variation": rows["variation"].map(lambda s: _VARIATION_RANK.get(s, 4)),
        "assurance": rows["assurance"].map(lambda s: _ASSURANCE_RANK.get(s, 3)),
        "forecast": rows["forecast_verdict"].map(lambda s: _FORECAST_RANK.get(s, 6)),
    }[key]
    return rows.assign(_rank=ranks, _plan=plan).sort_values(["_rank", "_plan"], kind="stable").drop(
        columns=["_rank", "_plan"])


def forecast_note(value, lower, upper, verdict: str | None, unit: str, decimals: int) -> str | None:
    """'forecast 41.2% (80% interval 30.1% to 52.3%)' for a live forecast; None once the target month is past."""
    if verdict not in (LIKELY, UNLIKELY, UNCERTAIN) or value is None or pd.isna(value):
        return None
    fmt = lambda v: format_value(v, unit, decimals)  # noqa: E731
    return f"forecast {fmt(value)} (80% interval {fmt(lower)} to {fmt(upper)})"


# The verdict first (visible without scrolling at 1,400 px: the figure, its trajectory and status), the detail after
BOARD_COLUMNS = ["KPI", "Value", "Trajectory", "Status", "Change since last month", "Last month's status", "Target",
                 "Forecast", "Variation", "Assurance", "Basis", "Month's own value", "APP area", "Summary"]


def board_table(rows: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """The board as a plain table (one row per KPI) for the sortable grid and its CSV: values as displayed (a
    suppressed figure as 'c'), the change since last month in the KPI's unit, the plan's target and month, and
    every status, this month's and last month's, as its symbol and words."""
    out = []
    for r in rows.itertuples():
        kpi = catalogue.get(r.kpi_id)
        unit, d = kpi.unit, kpi.decimals
        note = forecast_note(r.forecast, r.forecast_lower, r.forecast_upper, r.forecast_verdict, unit, d)
        forecast = r.forecast_label + (f": {note}" if note else "")
        told = telling_decimals(r.value, r.trajectory, d)
        target = (f"{format_value(r.target, unit, d)} by {format_period(r.target_period)}"
                  if isinstance(r.target_period, str) else "No plan target")
        out.append({
            "KPI": kpi.short_name,
            "APP area": catalogue.area_name(kpi.app_area),
            "Value": format_value(r.value, unit, told, suppressed=r.status == SUPPRESSED),
            "Basis": BASIS_LABELS[kpi.basis],
            "Month's own value": format_value(r.monthly_value, unit, d, suppressed=r.status == SUPPRESSED),
            "Change since last month": format_change(r.change, unit, d, kpi.polarity),
            "Trajectory": format_value(r.trajectory, unit, told),
            "Target": target,
            "Status": status_text(r.status if isinstance(r.status, str) else getattr(r, "unjudged", None)),
            "Last month's status": status_text(getattr(r, "previous_status", None)),
            "Variation": r.variation_label,
            "Assurance": r.assurance_label,
            "Forecast": forecast,
            "Summary": r.sentence,
        })
    return pd.DataFrame(out, columns=BOARD_COLUMNS)
