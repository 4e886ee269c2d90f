"""The local area beside DfE's published comparators, year by year, and where a plan's benchmark target came from.

Three things the KPI and Benchmarks pages show, kept here so the pages stay thin:

- :func:`local_calendar_years`: the area's own calendar-year values from its monthly series (December's rolling
  12-month value, the figure DfE would publish from the same records; only complete years).
- :func:`history`: for every year DfE published the KPI, the area, England, its region and its statistical
  neighbours (pooled and median) with the area's rank and quartile band — one :func:`kpi.engine.benchmark.benchmark`
  table per year, so the rules (rank ties, bands, pooling, reorganisations) are the same as the CLI's.
- :func:`target_check`: a plan target declared as a benchmark ("England average for 2022") looked up in the
  loaded published data, with the file and load it came from, and whether the plan's number agrees with it.
  The plan keeps its own number (an agreed plan must not move when DfE revises a release); a disagreement
  is reported, and ``python -m kpi validate --db`` fails on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from kpi.definitions import Catalogue, KpiDefinition
from kpi.engine.benchmark import ENGLAND, SN_MEDIAN, SN_POOLED, Area, BenchmarkError, available_years, benchmark
from kpi.views.charts import format_value

ROLE_NAMES = {"area": None, "england": "England", "region": None, "neighbours_pooled": "Statistical neighbours "
              "(pooled)", "neighbours_median": "Statistical neighbours (median)"}
HISTORY_COLUMNS = ["year", "role", "area_code", "area_name", "value", "rank", "quartile", "n_ranked", "note"]
BENCHMARK_OF = {"england": "England average", "region": "regional average",
                "neighbours_pooled": "statistical neighbours' average (pooled)",
                "neighbours_median": "statistical neighbours' median"}
# The plan's number agrees with the published one when they differ by less than half a unit of the last decimal
# DfE publishes (one decimal place for rates).
AGREE_WITHIN = 0.05


def local_calendar_years(rows: pd.DataFrame) -> pd.DataFrame:
    """year, value, numerator, denominator: December's rolling 12-month value of each complete calendar year in
    one rate KPI's monthly series (``period`` 'YYYY-MM'); counts summed over the year's months."""
    if rows.empty:
        return pd.DataFrame(columns=["year", "value", "numerator", "denominator"])
    r = rows.assign(year=rows["period"].str[:4].astype(int), month=rows["period"].str[5:7].astype(int))
    months = r.groupby("year")["month"].nunique()
    complete = months[months == 12].index
    dec = r[(r["month"] == 12) & r["year"].isin(complete)].set_index("year")["rolling_12m"]
    sums = r[r["year"].isin(complete)].groupby("year")[["numerator", "denominator"]].sum()
    out = sums.join(dec.rename("value")).reset_index()
    out["value"] = out["value"].astype("float64")
    return out[["year", "value", "numerator", "denominator"]]


def history(con: duckdb.DuckDBPyConnection, kpi_id: str, area: Area, polarity: str | None = None) -> pd.DataFrame:
    """Long table (HISTORY_COLUMNS) of the area, England, region, SN_POOLED and SN_MEDIAN for every year with
    published figures for the KPI. Years the area did not exist in are left out (their reason is the CLI's)."""
    frames = []
    for year in available_years(con, kpi_id):
        try:
            table = benchmark(con, kpi_id, area, year, polarity)
        except BenchmarkError:
            continue
        keep = table[table["role"].isin(ROLE_NAMES)]
        frames.append(keep[HISTORY_COLUMNS])
    if not frames:
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def comparison_wide(hist: pd.DataFrame, local: pd.DataFrame, area: Area) -> pd.DataFrame:
    """One row per year: our value from the case records, then DfE's published values for the area, England,
    the region and the neighbours, and the area's rank and quartile — the table under the comparison chart."""
    columns = {"area": f"{area.name} (published)", "england": "England", "region": area.region_name or "Region",
               "neighbours_pooled": "Neighbours (pooled)", "neighbours_median": "Neighbours (median)"}
    if hist.empty:
        wide = pd.DataFrame(columns=["Year", *columns.values()])
    else:
        wide = hist.pivot_table(index="year", columns="role", values="value", aggfunc="first")
        wide = wide.reindex(columns=list(columns)).rename(columns=columns)
        ranks = hist[hist["role"] == "area"].set_index("year")
        wide["Rank"] = ranks["rank"].astype("Int64")
        wide["Of"] = ranks["n_ranked"].astype("Int64")
        wide["Quartile"] = ranks["quartile"].astype("Int64")
        wide = wide.reset_index().rename(columns={"year": "Year"})
    ours = local.rename(columns={"year": "Year", "value": f"{area.name} (case records)"})[
        ["Year", f"{area.name} (case records)"]]
    out = ours.merge(wide, on="Year", how="outer").sort_values("Year", ascending=False)
    out["Year"] = out["Year"].astype(int)
    return out.reset_index(drop=True)


@dataclass(frozen=True)
class TargetCheck:
    """A benchmark target looked up in the loaded published data."""

    kpi_id: str
    described: str            # "England average for 2022"
    planned: float             # the plan's number
    published: float | None    # DfE's figure, None when not loaded or not published
    source: str | None         # "timeliness_20_week.csv, loaded 01 December 2026"
    agrees: bool | None        # None when there is nothing to compare with

    def sentence(self, kpi: KpiDefinition) -> str:
        fmt = lambda v: format_value(v, kpi.unit, kpi.decimals)  # noqa: E731
        if self.published is None:
            return (f"The target is the {self.described}; it is not in the loaded published data, so the plan's "
                    f"{fmt(self.planned)} cannot be checked. Load DfE's release to check it.")
        text = f"The target is the {self.described}: DfE published {fmt(self.published)}"
        text += f" ({self.source})." if self.source else "."
        if self.agrees:
            return text + f" ✔ The plan's {fmt(self.planned)} agrees."
        return text + f" ✖ The plan says {fmt(self.planned)}: check the plan or the loaded release."


_ROLE_CODE = {"england": ENGLAND, "neighbours_pooled": SN_POOLED, "neighbours_median": SN_MEDIAN}


def target_check(con: duckdb.DuckDBPyConnection, kpi: KpiDefinition, area: Area) -> TargetCheck | None:
    """The KPI's benchmark target against the loaded published data; None when the target is not a benchmark."""
    if kpi.plan is None or kpi.plan.target.benchmark is None:
        return None
    ref = kpi.plan.target.benchmark
    described = f"{BENCHMARK_OF[ref.of]} for {ref.year}"
    if ref.of == "region" and area.region_name:
        described = f"{area.region_name} average for {ref.year}"
    planned = kpi.plan.target.value
    try:
        table = benchmark(con, kpi.id, area, ref.year, kpi.polarity)
    except BenchmarkError:
        return TargetCheck(kpi.id, described, planned, None, None, None)
    row = table[table["role"] == ref.of]
    value = None if row.empty or pd.isna(row["value"].iloc[0]) else float(row["value"].iloc[0])
    if value is None:
        return TargetCheck(kpi.id, described, planned, None, None, None)
    source = _source_of(con, kpi.id, ref.year, _ROLE_CODE.get(ref.of, area.region_code))
    return TargetCheck(kpi.id, described, planned, value, source, abs(value - planned) < AGREE_WITHIN)


def _source_of(con: duckdb.DuckDBPyConnection, kpi_id: str, year: int, area_code: str | None) -> str | None:
    """'file.csv, loaded 01 December 2026' for the published row behind a value (the aggregates: its year's file)."""
    row = con.execute("""
        SELECT l.source_file, max(l.loaded_at)
        FROM published_value v JOIN published_kpi_map m ON m.dataset = v.dataset AND m.kpi_id = ?
        JOIN load_log l USING (load_id)
        WHERE v.year = ? AND (? IS NULL OR v.area_code = ?)
        GROUP BY l.source_file, m.priority ORDER BY m.priority LIMIT 1""",
                      [kpi_id, year, area_code, area_code]).fetchone()
    if row is None:
        return None
    return f"{row[0]}, loaded {row[1]:%d %B %Y}"


def target_problems(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, area: Area) -> list[str]:
    """Validation: every benchmark target whose plan number disagrees with the loaded published figure."""
    problems = []
    for kpi in catalogue.kpis:
        check = target_check(con, kpi, area)
        if check is not None and check.agrees is False:
            problems.append(f"kpi {kpi.id}: plan target {check.planned:g} but DfE's {check.described} is "
                            f"{check.published:g} ({check.source})")
    return problems


# --- what the pages ask for ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class KpiComparison:
    """Everything the comparison section of a page needs for one KPI, or why there is nothing to show."""

    area: Area | None
    history: pd.DataFrame
    target: TargetCheck | None
    problem: str | None = None
    nothing_loaded: bool = False  # the problem is that no published data is loaded (a load fixes it)


def kpi_comparison(con: duckdb.DuckDBPyConnection, kpi: KpiDefinition, area_code: str) -> KpiComparison:
    """The home area's published history for a KPI and its target check; ``problem`` says why when there is none
    (no published data loaded, no published equivalent, unknown area)."""
    from kpi.engine.benchmark import NothingPublished, published_kpis, require_published, resolve_area

    empty = pd.DataFrame(columns=HISTORY_COLUMNS)
    try:
        require_published(con)
        area = resolve_area(con, area_code)
        if kpi.id not in published_kpis(con):
            return KpiComparison(area, empty, None, "DfE publishes no figure on this KPI's definition.")
    except BenchmarkError as exc:
        return KpiComparison(None, empty, None, str(exc)[0].upper() + str(exc)[1:] + ".",
                             nothing_loaded=isinstance(exc, NothingPublished))
    return KpiComparison(area, history(con, kpi.id, area, kpi.polarity), target_check(con, kpi, area))


def comparable_kpis(con: duckdb.DuckDBPyConnection, catalogue: Catalogue) -> list[str]:
    """The catalogue's KPIs that DfE publishes (in catalogue order), then its published-only measures (the SEND
    Tribunal appeal rate) that are loaded; empty when nothing published is loaded."""
    from kpi.engine.benchmark import published_kpis, require_published

    try:
        require_published(con)
        published = published_kpis(con)
    except BenchmarkError:
        return []
    return [k.id for k in [*catalogue.kpis, *catalogue.published_measures] if k.id in published]
