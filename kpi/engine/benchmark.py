"""Benchmarks from DfE's published statistics: an area beside England, its region and its statistical neighbours,
with its rank among all local areas and its quartile band.

Data work is SQL over the ``published_kpi`` view (etl/schema_published.sql); ranking, banding, pooling and the
median are small pure functions so that their rules are explicit and tested on their own.

Rules (as in DfE's LAIT and the SEND and AP dashboard):

- **Value**: DfE's published figure (its rounded percentage) wherever DfE publishes one — the number monitors
  compare with. Numerators and denominators are kept for pooling.
- **Rank**: among all local areas with a value that year, 1 = best by the KPI's polarity (highest for ``up``,
  lowest for ``down``); ties share the best rank (standard competition ranking: 1, 2, 2, 4). Ranks are on the
  published (rounded) values, so areas that look equal to a reader rank equal. Only local areas get a rank.
- **Quartile**: the band a rank falls in, 1 = best quarter … 4 = worst: ``ceil(4 × rank / n)`` with n the
  number of ranked areas. England, the region, ``SN_POOLED`` and ``SN_MEDIAN`` get the band of the rank they
  would take (1 + the number of local areas strictly better), so "England is in quartile 2" reads naturally.
- **SN_POOLED**: the neighbours' numerators summed over their denominators summed (neighbours without both
  are left out, and ``n_areas`` says how many were used). **SN_MEDIAN**: the median of the neighbours'
  published values.
- **Neighbours** come from the newest statistical-neighbour set in effect by the end of the year (the
  earliest set when none was yet in effect, with a note).
- **Reorganisations** are never silently broken: a recoded area (North Yorkshire, Somerset, Buckinghamshire)
  is one area under one canonical code, so its series joins; an area created by a split or merge has no
  figures before it existed, and asking for them is an error naming its predecessor; a neighbour that did
  not exist in the year stays in the table with no value and a note.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import pandas as pd

from etl import reference
from etl.formats.dfe_kpi_map import map_rows
from kpi.definitions import Catalogue

ENGLAND = reference.ENGLAND_CODE
SN_POOLED = "SN_POOLED"
SN_MEDIAN = "SN_MEDIAN"
COLUMNS = [
    "kpi_id", "year", "role", "neighbour_rank", "area_code", "area_name", "numerator", "denominator", "value",
    "marker", "rank", "quartile", "n_ranked", "n_areas", "polarity", "source", "note",
]


class BenchmarkError(ValueError):
    """A request the published data cannot answer (unknown KPI or area, nothing loaded, year not available)."""


class NothingPublished(BenchmarkError):
    """No published figures are loaded at all: a load fixes it (the message says which command)."""


# --- pure functions ----------------------------------------------------------------------------------------

def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def is_better(a: float, b: float, polarity: str) -> bool:
    """Whether value ``a`` is strictly better than ``b`` ('up': higher is better; 'down': lower is better)."""
    if polarity == "up":
        return a > b
    if polarity == "down":
        return a < b
    raise ValueError(f"polarity must be 'up' or 'down', got {polarity!r}")


def position(value: float | None, population: Sequence[float | None], polarity: str) -> int | None:
    """The rank ``value`` takes among ``population``: 1 + how many values there are strictly better."""
    if _missing(value):
        return None
    return 1 + sum(1 for v in population if not _missing(v) and is_better(v, value, polarity))


def rank_values(values: Sequence[float | None], polarity: str) -> list[int | None]:
    """Competition ranks (ties share the best rank: 1, 2, 2, 4); None where a value is missing."""
    present = [v for v in values if not _missing(v)]
    return [position(v, present, polarity) for v in values]


def quartile_band(rank: int | None, n: int) -> int | None:
    """The quartile band of a rank among ``n`` ranked areas: 1 = best quarter … 4 = worst."""
    if rank is None or n <= 0:
        return None
    return max(1, min(4, math.ceil(4 * rank / n)))


def pooled_rate(numerators: Sequence[float | None], denominators: Sequence[float | None]) -> tuple[float | None, int]:
    """Σ numerators / Σ denominators × 100 over the pairs where both are known; also how many pairs were used."""
    pairs = [(n, d) for n, d in zip(numerators, denominators, strict=True) if not _missing(n) and not _missing(d)]
    total = sum(d for _, d in pairs)
    if not pairs or total <= 0:
        return None, len(pairs)
    return 100.0 * sum(n for n, _ in pairs) / total, len(pairs)


def median_value(values: Sequence[float | None]) -> tuple[float | None, int]:
    """The median of the known values, and how many there were."""
    present = [float(v) for v in values if not _missing(v)]
    return (statistics.median(present) if present else None), len(present)


# --- areas -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Area:
    area_code: str
    name: str
    old_la_code: str | None
    region_code: str | None
    region_name: str | None
    first_year: int | None = None
    last_year: int | None = None

    def exists_in(self, year: int) -> bool:
        started = self.first_year is None or year >= self.first_year
        return started and (self.last_year is None or year <= self.last_year)


def resolve_area(con: duckdb.DuckDBPyConnection, code: str) -> Area:
    """A local area from any of its codes (DfE LA number or ONS code, current or former)."""
    la = reference.by_code(code)
    if la is not None:
        return Area(la.new_la_code, la.name, la.old_la_code, la.region_code, la.region_name, la.first_year,
                    la.last_year)
    key = reference.normalise_code(code)
    row = _fetch(con, """
        SELECT area_code, any_value(area_name), any_value(old_la_code), any_value(region_code),
               any_value(region_name), min(year), max(year)
        FROM published_value WHERE geographic_level = 'Local authority' AND ? IN (area_code, new_la_code, old_la_code)
        GROUP BY area_code""", [key])
    if not row:
        raise BenchmarkError(f"unknown area code {code!r}: give a local authority's DfE number (e.g. 823) or "
                             "ONS code (e.g. E06000056)")
    return Area(*row[0])


def _described(code: str, name: str) -> str:
    la = reference.by_code(code)
    return f"{name} ({code}, DfE {la.old_la_code})" if la else f"{name} ({code})"


def lineage_note(area: Area, year: int) -> str | None:
    """Why an area has no figures in a year because of a reorganisation, or None when it reported that year."""
    if area.exists_in(year):
        return None
    links = reference.lineage_for(area.area_code)
    if area.first_year and year < area.first_year:
        came = [ln for ln in links if ln.successor_code == area.area_code and not ln.joins]
        if came:
            preds = ", ".join(sorted({_described(ln.predecessor_code, ln.predecessor_name) for ln in came}))
            how = came[0].kind.replace("_", " ")
            return (f"{area.name} ({area.area_code}) was created in {area.first_year} by the {how} of {preds}: "
                    f"it has no figures for {year}, and its predecessor's cover a different area "
                    "so they are not shown in its place")
        return f"{area.name} ({area.area_code}) first reported in {area.first_year}: no figures for {year}"
    went = [ln for ln in links if ln.predecessor_code == area.area_code and not ln.joins]
    if went:
        succ = ", ".join(sorted({_described(ln.successor_code, ln.successor_name) for ln in went}))
        return (f"{area.name} ({area.area_code}) ended in {went[0].effective_year - 1}: "
                f"{went[0].kind.replace('_', ' ')} into {succ}; it has no figures for {year}")
    return f"{area.name} ({area.area_code}) last reported in {area.last_year}: no figures for {year}"


# --- queries -----------------------------------------------------------------------------------------------

NOTHING_LOADED = ("no published data loaded: load the bundled copy of DfE's files first with "
                  "`python -m etl published load --db PATH` (or a newer download with `python -m etl load`)")


def _fetch(con, sql: str, params: list | None = None) -> list[tuple]:
    try:
        return con.execute(sql, params or []).fetchall()
    except duckdb.CatalogException as exc:
        raise NothingPublished(NOTHING_LOADED) from exc


def require_published(con: duckdb.DuckDBPyConnection) -> None:
    """Raise BenchmarkError unless some published figures are loaded."""
    if not _fetch(con, "SELECT 1 FROM published_value LIMIT 1") or not _fetch(con, "SELECT 1 FROM published_kpi_map"):
        raise NothingPublished(NOTHING_LOADED)


def published_map_problems(con: duckdb.DuckDBPyConnection, catalogue: Catalogue) -> list[str]:
    """The database's ``published_kpi_map`` against the catalogue's ``published`` blocks (what the next published
    load would seed): a KPI renamed, or its block changed, since the figures were loaded. Empty when they agree or
    nothing published is loaded."""
    try:
        loaded = con.execute("SELECT kpi_id, dataset, priority, numerator, denominator, rate "
                             "FROM published_kpi_map").fetchall()
    except duckdb.CatalogException:
        return []
    if not loaded:
        return []

    def keyed(rows) -> set[tuple]:
        return {(r[0], r[1], r[2], r[3], tuple(r[4]), r[5]) for r in rows}

    differing = keyed(loaded) ^ keyed(map_rows(catalogue.published_entries))
    if not differing:
        return []
    return [f"the database's map of DfE's published figures does not match the KPI definitions for "
            f"{', '.join(sorted({r[0] for r in differing}))} (a KPI renamed, or its `published` block changed, since "
            "the published figures were loaded): load them into a new database (`python -m etl published load --db "
            "NEW.duckdb`, or `make demo`), which seeds the map from kpi_definitions.yaml"]


def published_kpis(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    """KPI ids with a published equivalent → {'polarity', 'name', 'datasets'} (from published_kpi_map)."""
    rows = _fetch(con, "SELECT kpi_id, any_value(polarity), any_value(name), list(dataset ORDER BY priority) "
                       "FROM published_kpi_map GROUP BY kpi_id ORDER BY kpi_id")
    return {k: {"polarity": p, "name": n, "datasets": d} for k, p, n, d in rows}


def available_years(con: duckdb.DuckDBPyConnection, kpi_id: str, area_code: str | None = None) -> list[int]:
    """Years with a published value for the KPI (for one area when given)."""
    sql = "SELECT DISTINCT year FROM published_kpi WHERE kpi_id = ? AND value IS NOT NULL"
    params: list = [kpi_id]
    if area_code:
        sql += " AND area_code = ?"
        params.append(area_code)
    return [r[0] for r in _fetch(con, sql + " ORDER BY year", params)]


def england_value(con: duckdb.DuckDBPyConnection, kpi_id: str, year: int) -> float | None:
    """DfE's published England figure for a KPI and calendar year (e.g. to set a target of 'the England average')."""
    rows = _fetch(con, "SELECT value FROM published_kpi WHERE kpi_id = ? AND year = ? AND area_code = ?",
                  [kpi_id, year, ENGLAND])
    return None if not rows or rows[0][0] is None else float(rows[0][0])


