"""A straightforward pandas computation of every KPI's monthly numbers, per local area: the benchmark's reference.

Why: the benchmark compares the DuckDB engine (kpi/engine/compute.py, compute_waits.py, compute_local.py) with what
an analyst would write in pandas, and checks that both give the same numbers, so a speed-up is never bought with a
wrong answer. The rules are the statutory definitions (kpi_definitions.yaml) and the engine's documented contract
(each area over its own months; counts at the month end; an area without a KPI's source gets empty values), written
independently of the engine's SQL: per KPI, filter the records, then per area count events by month or intervals at
each month end. Input is the clean tables as pandas DataFrames.
"""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pandas as pd

from etl.as_at import SEN2_MODULES  # the SEN2 modules whose loads carry an area's as-at date
from kpi.definitions import Catalogue, KpiDefinition

TABLES: dict[str, list[str]] = {
    "request": ["request_id", "received_date", "request_outcome", "request_outcome_date"],
    "assessment": ["request_id", "assessment_id", "assessment_outcome", "assessment_outcome_date",
                   "week20_exception"],
    "review_history": ["request_id", "review_meeting_date", "review_decision_date", "as_at", "load_id"],
    "active_plan": ["request_id", "phase_transfer_due", "phase_transfer_final"],
    "named_plan": ["named_plan_id", "assessment_id", "start_date", "cease_date"],
    "referral": ["service", "referral_date", "first_contact_date", "removed_date"],
    "advice_request": ["advice_type", "requested_date", "received_date"],
    "ehcp_audit": ["audit_date", "grade", "plan_type"],
    "placement_need": ["need_date", "placed_date"],
    "reduced_timetable": ["start_date", "end_date"],
    "kpi_return": ["kpi_id", "period", "numerator", "denominator"],
    "load_log": ["module", "as_at"],
}
DATE_COLUMNS = {"period", "as_at", "phase_transfer_due", "phase_transfer_final"}  # besides every *_date column
SNAPSHOT = {"open_assessments_over", "reviews_overdue", "waiting_list_size", "waiting_over", "waiting_over_count",
            "waiting_median_weeks", "awaiting_placement", "reduced_timetable"}
FINAL_ASSESSMENT_OUTCOMES = ("Y", "N", "W", "S")
WAIT_METHODS = {"seen_within", "waiting_over", "waiting_over_count", "waiting_list_size", "waiting_median_weeks"}
LOCAL_SOURCE = {"advice_within": "advice_request", "audit_grade": "ehcp_audit", "awaiting_placement": "placement_need",
                "reduced_timetable": "reduced_timetable", "kpi_return": "kpi_return"}
REFERENCE_COLUMNS = ["area_code", "kpi_id", "period", "numerator", "denominator", "median"]
Window = tuple[pd.Timestamp, pd.Timestamp]  # first and last month (month starts)


def fetch_tables(con: duckdb.DuckDBPyConnection) -> dict[str, pd.DataFrame]:
    """The clean tables the KPIs read (with area_code), as DataFrames with datetime64 date columns; ``load_log``
    only for each case extract's as-at date."""
    frames = {}
    for table, cols in TABLES.items():
        where = " WHERE area_code IS NOT NULL AND as_at IS NOT NULL" if table == "load_log" else ""
        df = con.execute(f"SELECT area_code, {', '.join(cols)} FROM {table}{where}").df()
        for c in cols:
            if c.endswith("_date") or c in DATE_COLUMNS:
                df[c] = pd.to_datetime(df[c])
        frames[table] = df
    return frames


# --- months: each area's own window --------------------------------------------------------------------------

def _month(d) -> pd.Timestamp:
    return pd.Timestamp(d).to_period("M").to_timestamp()


def as_at(t: dict[str, pd.DataFrame], modules) -> pd.Series:
    """Per area, the newest as-at date among its loads of ``modules``."""
    log = t["load_log"]
    return log[log["module"].isin(modules)].groupby("area_code")["as_at"].max()


def reviews(history: pd.DataFrame) -> pd.DataFrame:
    """Every review any extract showed, one row per plan and meeting: the newest extract's version."""
    ordered = history.sort_values(["as_at", "load_id"], na_position="first")
    return ordered.drop_duplicates(["area_code", "request_id", "review_meeting_date"], keep="last")


