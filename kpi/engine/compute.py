"""Monthly KPI series computed in DuckDB SQL, on the statutory definitions (kpi_definitions.yaml).

Every method returns one row per local area and month of the data window: ``area_code`` (ONS code; record ids
are unique within an area, so every join matches on the area too), ``period`` (first day of the month),
``numerator``, ``denominator``, ``value`` and, for means, ``median``. Each area's months are its own data window
(as if it were loaded alone), every month present; an area holding no records of a KPI's source gets empty values
for that KPI (never zeros). A rate's month is the month of its completing event (plan issued, decision made).
Snapshot counts are taken at the month end. A month with no completing events has numerator and denominator 0
and an empty value (never 0%).

The rolling 12-month value sums numerators and denominators over the 12 months ending at the period, so
December's rolling value is the calendar-year figure DfE would publish from the same records.

This module dispatches: each method's SQL and finish step are registered by name in its family's module
(compute_sen2.py, compute_local.py, compute_waits.py; kpi/engine/methods.py), on the windows and area scopes of
kpi/engine/window.py and the monthly shapes of kpi/engine/monthly.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import duckdb
import numpy as np
import pandas as pd

from etl.sql_text import literal
from kpi.definitions import (
    LOCAL_METHODS,
    TABLES_FOR_METHOD,
    WAIT_METHODS,
    Catalogue,
    KpiDefinition,
)
from kpi.engine import compute_local, compute_sen2, compute_waits
from kpi.engine.compute_sen2 import data_windows
from kpi.engine.compute_waits import split_batch, waits_batch, waits_window, waits_windows
from kpi.engine.methods import Method
from kpi.engine.monthly import rolling_12  # noqa: F401  (series.py and the tests read it from here)
from kpi.engine.window import DataWindow, Scope, area_condition, areas_condition, span_of

# Every computation method by name (kpi.definitions.TABLES_FOR_METHOD lists them all): its SQL and finish step.
METHODS: dict[str, Method] = {**compute_sen2.METHODS, **compute_local.METHODS, **compute_waits.METHODS}


def method_of(kpi: KpiDefinition) -> Method:
    """The registered method computing ``kpi``."""
    try:
        return METHODS[kpi.computation.method]
    except KeyError:
        raise ValueError(f"unknown computation method {kpi.computation.method!r}") from None


def data_window(con: duckdb.DuckDBPyConnection) -> DataWindow | None:
    """The months the SEN2 data of every area cover together."""
    return span_of(data_windows(con))


def area_events_sql(kpi: KpiDefinition, area: str | None) -> str:
    """The KPI's per-event rows (``events_sql``) of one area, or of every area when ``area`` is None."""
    return f"SELECT * FROM ({events_sql(kpi)}) WHERE {area_condition(area)}"


def events_sql(kpi: KpiDefinition) -> str:
    """The per-event rows behind one SEN2 KPI, before they are counted into months (Explore and Explain use them
    too; the columns are kpi/engine/compute_sen2.py's)."""
    events = method_of(kpi).events
    if kpi.computation.method in WAIT_METHODS:
        raise ValueError(f"{kpi.id} is a waiting-list KPI: its rows are referrals (kpi/engine/compute_waits.py), not "
                         "SEN2 events")
    if events is None:
        raise ValueError(f"{kpi.id} ({kpi.computation.method}) is computed from a local extract: its rows are not "
                         "SEN2 events")
    return events(kpi)


def source_table(kpi: KpiDefinition) -> str:
    """The table whose areas a KPI's series covers: SEN2's requests, the referral list, or its local extract."""
    tables = TABLES_FOR_METHOD[kpi.computation.method]
    return "request" if "request" in tables or "active_plan" in tables else tables[0]


def method_sql(kpi: KpiDefinition, windows: Mapping[str, DataWindow] | DataWindow) -> str:
    """The SQL for one KPI's monthly numerator, denominator (and median) per area: each area of ``windows`` over its
    own months (area → window), or every area holding the KPI's source records over one window."""
    return method_of(kpi).sql(kpi, Scope(source_table(kpi), windows))


def _finish(df: pd.DataFrame, kpi: KpiDefinition) -> pd.DataFrame:
    """Values and rolling 12-month values from numerators and denominators: the method's finish step."""
    return method_of(kpi).finish(df, kpi)


SERIES_COLUMNS = ["area_code", "kpi_id", "period", "numerator", "denominator", "value", "rolling_12m", "median"]


def _mark_complete(out: pd.DataFrame, as_at: np.ndarray, snapshot: np.ndarray) -> pd.DataFrame:
    """The ``complete`` column (the month ends on or before the row's as-at date; NaT: no date known, complete).
    A month-end count for a month that ends after the as-at date does not exist yet: its figures are left empty
    (rates keep the events known). ``as_at`` and ``snapshot`` are per row; one vectorised pass over the series."""
    month_end = (pd.to_datetime(out["period"]) + pd.offsets.MonthEnd(0)).to_numpy()
    known = ~np.isnat(as_at)
    out["complete"] = ~known | (month_end <= np.where(known, as_at, month_end))
    blank = snapshot & ~out["complete"].to_numpy()
    if blank.any():
        for column in ("numerator", "denominator", "value", "median"):
            out[column] = out[column].astype("float64").where(~blank)
    return out


