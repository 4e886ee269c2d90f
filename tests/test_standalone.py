"""The suite needs nothing beside the checkout: a fresh clone, alone in its folder, passes its tests.

conftest.py installs an audit hook that refuses (and fails the test for) any file opened or folder listed beside
the checkout, and no code, test, Makefile or CI script names a data folder there."""

from __future__ import annotations

import os
import re

import pytest

from tests import conftest
from tests.support import ROOT
from tests.support.published import PUBLISHED_DATA


def test_opening_a_file_beside_the_checkout_is_refused():
    sibling = ROOT.parent / "data-beside-the-checkout" / "statistical_neighbours.csv"
    assert conftest.beside_checkout(sibling)
    with pytest.raises(conftest.ReadBesideCheckout):
        open(sibling)  # refused before the file system is asked
    with pytest.raises(conftest.ReadBesideCheckout):
        os.listdir(sibling.parent)
    assert conftest.OUTSIDE_READS[-2:] == [str(sibling), str(sibling.parent)]
    del conftest.OUTSIDE_READS[-2:]  # this test read nothing: the refusals were the point


def test_the_checkout_python_and_temporary_files_are_allowed(tmp_path):
    assert not conftest.beside_checkout(ROOT / "data" / "published" / "provenance.json")
    assert not conftest.beside_checkout(tmp_path / "x.duckdb")
    assert not conftest.beside_checkout(os.__file__)
    assert not conftest.beside_checkout(3)  # a file descriptor


def test_the_published_data_the_tests_use_is_in_the_checkout(published_db):
    import duckdb

    assert PUBLISHED_DATA.is_relative_to(ROOT)
    con = duckdb.connect(str(published_db), read_only=True)
    try:
        logged = {f for (f,) in con.execute("SELECT source_file FROM load_log").fetchall()}
    finally:
        con.close()
    bundled = {p.name.removesuffix(".gz") for p in PUBLISHED_DATA.rglob("*") if p.is_file()}
    assert logged and logged <= bundled


SIBLING_DATA = re.compile(r"\.\./" + "shared|parents?\\s*/\\s*[\"']" + "shared[\"']|[\"']" + "shared[\"']")


def test_no_code_test_or_build_file_names_a_data_folder_beside_the_checkout():
    skip = {".venv", ".git", "build", "node_modules"}
    files = [p for p in ROOT.rglob("*") if p.is_file() and not skip & set(p.relative_to(ROOT).parts)
             and (p.suffix in (".py", ".sh", ".toml", ".cfg", ".ini") or p.name in ("Makefile", "run"))]
    assert any(p.name == "Makefile" for p in files) and any(p.name == "conftest.py" for p in files)
    found = [f"{p.relative_to(ROOT)}:{n}" for p in files
             for n, line in enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
             if SIBLING_DATA.search(line)]
    assert found == []