def sen2_windows(t: dict[str, pd.DataFrame]) -> dict[str, Window]:
    """Per area with requests: first flow request's month (outcome not 'H'; any request if all are historical) to
    the month of its newest SEN2 extract's as-at date (else its latest dated SEN2 event)."""
    req = t["request"]
    first_any = req.groupby("area_code")["received_date"].min()
    first_flow = req[req["request_outcome"].fillna("") != "H"].groupby("area_code")["received_date"].min()
    first = first_flow.reindex(first_any.index).fillna(first_any)
    dated = pd.concat([req[["area_code", "received_date"]].set_axis(["area_code", "d"], axis=1),
                       req[["area_code", "request_outcome_date"]].set_axis(["area_code", "d"], axis=1),
                       t["assessment"][["area_code", "assessment_outcome_date"]].set_axis(["area_code", "d"], axis=1),
                       t["review_history"][["area_code", "review_meeting_date"]].set_axis(["area_code", "d"], axis=1),
                       t["review_history"][["area_code", "review_decision_date"]].set_axis(["area_code", "d"],
                                                                                         axis=1)])
    last = dated.groupby("area_code")["d"].max()
    dated_at = as_at(t, SEN2_MODULES)
    return {a: (_month(first[a]), max(_month(first[a]), _month(dated_at.get(a, last[a])))) for a in first.index
            if pd.notna(first[a]) and a in last.index and pd.notna(last[a])}


def waits_windows(t: dict[str, pd.DataFrame]) -> dict[str, Window]:
    """Per area with referrals: first referral's month to the month of its latest referral, contact or removal."""
    windows = {}
    dated_at = as_at(t, ["referral"])
    for area, g in t["referral"].groupby("area_code"):
        last = max(d for d in (g["referral_date"].max(), g["first_contact_date"].max(), g["removed_date"].max())
                   if pd.notna(d))
        first = _month(g["referral_date"].min())
        windows[area] = (first, max(first, _month(dated_at.get(area, last))))
    return windows


def _clamped(windows: dict[str, Window], series_start: str | None) -> dict[str, Window]:
    if not series_start:
        return windows
    start = pd.Timestamp(date.fromisoformat(series_start + "-01"))
    return {a: (max(first, start), last) for a, (first, last) in windows.items() if start <= last}


def kpi_windows(t: dict[str, pd.DataFrame], catalogue: Catalogue) -> dict[str, dict[str, Window]]:
    """Per family ('sen2', 'waits'), every area's months for that family's KPIs: its own family's window, else its
    other family's, else the span of every window; every area holding any case record is included."""
    own = {"sen2": _clamped(sen2_windows(t), catalogue.series_start),
           "waits": _clamped(waits_windows(t), catalogue.series_start)}
    every = [w for ws in own.values() for w in ws.values()]
    if not every:
        return {"sen2": {}, "waits": {}}
    span = (min(w[0] for w in every), max(w[1] for w in every))
    areas = sorted(set().union(*(set(df["area_code"]) for name, df in t.items() if name != "load_log")))
    return {fam: {a: own[fam].get(a) or own[other].get(a) or span for a in areas}
            for fam, other in (("sen2", "waits"), ("waits", "sen2"))}


# --- counting into months -----------------------------------------------------------------------------------

def _rate(event_date: pd.Series, met: pd.Series, grid: pd.DatetimeIndex) -> pd.DataFrame:
    """Events per month of ``event_date`` (numerator: those meeting the rule), over the grid of months."""
    month = event_date.dt.to_period("M").dt.to_timestamp()
    g = pd.DataFrame({"met": met.fillna(False).astype(bool), "month": month}).groupby("month")["met"]
    out = pd.DataFrame({"numerator": g.sum(), "denominator": g.count()}).reindex(grid, fill_value=0)
    out["median"] = np.nan
    return out


def _at_month_end(start: pd.Series, end: pd.Series, grid: pd.DatetimeIndex) -> pd.DataFrame:
    """How many [start, end) intervals (end NaT = open) contain each month's last day."""
    month_end = grid + pd.offsets.MonthEnd(0)
    counts = [int(((start <= me) & (end.isna() | (end > me))).sum()) for me in month_end]
    return pd.DataFrame({"numerator": counts, "denominator": np.nan, "median": np.nan}, index=grid)


