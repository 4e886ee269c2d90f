"""Explore: a KPI's numerator, denominator and value broken down by a characteristic of the child or the case.

For a month or a range of months, filtered by the same characteristics, optionally beside a second period. All
in DuckDB SQL, on the KPI's own event rows (``kpi.engine.compute.events_sql``), so a breakdown's total is exactly the
headline figure of ``kpi.engine.compute`` for the same month. A value that is missing or blank is grouped as
"Not recorded", never dropped.

Characteristics are those of the request behind each event: age at the request, sex, ethnicity group, postcode
district (locality) and request source, and from the request's latest active-plan record in the extract its
primary need (SEN type ranked 1) and placement type (the placement ranked first).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from etl import months
from etl.sql_text import literal
from kpi.definitions import COUNT_METHODS, MEDIAN_METHODS, RATE_METHODS, KpiDefinition
from kpi.engine.compute import area_events_sql
from kpi.engine.compute_sen2 import SEN2_MODULE_LIST
from kpi.engine.window import area_condition

NOT_RECORDED = "Not recorded"
TOTAL = "Total"

AGE_BANDS = ((0, 4, "Under 5"), (5, 10, "5 to 10"), (11, 15, "11 to 15"), (16, 19, "16 to 19"), (20, 25, "20 to 25"))
SEX = {"M": "Male", "MALE": "Male", "1": "Male", "F": "Female", "FEMALE": "Female", "2": "Female",
       "U": NOT_RECORDED, "UNKNOWN": NOT_RECORDED, "0": NOT_RECORDED, "9": NOT_RECORDED}
# DfE ethnicity codes (school census, also used in SEN2): main groups by the code's first letter, as DfE publishes
# them; refused (REFU) and not yet obtained (NOBT) are not a recorded ethnicity.
ETHNICITY_CODES = {"CHNE": "Chinese", "OOTH": "Any other ethnic group", "REFU": NOT_RECORDED, "NOBT": NOT_RECORDED}
ETHNICITY_PREFIXES = {"W": "White", "M": "Mixed", "A": "Asian or Asian British", "B": "Black or Black British"}
SEN_TYPES = {
    "SPLD": "Specific learning difficulty", "MLD": "Moderate learning difficulty",
    "SLD": "Severe learning difficulty", "PMLD": "Profound and multiple learning difficulty",
    "SEMH": "Social, emotional and mental health", "SLCN": "Speech, language and communication needs",
    "HI": "Hearing impairment", "VI": "Vision impairment", "MSI": "Multi-sensory impairment",
    "PD": "Physical disability", "ASD": "Autistic spectrum disorder", "OTH": "Other difficulty or disability",
    "DS": "Down syndrome", "NSA": "SEN support but no specialist assessment",
}
SEN_SETTINGS = {
    "OLA": "Other arrangements made by the LA", "OPA": "Other arrangements made by parents",
    "EHE": "Elective home education", "EYP": "Early years provider", "OTH": "Other setting",
    "NEET": "Not in education, employment or training", "NIEC": "Not in education: notice to cease",
    "NIEO": "Not in education: awaiting a place or other",
}


def _blank(expr: str) -> str:
    """NULL for a missing or blank text value."""
    return f"nullif(trim(CAST({expr} AS VARCHAR)), '')"


def _flag(expr: str) -> str:
    return f"coalesce(lower(trim(CAST({expr} AS VARCHAR))) IN ('1', '1.0', 'true', 'y', 'yes'), FALSE)"


def _age_band_sql() -> str:
    bands = " ".join(f"WHEN age_at_request BETWEEN {lo} AND {hi} THEN {literal(label)}" for lo, hi, label in AGE_BANDS)
    return f"CASE {bands} ELSE {literal(NOT_RECORDED)} END"


def _sex_sql() -> str:
    code = f"upper({_blank('p.sex')})"
    cases = " ".join(f"WHEN {literal(k)} THEN {literal(v)}" for k, v in SEX.items())
    return (f"CASE WHEN {code} IS NULL THEN {literal(NOT_RECORDED)} "
            f"ELSE CASE {code} {cases} ELSE {_blank('p.sex')} END END")


def _ethnicity_sql() -> str:
    code = f"upper({_blank('p.ethnicity')})"
    exact = " ".join(f"WHEN {code} = {literal(k)} THEN {literal(v)}" for k, v in ETHNICITY_CODES.items())
    prefix = " ".join(f"WHEN length({code}) = 4 AND {code} LIKE {literal(k + '%')} THEN {literal(v)}"
                      for k, v in ETHNICITY_PREFIXES.items())
    return (f"CASE WHEN {code} IS NULL THEN {literal(NOT_RECORDED)} {exact} {prefix} "
            f"ELSE 'Unrecognised code ' || {code} END")


def _coded_sql(expr: str, labels: dict[str, str]) -> str:
    """'Label (CODE)' for a known code, the value itself for an unknown one, Not recorded for none."""
    code = f"upper({_blank(expr)})"
    cases = " ".join(f"WHEN {literal(k)} THEN {literal(f'{v} ({k})')}" for k, v in labels.items())
    return f"CASE WHEN {code} IS NULL THEN {literal(NOT_RECORDED)} ELSE CASE {code} {cases} ELSE {code} END END"


def _placement_sql() -> str:
    setting = _coded_sql("pl.sen_setting", SEN_SETTINGS)
    return (f"CASE WHEN {_blank('pl.sen_setting')} IS NOT NULL THEN {setting} "
            f"WHEN {_blank('pl.urn')} IS NULL AND {_blank('pl.ukprn')} IS NULL THEN {literal(NOT_RECORDED)} "
            f"WHEN {_flag('pl.sen_unit')} THEN 'School or college: SEN unit' "
            f"WHEN {_flag('pl.resourced_provision')} THEN 'School or college: resourced provision' "
            f"WHEN {_blank('pl.ukprn')} IS NOT NULL THEN 'College or other provider (UKPRN)' "
            "ELSE 'School (URN)' END")


@dataclass(frozen=True)
class Dimension:
    """A characteristic to break down or filter by: id (URL), label (screen) and its SQL over the request's rows."""

    id: str
    label: str
    sql: str
    order: str | None = None  # SQL aggregate that orders the groups (default: by label)


DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("age_band", "Age at request", _age_band_sql(), "min(d.age_at_request)"),
    Dimension("primary_need", "Primary need", _coded_sql("nd.sen_type", SEN_TYPES)),
    Dimension("sex", "Sex", _sex_sql()),
    Dimension("ethnicity", "Ethnicity group", _ethnicity_sql()),
    Dimension("locality", "Locality (postcode district)",
              f"coalesce(upper({_blank('p.postcode_district')}), {literal(NOT_RECORDED)})"),
    Dimension("placement", "Placement type", _placement_sql()),
    Dimension("request_source", "Request source", f"coalesce({_blank('r.request_source')}, {literal(NOT_RECORDED)})"),
)
DIMENSION_BY_ID = {d.id: d for d in DIMENSIONS}


def dimension(dim_id: str) -> Dimension:
    try:
        return DIMENSION_BY_ID[dim_id]
    except KeyError:
        raise ValueError(f"unknown breakdown {dim_id!r} (expected one of {', '.join(DIMENSION_BY_ID)})") from None


def dims_sql(area: str | None = None) -> str:
    """One row per request (of one area, or every area): its area, id, person pseudonym, age at request and the
    label of every dimension."""
    labels = ",\n               ".join(f"{d.sql} AS {d.id}" for d in DIMENSIONS)
    return f"""
        WITH nd AS (
            SELECT area_code, ap.request_id, sn.sen_type
            FROM active_plan ap JOIN sen_need sn USING (area_code, active_plan_id)
            WHERE sn.sen_type_rank = 1 AND {_blank('sn.sen_type')} IS NOT NULL
              AND {area_condition(area, 'ap.area_code')}
            QUALIFY row_number() OVER (PARTITION BY ap.area_code, ap.request_id
                                       ORDER BY ap.review_meeting_date DESC NULLS LAST,
                                       ap.active_plan_id DESC, sn.sen_need_id) = 1),
        pl AS (
            SELECT area_code, ap.request_id, pd.sen_setting, pd.urn, pd.ukprn, pd.sen_unit, pd.resourced_provision
            FROM active_plan ap JOIN placement_detail pd USING (area_code, active_plan_id)
            WHERE {area_condition(area, 'ap.area_code')}
            QUALIFY row_number() OVER (PARTITION BY ap.area_code, ap.request_id
                                       ORDER BY ap.review_meeting_date DESC NULLS LAST,
                                       ap.active_plan_id DESC, pd.placement_rank NULLS LAST,
                                       pd.entry_date DESC NULLS LAST, pd.placement_detail_id) = 1)
        SELECT r.area_code, r.request_id, r.person_key, r.age_at_request,
               {labels}
        FROM request r LEFT JOIN person p ON p.area_code = r.area_code AND p.person_key = r.person_key
             LEFT JOIN nd ON nd.area_code = r.area_code AND nd.request_id = r.request_id
             LEFT JOIN pl ON pl.area_code = r.area_code AND pl.request_id = r.request_id
        WHERE {area_condition(area, 'r.area_code')}"""


