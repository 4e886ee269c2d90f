"""Inserting Python rows into a DuckDB table in one statement: the generic helper every loader and the reference
tables use (at the bottom, so that imports run one way: loaders and ``etl.reference`` import it, it imports neither).
"""

from __future__ import annotations

import duckdb
import pandas as pd


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: list[list]) -> None:
    """Insert Python rows in one statement (DuckDB scans a DataFrame far faster than executemany)."""
    if not rows:
        return
    frame = pd.DataFrame(rows, columns=[f"c{i}" for i in range(len(rows[0]))]).astype(object)
    con.register("_insert_rows", frame)
    try:
        con.execute(f"INSERT INTO {table} SELECT * FROM _insert_rows")
    finally:
        con.unregister("_insert_rows")

