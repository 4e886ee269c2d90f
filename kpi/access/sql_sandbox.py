"""The analysts' SQL sandbox: one read-only SELECT at a time, no files, no network, a row limit and a time limit.

Used by the SQL console page and ``python -m kpi sql``. Layers of defence, each enough on its own for most attacks:

1. DuckDB's own parser (``duckdb.extract_statements``) counts and classifies the text: exactly one statement, of
   type SELECT (which covers ``WITH … SELECT``, ``FROM t``, ``VALUES``, ``DESCRIBE``/``SHOW``/``SUMMARIZE``).
   COPY, EXPORT, ATTACH/DETACH, INSTALL/LOAD, SET/RESET/USE, PRAGMA, CALL, DDL, DML and transactions are refused
   before anything runs.
2. A separate in-memory DuckDB connection that ATTACHes the database file ``READ_ONLY``: nothing can write to it.
   It is its own database instance, so its settings never clash with the app's connections in the same process.
3. Before the query: spilling to disk off (``temp_directory=''``), a memory limit, one thread, extension
   auto-install/auto-load off, then ``enable_external_access=false`` (no file, glob, URL, extension or secret
   access, so ``read_csv``, ``read_text``, ``glob``, ``'file.csv'`` and ``https://…`` all fail) and finally
   ``lock_configuration=true`` (no setting can be changed back, even from inside a SELECT).
4. A row limit (the relation is limited lazily, so a huge result is never materialised) and a time limit: a timer
   thread calls ``interrupt()`` on the connection.
5. A worker process with operating-system limits (:func:`run_query`): DuckDB's memory limit and ``interrupt()``
   do not reach everything a query can call (one ``levenshtein`` of two 120,000-character strings runs for a
   minute; ``repeat('x', 1000000000)`` takes gigabytes). So the query runs in a child process (``python -m
   kpi.access.sql_sandbox``) whose address space is capped (``RLIMIT_AS``: what it holds once open plus the memory limit
   and a margin) and whose CPU time is capped (``RLIMIT_CPU``), and which the caller kills when the time limit
   and a second's grace have passed. A query that breaks a limit ends the worker, never the dashboard's server;
   the SQL console and ``python -m kpi sql`` both run queries this way.

Every refusal is a :class:`SqlRefused` with a one-line reason for the user; nothing is written anywhere.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from etl.sql_text import literal

DEFAULT_ROW_LIMIT = 5_000
DEFAULT_TIME_LIMIT_S = 10.0
DEFAULT_MEMORY_LIMIT = "512MB"
WORKER_MARGIN_BYTES = 256 * 2**20  # address space the worker may grow by beyond DuckDB's memory limit
WORKER_START_S = 60.0  # the worker's start (Python, DuckDB, opening the file): a loaded machine is slow
WORKER_GRACE_S = 1.0  # after the time limit, how long the interrupt gets before the worker is killed
_ROOT = Path(__file__).resolve().parents[2]
ALIAS = "app"  # the database's name inside the sandbox: tables are reachable as `request` or `app.request`

# What a user sees for each statement type DuckDB's parser reports (anything not SELECT is refused).
_WHAT = {
    "COPY": "COPY (reading or writing files)",
    "EXPORT": "EXPORT DATABASE",
    "ATTACH": "ATTACH (opening another database)",
    "DETACH": "DETACH",
    "LOAD": "INSTALL/LOAD of an extension",
    "SET": "SET/RESET/USE (changing settings)",
    "VARIABLE_SET": "SET VARIABLE",
    "PRAGMA": "PRAGMA",
    "CALL": "CALL",
    "CREATE": "CREATE (a schema change)",
    "DROP": "DROP (a schema change)",
    "ALTER": "ALTER (a schema change)",
    "INSERT": "INSERT (a write)",
    "UPDATE": "UPDATE (a write)",
    "DELETE": "DELETE (a write)",
    "TRANSACTION": "a transaction statement",
    "EXPLAIN": "EXPLAIN",
}


class SqlRefused(Exception):
    """The query was refused or stopped; ``str(exc)`` is a one-line reason for the user."""


@dataclass(frozen=True)
class SqlResult:
    """The first ``row_limit`` rows of a query's result, and whether more were cut off."""

    frame: pd.DataFrame
    truncated: bool
    row_limit: int
    seconds: float

    @property
    def notice(self) -> str | None:
        """The line to show under a truncated result."""
        if not self.truncated:
            return None
        return (f"Showing the first {self.row_limit:,} rows only: the result has more. "
                "Add a WHERE clause, GROUP BY or LIMIT to narrow it.")


