-- Local extracts (etl/formats/local_extracts.py, docs/extracts.md): what SEN2 does not hold. Pseudonymised like SEN2:
-- person_key is the HMAC of the case system's person id under the same key, so the same child links up.

CREATE TABLE IF NOT EXISTS advice_request (
    area_code      VARCHAR NOT NULL,   -- the local area the extract came from (ONS code)
    advice_request_id VARCHAR NOT NULL,
    person_key        VARCHAR NOT NULL,
    advice_type       VARCHAR NOT NULL,   -- EP | HEALTH | SOCIAL_CARE | OTHER
    requested_date    DATE NOT NULL,
    received_date     DATE,               -- blank while the advice is awaited
    load_id           INTEGER NOT NULL
);  -- unique key: (area_code, advice_request_id)

CREATE TABLE IF NOT EXISTS ehcp_audit (
    area_code      VARCHAR NOT NULL,   -- the local area the extract came from (ONS code)
    audit_id    VARCHAR NOT NULL,
    person_key  VARCHAR NOT NULL,
    audit_date  DATE NOT NULL,
    auditor     VARCHAR NOT NULL,         -- EDUCATION | HEALTH | SOCIAL_CARE | MULTI_AGENCY | PARENT
    grade       VARCHAR NOT NULL,         -- OUTSTANDING | GOOD | REQUIRES_IMPROVEMENT | INADEQUATE
    score       DOUBLE,                   -- optional, 0–10
    plan_type   VARCHAR NOT NULL,         -- NEW | AMENDED
    load_id     INTEGER NOT NULL
);  -- unique key: (area_code, audit_id)

CREATE TABLE IF NOT EXISTS placement_need (
    area_code      VARCHAR NOT NULL,   -- the local area the extract came from (ONS code)
    record_key     VARCHAR NOT NULL,   -- person_key|need_date
    person_key     VARCHAR NOT NULL,
    need_date      DATE NOT NULL,
    placed_date    DATE,                  -- blank while waiting
    setting_needed VARCHAR,
    load_id        INTEGER NOT NULL
);  -- unique key: (area_code, record_key)

CREATE TABLE IF NOT EXISTS reduced_timetable (
    area_code      VARCHAR NOT NULL,   -- the local area the extract came from (ONS code)
    record_key     VARCHAR NOT NULL,   -- person_key|start_date
    person_key     VARCHAR NOT NULL,
    start_date     DATE NOT NULL,
    end_date       DATE,                  -- last day on the reduced timetable; blank while ongoing
    hours_per_week DOUBLE,
    load_id        INTEGER NOT NULL
);  -- unique key: (area_code, record_key)

CREATE TABLE IF NOT EXISTS kpi_return (
    area_code      VARCHAR NOT NULL,   -- the local area the extract came from (ONS code)
    record_key   VARCHAR NOT NULL,     -- kpi_id|period
    kpi_id       VARCHAR NOT NULL,
    period       DATE NOT NULL,           -- first day of the month
    numerator    DOUBLE,
    denominator  DOUBLE,
    value        DOUBLE,
    note         VARCHAR,
    load_id      INTEGER NOT NULL
);  -- unique key: (area_code, record_key)