def kpi_values(con: duckdb.DuckDBPyConnection, kpi_id: str, year: int) -> pd.DataFrame:
    """Every published row for a KPI and year: area_code, geographic_level, area_name, numerator, denominator,
    value, marker, dataset."""
    rows = _fetch(con, """
        SELECT area_code, geographic_level, area_name, numerator, denominator, value, marker, dataset
        FROM published_kpi WHERE kpi_id = ? AND year = ?""", [kpi_id, year])
    return pd.DataFrame(rows, columns=["area_code", "geographic_level", "area_name", "numerator", "denominator",
                                       "value", "marker", "dataset"])


def neighbour_set_for(con: duckdb.DuckDBPyConnection, year: int) -> tuple[int, str, str | None] | None:
    """(set_id, effective_from, note) of the neighbour set to use for a year, or None when none is loaded."""
    rows = _fetch(con, "SELECT set_id, effective_from FROM stat_neighbour_set ORDER BY effective_from, set_id")
    if not rows:
        return None
    in_effect = [r for r in rows if r[1].year <= year]
    if in_effect:
        set_id, eff = in_effect[-1]
        return set_id, eff.isoformat(), None
    set_id, eff = rows[0]
    return set_id, eff.isoformat(), f"neighbour list effective {eff.isoformat()} used: none was in effect in {year}"


