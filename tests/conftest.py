"""Shared fixtures: small deterministic DuckDB files built from hand-made Blade extracts."""

from __future__ import annotations

import os
import sys
import tempfile

import pytest

from etl.load import load_paths
from kpi import definitions
from kpi.engine.series import kpi_series, open_readonly
from tests.support import ROOT
from tests.support.blade import Blade
from tests.support.published import PUBLISHED_DATA


@pytest.fixture(autouse=True)
def _fixed_key(monkeypatch):
    """A known pseudonymisation key per test, so no key file is written outside tmp dirs."""
    monkeypatch.setenv("APP_PSEUDONYM_KEY", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")


# --- the suite stands alone: nothing beside the checkout is read -------------------------------------------------
# A fresh clone has nothing beside it. Every file a test opens or lists must be in the checkout, the Python
# installation or a temporary folder; reading a sibling of the checkout (a data folder next to it, another
# checkout) is recorded by this audit hook and fails the test that did it.
_PARENT = os.path.realpath(ROOT.parent)
_ROOT = os.path.realpath(ROOT)
# the Python installation (a venv may sit beside the checkout) and the temporary folder, unless one of them
# holds the checkout itself (then it would allow everything beside it)
_ALLOWED = tuple(a for a in {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix,
                                                           tempfile.gettempdir())}
                 if not _ROOT.startswith(a + os.sep))
OUTSIDE_READS: list[str] = []
AUDITED_EVENTS = ("open", "os.listdir", "os.scandir")


def beside_checkout(path) -> bool:
    """True for a path in the checkout's parent folder but not in the checkout (nor in the Python installation
    or the temporary folder, which may live there)."""
    if isinstance(path, int) or path is None:
        return False
    try:
        p = os.path.realpath(os.fsdecode(path))
    except (TypeError, ValueError):
        return False
    if not p.startswith(_PARENT + os.sep) or p == _ROOT or p.startswith(_ROOT + os.sep):
        return False
    return not any(p == a or p.startswith(a + os.sep) for a in _ALLOWED)


class ReadBesideCheckout(RuntimeError):
    """A test tried to read a file beside the checkout: the suite must not need anything there."""


def _audit(event: str, args: tuple) -> None:
    if event in AUDITED_EVENTS and args and beside_checkout(args[0]):
        where = os.fsdecode(args[0])
        OUTSIDE_READS.append(where)
        raise ReadBesideCheckout(f"{where} is beside the checkout: tests use the bundled data/published copy")


if _PARENT != os.path.realpath(tempfile.gettempdir()) and _PARENT != os.sep:  # a clone directly in /tmp: no check
    sys.addaudithook(_audit)


@pytest.fixture(autouse=True)
def _nothing_read_beside_the_checkout():
    """Fails a test that read anything beside the checkout, even where the code under test caught the error."""
    before = len(OUTSIDE_READS)
    yield
    read = OUTSIDE_READS[before:]
    del OUTSIDE_READS[before:]
    if read:
        pytest.fail(f"read beside the checkout: {read[0]} (the suite must stand alone: use data/published)")


@pytest.fixture(scope="session")
def published_db(tmp_path_factory):
    """A database holding the real published files bundled in data/published (DfE EHC plans 2025, SEN2 MI
    2014–2022, statistical neighbours), loaded once per session; tests open it read-only or copy it."""
    db = tmp_path_factory.mktemp("published") / "published.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("APP_PSEUDONYM_KEY", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")
        load_paths([PUBLISHED_DATA / "dfe_ehcp", PUBLISHED_DATA / "dfe_sen2_mi_2014-2022.csv.gz",
                    PUBLISHED_DATA / "statistical_neighbours.csv.gz"], db)
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


@pytest.fixture
def app_db(build_db, monkeypatch):
    """The small database of tests/support/app.py (in July 2023, 1 of 2 plans within 20 weeks), opened by the app in
    local single-user mode as an analyst (no APP_ROLE preview)."""
    from tests.support.app import plan_extract

    db = build_db(plan_extract())
    monkeypatch.setenv("APP_DB", str(db))
    monkeypatch.delenv("APP_ROLE", raising=False)
    return db


# --- the dashboard in a real browser (tests/support/browser.py): module-scoped, so each module has its own server

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The dashboard served on a free localhost port from a fixture database; stopped at teardown."""
    from tests.support.browser import serve

    yield from serve(tmp_path_factory.mktemp("browser"))


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium, one per test module."""
    from playwright.sync_api import sync_playwright

    from tests.support.browser import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test`, whose `browser` target installs it "
                    "(apt-get install -y chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser):
    """A fresh browser tab (its own cookies and session) per test."""
    from tests.support.browser import TIMEOUT_MS

    context = browser.new_context(viewport={"width": 1400, "height": 1800})
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    try:
        yield pg
    finally:
        context.close()
