"""etl/sql_text.py: values written into SQL as literals read back as the same values in DuckDB."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pytest

from etl.sql_text import in_list, literal


@pytest.mark.parametrize(("value", "expected"), [
    ("plain", "'plain'"),
    ("O'Neil", "'O''Neil'"),
    ("''", "''''''"),
    ("", "''"),
    (None, "NULL"),
    (True, "TRUE"),
    (False, "FALSE"),
    (42, "42"),
    (-7, "-7"),
    (np.int64(5), "5"),
    (2.5, "2.5"),
    (dt.date(2024, 2, 29), "DATE '2024-02-29'"),
    (dt.datetime(2024, 3, 10, 9, 5, 1), "TIMESTAMP '2024-03-10 09:05:01'"),
    (Path("/tmp/Sam's data/x.csv"), "'/tmp/Sam''s data/x.csv'"),
])
def test_literal_text(value, expected):
    assert literal(value) == expected


@pytest.mark.parametrize("value", ["O'Neil", "a'b''c", "line\nbreak", "semi; DROP TABLE x; --", None, True, 0, -3,
                                   1.25, dt.date(2023, 12, 31), dt.datetime(2024, 1, 1, 0, 0, 1)])
def test_literal_reads_back_as_the_same_value(value):
    assert duckdb.connect().execute(f"SELECT {literal(value)}").fetchone()[0] == value


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_literal_refuses_non_finite_numbers(bad):
    with pytest.raises(ValueError):
        literal(bad)


def test_literal_refuses_other_types():
    with pytest.raises(TypeError):
        literal([1, 2])


def test_in_list_filters_with_quotes_and_dates():
    assert in_list(["a", "O'Neil"]) == "'a', 'O''Neil'"
    assert in_list([1, None]) == "1, NULL"
    con = duckdb.connect()
    con.execute("CREATE TABLE t (name VARCHAR, day DATE)")
    con.execute("INSERT INTO t VALUES ('O''Neil', DATE '2024-01-01'), ('Smith', DATE '2024-02-01'), ('x', NULL)")
    wanted = in_list(["O'Neil", "Smith"])
    names = con.execute(f"SELECT name FROM t WHERE name IN ({wanted}) ORDER BY 1").fetchall()
    assert names == [("O'Neil",), ("Smith",)]
    days = con.execute(f"SELECT name FROM t WHERE day IN ({in_list([dt.date(2024, 2, 1)])})").fetchall()
    assert days == [("Smith",)]
    assert con.execute(f"SELECT [{in_list(['a', 'b'])}]").fetchone()[0] == ["a", "b"]


def test_in_list_refuses_no_values():
    with pytest.raises(ValueError):
        in_list([])