def neighbours(con: duckdb.DuckDBPyConnection, area_code: str, set_id: int) -> list[tuple[int, str, str]]:
    """(rank, neighbour_code, neighbour_name) for an area in a neighbour set, nearest first."""
    return _fetch(con, """
        SELECT neighbour_rank, neighbour_code, neighbour_name FROM stat_neighbour
        WHERE set_id = ? AND area_code = ? ORDER BY neighbour_rank""", [set_id, area_code])


def published_series(con: duckdb.DuckDBPyConnection, kpi_id: str, area_code: str) -> pd.DataFrame:
    """An area's published values by year beside England's: year, value, numerator, denominator, marker,
    england_value, source."""
    rows = _fetch(con, """
        SELECT a.year, a.value, a.numerator, a.denominator, a.marker, e.value AS england_value, a.dataset
        FROM published_kpi a LEFT JOIN published_kpi e
          ON e.kpi_id = a.kpi_id AND e.year = a.year AND e.area_code = ?
        WHERE a.kpi_id = ? AND a.area_code = ? ORDER BY a.year""", [ENGLAND, kpi_id, area_code])
    return pd.DataFrame(rows, columns=["year", "value", "numerator", "denominator", "marker", "england_value",
                                       "source"])


# --- the benchmark table -----------------------------------------------------------------------------------

def _num(v) -> float | None:
    return None if _missing(v) or (v is pd.NA) else float(v)


