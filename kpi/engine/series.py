"""The series the product shows: computed values joined to the plan's trajectory, target and status."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from etl.db import OutdatedDatabase, check_current
from kpi.area_plans import PlanBook
from kpi.definitions import Catalogue, KpiDefinition
from kpi.engine.compute import compute_all
from kpi.engine.monthly import rolling_12
from kpi.engine.trajectory import (
    BASELINE,
    PARTIAL,
    STATUS_ICONS,
    STATUS_LABELS,
    TOO_FEW,
    change,
    plan_phase,
    status,
    trajectory_value,
)

SERIES_COLUMNS = [
    "area_code", "kpi_id", "period", "numerator", "denominator", "value", "rolling_12m", "median",
    "basis", "complete", "target", "trajectory", "status",
]


def open_readonly(db_path: Path | str) -> duckdb.DuckDBPyConnection:
    """A read-only connection: the engine and pages never write to the database."""
    path = Path(db_path)
    if not path.exists():
        raise FileNotFoundError(f"no database at {path}: run `python -m etl demo` or `python -m etl load` first")
    con = duckdb.connect(str(path), read_only=True)
    try:
        con.execute("SET enable_progress_bar = false")  # long queries would draw a bar into CLI output and logs
        check_current(con, path)
    except OutdatedDatabase:
        con.close()
        raise
    return con


def add_plan(df: pd.DataFrame, kpi: KpiDefinition, min_denominator: int = 10) -> pd.DataFrame:
    """Basis, target, trajectory and status columns for one KPI's rows (sorted by area, then month).

    Status judges the figure the plan's numbers are on (``kpi.basis_column``: the month's value or the rolling 12
    months). No status before the plan's baseline month, in the baseline month itself (the plan's starting point),
    or in a month the data do not cover to its end (``complete`` false). A rate whose judged figure rests on fewer
    than ``min_denominator`` events (the plan's own minimum when it sets one) is 'too few to judge'. After the
    target month the trajectory holds at the final target. The trajectory is worked out once per month."""
    df = df.copy()
    df["basis"] = kpi.basis
    if "complete" not in df.columns:
        df["complete"] = True
    if kpi.plan is None:
        df["target"] = None
        df["trajectory"] = None
        df["status"] = None
        return df
    plan = kpi.plan
    codes, months = pd.factorize(df["period"])
    planned = np.array([trajectory_value(plan, p) for p in months], dtype="float64")  # None → NaN
    judged_month = np.array([plan_phase(plan, p) != "baseline" for p in months])[codes]
    trajectory = planned[codes]
    df["trajectory"] = trajectory
    df["target"] = np.where(np.isnan(trajectory), np.nan, plan.target.value)
    values = df[kpi.basis_column].to_numpy(dtype="float64", na_value=np.nan)
    few = _too_few(df, kpi, plan.min_denominator or min_denominator)
    judged = judged_month & df["complete"].to_numpy(dtype=bool) & ~np.isnan(trajectory)
    df["status"] = pd.Series(
        [None if not j else TOO_FEW if f and v == v else status(None if v != v else v, t, kpi.polarity,
                                                                 plan.tolerance)
         for j, f, v, t in zip(judged.tolist(), few.tolist(), values.tolist(), trajectory.tolist(), strict=True)],
        index=df.index, dtype=object)
    return df


def add_area_plans(df: pd.DataFrame, kpi: KpiDefinition, plans: PlanBook, min_denominator: int = 10) -> pd.DataFrame:
    """:func:`add_plan` with each area's own plans: every month against the plan in force (kpi/area_plans.py), no
    status for an area without a plan. Each plan judges the area's whole series, then keeps the months it is in
    force, so a rolling basis still reaches back across the change of plan."""
    parts = []
    unplanned = ~df["area_code"].isin(plans.areas)
    if unplanned.any():
        parts.append(add_plan(df[unplanned], kpi.model_copy(update={"plan": None}), min_denominator))
    for area, rows in df[~unplanned].groupby("area_code", sort=False):
        area_plans = plans.plans(area)
        for i, plan in enumerate(area_plans):
            in_force = pd.Series(True, index=rows.index)
            if i > 0:
                in_force &= rows["period"] >= plan.start
            if i + 1 < len(area_plans):
                in_force &= rows["period"] < area_plans[i + 1].start
            if in_force.any():
                judged = add_plan(rows, kpi.model_copy(update={"plan": plan.kpis.get(kpi.id)}), min_denominator)
                parts.append(judged[in_force])
    return pd.concat(parts).loc[df.index] if parts else add_plan(df, kpi, min_denominator)


def _too_few(df: pd.DataFrame, kpi: KpiDefinition, minimum: int) -> np.ndarray:
    """Rows whose judged figure rests on fewer than ``minimum`` events: a rate or mean's denominator on the plan's
    basis (summed over the 12 months for a rolling basis). Counts at the month end have no denominator to judge."""
    if kpi.is_snapshot or "denominator" not in df.columns:
        return np.zeros(len(df), dtype=bool)
    den = df["denominator"].astype("float64")
    if kpi.basis == "rolling_12m":
        den = rolling_12(den, df["area_code"] if "area_code" in df.columns else pd.Series(0, index=df.index))
    den = den.to_numpy(dtype="float64", na_value=np.nan)
    return ~np.isnan(den) & (den < minimum)


def kpi_series(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, kpi_ids: list[str] | None = None,
               areas: list[str] | None = None, as_of=None, plans: PlanBook | None = None) -> pd.DataFrame:
    """Monthly series with plan columns: one row per area, KPI and month, period as 'YYYY-MM'. Every area with
    case records, or only ``areas``. With ``plans`` (kpi/area_plans.py) each area's months are judged against its
    own plan in force, and an area without a plan has no status; without, the catalogue's plan applies to each area
    alike."""
    raw = compute_all(con, catalogue, kpi_ids, areas, as_of)
    if raw.empty:
        return pd.DataFrame(columns=SERIES_COLUMNS)
    codes, months = pd.factorize(raw["period"])  # format each month once, not once per row
    raw["period"] = pd.Index(pd.to_datetime(months).strftime("%Y-%m"))[codes]
    minimum = catalogue.status_min_denominator
    frames = [add_plan(g, catalogue.get(kpi_id), minimum) if plans is None
              else add_area_plans(g, catalogue.get(kpi_id), plans, minimum)
              for kpi_id, g in raw.groupby("kpi_id", sort=False)]
    out = pd.concat(frames, ignore_index=True)
    return out[SERIES_COLUMNS]


def scorecard(series: pd.DataFrame, catalogue: Catalogue, period: str) -> pd.DataFrame:
    """One row per KPI for the chosen month: the judged figure (``value``, on the plan's basis), the month's own
    value beside it, trajectory, target, status, change in the judged figure, and its recent values."""
    rows = []
    upto = series[series["period"] <= period]
    by_kpi, empty = dict(tuple(upto.groupby("kpi_id", sort=False))), upto.iloc[:0]  # one pass over the series
    for kpi in catalogue.kpis:
        s = by_kpi.get(kpi.id, empty)
        column = kpi.basis_column
        current = s[s["period"] == period]
        here = len(current) > 0
        value = _num(current[column].iloc[0]) if here else None
        previous = _num(s[column].iloc[-2]) if len(s) >= 2 and here else None
        st = current["status"].iloc[0] if here else None
        st = None if st is None or (isinstance(st, float) and st != st) else st
        numerator, denominator = _basis_counts(s, kpi, period) if here else (None, None)
        rows.append({
            "kpi_id": kpi.id,
            "app_area": catalogue.area_name(kpi.app_area),
            "name": kpi.short_name,
            "unit": kpi.unit,
            "decimals": kpi.decimals,
            "polarity": kpi.polarity,
            "basis": kpi.basis,
            "value": value,
            "monthly_value": _num(current["value"].iloc[0]) if here else None,
            "monthly_numerator": _num(current["numerator"].iloc[0]) if here else None,
            "monthly_denominator": _num(current["denominator"].iloc[0]) if here else None,
            "numerator": numerator,
            "denominator": denominator,
            "complete": bool(current["complete"].iloc[0]) if here and "complete" in current else True,
            "trajectory": _num(current["trajectory"].iloc[0]) if here else None,
            "target": kpi.plan.target.value if kpi.plan else None,
            "target_period": kpi.plan.target.period if kpi.plan else None,
            "target_source": kpi.plan.target.source if kpi.plan else None,
            "status": st,
            "unjudged": _unjudged(kpi, current) if here and st is None else None,
            "status_label": STATUS_LABELS.get(st, "Not in plan") if st else "Not in plan",
            "status_icon": STATUS_ICONS.get(st, "") if st else "",
            "change": change(value, previous),
            "previous_status": _previous_status(kpi, s) if here else None,
            "recent": [None if pd.isna(v) else float(v) for v in s[column].tail(13)],
            "recent_trajectory": [None if pd.isna(v) else float(v) for v in s["trajectory"].tail(13)],
        })
    return pd.DataFrame(rows)


def _previous_status(kpi: KpiDefinition, rows: pd.DataFrame) -> str | None:
    """The status of the month before the chosen one (``rows`` end at the chosen month), or why it had none
    (baseline, partial); None without a plan that month."""
    if len(rows) < 2:
        return None
    before = rows.iloc[[-2]]
    st = before["status"].iloc[0]
    return _unjudged(kpi, before) if st is None or (isinstance(st, float) and st != st) else st


def _unjudged(kpi: KpiDefinition, current: pd.DataFrame) -> str | None:
    """Why a month the plan covers has no status: its baseline month, or a partial month (None otherwise)."""
    if kpi.plan is None or pd.isna(current["trajectory"].iloc[0]):
        return None
    if "complete" in current.columns and not bool(current["complete"].iloc[0]):
        return PARTIAL
    return BASELINE if plan_phase(kpi.plan, current["period"].iloc[0]) == "baseline" else None


def _basis_counts(s: pd.DataFrame, kpi: KpiDefinition, period: str) -> tuple[float | None, float | None]:
    """Numerator and denominator of the judged figure: the month's, or the sums over the 12 months to ``period``
    for a rolling basis (None unless all 12 months are there and none is hidden)."""
    if kpi.basis != "rolling_12m":
        current = s[s["period"] == period]
        return _num(current["numerator"].iloc[0]), _num(current["denominator"].iloc[0])
    last = s.tail(12)
    if len(last) < 12 or last["period"].iloc[-1] != period or pd.isna(last["rolling_12m"].iloc[-1]):
        return None, None
    num = pd.to_numeric(last["numerator"], errors="coerce")
    den = pd.to_numeric(last["denominator"], errors="coerce")
    if num.isna().any() or den.isna().any():
        return None, None
    return float(num.sum()), float(den.sum())


def _num(v) -> float | None:
    return None if v is None or pd.isna(v) else float(v)
