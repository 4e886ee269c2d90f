-- Published statistics (DfE "Education, health and care plans", the older SEN2 MI file, the SEND Tribunal
-- appeal rate table) and the reference data that makes them comparable: area codes, reorganisations,
-- statistical neighbours and the map from our KPI ids to DfE's columns. See docs/published-data.md.

-- Every published figure, one row per cell: long form, so any release's columns fit without schema changes.
CREATE TABLE IF NOT EXISTS published_value (
    dataset          VARCHAR NOT NULL,   -- timeliness_20_week | requests | assessments | annual_reviews | ... | sen2_mi | send_tribunal_appeal_rate
    time_period      VARCHAR NOT NULL,   -- as published: 2024, or 201819 for an academic year
    year             INTEGER NOT NULL,   -- calendar year (for an academic year, the January census year)
    time_identifier  VARCHAR,
    geographic_level VARCHAR NOT NULL,   -- National | Regional | Local authority
    area_code        VARCHAR NOT NULL,   -- canonical: E92000001, the region code, or the LA's current ONS code
    area_name        VARCHAR,
    new_la_code      VARCHAR,            -- as published (may be a former code, e.g. E10000023)
    old_la_code      VARCHAR,            -- DfE LA number as published (three digits)
    region_code      VARCHAR,
    region_name      VARCHAR,
    breakdown_topic  VARCHAR NOT NULL,   -- 'Total' when the file has no breakdown
    breakdown        VARCHAR NOT NULL,
    measure          VARCHAR NOT NULL,   -- DfE's column name, lower case, known misspellings corrected
    value            DOUBLE,             -- NULL when a marker stands in the cell
    marker           VARCHAR,            -- x not available | z not applicable | c suppressed | low | u
    source_column    VARCHAR NOT NULL,   -- the header exactly as written in the file
    source_code      VARCHAR,            -- the LA code as written, when it contradicted the LA's name
    load_id          INTEGER NOT NULL
);

-- English local authorities, one row per area (etl/reference/local_authorities.csv), refreshed at each load.
CREATE TABLE IF NOT EXISTS area_reference (
    area_code    VARCHAR NOT NULL,       -- current ONS code (canonical)
    old_la_code  VARCHAR NOT NULL,       -- DfE LA number
    area_name    VARCHAR NOT NULL,
    region_code  VARCHAR NOT NULL,
    region_name  VARCHAR NOT NULL,
    first_year   INTEGER,                -- first calendar year reported (NULL: before 2014)
    last_year    INTEGER,                -- last calendar year reported (NULL: still reporting)
    other_codes  VARCHAR,                -- '|'-separated codes it has also been published under
    other_names  VARCHAR
);

-- Any code an area has been published under (old number, current and former ONS codes) → canonical code.
CREATE TABLE IF NOT EXISTS area_code_alias (
    code       VARCHAR NOT NULL,
    area_code  VARCHAR NOT NULL
);

