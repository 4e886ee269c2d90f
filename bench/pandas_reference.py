"""A straightforward pandas computation of every KPI's monthly numerator and denominator: the benchmark's reference.

Why: the benchmark compares the DuckDB engine (kpi/compute.py) with what an analyst would write in pandas, and
checks that both give the same numbers, so a speed-up is never bought with a wrong answer. The rules are the
statutory ones of DOMAIN.md §6, written independently of the engine's SQL from the same KPI definitions
(days, months, exceptions from kpi_definitions.yaml). Input is the clean tables as pandas DataFrames.
"""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pandas as pd

from kpi.definitions import Catalogue, KpiDefinition

TABLES: dict[str, list[str]] = {
    "request": ["request_id", "received_date", "request_outcome", "request_outcome_date"],
    "assessment": ["request_id", "assessment_id", "assessment_outcome", "assessment_outcome_date",
                   "week20_exception"],
    "active_plan": ["request_id", "review_meeting_date", "review_decision_date"],
    "named_plan": ["named_plan_id", "assessment_id", "start_date", "cease_date"],
}
FINAL_ASSESSMENT_OUTCOMES = ("Y", "N", "W", "S")
REFERENCE_COLUMNS = ["kpi_id", "period", "numerator", "denominator", "median"]


def fetch_tables(con: duckdb.DuckDBPyConnection) -> dict[str, pd.DataFrame]:
    """The clean tables the KPIs read, as DataFrames with datetime64 date columns."""
    frames = {}
    for table, cols in TABLES.items():
        df = con.execute(f"SELECT {', '.join(cols)} FROM {table}").df()
        for c in cols:
            if c.endswith("_date"):
                df[c] = pd.to_datetime(df[c])
        frames[table] = df
    return frames


def months(tables: dict[str, pd.DataFrame], series_start: str | None) -> pd.DatetimeIndex:
    """Month starts from the first flow request (outcome not 'H') to the latest dated event."""
    req = tables["request"]
    flow = req.loc[req["request_outcome"].fillna("") != "H", "received_date"]
    first = flow.min() if flow.notna().any() else req["received_date"].min()
    last = max(
        d for d in (req["received_date"].max(), req["request_outcome_date"].max(),
                    tables["assessment"]["assessment_outcome_date"].max(),
                    tables["active_plan"]["review_meeting_date"].max(),
                    tables["active_plan"]["review_decision_date"].max()) if pd.notna(d))
    first = first.to_period("M").to_timestamp()
    if series_start:
        first = max(first, pd.Timestamp(date.fromisoformat(series_start + "-01")))
    return pd.date_range(first, last.to_period("M").to_timestamp(), freq="MS")


def _rate(event_date: pd.Series, met: pd.Series, grid: pd.DatetimeIndex) -> pd.DataFrame:
    g = pd.DataFrame({"met": met.astype(bool), "one": 1}).groupby(event_date.dt.to_period("M").dt.to_timestamp())
    out = pd.DataFrame({"numerator": g["met"].sum(), "denominator": g["one"].sum()}).reindex(grid, fill_value=0)
    out["median"] = np.nan
    return out


def _at_month_end(start: pd.Series, end: pd.Series, grid: pd.DatetimeIndex) -> pd.DataFrame:
    """How many [start, end) intervals (end NaT = open) contain each month's last day."""
    month_end = grid + pd.offsets.MonthEnd(0)
    counts = [int(((start <= me) & (end.isna() | (end > me))).sum()) for me in month_end]
    return pd.DataFrame({"numerator": counts, "denominator": np.nan, "median": np.nan}, index=grid)