def compute_kpi(con: duckdb.DuckDBPyConnection, kpi: KpiDefinition,
                windows: Mapping[str, DataWindow] | DataWindow) -> pd.DataFrame:
    """One KPI's monthly series per area: area_code, kpi_id, period (date), numerator, denominator, value,
    rolling_12m, median. ``windows`` as :func:`method_sql`."""
    df = con.execute(method_sql(kpi, windows)).df()
    df = _finish(df, kpi)
    df.insert(1, "kpi_id", kpi.id)
    return df[SERIES_COLUMNS]


def clamp(window: DataWindow | None, catalogue: Catalogue) -> DataWindow | None:
    """A window starting no earlier than the catalogue's ``series_start`` (None when nothing is left)."""
    if window is None or not catalogue.series_start:
        return window
    start = date.fromisoformat(catalogue.series_start + "-01")
    if start > window.last:
        return None
    return DataWindow(max(window.first, start), window.last, window.as_at)


def series_window(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, window: DataWindow | None = None
                  ) -> DataWindow | None:
    """The months the series covers (every area together): the data window (SEN2's unless ``window`` is given),
    starting no earlier than the catalogue's ``series_start``."""
    return clamp(data_window(con) if window is None else window, catalogue)


def series_windows(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, areas=None, as_of: date | None = None
                   ) -> dict[str, dict[str, DataWindow]]:
    """Each source family's months, per area: 'sen2' (also the local extracts') and 'waits' (the referral list's),
    each clamped to ``series_start``."""
    out: dict[str, dict[str, DataWindow]] = {}
    for family, windows in (("sen2", data_windows(con, areas, as_of)), ("waits", waits_windows(con, areas, as_of))):
        out[family] = {a: w for a, w in ((a, clamp(w, catalogue)) for a, w in windows.items()) if w is not None}
    return out


