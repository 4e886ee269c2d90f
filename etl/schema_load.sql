-- Load bookkeeping beyond schema.sql: who loaded what and when, warnings, and the revisions a newer extract made.

-- load_log (schema.sql) gains the start and end of each file's load and who ran it.
ALTER TABLE load_log ADD COLUMN IF NOT EXISTS started_at TIMESTAMP;
ALTER TABLE load_log ADD COLUMN IF NOT EXISTS finished_at TIMESTAMP;
ALTER TABLE load_log ADD COLUMN IF NOT EXISTS loaded_by VARCHAR;
-- The local area (ONS code) a case extract was loaded for; NULL for published statistics, which name their areas.
ALTER TABLE load_log ADD COLUMN IF NOT EXISTS area_code VARCHAR;

-- Things reported but not quarantined: a column a local extract does not use, values under a blank heading.
CREATE TABLE IF NOT EXISTS load_warning (
    load_id      INTEGER NOT NULL,
    source_file  VARCHAR NOT NULL,
    column_name  VARCHAR,
    message      VARCHAR NOT NULL
);

-- A record superseded by a later extract (same id, different values): the values it had, and which load changed it.
CREATE TABLE IF NOT EXISTS record_revision (
    load_id           INTEGER NOT NULL,   -- the load that brought the new values
    revised_at        TIMESTAMP NOT NULL,
    module            VARCHAR NOT NULL,
    table_name        VARCHAR NOT NULL,
    record_key        VARCHAR NOT NULL,   -- the record's id (person ids are pseudonyms)
    previous_load_id  INTEGER NOT NULL,   -- the load the superseded values came from
    changed_columns   VARCHAR NOT NULL,   -- e.g. 'request_outcome, request_outcome_date'
    previous_values   VARCHAR NOT NULL    -- JSON of the superseded clean values (already pseudonymised)
);
ALTER TABLE record_revision ADD COLUMN IF NOT EXISTS area_code VARCHAR;  -- the record's area (keys are per area)

-- Each quarantined row of a SEN2 or local extract as read (text), with identifiers handled as everywhere else:
-- person ids pseudonymised, names / birth date / postcode / UPN / ULN left out. One row per quarantined row.
CREATE TABLE IF NOT EXISTS quarantine_row (
    load_id      INTEGER NOT NULL,
    source_file  VARCHAR NOT NULL,
    module       VARCHAR NOT NULL,
    row_number   INTEGER NOT NULL,
    row_values   VARCHAR NOT NULL     -- JSON: heading as written → value as read
);

-- The date each case extract's figures stand at (DESIGN §4 "Data as at"): its SEN2 header's datetime or
-- referencedate, else the date in its file name, else the day it was loaded; and which of those it was.
ALTER TABLE load_log ADD COLUMN IF NOT EXISTS as_at DATE;
ALTER TABLE load_log ADD COLUMN IF NOT EXISTS as_at_source VARCHAR;
-- The SEN2 header's own export time (Blade `datetime`), kept as a date.
ALTER TABLE sen2_return ADD COLUMN IF NOT EXISTS extract_datetime DATE;

-- Every annual review each extract showed (SEN2 activeplans holds only a plan's latest review): a later extract
-- adds a meeting, it never erases an earlier one. The same meeting shown again with another decision date is a
-- revision: the engine takes the version from the newest extract (by as_at, then load). Never deleted.
CREATE TABLE IF NOT EXISTS review_history (
    area_code             VARCHAR NOT NULL,
    request_id            VARCHAR NOT NULL,
    active_plan_id        VARCHAR NOT NULL,
    review_meeting_date   DATE,
    review_decision_date  DATE,
    review_outcome        VARCHAR,
    load_id               INTEGER NOT NULL,
    as_at                 DATE              -- the extract's as-at date (NULL: loaded before dates were recorded)
);
-- A database loaded before the history was kept starts it from the reviews it holds.
INSERT INTO review_history
SELECT area_code, request_id, active_plan_id, review_meeting_date, review_decision_date, review_outcome, load_id, NULL
FROM active_plan WHERE (review_meeting_date IS NOT NULL OR review_decision_date IS NOT NULL)
  AND NOT EXISTS (SELECT 1 FROM review_history);