def _issued(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    a = tables["assessment"]
    a = a[(a["assessment_outcome"] == "Y") & a["assessment_outcome_date"].notna()]
    return a.merge(tables["request"], on="request_id", how="inner")


def _days(later: pd.Series, earlier: pd.Series) -> pd.Series:
    return (later - earlier).dt.days


# The SEN2 computations the reference implements (the benchmark compares the engine with it on these KPIs; the
# waiting-list and local-extract KPIs are outside the benchmark for now).
REFERENCE_METHODS = {"plans_issued_within", "request_decisions_within", "not_issue_within", "weeks_to_issue",
                     "open_assessments_over", "review_decisions_within", "reviews_overdue"}


def reference_catalogue(catalogue: Catalogue) -> Catalogue:
    """The catalogue cut to the KPIs the reference computes, for timing the engine on the same work."""
    return catalogue.model_copy(update={"kpis": [k for k in catalogue.kpis
                                                 if k.computation.method in REFERENCE_METHODS]})


def reference_kpi(kpi: KpiDefinition, tables: dict[str, pd.DataFrame], grid: pd.DatetimeIndex) -> pd.DataFrame:
    """One KPI's monthly numerator, denominator (and median) over the grid of months."""
    c = kpi.computation
    req, asm, ap = tables["request"], tables["assessment"], tables["active_plan"]
    if c.method == "plans_issued_within":
        ev = _issued(tables)
        if c.exceptions != "include":
            ev = ev[~ev["week20_exception"].fillna(False).astype(bool)]
        return _rate(ev["assessment_outcome_date"],
                     _days(ev["assessment_outcome_date"], ev["received_date"]) <= c.days, grid)
    if c.method == "request_decisions_within":
        ev = req[req["request_outcome"].isin(["Y", "N"]) & req["request_outcome_date"].notna()]
        return _rate(ev["request_outcome_date"], _days(ev["request_outcome_date"], ev["received_date"]) <= c.days,
                     grid)
    if c.method == "not_issue_within":
        ev = asm[(asm["assessment_outcome"] == "N") & asm["assessment_outcome_date"].notna()]
        ev = ev.merge(req, on="request_id", how="inner")
        return _rate(ev["assessment_outcome_date"],
                     _days(ev["assessment_outcome_date"], ev["received_date"]) <= c.days, grid)
    if c.method == "review_decisions_within":
        ev = ap[ap["review_decision_date"].notna() & ap["review_meeting_date"].notna()]
        return _rate(ev["review_decision_date"],
                     _days(ev["review_decision_date"], ev["review_meeting_date"]) <= c.days, grid)
    if c.method == "weeks_to_issue":
        ev = _issued(tables)
        weeks = _days(ev["assessment_outcome_date"], ev["received_date"]) / 7.0
        g = weeks.groupby(ev["assessment_outcome_date"].dt.to_period("M").dt.to_timestamp())
        out = pd.DataFrame({"numerator": g.sum(), "denominator": g.count(), "median": g.median()})
        out = out.reindex(grid)
        out["denominator"] = out["denominator"].fillna(0)
        return out
    if c.method == "open_assessments_over":
        agreed = req[(req["request_outcome"] == "Y") & req["request_outcome_date"].notna()]
        final = asm[asm["assessment_outcome"].isin(FINAL_ASSESSMENT_OUTCOMES)]
        ended = final.groupby("request_id")["assessment_outcome_date"].min()
        start = np.maximum(agreed["request_outcome_date"], agreed["received_date"] + pd.Timedelta(days=c.days + 1))
        end = agreed["request_id"].map(ended)
        return _at_month_end(start, end, grid)
    if c.method == "reviews_overdue":
        plans = tables["named_plan"].merge(asm[["assessment_id", "request_id"]], on="assessment_id", how="inner")
        plans = plans[plans["start_date"].notna()]
        own = plans[["named_plan_id", "request_id", "start_date", "cease_date"]].rename(
            columns={"start_date": "anchor"})
        met = plans.merge(ap[ap["review_meeting_date"].notna()], on="request_id", how="inner")
        met = met[met["review_meeting_date"] >= met["start_date"]]
        met = met[["named_plan_id", "request_id", "review_meeting_date", "cease_date"]].rename(
            columns={"review_meeting_date": "anchor"})
        anchors = pd.concat([own, met], ignore_index=True).drop_duplicates().sort_values(["named_plan_id", "anchor"])
        next_anchor = anchors.groupby("named_plan_id")["anchor"].shift(-1)
        start = anchors["anchor"] + pd.DateOffset(months=c.months) + pd.Timedelta(days=1)
        end = next_anchor.where(anchors["cease_date"].isna(),
                                np.minimum(next_anchor.fillna(anchors["cease_date"]), anchors["cease_date"]))
        return _at_month_end(start, end, grid)
    raise ValueError(f"unknown computation method {c.method!r}")


def reference_all(tables: dict[str, pd.DataFrame], catalogue: Catalogue) -> pd.DataFrame:
    """Every KPI's monthly numbers, stacked: kpi_id, period ('YYYY-MM'), numerator, denominator, median."""
    grid = months(tables, catalogue.series_start)
    frames = []
    for kpi in catalogue.kpis:
        df = reference_kpi(kpi, tables, grid)
        df = df.rename_axis("period").reset_index()
        df["period"] = df["period"].dt.strftime("%Y-%m")
        df.insert(0, "kpi_id", kpi.id)
        frames.append(df[REFERENCE_COLUMNS])
    return pd.concat(frames, ignore_index=True)


def disagreements(engine: pd.DataFrame, reference: pd.DataFrame, limit: int = 10) -> list[str]:
    """Where the engine's series and the reference differ: same KPI-months, and per KPI and month the same
    numerator and denominator (exactly for counts, to 1e-9 relative for sums of weeks) and median. Empty = agree."""
    keys = ["kpi_id", "period"]
    e = engine[REFERENCE_COLUMNS].set_index(keys)
    r = reference[REFERENCE_COLUMNS].set_index(keys)
    problems: list[str] = []
    for k in e.index.difference(r.index)[:limit]:
        problems.append(f"{k[0]} {k[1]}: in the engine's series but not the reference's")
    for k in r.index.difference(e.index)[:limit]:
        problems.append(f"{k[0]} {k[1]}: in the reference's series but not the engine's")
    both = e.index.intersection(r.index)
    for col in ("numerator", "denominator", "median"):
        a = pd.to_numeric(e.loc[both, col], errors="coerce").astype("float64")
        b = pd.to_numeric(r.loc[both, col], errors="coerce").astype("float64")
        same = (a.isna() & b.isna()) | np.isclose(a, b, rtol=1e-9, atol=1e-9)
        for k in a.index[~same.to_numpy()][:limit]:
            problems.append(f"{k[0]} {k[1]}: {col} engine {float(a[k])!r} vs reference {float(b[k])!r}")
    return problems[:limit]