def case_areas(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every local area holding case records (SEN2, referral list or local extracts), sorted by code."""
    return sorted(set().union(*_areas_by_table(con).values()))


def _areas_by_table(con: duckdb.DuckDBPyConnection, areas=None) -> dict[str, set[str]]:
    """The areas (of every area, or of ``areas``) holding rows in each case table."""
    tables = sorted({t for ts in TABLES_FOR_METHOD.values() for t in ts})
    union = " UNION ALL ".join(f"SELECT DISTINCT {literal(t)} AS t, area_code FROM {t} WHERE {areas_condition(areas)}"
                               for t in tables)
    found: dict[str, set[str]] = {t: set() for t in tables}
    for table, area in con.execute(union).fetchall():
        found[table].add(area)
    return found


def compute_all(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, kpi_ids: list[str] | None = None,
                areas: list[str] | tuple[str, ...] | None = None, as_of: date | None = None) -> pd.DataFrame:
    """Monthly series for the chosen KPIs (all by default) and areas (every area with case records by default),
    stacked: one row per area, KPI and month, each area over its own months.

    With ``as_of``, the series as they stood with only the extracts dated on or before that day: each area's months
    end at its newest such extract's as-at date, events after it are not counted, and reviews come from those
    extracts alone (records revised by a later extract keep their newer values: DESIGN §4, as-of view).

    Each source family has its own months: SEN2 KPIs (and the local extracts') keep the area's SEN2 window,
    waiting-list KPIs the area's referral window; an area lacking one family's window uses its other one. An area
    without a KPI's source records gets that KPI's months with empty values (never zeros)."""
    if as_of is None:
        return _compute_all(con, catalogue, kpi_ids, areas, None)
    con.execute(f"SET VARIABLE as_of = DATE '{as_of.isoformat()}'")  # read by REVIEWS
    try:
        return _compute_all(con, catalogue, kpi_ids, areas, as_of)
    finally:
        con.execute("RESET VARIABLE as_of")


def _compute_all(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, kpi_ids, areas, as_of) -> pd.DataFrame:
    by_table = _areas_by_table(con, areas)
    chosen = sorted(set().union(*by_table.values())) if areas is None else sorted(set(areas))
    families = series_windows(con, catalogue, areas, as_of)
    overall = _overall(families)
    if overall is None or not chosen:
        return pd.DataFrame(columns=[*SERIES_COLUMNS, "complete"])
    kpis = [catalogue.get(k) for k in kpi_ids] if kpi_ids else catalogue.kpis
    waits = [k for k in kpis if k.computation.method in WAIT_METHODS]
    batch = _waits_batch(con, waits, families, overall, chosen, by_table["referral"]) if waits else None
    frames, ranks, as_at, snapshot = [], [], [], []
    for rank, k in enumerate(kpis):
        windows = _windows_of(k, families, overall, chosen)
        holding = by_table[source_table(k)]
        if batch is not None and k in waits:  # every waiting-list KPI from one pass over the referrals
            got = _finish(split_batch(batch, k.computation), k)
            got.insert(1, "kpi_id", k.id)
            got = [got[SERIES_COLUMNS]]
        else:
            got = [compute_kpi(con, k, {a: w for a, w in windows.items() if a in holding})]
        got += [_no_data(k, a, windows[a]) for a in chosen if a not in holding]
        frames += got
        ranks += [np.full(len(f), rank) for f in got]
        dates = {a: np.datetime64(w.as_at, "ns") if w.as_at else np.datetime64("NaT", "ns") for a, w in windows.items()}
        as_at += [f["area_code"].map(dates).to_numpy(dtype="datetime64[ns]") for f in got]
        snapshot += [np.full(len(f), k.is_snapshot) for f in got]
    out = pd.concat(frames, ignore_index=True)
    out = _mark_complete(out, np.concatenate(as_at), np.concatenate(snapshot))
    # The catalogue's KPI order, then area, then month: the rank is carried per frame, not looked up per row.
    out["_rank"] = np.concatenate(ranks)
    return out.sort_values(["_rank", "area_code", "period"], kind="stable").drop(columns="_rank").reset_index(
        drop=True)


def _waits_batch(con: duckdb.DuckDBPyConnection, kpis: list[KpiDefinition], families, overall: DataWindow,
                 chosen: list[str], holding: set[str]) -> pd.DataFrame:
    """The waiting-list KPIs' measures for every service, area and month in one query (kpi.engine.compute_waits)."""
    windows = {a: w for a, w in _windows_of(kpis[0], families, overall, chosen).items() if a in holding}
    return waits_batch(con, kpis, Scope("referral", windows))


def _overall(families: dict[str, dict[str, DataWindow]]) -> DataWindow | None:
    """The months every family of every area covers together: the fallback for an area with neither window."""
    return span_of({f"{f}:{a}": w for f, ws in families.items() for a, w in ws.items()})


def _windows_of(kpi: KpiDefinition, families: dict[str, dict[str, DataWindow]], overall: DataWindow,
                areas: list[str]) -> dict[str, DataWindow]:
    """Each area's months for a KPI: its own family's window, else the area's other family's, else ``overall``."""
    own, other = ("waits", "sen2") if kpi.computation.method in WAIT_METHODS else ("sen2", "waits")
    return {a: families[own].get(a) or families[other].get(a) or overall for a in areas}


def kpi_windows(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, kpi: KpiDefinition,
                areas: list[str] | None = None) -> dict[str, DataWindow]:
    """The months of a KPI's series for each area holding its source records (only ``areas`` when given), as
    compute_all uses them: for showing the SQL behind one area's series (Explain)."""
    families = series_windows(con, catalogue, areas)
    overall = _overall(families)
    holding = _areas_by_table(con, areas)[source_table(kpi)]
    chosen = sorted(holding if areas is None else holding & set(areas))
    return _windows_of(kpi, families, overall, chosen) if overall else {}


def _no_data(kpi: KpiDefinition, area: str, window: DataWindow) -> pd.DataFrame:
    """Rows for an area whose source holds no records of a KPI: every month present, every value empty (not 0)."""
    periods = pd.date_range(window.first, window.last, freq="MS").astype("datetime64[us]")  # as DuckDB gives DATEs
    nan = float("nan")
    return pd.DataFrame({"area_code": area, "kpi_id": kpi.id, "period": periods, "numerator": nan,
                         "denominator": nan, "value": nan, "rolling_12m": nan, "median": nan})[SERIES_COLUMNS]


def check_against_database(con: duckdb.DuckDBPyConnection, catalogue: Catalogue) -> list[str]:
    """Stage 3 of validation: each KPI's source tables exist and hold data, and data reach the plan window."""
    problems: list[str] = []
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    counts: dict[str, int] = {}
    for kpi in catalogue.kpis:
        for table in TABLES_FOR_METHOD[kpi.computation.method]:
            if table not in tables:
                problems.append(f"kpi {kpi.id}: table {table} is missing from the database (load data first)")
                continue
            if table not in counts:
                counts[table] = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            if counts[table] == 0 and kpi.computation.method not in LOCAL_METHODS:
                # A local extract never loaded is not an error: its KPI simply has no values yet.
                problems.append(f"kpi {kpi.id}: table {table} holds no rows")
    if not problems:
        window = data_window(con)
        start = catalogue.plan_window.start
        if window is None or f"{window.last:%Y-%m}" < start:
            last = "no dated records" if window is None else f"data end at {window.last:%Y-%m}"
            problems.append(f"plan window starts {start} but {last}")
        if any(k.computation.method in WAIT_METHODS for k in catalogue.kpis):
            waits = waits_window(con)
            if waits is not None and f"{waits.last:%Y-%m}" < start:
                problems.append(f"plan window starts {start} but the referral data end at {waits.last:%Y-%m}")
    return problems