def _days(later: pd.Series, earlier: pd.Series) -> pd.Series:
    return (later - earlier).dt.days


def _wait_end(ref: pd.DataFrame) -> pd.Series:
    """A wait ends at the first contact or the removal, whichever comes first."""
    return ref[["first_contact_date", "removed_date"]].min(axis=1)


# --- one KPI in one area ------------------------------------------------------------------------------------

def area_kpi(kpi: KpiDefinition, t: dict[str, pd.DataFrame], grid: pd.DatetimeIndex) -> pd.DataFrame:
    """One KPI's monthly numerator, denominator (and median) over the grid, from one area's tables."""
    c = kpi.computation
    req, asm, ap = t["request"], t["assessment"], reviews(t["review_history"])
    issued = asm[(asm["assessment_outcome"] == "Y") & asm["assessment_outcome_date"].notna()]
    # One first plan per request: the earliest issued, then the lowest record id (numerically).
    issued = (issued.assign(_id=pd.to_numeric(issued["assessment_id"], errors="coerce"))
              .sort_values(["assessment_outcome_date", "_id", "assessment_id"], na_position="last")
              .drop_duplicates("request_id").drop(columns="_id"))
    if c.method == "plans_issued_within":
        ev = issued
        if c.exceptions != "include":  # a blank week20 is unknown: left out excluding exceptions
            ev = ev[ev["week20_exception"].map(lambda v: v is not None and not pd.isna(v) and not bool(v))]
        ev = ev.merge(req, on="request_id")
        return _rate(ev["assessment_outcome_date"],
                     _days(ev["assessment_outcome_date"], ev["received_date"]) <= c.days, grid)
    if c.method == "request_decisions_within":
        ev = req[req["request_outcome"].isin(["Y", "N"]) & req["request_outcome_date"].notna()]
        return _rate(ev["request_outcome_date"], _days(ev["request_outcome_date"], ev["received_date"]) <= c.days,
                     grid)
    if c.method == "not_issue_within":
        ev = asm[(asm["assessment_outcome"] == "N") & asm["assessment_outcome_date"].notna()]
        if c.exceptions != "include":  # week20 = 0 only; blank is unknown
            ev = ev[ev["week20_exception"].map(lambda v: v is not None and not pd.isna(v) and not bool(v))]
        ev = ev.merge(req, on="request_id")
        return _rate(ev["assessment_outcome_date"],
                     _days(ev["assessment_outcome_date"], ev["received_date"]) <= c.days, grid)
    if c.method == "review_decisions_within":
        ev = ap[ap["review_decision_date"].notna() & ap["review_meeting_date"].notna()]
        return _rate(ev["review_decision_date"],
                     _days(ev["review_decision_date"], ev["review_meeting_date"]) <= c.days, grid)
    if c.method == "phase_transfers_by_deadline":
        dated = pd.concat([req["received_date"], req["request_outcome_date"], asm["assessment_outcome_date"],
                           ap["review_meeting_date"], ap["review_decision_date"]])
        log = t["load_log"]
        extract_at = log.loc[log["module"].isin(SEN2_MODULES), "as_at"].max()
        data_end = extract_at if pd.notna(extract_at) else dated.max()  # the newest extract's as-at date
        plans = t["active_plan"]
        due = plans[plans["phase_transfer_due"].notna()]
        pt = due.groupby(["request_id", "phase_transfer_due"])["phase_transfer_final"].min().reset_index()
        pt = pt[pt["phase_transfer_due"] < data_end]
        return _rate(pt["phase_transfer_due"], pt["phase_transfer_final"] <= pt["phase_transfer_due"], grid)
    if c.method == "weeks_to_issue":
        ev = issued.merge(req, on="request_id")
        weeks = _days(ev["assessment_outcome_date"], ev["received_date"]) / 7.0
        g = weeks.groupby(ev["assessment_outcome_date"].dt.to_period("M").dt.to_timestamp())
        out = pd.DataFrame({"numerator": g.sum(), "denominator": g.count(), "median": g.median()}).reindex(grid)
        out[["numerator", "denominator"]] = out[["numerator", "denominator"]].fillna(0)
        return out
    if c.method == "open_assessments_over":
        agreed = req[((req["request_outcome"] == "Y") & req["request_outcome_date"].notna())
                     | (req["request_outcome"] == "H")]
        final = asm[asm["assessment_outcome"].isin(FINAL_ASSESSMENT_OUTCOMES)]
        ended = final.groupby("request_id")["assessment_outcome_date"].min()
        # A historical (H) assessment is closed on its date, or from the request's receipt when it has none.
        hist = asm[asm["assessment_outcome"] == "H"].merge(req[["request_id", "received_date"]], on="request_id")
        hist_end = hist["assessment_outcome_date"].fillna(hist["received_date"]).groupby(hist["request_id"]).min()
        end = pd.concat([pd.to_datetime(agreed["request_id"].map(ended.to_dict())),
                         pd.to_datetime(agreed["request_id"].map(hist_end.to_dict()))], axis=1).min(axis=1)
        start = np.maximum(agreed["request_outcome_date"].fillna(agreed["received_date"]),
                           agreed["received_date"] + pd.Timedelta(days=c.days + 1))
        keep = end.isna() | (end > start)
        return _at_month_end(start[keep], end[keep], grid)
    if c.method == "reviews_overdue":
        plans = t["named_plan"].merge(asm[["assessment_id", "request_id"]], on="assessment_id")
        plans = plans[plans["start_date"].notna()]
        own = plans[["named_plan_id", "start_date", "cease_date"]].rename(columns={"start_date": "anchor"})
        met = plans.merge(ap[ap["review_meeting_date"].notna()], on="request_id")
        met = met.loc[met["review_meeting_date"] >= met["start_date"],
                      ["named_plan_id", "review_meeting_date", "cease_date"]].rename(
            columns={"review_meeting_date": "anchor"})
        anchors = pd.concat([own, met], ignore_index=True).drop_duplicates().sort_values(["named_plan_id", "anchor"])
        anchors["next_anchor"] = anchors.groupby("named_plan_id")["anchor"].shift(-1)
        start = anchors["anchor"] + pd.DateOffset(months=c.months) + pd.Timedelta(days=1)
        return _at_month_end(start, anchors[["next_anchor", "cease_date"]].min(axis=1), grid)
    if c.method in WAIT_METHODS:
        ref = t["referral"][t["referral"]["service"] == c.service]
        if c.method == "seen_within":
            ev = ref[ref["first_contact_date"].notna()
                     & (ref["removed_date"].isna() | (ref["removed_date"] >= ref["first_contact_date"]))]
            return _rate(ev["first_contact_date"], _days(ev["first_contact_date"], ev["referral_date"]) <= c.days,
                         grid)
        end = _wait_end(ref)
        if c.method == "waiting_list_size":
            return _at_month_end(ref["referral_date"], end, grid)
        if c.method in ("waiting_over", "waiting_over_count"):
            over = _at_month_end(ref["referral_date"] + pd.Timedelta(days=c.days + 1), end, grid)
            if c.method == "waiting_over":
                over["denominator"] = _at_month_end(ref["referral_date"], end, grid)["numerator"]
            return over
        rows = []
        for me in grid + pd.offsets.MonthEnd(0):
            waited = _days(pd.Series(me, index=ref.index), ref["referral_date"])[
                (ref["referral_date"] <= me) & (end.isna() | (end > me))]
            rows.append((np.nan, len(waited), waited.median() / 7.0 if len(waited) else np.nan))
        return pd.DataFrame(rows, columns=["numerator", "denominator", "median"], index=grid)
    if c.method == "advice_within":
        adv = t["advice_request"]
        ev = adv[(adv["advice_type"] == c.advice_type) & adv["received_date"].notna()]
        return _rate(ev["received_date"], _days(ev["received_date"], ev["requested_date"]) <= c.days, grid)
    if c.method == "audit_grade":
        aud = t["ehcp_audit"]
        if c.plan_types:
            aud = aud[aud["plan_type"].isin(c.plan_types)]
        return _rate(aud["audit_date"], aud["grade"].isin(c.grades), grid)
    if c.method == "awaiting_placement":
        need = t["placement_need"]
        return _at_month_end(need["need_date"], need["placed_date"], grid)
    if c.method == "reduced_timetable":
        rt = t["reduced_timetable"]  # end_date is the last day on it: still counted at a month end equal to it
        return _at_month_end(rt["start_date"], rt["end_date"] + pd.Timedelta(days=1), grid)
    if c.method == "kpi_return":
        ret = t["kpi_return"]
        out = ret[ret["kpi_id"] == kpi.id].set_index("period")[["numerator", "denominator"]].reindex(grid)
        out["median"] = np.nan
        return out
    raise ValueError(f"unknown computation method {c.method!r}")


