"""The finisher every DfE layout shares: a file's cells in long form (temp table ``_pub_long``) are typed, checked
and stored in ``published_value``; a row with any problem goes to ``quarantine`` whole (see etl/formats/dfe_release.py
for the cell rules). Also the reference tables every published-data load refreshes.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from etl import reference
from etl.formats.dfe_kpi_map import seed_kpi_map
from etl.report import FileResult, Problem
from etl.sql_text import literal


def seed_all(con: duckdb.DuckDBPyConnection) -> None:
    """Reference tables every published-data load refreshes (areas, lineage, the KPI map from kpi_definitions.yaml)."""
    reference.seed(con)
    seed_kpi_map(con)


LONG_COLUMNS = [
    "_row", "time_period", "time_identifier", "geographic_level", "country_code", "country_name", "region_code",
    "region_name", "new_la_code", "old_la_code", "la_name", "breakdown_topic", "breakdown", "source_column",
    "measure", "raw_value", "source_code", "area_hint",
]


def finish_long(con: duckdb.DuckDBPyConnection, path: Path, dataset: str, load_id: int, rows_read: int,
                extra_problems: list[tuple[int, str, str | None, str]] | None = None) -> FileResult:
    """Type, check and store the temp table ``_pub_long`` (columns LONG_COLUMNS, text) for one file.

    ``extra_problems`` are (row, column, value, reason) found before this step (e.g. disagreeing duplicate
    columns); their rows are quarantined too.
    """
    name = path.name
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _pub_typed AS
        WITH cleaned AS (
            SELECT *, trim(raw_value, ' ''"') AS v,
                   nullif(trim(time_period), '') AS tp,
                   upper(nullif(trim(old_la_code), '')) AS olc, upper(nullif(trim(new_la_code), '')) AS nlc,
                   lower(trim(coalesce(geographic_level, ''))) AS lvl
            FROM _pub_long
        ),
        valued AS (
            SELECT *,
                CASE WHEN lower(v) IN ('x', 'z', 'c', 'u', 'low') THEN lower(v)
                     WHEN v IN ('..', ':', '.') OR lower(v) IN ('na', 'n/a') THEN 'x'
                     WHEN v = '~' THEN 'c' END AS marker,
                CASE WHEN v IN ('-', '–', '—') THEN 0.0
                     ELSE TRY_CAST(replace(replace(replace(v, ',', ''), '%', ''), ' ', '') AS DOUBLE) END AS num,
                CASE WHEN regexp_full_match(olc, '\\d{{1,3}}') THEN lpad(olc, 3, '0')
                     WHEN regexp_full_match(nlc, '\\d{{1,3}}') THEN lpad(nlc, 3, '0') END AS old_code,
                CASE WHEN regexp_full_match(nlc, 'E\\d{{8}}') THEN nlc
                     WHEN regexp_full_match(olc, 'E\\d{{8}}') THEN olc END AS new_code
            FROM cleaned
            WHERE v IS NOT NULL AND v <> ''
        ),
        levelled AS (
            SELECT *,
                CASE WHEN lvl IN ('national', 'england', 'country') THEN 'National'
                     WHEN lvl IN ('regional', 'region') THEN 'Regional'
                     WHEN lvl IN ('local authority', 'local_authority', 'la') THEN 'Local authority'
                     WHEN lvl = '' AND (old_code IS NOT NULL OR new_code IS NOT NULL OR area_hint IS NOT NULL)
                          THEN 'Local authority'
                     WHEN lvl = '' AND nullif(trim(region_code), '') IS NOT NULL THEN 'Regional'
                     WHEN lvl = '' THEN 'National' END AS level
            FROM valued
        ),
        placed AS (
            SELECT l.*,
                   CASE l.level
                       WHEN 'National' THEN coalesce(nullif(trim(l.country_code), ''), '{reference.ENGLAND_CODE}')
                       WHEN 'Regional' THEN nullif(trim(l.region_code), '')
                       WHEN 'Local authority' THEN coalesce(l.area_hint, ao.area_code, an.area_code, l.new_code)
                   END AS canonical
            FROM levelled l
            LEFT JOIN area_code_alias ao ON ao.code = l.old_code
            LEFT JOIN area_code_alias an ON an.code = l.new_code
        )
        SELECT p._row, p.source_column, p.measure, p.raw_value, p.tp AS time_period,
               CASE WHEN regexp_full_match(p.tp, '\\d{{4}}') THEN CAST(p.tp AS INTEGER)
                    WHEN regexp_full_match(p.tp, '\\d{{6}}') THEN CAST(left(p.tp, 4) AS INTEGER) + 1 END AS year,
               coalesce(nullif(trim(p.time_identifier), ''), 'Calendar year') AS time_identifier,
               p.level AS geographic_level, p.lvl, p.canonical AS area_code,
               CASE p.level
                   WHEN 'National' THEN coalesce(nullif(trim(p.country_name), ''), '{reference.ENGLAND_NAME}')
                   WHEN 'Regional' THEN nullif(trim(p.region_name), '')
                   ELSE coalesce(nullif(trim(p.la_name), ''), r.area_name) END AS area_name,
               p.new_code AS new_la_code, coalesce(p.old_code, r.old_la_code) AS old_la_code,
               coalesce(nullif(trim(p.region_code), ''), r.region_code) AS region_code,
               coalesce(nullif(trim(p.region_name), ''), r.region_name) AS region_name,
               coalesce(nullif(trim(p.breakdown_topic), ''), 'Total') AS breakdown_topic,
               coalesce(nullif(trim(p.breakdown), ''), nullif(trim(p.breakdown_topic), ''), 'Total') AS breakdown,
               p.marker, p.num AS value, p.source_code
        FROM placed p
        LEFT JOIN area_reference r ON p.level = 'Local authority' AND r.area_code = p.canonical
    """)
    con.execute("CREATE OR REPLACE TEMP TABLE _pub_problems (_row BIGINT, column_name VARCHAR, value VARCHAR, "
                "reason VARCHAR)")
    if extra_problems:
        con.executemany("INSERT INTO _pub_problems VALUES (?, ?, ?, ?)", extra_problems)
    con.execute("""
        INSERT INTO _pub_problems
        SELECT _row, source_column, raw_value,
               'not a number or a DfE marker (x not available, z not applicable, c suppressed)'
        FROM _pub_typed WHERE value IS NULL AND marker IS NULL
        UNION ALL
        SELECT DISTINCT _row, 'time_period', time_period, 'not a year (expected YYYY or YYYYYY)'
        FROM _pub_typed WHERE year IS NULL
        UNION ALL
        SELECT DISTINCT _row, 'geographic_level', lvl,
               'geographic level not supported (expected National, Regional or Local authority)'
        FROM _pub_typed WHERE geographic_level IS NULL
        UNION ALL
        SELECT DISTINCT _row, CASE geographic_level WHEN 'Regional' THEN 'region_code' ELSE 'new_la_code' END, NULL,
               'no area code: the row cannot be placed'
        FROM _pub_typed WHERE geographic_level IS NOT NULL AND area_code IS NULL
    """)
    con.execute("""
        INSERT INTO _pub_problems
        WITH keys AS (
            SELECT DISTINCT _row, time_period, geographic_level, area_code, breakdown_topic, breakdown
            FROM _pub_typed WHERE area_code IS NOT NULL AND year IS NOT NULL),
        dup AS (
            SELECT time_period, geographic_level, area_code, breakdown_topic, breakdown FROM keys
            GROUP BY ALL HAVING count(*) > 1)
        SELECT k._row, 'area', k.area_code,
               'duplicate row: the same period, area and breakdown appear more than once (none kept)'
        FROM keys k JOIN dup USING (time_period, geographic_level, area_code, breakdown_topic, breakdown)
    """)
    con.execute("CREATE OR REPLACE TEMP TABLE _pub_good AS SELECT * FROM _pub_typed "
                "WHERE _row NOT IN (SELECT _row FROM _pub_problems)")
    con.execute(f"""
        DELETE FROM published_value p USING (
            SELECT DISTINCT time_period, geographic_level, area_code, breakdown_topic, breakdown FROM _pub_good) g
        WHERE p.dataset = {literal(dataset)} AND p.time_period = g.time_period
          AND p.geographic_level = g.geographic_level AND p.area_code = g.area_code
          AND p.breakdown_topic = g.breakdown_topic AND p.breakdown = g.breakdown
    """)
    con.execute(f"""
        INSERT INTO published_value
        SELECT {literal(dataset)}, time_period, year, time_identifier, geographic_level, area_code, area_name,
               new_la_code, old_la_code, region_code, region_name, breakdown_topic, breakdown, measure,
               CASE WHEN marker IS NULL THEN value END, marker, source_column, source_code, {int(load_id)}
        FROM _pub_good
    """)
    con.execute(
        "INSERT INTO quarantine SELECT ?, ?, ?, _row, column_name, value, reason FROM _pub_problems",
        [load_id, name, dataset],
    )
    problems = [
        Problem(name, row, col, reason, value)
        for row, col, value, reason in con.execute(
            "SELECT _row, column_name, value, reason FROM _pub_problems ORDER BY _row, column_name").fetchall()
    ]
    bad = con.execute("SELECT count(DISTINCT _row) FROM _pub_problems").fetchone()[0]
    return FileResult(path, dataset, "quarantined" if bad else "loaded", rows_read, rows_read - bad, bad, problems)

