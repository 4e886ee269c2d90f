"""Shared fixtures: small deterministic DuckDB files built from hand-made Blade extracts."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl.load import load_paths
from kpi import definitions
from kpi.series import kpi_series, open_readonly
from tests.blade import Blade


@pytest.fixture(autouse=True)
def _fixed_key(monkeypatch):
    """A known pseudonymisation key per test, so no key file is written outside tmp dirs."""
    monkeypatch.setenv("APP_PSEUDONYM_KEY", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")


# DfE's published files, read where they are (the checkout sits beside shared/, here and in CI); never copied.
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def published_db(tmp_path_factory):
    """A database holding the real published files (DfE EHC plans 2025, SEN2 MI 2014–2022, statistical
    neighbours), loaded once per session; tests open it read-only or copy it."""
    assert SHARED_DATA.is_dir(), f"published data not found at {SHARED_DATA}"
    db = tmp_path_factory.mktemp("published") / "published.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("APP_PSEUDONYM_KEY", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")
        load_paths([SHARED_DATA / "dfe_ehcp_2025", SHARED_DATA / "dfe_sen2_mi_2014-2022.csv",
                    SHARED_DATA / "statistical_neighbours.csv"], db)
    return db


@pytest.fixture
def catalogue():
    return definitions.load()


@pytest.fixture
def build_db(tmp_path):
    """Write a Blade extract to files, load it, return the database path."""
    counter = iter(range(1000))

    def _build(blade: Blade):
        n = next(counter)
        folder = blade.write(tmp_path / f"extract{n}")
        db = tmp_path / f"db{n}.duckdb"
        load_paths([folder], db)
        return db

    return _build


@pytest.fixture
def series_of(build_db, catalogue):
    """Load a Blade extract and return one KPI's series indexed by period."""

    def _series(blade: Blade, kpi_id: str):
        con = open_readonly(build_db(blade))
        try:
            df = kpi_series(con, catalogue, [kpi_id])
        finally:
            con.close()
        return df.set_index("period")

    return _series
