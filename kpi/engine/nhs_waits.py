"""NHS England CHS waiting lists as a benchmark: the published series and its summary beside the local waits.

``nhs_waits`` is what ``python -m kpi nhs-waits`` prints: one row per data month, organisation, service and
band, value blank where the organisation did not submit (marker ``not_submitted``) or NHS England suppressed
it (``suppressed``). ``nhs_summary`` turns the bands into the figures the local KPIs show (list size, % over
18 weeks, number over 52 weeks) for one organisation and service.

The NHS figures are by *provider*: Cambridgeshire Community Services NHS Trust (RYV), which runs Bedfordshire
and Luton children's community services, reports trust-wide under Cambridgeshire and Peterborough ICB, so its
numbers cover more than one local area (an NHS trust or ICB serves several).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from etl.formats.nhs_chs import BANDS
from etl.sql_text import in_list

COLUMNS = ["period", "org_type", "org_code", "org_name", "service", "band", "value", "marker", "bands_differ"]
ORG_ORDER = "CASE org_type WHEN 'National' THEN 0 WHEN 'Region' THEN 1 WHEN 'ICB' THEN 2 ELSE 3 END"
BAND_ORDER = "list_position([" + in_list(BANDS) + "], band)"
OVER_18 = (">18-52", ">52", ">52-104", ">104")
OVER_52 = (">52", ">52-104", ">104")

# Local service → NHS England's CYP service line (lower case, as service_key). Neurodevelopmental (autism)
# assessment has no line of its own in the CHS collection.
NHS_SERVICE = {
    "SALT": "(cyp) therapy interventions: speech and language",
    "OT": "(cyp) therapy interventions: occupational therapy",
    "PHYSIO": "(cyp) therapy interventions: physiotherapy",
    "COMMUNITY_PAEDS": "(cyp) community paediatric service",
    "AUDIOLOGY": "(cyp) audiology",
    "NEURODEVELOPMENTAL": None,
}
PROVIDER_CAVEAT = ("NHS England publishes these figures by provider, not by local area. Cambridgeshire Community "
                   "Services NHS Trust (RYV), which runs Bedfordshire and Luton children's community services, "
                   "reports trust-wide under Cambridgeshire and Peterborough ICB, so its figures also cover other "
                   "areas; the local referral extract is the source for local waits.")


class NhsWaitsError(ValueError):
    """A user mistake or missing data, with a one-line reason."""


def _has_data(con: duckdb.DuckDBPyConnection) -> bool:
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    return "nhs_chs_wait" in tables and con.execute("SELECT count(*) FROM nhs_chs_wait").fetchone()[0] > 0


def resolve_org(con: duckdb.DuckDBPyConnection, org: str) -> str:
    """An organisation code from a code or a name (case-insensitive); NhsWaitsError if none matches."""
    text = org.strip()
    if text.lower() in ("eng", "england"):
        text = "E92000001"
    row = con.execute("SELECT any_value(org_code) FROM nhs_chs_wait WHERE upper(org_code) = upper(?) "
                      "OR lower(org_name) = lower(?)", [text, text]).fetchone()
    if row is None or row[0] is None:
        raise NhsWaitsError(f"no organisation {org!r} in the NHS CHS waiting-list data (give a code such as RYV, "
                            "QUE or Y61, or England)")
    return row[0]


def nhs_waits(con: duckdb.DuckDBPyConnection, org: str | None = None, service_key: str | None = None
              ) -> pd.DataFrame:
    """The stored series, ordered by month, organisation (England, regions, ICBs, providers), service, band."""
    if not _has_data(con):
        raise NhsWaitsError("the database holds no NHS CHS waiting-list data: load the workbooks with "
                            "`python -m etl load PATH/nhs_chs/ --db PATH` first")
    where, params = ["TRUE"], []
    if org:
        where.append("org_code = ?")
        params.append(resolve_org(con, org))
    if service_key:
        where.append("service_key = ?")
        params.append(service_key)
    return con.execute(f"""
        SELECT strftime(period, '%Y-%m') AS period, org_type, org_code, org_name, service, band, value, marker,
               bands_differ
        FROM nhs_chs_wait WHERE {' AND '.join(where)}
        ORDER BY period, {ORG_ORDER}, org_name, service, {BAND_ORDER}""", params).df()[COLUMNS]


def nhs_summary(con: duckdb.DuckDBPyConnection, org: str, service: str) -> pd.DataFrame:
    """Per data month for one organisation and local service: total, over 18 weeks (count and %), over 52 weeks.

    A figure is blank when the total or any band it needs was not submitted or suppressed.
    Returns an empty frame when the service has no NHS line or there is no NHS data.
    """
    key = NHS_SERVICE.get(service)
    columns = ["period", "org_code", "org_name", "total", "over_18wk", "pct_over_18wk", "over_52wk", "bands_differ"]
    if key is None or not _has_data(con):
        return pd.DataFrame(columns=columns)
    code = resolve_org(con, org)
    over18, over52 = in_list(OVER_18), in_list(OVER_52)
    return con.execute(f"""
        WITH t AS (SELECT * FROM nhs_chs_wait WHERE org_code = ? AND service_key = ?),
        m AS (
            SELECT period, any_value(org_name ORDER BY org_name) AS org_name,
                   max(value) FILTER (WHERE band = 'total') AS total,
                   bool_or(bands_differ) AS bands_differ,
                   sum(value) FILTER (WHERE band IN ({over18})) AS over_18,
                   count(*) FILTER (WHERE band IN ({over18})) AS n18,
                   count(value) FILTER (WHERE band IN ({over18})) AS v18,
                   sum(value) FILTER (WHERE band IN ({over52})) AS over_52,
                   count(*) FILTER (WHERE band IN ({over52})) AS n52,
                   count(value) FILTER (WHERE band IN ({over52})) AS v52
            FROM t GROUP BY period)
        SELECT strftime(period, '%Y-%m') AS period, ? AS org_code, org_name, total,
               CASE WHEN n18 > 0 AND v18 = n18 THEN over_18 END AS over_18wk,
               CASE WHEN n18 > 0 AND v18 = n18 AND total > 0 THEN 100.0 * over_18 / total END AS pct_over_18wk,
               CASE WHEN n52 > 0 AND v52 = n52 THEN over_52 END AS over_52wk,
               bands_differ
        FROM m ORDER BY period""", [code, key, code]).df()[columns]


def organisations(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Organisations with a code, latest name first per code: for a chooser (England, regions, ICBs, providers)."""
    if not _has_data(con):
        return pd.DataFrame(columns=["org_code", "org_name", "org_type"])
    return con.execute(f"""
        SELECT org_code, arg_max(org_name, period) AS org_name, any_value(org_type) AS org_type
        FROM nhs_chs_wait WHERE org_code IS NOT NULL GROUP BY org_code
        ORDER BY min({ORG_ORDER}), org_name""").df()