# --- periods ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Span:
    """A month or a run of months, 'YYYY-MM' to 'YYYY-MM' inclusive."""

    start: str
    end: str

    def __post_init__(self) -> None:
        for p in (self.start, self.end):
            if not months.PERIOD_RE.match(str(p)):
                raise ValueError(f"period must be YYYY-MM, got {p!r}")
        if self.start > self.end:
            raise ValueError(f"period starts {self.start} after it ends {self.end}")

    @classmethod
    def month(cls, period: str) -> Span:
        return cls(period, period)

    @property
    def months(self) -> int:
        return months.count(self.start, self.end)

    def sql_bounds(self) -> tuple[str, str]:
        """First day of the first month; first day after the last month."""
        return literal(months.first_day(self.start)), literal(months.first_day(months.add(self.end, 1)))

    def month_end_sql(self) -> str:
        """The day a count 'at month end' is taken: the month's last day, or the newest SEN2 extract's as-at date
        when that comes first (a month end after the extract's date has not happened yet)."""
        end = literal(months.last_day(self.end))
        return (f"least({end}, coalesce((SELECT max(as_at) FROM load_log WHERE area_code IS NOT NULL "
                f"AND module IN ({SEN2_MODULE_LIST})), {end}))")


def default_comparison(span: Span, available: list[str]) -> Span:
    """The same months a year earlier when the data reach back that far, otherwise the months just before."""
    year_ago = Span(months.add(span.start, -12), months.add(span.end, -12))
    if year_ago.start in available:
        return year_ago
    before = Span(months.add(span.start, -span.months), months.add(span.start, -1))
    return before if before.start in available else span


# --- the breakdown ------------------------------------------------------------------------------------------

def family(kpi: KpiDefinition) -> str:
    """'rate', 'mean', 'median' (waiting-list median weeks) or 'count': how a KPI's events add up."""
    method = kpi.computation.method
    if method in MEDIAN_METHODS:
        return "median"
    return "rate" if method in RATE_METHODS else "count" if method in COUNT_METHODS else "mean"


def selection_sql(kpi: KpiDefinition, span: Span, which: str) -> str:
    """The KPI's event rows that fall in a period, tagged with which period. A count at month end is taken at the
    end of the period's last month (the same records the headline counts for that month)."""
    if family(kpi) == "count":
        me = span.month_end_sql()
        return (f"SELECT {literal(which)} AS which, ev.* FROM ev "
                f"WHERE ev.start_date <= {me} AND (ev.end_date IS NULL OR ev.end_date > {me})")
    first, after = span.sql_bounds()
    return (f"SELECT {literal(which)} AS which, ev.* FROM ev "
            f"WHERE ev.event_date >= {first} AND ev.event_date < {after}")


def _measures_sql(kpi: KpiDefinition, which: str, suffix: str) -> str:
    w = f"which = {literal(which)}"
    fam = family(kpi)
    if fam == "rate":
        num, den = f"count(*) FILTER (WHERE {w} AND met)", f"count(*) FILTER (WHERE {w})"
        return (f"{num} AS numerator{suffix}, {den} AS denominator{suffix}, "
                f"CASE WHEN {den} > 0 THEN 100.0 * {num} / {den} END AS value{suffix}, "
                f"NULL::DOUBLE AS median{suffix}")
    if fam == "mean":
        num, den = f"coalesce(sum(weeks) FILTER (WHERE {w}), 0)", f"count(*) FILTER (WHERE {w})"
        return (f"{num} AS numerator{suffix}, {den} AS denominator{suffix}, "
                f"CASE WHEN {den} > 0 THEN {num} / {den} END AS value{suffix}, "
                f"median(weeks) FILTER (WHERE {w}) AS median{suffix}")
    num = f"count(*) FILTER (WHERE {w})"
    return (f"{num} AS numerator{suffix}, NULL::BIGINT AS denominator{suffix}, "
            f"CAST({num} AS DOUBLE) AS value{suffix}, NULL::DOUBLE AS median{suffix}")


