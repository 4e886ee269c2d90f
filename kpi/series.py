"""The series the product shows: computed values joined to the plan's trajectory, target and status."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from etl.db import OutdatedDatabase, check_current
from kpi.compute import compute_all
from kpi.definitions import Catalogue, KpiDefinition
from kpi.trajectory import STATUS_ICONS, STATUS_LABELS, change, status, trajectory_value

SERIES_COLUMNS = [
    "area_code", "kpi_id", "period", "numerator", "denominator", "value", "rolling_12m", "median",
    "target", "trajectory", "status",
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


def add_plan(df: pd.DataFrame, kpi: KpiDefinition) -> pd.DataFrame:
    """Target, trajectory and status columns for one KPI's rows. Before the plan's baseline month there is no
    trajectory, so no target and no status either (never 'off track' against a plan not yet started).

    The trajectory is worked out once per month, not once per row (a KPI has one row per area and month)."""
    df = df.copy()
    if kpi.plan is None:
        df["target"] = None
        df["trajectory"] = None
        df["status"] = None
        return df
    plan = kpi.plan
    codes, months = pd.factorize(df["period"])
    planned = np.array([trajectory_value(plan, p) for p in months], dtype="float64")  # None → NaN
    trajectory = planned[codes]
    df["trajectory"] = trajectory
    df["target"] = np.where(np.isnan(trajectory), np.nan, plan.target.value)
    df["status"] = pd.Series([None if t != t else status(None if v != v else v, t, kpi.polarity, plan.tolerance)
                              for v, t in zip(df["value"].to_numpy(dtype="float64", na_value=np.nan).tolist(),
                                              trajectory.tolist(), strict=True)],
                             index=df.index, dtype=object)
    return df


def kpi_series(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, kpi_ids: list[str] | None = None,
               areas: list[str] | None = None) -> pd.DataFrame:
    """Monthly series with plan columns: one row per area, KPI and month, period as 'YYYY-MM'. Every area with
    case records, or only ``areas`` (the plan's trajectory and targets apply to each area alike)."""
    raw = compute_all(con, catalogue, kpi_ids, areas)
    if raw.empty:
        return pd.DataFrame(columns=SERIES_COLUMNS)
    codes, months = pd.factorize(raw["period"])  # format each month once, not once per row
    raw["period"] = pd.Index(pd.to_datetime(months).strftime("%Y-%m"))[codes]
    frames = [add_plan(g, catalogue.get(kpi_id)) for kpi_id, g in raw.groupby("kpi_id", sort=False)]
    out = pd.concat(frames, ignore_index=True)
    return out[SERIES_COLUMNS]


def scorecard(series: pd.DataFrame, catalogue: Catalogue, period: str) -> pd.DataFrame:
    """One row per KPI for the chosen month: value, trajectory, target, status, change, and recent values."""
    rows = []
    upto = series[series["period"] <= period]
    by_kpi, empty = dict(tuple(upto.groupby("kpi_id", sort=False))), upto.iloc[:0]  # one pass over the series
    for kpi in catalogue.kpis:
        s = by_kpi.get(kpi.id, empty)
        current = s[s["period"] == period]
        value = _num(current["value"].iloc[0]) if len(current) else None
        previous = _num(s["value"].iloc[-2]) if len(s) >= 2 and len(current) else None
        st = current["status"].iloc[0] if len(current) else None
        rows.append({
            "kpi_id": kpi.id,
            "app_area": catalogue.area_name(kpi.app_area),
            "name": kpi.short_name,
            "unit": kpi.unit,
            "decimals": kpi.decimals,
            "polarity": kpi.polarity,
            "value": value,
            "numerator": _num(current["numerator"].iloc[0]) if len(current) else None,
            "denominator": _num(current["denominator"].iloc[0]) if len(current) else None,
            "trajectory": _num(current["trajectory"].iloc[0]) if len(current) else None,
            "target": kpi.plan.target.value if kpi.plan else None,
            "target_period": kpi.plan.target.period if kpi.plan else None,
            "target_source": kpi.plan.target.source if kpi.plan else None,
            "status": st,
            "status_label": STATUS_LABELS.get(st, "Not in plan") if st else "Not in plan",
            "status_icon": STATUS_ICONS.get(st, "") if st else "",
            "change": change(value, previous),
            "recent": [None if pd.isna(v) else float(v) for v in s["value"].tail(13)],
        })
    return pd.DataFrame(rows)


def _num(v) -> float | None:
    return None if v is None or pd.isna(v) else float(v)
