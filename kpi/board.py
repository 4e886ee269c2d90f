"""The board summary: one row per KPI a meeting can act on (issue: Making Data Count).

For the chosen month each KPI gets its value, trajectory status, SPC variation and assurance icons (over the
whole monthly history up to that month), a forecast verdict for the plan's target month, and a sentence a chair
could read aloud.
"""

from __future__ import annotations

import pandas as pd

from kpi.charts import format_period, format_value
from kpi.definitions import Catalogue, KpiDefinition
from kpi.forecast import LIKELY, MET, NOT_MET, TOO_FEW, UNCERTAIN, UNLIKELY, Forecast, forecast_target
from kpi.series import scorecard
from kpi.spc import XmrResult, xmr
from kpi.trajectory import STATUS_LABELS

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
    if kpi.plan is None:
        return None
    return forecast_target(
        list(rows["period"]), [None if pd.isna(v) else float(v) for v in rows["value"]],
        kpi.plan.target.value, kpi.plan.target.period, kpi.polarity, as_of,
        bounds=(0.0, 100.0) if kpi.unit == "percent" else (0.0, float("inf")),
    )


def sentence(kpi: KpiDefinition, row: dict, forecast: Forecast | None, variation: str | None) -> str:
    """A plain-English summary a chair could read aloud."""
    fmt = lambda v: format_value(v, kpi.unit, kpi.decimals)  # noqa: E731
    month = format_period(row["period"])
    if row["value"] is None:
        text = f"{kpi.short_name}: no value for {month}."
    else:
        text = f"{kpi.short_name} was {fmt(row['value'])} in {month}"
        if row["trajectory"] is not None:
            text += f" against a planned {fmt(row['trajectory'])} ({STATUS_LABELS.get(row['status'], '').lower()})"
        text += "."
    if variation in ("improvement_high", "improvement_low"):
        text += " The latest month shows significant improvement."
    elif variation in ("concern_high", "concern_low"):
        text += " The latest month is a cause for concern."
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


def board(series: pd.DataFrame, catalogue: Catalogue, period: str) -> pd.DataFrame:
    """The scorecard for ``period`` with variation, assurance, forecast and a sentence per KPI."""
    card = scorecard(series, catalogue, period)
    extra = []
    for kpi in catalogue.kpis:
        rows = series[series["kpi_id"] == kpi.id].sort_values("period")
        _, spc = spc_for(rows, kpi, period)
        variation = spc.variation_icon if spc is not None else None
        assurance = spc.assurance if spc is not None else None
        fc = forecast_for(rows, kpi, period)
        current = card[card["kpi_id"] == kpi.id].iloc[0]
        row = {"period": period, "value": _opt(current["value"]), "trajectory": _opt(current["trajectory"]),
               "status": current["status"]}
        extra.append({
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
            "sentence": sentence(kpi, row, fc, variation),
        })
    return card.merge(pd.DataFrame(extra), on="kpi_id")


def _opt(v) -> float | None:
    return None if v is None or pd.isna(v) else float(v)