def check_statement(sql: str) -> str:
    """The single SELECT statement in ``sql`` (text), or :class:`SqlRefused` saying why not."""
    if not sql or not sql.strip():
        raise SqlRefused("the query is empty")
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise SqlRefused(f"the query could not be parsed: {_first_line(exc)}") from None
    if not statements:
        raise SqlRefused("the query holds no statement")
    if len(statements) > 1:
        raise SqlRefused(f"one statement at a time: the query holds {len(statements)} statements")
    kind = statements[0].type.name
    if kind != "SELECT":
        what = _WHAT.get(kind, kind)
        raise SqlRefused(f"only SELECT queries are allowed; {what} is refused")
    return statements[0].query


def open_sandbox(db_path: Path | str, memory_limit: str = DEFAULT_MEMORY_LIMIT) -> duckdb.DuckDBPyConnection:
    """A fresh locked-down connection with the database attached read-only (see the module docstring)."""
    path = Path(db_path)
    if not path.is_file():
        raise SqlRefused(f"no database at {path}")
    con = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False,
                                             "autoload_known_extensions": False, "threads": 1})
    try:
        con.execute(f"ATTACH {literal(path.resolve())} AS {ALIAS} (READ_ONLY)")
        con.execute(f"USE {ALIAS}")
        con.execute("SET temp_directory = ''")  # never spill to disk
        con.execute(f"SET memory_limit = {literal(memory_limit)}")
        con.execute("SET threads = 1")  # an analyst's query must not starve the dashboard
        con.execute("SET allow_community_extensions = false")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except duckdb.IOException as exc:
        con.close()
        if "lock" in str(exc).lower():
            raise SqlRefused(f"the database {path} is being updated (a load is running); try again shortly") from None
        raise SqlRefused(f"cannot open {path}: {_first_line(exc)}") from None
    except duckdb.Error as exc:
        con.close()
        raise SqlRefused(f"cannot open {path}: {_first_line(exc)}") from None
    return con


def run_query(db_path: Path | str, sql: str, row_limit: int = DEFAULT_ROW_LIMIT,
              time_limit_s: float = DEFAULT_TIME_LIMIT_S, memory_limit: str = DEFAULT_MEMORY_LIMIT) -> SqlResult:
    """Run one read-only SELECT against the database; at most ``row_limit`` rows, at most ``time_limit_s`` seconds,
    in a worker process with OS limits on memory and CPU (layer 5 of the module docstring)."""
    if row_limit < 1:
        raise ValueError("row_limit must be at least 1")
    query = check_statement(sql)
    path = Path(db_path)
    if not path.is_file():
        raise SqlRefused(f"no database at {path}")
    request = {"db": str(path.resolve()), "sql": query, "row_limit": row_limit, "time_limit_s": time_limit_s,
               "memory_limit": memory_limit}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(_ROOT), os.environ.get("PYTHONPATH", "")]),
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "kpi.access.sql_sandbox"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=_ROOT, env=env,
                            start_new_session=True)
    ready, out = threading.Event(), {}

    def _read() -> None:
        out["ready"] = proc.stdout.readline() == b"ready\n"
        ready.set()
        out["data"] = proc.stdout.read()

    reader = threading.Thread(target=_read, daemon=True)
    reader.start()
    try:
        proc.stdin.write(pickle.dumps(request))
        proc.stdin.close()
        if not ready.wait(WORKER_START_S):
            raise SqlRefused("the SQL worker did not start; try again")
        try:
            proc.wait(timeout=time_limit_s + WORKER_GRACE_S)
        except subprocess.TimeoutExpired:  # not stopped by the interrupt: something it cannot reach
            raise SqlRefused(f"stopped: the query ran longer than the {time_limit_s:g}-second limit") from None
        reader.join()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode == 0 and out.get("data"):
        kind, payload = pickle.loads(out["data"])  # written by _worker below: our own process, our own types
        if kind == "ok":
            return SqlResult(*payload)
        raise SqlRefused(payload)
    if -proc.returncode in (getattr(signal, "SIGXCPU", -1), getattr(signal, "SIGKILL", -1)):  # CPU limit, killed
        raise SqlRefused(f"stopped: the query ran longer than the {time_limit_s:g}-second limit")
    raise SqlRefused(f"stopped: the query needed more memory than the SQL console allows ({memory_limit})")


