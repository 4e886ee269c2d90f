"""The pages' layer boundary: pages/_data.py is the only module of the Streamlit app that opens the database,
imports duckdb or caches; no page or shared module writes SQL; files starting with ``_`` are shared parts, not pages.

Read from the sources (ast), so the rule holds without running Streamlit.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA_ACCESS = ROOT / "pages" / "_data.py"
APP_SOURCES = sorted([ROOT / "app.py", *(ROOT / "pages").glob("*.py")])
OTHERS = [p for p in APP_SOURCES if p != DATA_ACCESS]

SQL = re.compile(r"\b(SELECT\s+[\w*(),.\s]+?\s+FROM\s+\w|INSERT\s+INTO|DELETE\s+FROM|CREATE\s+(OR\s+REPLACE\s+)?"
                 r"(TABLE|VIEW)|UPDATE\s+\w+\s+SET|ATTACH\s+)")  # in capitals, as kpi/ writes SQL
SQL_CALLS = {"execute", "executemany", "sql", "fetchall", "fetchone", "fetchdf", "fetch_df"}
CONNECTION_OPENERS = {"open_readonly", "connect", "open_sandbox"}
CACHES = {"cache_data", "cache_resource"}


def database_uses(source: str) -> list[str]:
    """What in ``source`` reaches the database or caches directly: duckdb, a connection opener, a SQL call, a
    Streamlit cache."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name.split(".")[0] == "duckdb"]
        elif isinstance(node, ast.ImportFrom):
            if (node.module or "").split(".")[0] == "duckdb":
                found.append(f"from {node.module} import …")
            found += [f"import {a.name}" for a in node.names if a.name in CONNECTION_OPENERS]
        elif isinstance(node, ast.Name) and node.id == "duckdb":
            found.append("duckdb")
        elif isinstance(node, ast.Attribute) and node.attr in SQL_CALLS | CONNECTION_OPENERS | CACHES:
            found.append(f".{node.attr}")
    return found


def sql_strings(source: str) -> list[str]:
    """String literals in ``source`` that are SQL (an example typed into a text box, ``placeholder=``, is not)."""
    tree = ast.parse(source)
    examples = {id(kw.value) for node in ast.walk(tree) if isinstance(node, ast.Call)
                for kw in node.keywords if kw.arg == "placeholder"}
    return [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in examples and SQL.search(node.value)]


def test_the_checks_see_what_they_look_for():
    found = database_uses("import duckdb\ncon = duckdb.connect('x')")
    assert sorted(found) == [".connect", "duckdb", "import duckdb"]
    assert database_uses("from kpi.engine.series import open_readonly") == ["import open_readonly"]
    assert database_uses("x = con.execute(q).df()") == [".execute"]
    assert database_uses("@st.cache_data\ndef f(): pass") == [".cache_data"]
    assert sql_strings('q = "SELECT count(*) AS n FROM request WHERE x = 1"') == [
        "SELECT count(*) AS n FROM request WHERE x = 1"]
    assert sql_strings('st.text_area("Query", placeholder="SELECT a FROM t")') == []
    assert sql_strings('st.markdown("Select a KPI from the list; one `SELECT` at a time (`FROM …`)")') == []


def test_the_data_access_module_is_the_one_door():
    assert database_uses(DATA_ACCESS.read_text()), "pages/_data.py should be where the connections are opened"


@pytest.mark.parametrize("path", OTHERS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_page_reaches_the_database_itself(path):
    assert database_uses(path.read_text()) == [], "go through pages/_data.py"


@pytest.mark.parametrize("path", APP_SOURCES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_sql_in_the_app(path):
    assert sql_strings(path.read_text()) == [], "SQL belongs to kpi/"


@pytest.mark.parametrize("path", APP_SOURCES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_app_modules_are_short_and_say_what_they_are(path):
    source = path.read_text()
    assert len(source.splitlines()) <= 600
    assert ast.get_docstring(ast.parse(source)), f"{path.name} needs a docstring saying what it is for"


def test_navigation_lists_every_page_and_no_shared_part():
    """app.py's st.Page entries are exactly the pages/*.py files not starting with ``_``."""
    listed = {node.args[0].value for node in ast.walk(ast.parse((ROOT / "app.py").read_text()))
              if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "Page"
              and node.args and isinstance(node.args[0], ast.Constant)}
    pages = {f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py") if not p.name.startswith("_")}
    assert listed == pages