-- Reorganisations (etl/reference/area_lineage.csv). kind: recode (same area, series joins) | split | merge |
-- boundary_change (new area: figures are not comparable with the predecessor's and are never joined).
CREATE TABLE IF NOT EXISTS area_lineage (
    predecessor_code  VARCHAR NOT NULL,
    predecessor_name  VARCHAR NOT NULL,
    successor_code    VARCHAR NOT NULL,
    successor_name    VARCHAR NOT NULL,
    effective_year    INTEGER NOT NULL,  -- first calendar year reported by the successor
    kind              VARCHAR NOT NULL,
    note              VARCHAR
);

-- Our KPI ids → DfE's columns: the `published` blocks of kpi_definitions.yaml, seeded at each published-data load
-- (etl/formats/dfe_kpi_map.py). `python -m kpi validate --db` says when they no longer match the definitions.
CREATE TABLE IF NOT EXISTS published_kpi_map (
    kpi_id         VARCHAR NOT NULL,
    dataset        VARCHAR NOT NULL,
    priority       INTEGER NOT NULL,     -- where two datasets cover a year, the lower number wins
    numerator      VARCHAR NOT NULL,
    denominator    VARCHAR[] NOT NULL,   -- summed
    rate           VARCHAR,              -- DfE's published percentage, reported as the value when present
    polarity       VARCHAR NOT NULL,     -- up | down
    name           VARCHAR NOT NULL,
    note           VARCHAR
);

-- Statistical neighbour lists, versioned: each load of a list is a set with the date it takes effect.
CREATE TABLE IF NOT EXISTS stat_neighbour_set (
    set_id          INTEGER NOT NULL,    -- the load_id that brought it
    effective_from  DATE NOT NULL,
    effective_basis VARCHAR NOT NULL,    -- how the date was decided (file name, or the newest area it names)
    source_file     VARCHAR NOT NULL,
    file_sha256     VARCHAR NOT NULL,
    areas           INTEGER NOT NULL,
    loaded_at       TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS stat_neighbour (
    set_id          INTEGER NOT NULL,
    area_code       VARCHAR NOT NULL,    -- canonical code of the area the list is for
    area_name       VARCHAR NOT NULL,    -- as written in the file
    neighbour_rank  INTEGER NOT NULL,    -- 1 = nearest
    neighbour_code  VARCHAR NOT NULL,
    neighbour_name  VARCHAR NOT NULL     -- as written in the file
);

-- One row per KPI, year and area: DfE's figures in our KPI terms. Headline rows only (no breakdown); where
-- DfE publishes a rate, value is that rate (what monitors compare with); numerator and denominator are kept
-- for pooling. Where two datasets cover the same year (sen2_mi and the current release, 2019–2022) the one
-- with the lower priority number that has a value wins.
CREATE OR REPLACE VIEW published_kpi AS
WITH headline AS (
    SELECT * FROM published_value
    WHERE breakdown_topic = 'Total' OR lower(breakdown_topic) LIKE 'all %'
),
parts AS (
    SELECT m.kpi_id, m.priority, m.dataset, h.year, h.geographic_level, h.area_code,
           any_value(h.area_name) AS area_name,
           any_value(h.region_code) AS region_code,
           max(h.value) FILTER (WHERE h.measure = m.numerator) AS numerator,
           sum(h.value) FILTER (WHERE list_contains(m.denominator, h.measure)) AS denominator_sum,
           count(h.value) FILTER (WHERE list_contains(m.denominator, h.measure)) AS denominator_parts,
           len(any_value(m.denominator)) AS denominator_needed,
           max(h.value) FILTER (WHERE h.measure = m.rate) AS rate,
           coalesce(max(h.marker) FILTER (WHERE h.measure = m.rate),
                    max(h.marker) FILTER (WHERE h.measure = m.numerator)) AS marker
    FROM published_kpi_map m
    JOIN headline h ON h.dataset = m.dataset
                   AND (h.measure = m.numerator OR h.measure = m.rate OR list_contains(m.denominator, h.measure))
    GROUP BY ALL
),
shaped AS (
    SELECT kpi_id, year, geographic_level, area_code, area_name, region_code, dataset, priority, numerator,
           CASE WHEN denominator_parts = denominator_needed THEN denominator_sum END AS denominator,
           rate, marker
    FROM parts
)
SELECT kpi_id, year, geographic_level, area_code, area_name, region_code, numerator, denominator,
       coalesce(rate, CASE WHEN denominator > 0 THEN round(100.0 * numerator / denominator, 1) END) AS value,
       rate IS NOT NULL AS value_is_published_rate,
       CASE WHEN rate IS NULL AND numerator IS NULL THEN marker END AS marker,
       dataset
FROM shaped
QUALIFY row_number() OVER (
    PARTITION BY kpi_id, year, geographic_level, area_code
    ORDER BY (coalesce(rate, numerator) IS NULL), priority) = 1;