def _worker() -> None:
    """``python -m kpi.access.sql_sandbox``: one request (pickled) on stdin; after opening the database, 'ready'
    and then the pickled outcome on stdout. Address space and CPU time are capped before the query runs."""
    request = pickle.loads(sys.stdin.buffer.read())
    out = sys.stdout.buffer
    try:
        con = open_sandbox(request["db"], request["memory_limit"])
    except SqlRefused as exc:
        out.write(b"ready\n" + pickle.dumps(("refused", str(exc))))
        return
    _limit(request["memory_limit"], request["time_limit_s"])
    out.write(b"ready\n")
    out.flush()
    try:
        result = _run(con, request["sql"], request["row_limit"], request["time_limit_s"])
    except SqlRefused as exc:
        out.write(pickle.dumps(("refused", str(exc))))
    else:
        out.write(pickle.dumps(("ok", (result.frame, result.truncated, result.row_limit, result.seconds))))
    out.flush()


def _limit(memory_limit: str, time_limit_s: float) -> None:
    """OS limits on this (worker) process: address space now held plus the memory limit and a margin; CPU time
    a little over the time limit (SIGXCPU ends the process)."""
    try:
        import resource
    except ImportError:  # not on this platform: the caller's wall-clock kill still holds
        return
    held = _vm_bytes()
    if held:
        cap = held + _bytes(memory_limit) + WORKER_MARGIN_BYTES
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu = int(used.ru_utime + used.ru_stime + time_limit_s + WORKER_GRACE_S) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))


def _vm_bytes() -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _bytes(size: str) -> int:
    """'512MB' → bytes (DuckDB's units: KB, MB, GB, KiB, MiB, GiB; decimal and binary alike are generous)."""
    text = size.strip().upper().replace("IB", "B")
    for unit, factor in (("TB", 2**40), ("GB", 2**30), ("MB", 2**20), ("KB", 2**10), ("B", 1)):
        if text.endswith(unit):
            return int(float(text[: -len(unit)]) * factor)
    return int(float(text))


def _run(con: duckdb.DuckDBPyConnection, query: str, row_limit: int, time_limit_s: float) -> SqlResult:
    """The query on an open sandbox connection, interrupted at the time limit (layer 4); closes the connection."""
    timed_out = threading.Event()

    def _stop() -> None:
        timed_out.set()
        con.interrupt()

    timer = threading.Timer(time_limit_s, _stop)
    start = time.monotonic()
    timer.start()
    try:
        relation = con.sql(query)
        if relation is None:  # not a query after all (the parser check should make this impossible)
            raise SqlRefused("only SELECT queries are allowed")
        frame = relation.limit(row_limit + 1).df()
        for name, kind in zip(relation.columns, relation.types, strict=True):
            if str(kind) == "DATE":  # shown and exported as 2024-10-07, not as a midnight timestamp
                frame[name] = frame[name].dt.date
    except duckdb.Error as exc:
        if timed_out.is_set() or isinstance(exc, duckdb.InterruptException):
            raise SqlRefused(f"stopped: the query ran longer than the {time_limit_s:g}-second limit") from None
        raise SqlRefused(_explain(exc)) from None
    finally:
        timer.cancel()
        con.close()
    seconds = time.monotonic() - start
    truncated = len(frame) > row_limit
    return SqlResult(frame.head(row_limit), truncated, row_limit, seconds)


def _explain(exc: duckdb.Error) -> str:
    """One line for a failed query: a refusal for what the sandbox forbids, DuckDB's own message otherwise."""
    text = _first_line(exc)
    if isinstance(exc, duckdb.PermissionException):
        return ("refused: the SQL console cannot read or write files, URLs, extensions or secrets "
                f"(DuckDB: {text.removeprefix('Permission Error: ')})")
    if "configuration has been locked" in text:
        return "refused: settings cannot be changed in the SQL console"
    if "read-only" in text.lower():
        return "refused: the database is read-only in the SQL console"
    return f"the query failed: {text}"


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def tables(db_path: Path | str) -> pd.DataFrame:
    """The tables and views an analyst can query, with their columns, through the sandbox itself (a fixed query:
    run in this process, without a worker)."""
    path = Path(db_path)
    if not path.is_file():
        raise SqlRefused(f"no database at {path}")
    return _run(open_sandbox(path), f"""
        SELECT table_name AS "table", string_agg(column_name, ', ' ORDER BY ordinal_position) AS columns
        FROM information_schema.columns WHERE table_catalog = '{ALIAS}' AND table_schema = 'main'
        GROUP BY table_name ORDER BY table_name""", 1000, DEFAULT_TIME_LIMIT_S).frame


if __name__ == "__main__":
    _worker()
