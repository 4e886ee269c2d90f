"""A database read whole, to compare before and after."""

from __future__ import annotations

from pathlib import Path

import duckdb


def snapshot(db: Path) -> dict[str, list]:
    """Every row of every table, in a stable order."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1").fetchall()]
        return {t: sorted(map(repr, con.execute(f"SELECT * FROM {t}").fetchall())) for t in tables}
    finally:
        con.close()