def source_of(kpi: KpiDefinition) -> str:
    """The table an area must hold records in for the KPI to have values there (SEN2 KPIs: requests)."""
    method = kpi.computation.method
    return "referral" if method in WAIT_METHODS else LOCAL_SOURCE.get(method, "request")


def reference_all(tables: dict[str, pd.DataFrame], catalogue: Catalogue) -> pd.DataFrame:
    """Every KPI's monthly numbers for every area, stacked: area_code, kpi_id, period ('YYYY-MM'), numerator,
    denominator, median. An area holding no records of a KPI's source gets its months with empty values."""
    windows = kpi_windows(tables, catalogue)
    split = {name: dict(tuple(df.groupby("area_code"))) for name, df in tables.items()}
    dated = {"sen2": as_at(tables, SEN2_MODULES), "waits": as_at(tables, ["referral"])}
    by_area = {(a, fam): _known_by({name: split[name].get(a, df.iloc[:0]) for name, df in tables.items()},
                                   dated[fam].get(a))
               for a in windows["sen2"] for fam in ("sen2", "waits")}
    frames = []
    for kpi in catalogue.kpis:
        family = "waits" if kpi.computation.method in WAIT_METHODS else "sen2"
        holding = set(tables[source_of(kpi)]["area_code"])
        for area, (first, last) in windows[family].items():
            grid = pd.date_range(first, last, freq="MS")
            if area in holding:
                df = area_kpi(kpi, by_area[(area, family)], grid)
                day = dated[family].get(area)
                if kpi.computation.method in SNAPSHOT and pd.notna(day):  # a month end after the as-at date
                    df.loc[grid + pd.offsets.MonthEnd(0) > day, ["numerator", "denominator", "median"]] = np.nan
            else:
                df = pd.DataFrame({"numerator": np.nan, "denominator": np.nan, "median": np.nan}, index=grid)
            df = df.rename_axis("period").reset_index()
            df["period"] = df["period"].dt.strftime("%Y-%m")
            df.insert(0, "kpi_id", kpi.id)
            df.insert(0, "area_code", area)
            frames.append(df[REFERENCE_COLUMNS])
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=REFERENCE_COLUMNS)


