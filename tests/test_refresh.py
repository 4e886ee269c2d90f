"""Refresh while serving: a load builds a copy of the database and swaps it in whole (etl/refresh.py), and an open
session is told once that the data changed (pages/_refresh.py)."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from etl.__main__ import main as etl_main
from etl.load import LoadRejected
from etl.refresh import LoadInProgress, exclusive, refresh_load
from pages._refresh import refresh_message, refreshed_since
from tests.support.app import APP, plan_extract


def _later_extract(folder: Path) -> Path:
    """The plan extract plus two more plans issued in July 2023, within 20 weeks."""
    b = plan_extract()
    b.issued_plan("2023-04-01", "2023-07-20")
    b.issued_plan("2023-04-01", "2023-07-21")
    return b.write(folder)


def _plans(db: Path) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM named_plan").fetchone()[0]
    finally:
        con.close()


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".loading-" in p.name or p.name.endswith(".wal"))


@pytest.fixture
def served_db(tmp_path) -> Path:
    db = tmp_path / "app.duckdb"
    refresh_load([plan_extract().write(tmp_path / "first")], db)
    return db


def test_first_load_creates_the_database_whole(served_db, tmp_path):
    assert _plans(served_db) == 43
    assert _leftovers(tmp_path) == []


def test_a_reader_open_during_the_swap_keeps_the_old_data_and_new_readers_see_the_new(served_db, tmp_path):
    before = served_db.stat().st_ino
    reader = duckdb.connect(str(served_db), read_only=True)  # a page's computation in progress
    try:
        report = refresh_load([_later_extract(tmp_path / "second")], served_db)
        assert report.exit_code == 0
        assert reader.execute("SELECT count(*) FROM named_plan").fetchone()[0] == 43  # its snapshot, whole
    finally:
        reader.close()
    assert served_db.stat().st_ino != before  # a new file, renamed over the old one
    assert _plans(served_db) == 45
    assert _leftovers(tmp_path) == []


def test_a_rejected_load_leaves_the_database_untouched(served_db, tmp_path):
    before = (served_db.read_bytes(), served_db.stat().st_ino, served_db.stat().st_mtime_ns)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "mystery.csv").write_text("what,is,this\n1,2,3\n")
    with pytest.raises(LoadRejected):
        refresh_load([_later_extract(tmp_path / "second"), bad], served_db)
    assert (served_db.read_bytes(), served_db.stat().st_ino, served_db.stat().st_mtime_ns) == before
    assert _leftovers(tmp_path) == []


def test_a_load_that_changes_nothing_swaps_nothing(served_db, tmp_path):
    before = (served_db.stat().st_ino, served_db.stat().st_mtime_ns)
    report = refresh_load([tmp_path / "first"], served_db)
    assert {f.status for f in report.files} == {"unchanged"}
    assert (served_db.stat().st_ino, served_db.stat().st_mtime_ns) == before
    assert _leftovers(tmp_path) == []


def test_a_second_load_at_the_same_time_is_refused_with_a_message(served_db, tmp_path, capsys):
    later = _later_extract(tmp_path / "second")
    with exclusive(served_db):
        with pytest.raises(LoadInProgress, match="another load into .* is running"):
            refresh_load([later], served_db)
        assert etl_main(["load", str(later), "--db", str(served_db)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("Load rejected: another load into") and "\n" not in err
    assert _plans(served_db) == 43
    assert etl_main(["load", str(later), "--db", str(served_db)]) == 0  # once the first has finished
    assert _plans(served_db) == 45


def test_the_cli_load_swaps_a_new_file_in(served_db, tmp_path):
    before = served_db.stat().st_ino
    assert etl_main(["load", str(_later_extract(tmp_path / "second")), "--db", str(served_db)]) == 0
    assert served_db.stat().st_ino != before and _plans(served_db) == 45


def test_refreshed_only_when_the_data_is_not_what_the_session_opened_on():
    assert not refreshed_since(None, (1, 0))  # the session's first run
    assert not refreshed_since((1, 0), (1, 0))
    assert refreshed_since((1, 0), (2, 0))
    assert refreshed_since((1, 0), (1, 5))  # the write-ahead log changed
    t = datetime(2026, 3, 4, 10, 42, 59).timestamp()
    assert refresh_message(t).startswith("Data refreshed at 10:42:")


@pytest.mark.slow  # a page under AppTest
def test_an_open_session_sees_the_new_data_with_a_notice_on_its_next_interaction(served_db, tmp_path, monkeypatch):
    monkeypatch.setenv("APP_DB", str(served_db))
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["period"] = "2023-07"
    at.run()
    assert not at.exception
    assert not [i for i in at.info if "Data refreshed" in i.value]
    assert any("1 of 2" in m.value for m in at.markdown)
    mtime = served_db.stat().st_mtime
    refresh_load([_later_extract(tmp_path / "second")], served_db)
    os.utime(served_db, (mtime + 60, mtime + 60))  # a load a minute later, whatever the clock's resolution
    at.run()  # the session's next interaction
    assert not at.exception
    notices = [i.value for i in at.info if "Data refreshed" in i.value]
    assert notices == [refresh_message(mtime + 60)]
    assert any("3 of 4" in m.value for m in at.markdown)  # July 2023 now holds the two new timely plans
    at.run()  # still said on the next run: a run cut short by a click cannot lose the notice
    assert [i.value for i in at.info if "Data refreshed" in i.value] == [refresh_message(mtime + 60)]
    fresh = AppTest.from_file(APP, default_timeout=60)
    fresh.run()
    assert not [i for i in fresh.info if "Data refreshed" in i.value]  # a session opened on the new data



@pytest.mark.slow  # a page under AppTest
def test_a_load_landing_between_the_notice_and_the_figures_redraws_the_run(served_db, tmp_path, monkeypatch):
    """A load swaps the new file in after a run has decided there is no notice but before it reads the figures:
    the run is drawn again, so the new figures never show without the notice (seen with 20 sessions on 2 cores)."""
    from pages import _states as states

    monkeypatch.setenv("APP_DB", str(served_db))
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["period"] = "2023-07"
    at.run()
    at.switch_page("pages/kpi_trajectory.py").run()  # a page with one read of the figures (Overview checks twice)
    assert not at.exception
    mtime = served_db.stat().st_mtime
    read_series = states.load_series_or_explain
    swapped = []

    def load_lands_first(*args, **kwargs):
        if not swapped:  # the load's swap, just before this run's first read of the figures
            refresh_load([_later_extract(tmp_path / "second")], served_db)
            os.utime(served_db, (mtime + 60, mtime + 60))
            swapped.append(True)
        return read_series(*args, **kwargs)

    monkeypatch.setattr(states, "load_series_or_explain", load_lands_first)
    at.run()
    assert not at.exception and swapped
    assert [i.value for i in at.info if "Data refreshed" in i.value] == [refresh_message(mtime + 60)]


def test_a_copy_left_by_a_killed_load_is_cleared_by_the_next_load(served_db, tmp_path):
    """A load killed mid-way (SIGKILL: no clean-up ran) leaves its copy, its log and the folder DuckDB spilled working
    rows to beside the database; the next load, holding the lock, removes them before starting its own."""
    stale = tmp_path / f".{served_db.name}.loading-999999"
    stale.write_bytes(b"half a database")
    stale.with_name(stale.name + ".wal").write_bytes(b"its log")
    spill = stale.with_name(stale.name + ".tmp")  # DuckDB's spill folder: working rows, names and UPNs among them
    spill.mkdir()
    (spill / "duckdb_temp_storage_S32K-0.tmp").write_bytes(b"spilled rows")
    assert refresh_load([_later_extract(tmp_path / "second")], served_db).exit_code == 0
    assert _leftovers(tmp_path) == [] and _plans(served_db) == 45


def test_the_load_lock_needs_no_fcntl_so_it_works_on_windows(tmp_path):
    """Councils run Windows, which has no ``fcntl``: the lock is ``filelock``'s, and it still refuses a second
    load while one holds it (here in a process where ``fcntl`` cannot be imported)."""
    import subprocess
    import sys

    code = ("import sys; sys.modules['fcntl'] = None\n"
            "from pathlib import Path\n"
            "from etl.refresh import LoadInProgress, exclusive\n"
            f"db = Path({str(tmp_path / 'app.duckdb')!r})\n"
            "with exclusive(db):\n"
            "    try:\n"
            "        with exclusive(db):\n"
            "            raise SystemExit('second lock taken')\n"
            "    except LoadInProgress:\n"
            "        pass\n"
            "with exclusive(db):\n"
            "    print('ok')\n")
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[1], timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