def benchmark(con: duckdb.DuckDBPyConnection, kpi_id: str, area: Area | str, year: int | None = None,
              polarity: str | None = None) -> pd.DataFrame:
    """The benchmark table for one KPI, area and year (default: the latest year the area has a value).

    Rows: the area, England, its region, each statistical neighbour (nearest first), SN_POOLED, SN_MEDIAN.
    Columns: COLUMNS. Raises BenchmarkError for requests the data cannot answer.
    """
    require_published(con)
    kpis = published_kpis(con)
    if kpi_id not in kpis:
        raise BenchmarkError(f"KPI {kpi_id} has no published DfE equivalent; published KPIs: {', '.join(kpis)}")
    polarity = polarity or kpis[kpi_id]["polarity"]
    if isinstance(area, str):
        area = resolve_area(con, area)
    all_years = available_years(con, kpi_id)
    if not all_years:
        raise BenchmarkError(f"no published figures for KPI {kpi_id}: load DfE's "
                             f"{' or '.join(kpis[kpi_id]['datasets'])} file(s)")
    span = f"{all_years[0]}–{all_years[-1]}" if len(all_years) > 1 else str(all_years[0])
    if year is None:
        own = available_years(con, kpi_id, area.area_code)
        if not own:
            raise BenchmarkError(f"no published figures for {area.name} ({area.area_code}) for KPI {kpi_id}"
                                 + (f": {lineage_note(area, all_years[-1])}" if lineage_note(area, all_years[-1])
                                    else ""))
        year = own[-1]
    elif year not in all_years:
        raise BenchmarkError(f"no published figures for KPI {kpi_id} in {year}; available: {span}")
    why = lineage_note(area, year)
    if why:
        raise BenchmarkError(why)

    data = kpi_values(con, kpi_id, year)
    population = [v for v in data.loc[data["geographic_level"] == "Local authority", "value"].tolist()
                  if not _missing(v)]
    n = len(population)
    base = {"kpi_id": kpi_id, "year": year, "polarity": polarity, "n_ranked": n}
    rows: list[dict] = []

    def row_for(role: str, code: str, name: str, level: str, rank_no: int | None = None, note: str | None = None):
        match = data[(data["area_code"] == code) & (data["geographic_level"] == level)]
        rec = match.iloc[0] if len(match) else None
        value = _num(rec["value"]) if rec is not None else None
        pos = position(value, population, polarity)
        shown_note = note
        if rec is None and note is None:
            shown_note = "not published for this year"
        rows.append({
            **base, "role": role, "neighbour_rank": rank_no, "area_code": code,
            "area_name": (rec["area_name"] if rec is not None and level != "Local authority" else None) or name,
            "numerator": _num(rec["numerator"]) if rec is not None else None,
            "denominator": _num(rec["denominator"]) if rec is not None else None,
            "value": value, "marker": rec["marker"] if rec is not None else None,
            "rank": pos if level == "Local authority" else None,
            "quartile": quartile_band(pos, n), "n_areas": None,
            "source": rec["dataset"] if rec is not None else None, "note": shown_note,
        })
        return rows[-1]

    row_for("area", area.area_code, area.name, "Local authority")
    row_for("england", ENGLAND, reference.ENGLAND_NAME, "National")
    if area.region_code:
        row_for("region", area.region_code, area.region_name or area.region_code, "Regional")

    chosen = neighbour_set_for(con, year)
    sn_rows: list[dict] = []
    set_note = None
    if chosen is None:
        set_note = "no statistical neighbour list loaded"
    else:
        set_id, effective, set_note = chosen
        listed = neighbours(con, area.area_code, set_id)
        if not listed:
            set_note = f"{area.name} has no statistical neighbours in the list effective {effective}"
        for rank_no, code, written in listed:
            la = reference.by_code(code)
            nb = (Area(la.new_la_code, la.name, la.old_la_code, la.region_code, la.region_name, la.first_year,
                       la.last_year) if la else Area(code, written, None, None, None))
            sn_rows.append(row_for("neighbour", code, nb.name, "Local authority", rank_no, lineage_note(nb, year)))
    with_counts = [r for r in sn_rows if r["numerator"] is not None and r["denominator"] is not None]
    pooled, used = pooled_rate([r["numerator"] for r in sn_rows], [r["denominator"] for r in sn_rows])
    median, used_m = median_value([r["value"] for r in sn_rows])
    aggregates = (
        ("neighbours_pooled", SN_POOLED, "Statistical neighbours (pooled)", pooled, used,
         sum(r["numerator"] for r in with_counts) if with_counts else None,
         sum(r["denominator"] for r in with_counts) if with_counts else None,
         [r["area_name"] for r in sn_rows if r not in with_counts]),
        ("neighbours_median", SN_MEDIAN, "Statistical neighbours (median)", median, used_m, None, None,
         [r["area_name"] for r in sn_rows if r["value"] is None]),
    )
    for role, code, name, value, count, numerator, denominator, left in aggregates:
        note = "; ".join(x for x in (set_note, f"left out (no figures): {', '.join(left)}" if left else None) if x)
        rows.append({**base, "role": role, "neighbour_rank": None, "area_code": code, "area_name": name,
                     "numerator": numerator, "denominator": denominator, "value": value, "marker": None,
                     "rank": None, "quartile": quartile_band(position(value, population, polarity), n),
                     "n_areas": count, "source": None, "note": note or None})
    return pd.DataFrame(rows, columns=COLUMNS)
