-- Meeting notes: per local area, KPI and month, a narrative (why the KPI stands where it does) and actions (what
-- will be done, by whom, by when). They live in their own small DuckDB file beside the main database
-- (kpi/notes.py: data/app.notes.duckdb for data/app.duckdb), because a load builds a copy of the main database and
-- swaps it in (etl/refresh.py) and the dashboard opens it read-only: what people write must survive every load.
-- Append-only: an edit is a new row with the next version; nothing is deleted (a note is withdrawn at most).
CREATE TABLE IF NOT EXISTS note (
    note_id     VARCHAR NOT NULL,     -- the narrative or action, the same across its versions
    version     INTEGER NOT NULL,     -- 1 when written; each edit adds a row with the next number
    kind        VARCHAR NOT NULL CHECK (kind IN ('narrative', 'action')),
    area_code   VARCHAR NOT NULL,     -- ONS code of the local area
    kpi_id      VARCHAR NOT NULL,
    period      VARCHAR NOT NULL,     -- YYYY-MM: the month the meeting discussed
    text        VARCHAR NOT NULL,     -- capped in length, never holding a child's identifier (kpi/notes.py)
    owner       VARCHAR,              -- action: who will do it
    due         DATE,                 -- action: by when
    status      VARCHAR NOT NULL CHECK (status IN ('current', 'open', 'done', 'withdrawn')),
    author      VARCHAR NOT NULL,     -- who wrote this version
    role        VARCHAR NOT NULL,     -- their role (leadership | analyst)
    written_at  TIMESTAMP NOT NULL    -- UTC
);
