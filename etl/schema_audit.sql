-- The audit log: who did what, when, in the dashboard (sign-ins, page views with their parameters, downloads,
-- SQL console queries, meeting notes written). It lives in its own small DuckDB file beside the main database
-- (kpi/access/audit.py: data/app.audit.duckdb for data/app.duckdb), because the dashboard opens the main database
-- read-only and a load may be writing it (DuckDB allows one writing process). Append-only: the app only ever
-- INSERTs (and copies every row into a new table once, when a file with an older event CHECK is upgraded).
CREATE TABLE IF NOT EXISTS audit_log (
    occurred_at TIMESTAMP NOT NULL,   -- UTC
    who         VARCHAR NOT NULL,     -- the signed-in identity (email or subject), or local:<os user>
    role        VARCHAR NOT NULL,     -- leadership | monitor | analyst (or none, for a refused sign-in)
    -- kept in step with kpi/access/audit.py EVENTS; a file with an older CHECK is rebuilt on its next write
    event       VARCHAR NOT NULL CHECK (event IN ('sign_in', 'access_denied', 'page_view', 'download', 'sql_query',
                                              'note')),
    page        VARCHAR,              -- page id (file name in pages/)
    detail      VARCHAR,              -- JSON: the page's parameters, the file downloaded, the SQL text
    outcome     VARCHAR NOT NULL,     -- ok, or refused/failed with the one-line reason
    session_id  VARCHAR               -- the browser session, to follow one visit
);
