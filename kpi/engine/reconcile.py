"""Reconciliation: the area's own calendar-year figures, computed from its person-level records, beside what DfE
published for it — the check analysts make before the statutory return (does our extract give last year's
published figures?) and after it (did DfE publish what we sent?).

For each KPI that has a published equivalent (its ``published`` block in kpi_definitions.yaml, seeded into
``published_kpi_map``) and each calendar year the loaded
records cover in full (all twelve months inside the data window):

- ``value``: our December rolling 12-month value (``kpi.engine.compute``: the calendar-year figure) against DfE's
  published rate. Flagged when they differ by more than ``RATE_TOLERANCE_PP`` (1 percentage point).
- ``numerator`` and ``denominator``: our monthly numerators and denominators summed over the year against
  DfE's counts. Flagged when they differ by more than ``COUNT_TOLERANCE`` (2%) of the published count (any
  difference when DfE published 0).

A published cell that is not available (``x``), suppressed (``c``) or not loaded gives no flag and says so in
``note``. Rows are long (one per KPI, year and measure) so that a page or a spreadsheet can filter them.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from kpi.definitions import Catalogue
from kpi.engine.benchmark import Area, BenchmarkError, published_kpis, require_published
from kpi.engine.compute import compute_all, data_window

RATE_TOLERANCE_PP = 1.0
COUNT_TOLERANCE = 0.02
COLUMNS = ["kpi_id", "year", "area_code", "measure", "local", "published", "difference", "tolerance", "flagged",
           "source", "note"]



class ReconcileError(ValueError):
    """The database cannot support a reconciliation (no records, no published data, wrong area)."""


def complete_years(periods: pd.Series) -> list[int]:
    """Calendar years with all twelve months present among the periods (dates or 'YYYY-MM' strings)."""
    p = pd.Series(pd.to_datetime(periods))
    counts = pd.Series(p.dt.month.values, index=p.dt.year.values).groupby(level=0).nunique()
    return sorted(int(y) for y, n in counts.items() if n == 12)


def check_extract_area(con: duckdb.DuckDBPyConnection, area: Area) -> None:
    """Refuse when none of the area's own SEN2 records are loaded (the loader tags every record with its area and
    refuses an extract whose SEN2 header names another LA)."""
    loaded = [r[0] for r in con.execute("SELECT DISTINCT area_code FROM request ORDER BY 1").fetchall()]
    if area.area_code not in loaded:
        raise ReconcileError(f"no SEN2 records for {area.name} ({area.old_la_code}/{area.area_code}) are loaded; "
                             f"areas with records: {', '.join(loaded) or 'none'}. Use --area, or load the area's "
                             "extract with `python -m etl load --area`")


def _flag(measure: str, local: float | None, published: float | None) -> tuple[float | None, bool]:
    if local is None or published is None:
        return None, False
    diff = local - published
    if measure == "value":
        return diff, abs(diff) > RATE_TOLERANCE_PP + 1e-9
    if published == 0:
        return diff, diff != 0
    return diff, abs(diff) > COUNT_TOLERANCE * abs(published) + 1e-9


def reconcile(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, area: Area) -> pd.DataFrame:
    """Long table (COLUMNS) of local against published figures for the area, by KPI, year and measure."""
    try:
        require_published(con)
        mapped = published_kpis(con)
    except BenchmarkError as exc:
        raise ReconcileError(str(exc)) from exc
    kpi_ids = [k.id for k in catalogue.kpis if k.id in mapped and k.is_rate]
    # Where DfE's counting rule differs from the KPI's (the published block's difference_note), so that a flag is
    # read in context.
    differences = {k.id: k.published.difference_note for k in catalogue.published_entries
                   if k.published.difference_note}
    try:
        window = data_window(con)
    except duckdb.CatalogException as exc:
        raise ReconcileError("no SEN2 records loaded: load the area's extract with `python -m etl load` first") from exc
    if window is None:
        raise ReconcileError("no SEN2 records loaded: load the area's extract with `python -m etl load` first")
    check_extract_area(con, area)
    series = compute_all(con, catalogue, kpi_ids, [area.area_code])
    series["period"] = pd.to_datetime(series["period"])
    published = con.execute("""
        SELECT kpi_id, year, numerator, denominator, value, marker, dataset
        FROM published_kpi WHERE area_code = ? AND geographic_level = 'Local authority'""",
                            [area.area_code]).df()
    rows: list[dict] = []
    for kpi_id in kpi_ids:
        s = series[series["kpi_id"] == kpi_id]
        for year in complete_years(s["period"]):
            ys = s[s["period"].dt.year == year]
            dec = ys[ys["period"].dt.month == 12]
            local = {
                "value": float(dec["rolling_12m"].iloc[0]) if len(dec) and pd.notna(dec["rolling_12m"].iloc[0])
                else None,
                "numerator": float(ys["numerator"].sum()),
                "denominator": float(ys["denominator"].sum()),
            }
            pub = published[(published["kpi_id"] == kpi_id) & (published["year"] == year)]
            rec = pub.iloc[0] if len(pub) else None
            for measure in ("value", "numerator", "denominator"):
                p = rec[measure] if rec is not None else None
                p = None if p is None or pd.isna(p) else float(p)
                diff, flagged = _flag(measure, local[measure], p)
                notes = []
                if rec is None:
                    notes.append("not published for this year (or not loaded)")
                elif p is None:
                    marker = rec["marker"] if rec["marker"] is not None and not pd.isna(rec["marker"]) else None
                    notes.append(f"not published ({marker})" if marker else "not published")
                if flagged and kpi_id in differences:
                    notes.append(differences[kpi_id])
                rows.append({
                    "kpi_id": kpi_id, "year": year, "area_code": area.area_code, "measure": measure,
                    "local": local[measure], "published": p, "difference": diff,
                    "tolerance": f"{RATE_TOLERANCE_PP:g} percentage point" if measure == "value"
                    else f"{COUNT_TOLERANCE:.0%} of the published count",
                    "flagged": flagged, "source": rec["dataset"] if rec is not None else None,
                    "note": "; ".join(notes) or None,
                })
    return pd.DataFrame(rows, columns=COLUMNS)