def _filter_sql(filters: dict[str, list[str]] | None) -> tuple[str, dict[str, list[str]]]:
    """WHERE clause and parameters for 'dimension in values' filters (values bound as parameters, never pasted)."""
    clauses, params = [], {}
    for i, (dim_id, values) in enumerate(sorted((filters or {}).items())):
        dimension(dim_id)
        if values:
            clauses.append(f"list_contains($f{i}, d.{dim_id})")
            params[f"f{i}"] = [str(v) for v in values]
    return (" AND ".join(clauses) or "TRUE"), params


def breakdown_sql(kpi: KpiDefinition, by: str, span: Span, compare: Span | None = None,
                  filters: dict[str, list[str]] | None = None, area: str | None = None
                  ) -> tuple[str, dict[str, list[str]]]:
    """The breakdown query and its parameters: one row per group and a total row (one area's events, or every
    area's)."""
    dim = dimension(by)
    where, params = _filter_sql(filters)
    selections = [selection_sql(kpi, span, "a")] + ([selection_sql(kpi, compare, "b")] if compare else [])
    measures = _measures_sql(kpi, "a", "") + (", " + _measures_sql(kpi, "b", "_b") if compare else "")
    order = dim.order or "d.grp"
    sql = f"""
    WITH ev AS ({area_events_sql(kpi, area)}),
    dims AS ({dims_sql(area)}),
    facts AS ({' UNION ALL '.join(selections)}),
    d AS (SELECT f.*, dm.age_at_request,
                 {', '.join(f"coalesce(dm.{x.id}, {literal(NOT_RECORDED)}) AS {x.id}" for x in DIMENSIONS)},
                 coalesce(dm.{dim.id}, {literal(NOT_RECORDED)}) AS grp
          FROM facts f LEFT JOIN dims dm USING (area_code, request_id))
    SELECT CASE WHEN grouping(d.grp) = 1 THEN {literal(TOTAL)} ELSE d.grp END AS "group",
           grouping(d.grp) = 1 AS is_total, {measures}
    FROM d WHERE {where}
    GROUP BY GROUPING SETS ((d.grp), ())
    ORDER BY grouping(d.grp), d.grp = {literal(NOT_RECORDED)}, {order}, d.grp
    """
    return sql, params


def breakdown(con: duckdb.DuckDBPyConnection, kpi: KpiDefinition, by: str, span: Span, compare: Span | None = None,
              filters: dict[str, list[str]] | None = None, area: str | None = None) -> pd.DataFrame:
    """Columns group, is_total, numerator, denominator, value, median (and the same with _b for the comparison
    period, plus change = value − value_b). The last row is the total. Rates are percentages 0–100; a group with
    no events in a period has no value there (never 0%)."""
    return run_breakdown(con, *breakdown_sql(kpi, by, span, compare, filters, area), compare)


def run_breakdown(con: duckdb.DuckDBPyConnection, sql: str, params: dict, compare: Span | None) -> pd.DataFrame:
    """Run a breakdown query (this module's or kpi.engine.explore_waits'), adding change = value − value_b when
    comparing."""
    df = con.execute(sql, params).df()
    if compare:
        df["change"] = df["value"] - df["value_b"]
    return df


def dimension_values(con: duckdb.DuckDBPyConnection, dim_id: str, area: str | None = None) -> list[str]:
    """Every value a dimension takes in the loaded records (of one area), in display order (Not recorded last)."""
    dim = dimension(dim_id)
    rows = con.execute(f"""
        SELECT d.{dim.id} FROM ({dims_sql(area)}) d
        GROUP BY d.{dim.id} ORDER BY d.{dim.id} = {literal(NOT_RECORDED)}, {dim.order or f"d.{dim.id}"}, d.{dim.id}
        """).fetchall()
    return [r[0] for r in rows]


def available_dimensions(con: duckdb.DuckDBPyConnection, area: str | None = None) -> list[Dimension]:
    """The dimensions the loaded tables (of one area) actually hold: at least one request with the value
    recorded."""
    counts = ", ".join(f"count(*) FILTER (WHERE {d.id} <> {literal(NOT_RECORDED)})" for d in DIMENSIONS)
    row = con.execute(f"SELECT {counts} FROM ({dims_sql(area)}) d").fetchone()
    return [d for d, n in zip(DIMENSIONS, row, strict=True) if n]
