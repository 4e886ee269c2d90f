-- Clean, pseudonymised tables. No name, UPN, ULN, full postcode or full date of birth is ever stored.
-- person_key is an HMAC-SHA256 of the case system's person id under a key kept outside the database.
-- Case tables carry area_code: record ids are unique within an area, so each table's key is (area_code, id).
-- The loader keeps keys unique (a duplicate in a file is quarantined; a newer extract supersedes by key) rather
-- than an index: primary-key indexes must sit in memory and more than halve bulk-load speed in DuckDB.

CREATE TABLE IF NOT EXISTS load_log (
    load_id        INTEGER PRIMARY KEY,
    loaded_at      TIMESTAMP NOT NULL,
    source_file    VARCHAR NOT NULL,   -- file name only, never a path that could hold a name
    file_sha256    VARCHAR NOT NULL,
    layout         VARCHAR NOT NULL,
    module         VARCHAR NOT NULL,
    rows_read      INTEGER NOT NULL,
    rows_loaded    INTEGER NOT NULL,
    rows_quarantined INTEGER NOT NULL,
    status         VARCHAR NOT NULL    -- loaded | loaded_with_quarantine
);

CREATE TABLE IF NOT EXISTS quarantine (
    load_id      INTEGER NOT NULL,
    source_file  VARCHAR NOT NULL,
    module       VARCHAR NOT NULL,
    row_number   INTEGER NOT NULL,     -- 1-based data row (header is row 0)
    column_name  VARCHAR NOT NULL,
    value        VARCHAR,              -- NULL for identifier columns: never stored
    reason       VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS sen2_return (
    area_code      VARCHAR NOT NULL,   -- the local area the extract came from (ONS code)
    sen2_id        VARCHAR NOT NULL,
    collection     VARCHAR,
    year           INTEGER,
    reference_date DATE,
    lea            VARCHAR,
    software_code  VARCHAR,
    release        VARCHAR,
    load_id        INTEGER NOT NULL
);  -- unique key: (area_code, sen2_id)

CREATE TABLE IF NOT EXISTS person (
    area_code      VARCHAR NOT NULL,   -- the local area the extract came from (ONS code)
    person_key        VARCHAR NOT NULL,
    sen2_id           VARCHAR,
    sex               VARCHAR,
    ethnicity         VARCHAR,
    postcode_district VARCHAR,         -- outward code only, e.g. LU5
    upn_unknown       VARCHAR,
    load_id           INTEGER NOT NULL
);  -- unique key: (area_code, person_key)

CREATE TABLE IF NOT EXISTS request (
    area_code      VARCHAR NOT NULL,   -- the local area the extract came from (ONS code)
    request_id           VARCHAR NOT NULL,
    person_key           VARCHAR NOT NULL,
    received_date        DATE NOT NULL,
    request_source       VARCHAR,
    rya                  VARCHAR,
    request_outcome      VARCHAR,
    request_outcome_date DATE,
    request_mediation    VARCHAR,
    request_tribunal     VARCHAR,
    age_at_request       INTEGER,      -- whole years at receipt; the birth date itself is not kept
    load_id              INTEGER NOT NULL
);  -- unique key: (area_code, request_id)

CREATE TABLE IF NOT EXISTS assessment (
    area_code      VARCHAR NOT NULL,   -- the local area the extract came from (ONS code)
    assessment_id           VARCHAR NOT NULL,
    request_id              VARCHAR NOT NULL,
    assessment_outcome      VARCHAR,
    assessment_outcome_date DATE,
    assessment_mediation    VARCHAR,
    assessment_tribunal     VARCHAR,
    other_mediation         VARCHAR,
    other_tribunal          VARCHAR,
    week20_exception        BOOLEAN,
    load_id                 INTEGER NOT NULL
);  -- unique key: (area_code, assessment_id)

CREATE TABLE IF NOT EXISTS named_plan (
    area_code      VARCHAR NOT NULL,   -- the local area the extract came from (ONS code)
    named_plan_id  VARCHAR NOT NULL,
    assessment_id  VARCHAR NOT NULL,
    start_date     DATE,
    plan_res       VARCHAR,
    plan_wbp       VARCHAR,
    pb             VARCHAR,
    oa             VARCHAR,
    dp             VARCHAR,
    cease_date     DATE,
    cease_reason   VARCHAR,
    load_id        INTEGER NOT NULL
);  -- unique key: (area_code, named_plan_id)

CREATE TABLE IF NOT EXISTS plan_detail (
    area_code      VARCHAR NOT NULL,   -- the local area the extract came from (ONS code)
    plan_detail_id   VARCHAR NOT NULL,
    named_plan_id    VARCHAR NOT NULL,
    urn              VARCHAR,
    ukprn            VARCHAR,
    sen_setting      VARCHAR,
    sen_setting_other VARCHAR,
    placement_rank   INTEGER,
    sen_unit         VARCHAR,
    resourced_provision VARCHAR,
    load_id          INTEGER NOT NULL
);  -- unique key: (area_code, plan_detail_id)

CREATE TABLE IF NOT EXISTS active_plan (
    area_code      VARCHAR NOT NULL,   -- the local area the extract came from (ONS code)
    active_plan_id        VARCHAR NOT NULL,
    request_id            VARCHAR NOT NULL,
    transfer_la           VARCHAR,
    review_meeting_date   DATE,
    review_decision_date  DATE,         -- SEN2 lastreview: the date the review decision was notified
    review_outcome        VARCHAR,
    review_draft          DATE,
    phase_transfer_due    DATE,
    phase_transfer_final  DATE,
    load_id               INTEGER NOT NULL
);  -- unique key: (area_code, active_plan_id)

CREATE TABLE IF NOT EXISTS placement_detail (
    area_code      VARCHAR NOT NULL,   -- the local area the extract came from (ONS code)
    placement_detail_id VARCHAR NOT NULL,
    active_plan_id      VARCHAR NOT NULL,
    urn                 VARCHAR,
    ukprn               VARCHAR,
    sen_setting         VARCHAR,
    sen_setting_other   VARCHAR,
    placement_rank      INTEGER,
    entry_date          DATE,
    leaving_date        DATE,
    sen_unit            VARCHAR,
    resourced_provision VARCHAR,
    res                 VARCHAR,
    wbp                 VARCHAR,
    load_id             INTEGER NOT NULL
);  -- unique key: (area_code, placement_detail_id)

CREATE TABLE IF NOT EXISTS sen_need (
    area_code      VARCHAR NOT NULL,   -- the local area the extract came from (ONS code)
    sen_need_id    VARCHAR NOT NULL,
    active_plan_id VARCHAR NOT NULL,
    sen_type       VARCHAR,
    sen_type_rank  INTEGER,
    load_id        INTEGER NOT NULL
);  -- unique key: (area_code, sen_need_id)