def _known_by(t: dict[str, pd.DataFrame], day) -> dict[str, pd.DataFrame]:
    """An area's tables as known at its as-at date: every event date after it is not known yet (NaT)."""
    if day is None or pd.isna(day):
        return t
    out = {}
    for name, df in t.items():
        df = df.copy()
        for c in df.columns:
            if c.endswith("_date"):
                df[c] = df[c].where(~(df[c] > day))
        out[name] = df
    return out


def disagreements(engine: pd.DataFrame, reference: pd.DataFrame, limit: int = 10) -> list[str]:
    """Where the engine's series and the reference differ: the same (area, KPI, month) rows, and in each the same
    numerator, denominator and median (counts exactly, sums of weeks and medians to 1e-9 relative). Empty = agree."""
    keys = ["area_code", "kpi_id", "period"]
    e = engine[REFERENCE_COLUMNS].set_index(keys)
    r = reference[REFERENCE_COLUMNS].set_index(keys)
    problems: list[str] = []
    for k in e.index.difference(r.index)[:limit]:
        problems.append(f"{' '.join(k)}: in the engine's series but not the reference's")
    for k in r.index.difference(e.index)[:limit]:
        problems.append(f"{' '.join(k)}: in the reference's series but not the engine's")
    both = e.index.intersection(r.index)
    for col in ("numerator", "denominator", "median"):
        a = pd.to_numeric(e.loc[both, col], errors="coerce").astype("float64")
        b = pd.to_numeric(r.loc[both, col], errors="coerce").astype("float64")
        same = (a.isna() & b.isna()) | np.isclose(a, b, rtol=1e-9, atol=0)
        for k in a.index[~same.to_numpy()][:limit]:
            problems.append(f"{' '.join(k)}: {col} engine {float(a[k])!r} vs reference {float(b[k])!r}")
    return problems[:limit]
