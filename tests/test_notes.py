"""Meeting notes (kpi/notes.py): narratives and actions per area, KPI and month, versioned, audited, free of
children's identifiers, written by leadership and analysts only, and never lost by a load."""

from __future__ import annotations

import getpass
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from etl.db import SCHEMA_FILES, connect
from kpi import notes
from kpi.__main__ import main as kpi_main
from kpi.access import audit, roles
from tests.support.revisions import first_extract, second_extract

ROOT = Path(__file__).resolve().parent.parent
AREA, KPI = "E06000056", "ehcp_20wk_excl"
WHERE = dict(area_code=AREA, kpi_id=KPI, period="2024-03")
ANALYST = dict(author="a@council.gov.uk", role="analyst")


def _at(minute: int) -> datetime:
    return datetime(2024, 4, 2, 10, minute, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _own_files(monkeypatch):
    for var in (notes.ENV_VAR, audit.ENV_VAR, roles.ENV_VAR, roles.ROLE_ENV_VAR):
        monkeypatch.delenv(var, raising=False)


def test_notes_sit_beside_the_database_never_in_it(tmp_path, monkeypatch):
    assert notes.notes_path(tmp_path / "app.duckdb") == tmp_path / "app.notes.duckdb"
    monkeypatch.setenv(notes.ENV_VAR, str(tmp_path / "elsewhere.duckdb"))
    assert notes.notes_path(tmp_path / "app.duckdb") == tmp_path / "elsewhere.duckdb"
    assert all(p.name != "schema_notes.sql" for p in SCHEMA_FILES)
    con = connect(tmp_path / "app.duckdb")
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    finally:
        con.close()
    assert "note" not in tables and "request" in tables


@pytest.mark.parametrize(("text", "shape"), [
    ("Late because of A823123400001's tribunal", "a UPN"),
    ("ULN 9876500001 came in late", "a ULN or NHS number"),
    ("NHS 943 476 5919 waiting for OT", "a ULN or NHS number"),
    ("The family at LU7 1QX moved", "a full postcode"),
    ("Child's DOB 05/01/2010 was wrong", "an identifier's label"),
    ("surname Featherstonehaugh", "an identifier's label"),
])
def test_text_shaped_like_a_childs_identifier_is_refused_naming_the_shape(text, shape):
    with pytest.raises(notes.NoteRefused, match=r"looks like it holds a child's identifier \(" + shape):
        notes.check_text(text)


def test_text_is_stripped_capped_and_may_name_dates_districts_and_numbers():
    ok = "Panel on 12/03/2024 cleared 41 cases in LU5; 1,250 plans; agency EPs from 01-04-2024."
    assert notes.check_text(f"  {ok}\n") == ok
    assert notes.check_text("x" * notes.MAX_TEXT) == "x" * notes.MAX_TEXT
    with pytest.raises(notes.NoteRefused, match="2,001 characters; at most 2,000"):
        notes.check_text("x" * (notes.MAX_TEXT + 1))
    with pytest.raises(notes.NoteRefused, match="is empty"):
        notes.check_text("   ")
    with pytest.raises(notes.NoteRefused, match="not a month written YYYY-MM"):
        notes.check_period("2024-13")


def test_an_edit_is_a_new_version_and_every_version_is_kept(tmp_path):
    db = tmp_path / "app.duckdb"
    first = notes.add_narrative(db, text="EP advice late.", at=_at(0), **WHERE, **ANALYST)
    second = notes.add_narrative(db, text="EP advice late; agency EPs from April.", author="lead@council.gov.uk",
                                 role="leadership", at=_at(5), **WHERE)
    assert second["note_id"] == first["note_id"] and (first["version"], second["version"]) == (1, 2)
    listed = notes.list_notes(db, KPI, "2024-03", AREA)
    assert len(listed) == 1
    row = listed.iloc[0]
    assert (row["text"], row["version"], row["author"]) == ("EP advice late; agency EPs from April.", 2,
                                                            "lead@council.gov.uk")
    assert (row["created_by"], row["created_at"]) == ("a@council.gov.uk", datetime(2024, 4, 2, 10, 0))
    assert notes.history(db)["text"].tolist() == ["EP advice late.", "EP advice late; agency EPs from April."]
    other = notes.add_narrative(db, text="Another month.", **{**WHERE, "period": "2024-02"}, **ANALYST)
    assert other["note_id"] != first["note_id"]  # one narrative per area, KPI and month


def test_actions_are_done_or_withdrawn_never_deleted(tmp_path):
    db = tmp_path / "app.duckdb"
    action = notes.add_action(db, text="Recruit two agency EPs", owner="Head of SEND", due=date(2024, 4, 30),
                              **WHERE, **ANALYST)
    assert action["status"] == "open" and action["due"] == date(2024, 4, 30)
    notes.update_action(db, action["note_id"], due=date(2024, 5, 15), **ANALYST)
    done = notes.update_action(db, action["note_id"], status="done", **ANALYST)
    assert (done["version"], done["status"], done["due"], done["owner"]) == (3, "done", date(2024, 5, 15),
                                                                            "Head of SEND")
    listed = notes.list_notes(db).iloc[0]
    assert (listed["status"], listed["due"], listed["text"]) == ("done", date(2024, 5, 15), "Recruit two agency EPs")
    notes.update_note(db, action["note_id"], status="withdrawn", **ANALYST)
    assert notes.list_notes(db).empty
    assert notes.list_notes(db, include_withdrawn=True)["status"].tolist() == ["withdrawn"]
    assert notes.history(db)["version"].tolist() == [1, 2, 3, 4]
    with pytest.raises(notes.NoteRefused, match="is open or done or withdrawn, not 'finished'"):
        notes.update_action(db, action["note_id"], status="finished", **ANALYST)
    with pytest.raises(notes.NoteRefused, match="no note 'nope'"):
        notes.update_action(db, "nope", status="done", **ANALYST)
    narrative = notes.add_narrative(db, text="Why.", **WHERE, **ANALYST)
    with pytest.raises(notes.NoteRefused, match="is a narrative, not an action"):
        notes.update_action(db, narrative["note_id"], status="done", **ANALYST)
    with pytest.raises(notes.NoteRefused, match="needs an owner and a due date"):
        notes.add_action(db, text="x", owner=None, due=None, **WHERE, **ANALYST)


def test_list_filters_by_kpi_month_and_area(tmp_path):
    db = tmp_path / "app.duckdb"
    for area, kpi, period in [(AREA, KPI, "2024-03"), (AREA, KPI, "2024-02"), (AREA, "ar_overdue", "2024-03"),
                              ("E06000032", KPI, "2024-03")]:
        notes.add_narrative(db, area_code=area, kpi_id=kpi, period=period, text=f"{area} {kpi} {period}", **ANALYST)
    assert len(notes.list_notes(db)) == 4
    assert notes.list_notes(db, kpi_id=KPI, period="2024-03", area_code=AREA)["text"].tolist() == [
        f"{AREA} {KPI} 2024-03"]
    assert sorted(notes.list_notes(db, area_code="E06000032")["kpi_id"]) == [KPI]
    assert len(notes.list_notes(db, period="2024-03")) == 3


def test_actions_due_or_overdue_at_a_date(tmp_path):
    db = tmp_path / "app.duckdb"
    for text, due in [("late", date(2024, 3, 15)), ("today", date(2024, 4, 2)), ("later", date(2024, 4, 30))]:
        notes.add_action(db, text=text, owner="Head of SEND", due=due, **WHERE, **ANALYST)
    finished = notes.add_action(db, text="finished", owner="SENCo lead", due=date(2024, 3, 1), **WHERE, **ANALYST)
    notes.update_action(db, finished["note_id"], status="done", **ANALYST)
    due = notes.actions_due(db, date(2024, 4, 2))
    assert due["text"].tolist() == ["late", "today"] and due["overdue"].tolist() == [True, False]
    assert notes.actions_due(db, date(2024, 4, 2), within_days=28)["text"].tolist() == ["late", "today", "later"]
    assert notes.actions_due(db, date(2024, 4, 2), area_code="E06000032").empty


def test_monitors_read_leadership_and_analysts_write(tmp_path):
    db = tmp_path / "app.duckdb"
    config = roles.load().roles
    assert [r for r in roles.ROLES if roles.can_write_notes(r, config)] == ["leadership", "analyst"]
    with pytest.raises(notes.NoteRefused, match="the monitor role reads meeting notes but does not write them"):
        notes.add_narrative(db, text="x", author="m@education.gov.uk", role="monitor", **WHERE)
    notes.add_narrative(db, text="x", author="l@council.gov.uk", role="leadership", **WHERE)
    only_analysts = config.model_copy(update={"write_notes": ["analyst"]})
    with pytest.raises(notes.NoteRefused, match="writers: analyst"):
        notes.add_action(db, text="y", owner="o", due=date(2024, 5, 1), author="l@council.gov.uk",
                         role="leadership", config=only_analysts, **WHERE)
    assert len(notes.history(db)) == 1


def test_every_write_is_audited_by_ids_never_by_its_text(tmp_path):
    db = tmp_path / "app.duckdb"
    n = notes.add_narrative(db, text="Secret plan for panel capacity", page="kpi_trajectory", **WHERE, **ANALYST)
    a = notes.add_action(db, text="Hire", owner="Head of SEND", due=date(2024, 5, 1), **WHERE, **ANALYST)
    notes.update_action(db, a["note_id"], status="done", author="lead@x", role="leadership")
    log = audit.read_log(audit.audit_path(db), event="note")
    details = [json.loads(d) for d in log["detail"]][::-1]
    assert [d["change"] for d in details] == ["add_narrative", "add_action", "update_action"]
    assert [d["note_id"] for d in details] == [n["note_id"], a["note_id"], a["note_id"]]
    assert details[2] | {"version": 2, "status": "done", "kpi": KPI, "period": "2024-03", "area": AREA} == details[2]
    assert log["who"].tolist()[::-1] == ["a@council.gov.uk", "a@council.gov.uk", "lead@x"]
    assert log["page"].tolist()[::-1][0] == "kpi_trajectory" and log["page"].isna().sum() == 2
    assert not log["detail"].str.contains("Secret").any()


HOLDER = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(60)"


def test_a_note_is_kept_aside_not_lost_when_another_process_holds_the_file(tmp_path, monkeypatch):
    db = tmp_path / "app.duckdb"
    notes.add_narrative(db, text="Before.", **WHERE, **ANALYST)
    monkeypatch.setattr(notes, "_RETRY_S", 0.2)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(notes.notes_path(db))], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        action = notes.add_action(db, text="Kept aside", owner="Head of SEND", due=date(2024, 5, 1), **WHERE,
                                  **ANALYST)
    finally:
        holder.kill()
        holder.wait()
    assert len(notes.history(db)) == 2
    assert json.loads(audit.pending_path(notes.notes_path(db)).read_text())["text"] == "Kept aside"
    done = notes.update_action(db, action["note_id"], status="done", **ANALYST)  # a note kept aside can be edited
    listed = notes.list_notes(db).set_index("kind")
    assert listed.loc["action", "status"] == "done" and listed.loc["action", "due"] == date(2024, 5, 1)
    assert done["version"] == 2 and listed.loc["narrative", "text"] == "Before."


def _slow_reads(monkeypatch) -> None:
    """Widen the window between reading the notes and writing the new row, as a busy server would."""
    read = notes.history

    def slow(db_path):
        out = read(db_path)
        time.sleep(0.05)
        return out

    monkeypatch.setattr(notes, "history", slow)


def test_people_saving_the_first_narrative_at_once_make_one_narrative_with_every_version(tmp_path, monkeypatch):
    """Two people in the meeting save the month's first narrative together: one narrative, each text a version of
    it (never two narratives for one month, never one version number twice)."""
    db = tmp_path / "app.duckdb"
    _slow_reads(monkeypatch)
    texts = [f"Reason {i}." for i in range(6)]
    with ThreadPoolExecutor(len(texts)) as pool:
        list(pool.map(lambda t: notes.add_narrative(db, text=t, **WHERE, **ANALYST), texts))
    kept = notes.history(db)
    assert kept["note_id"].nunique() == 1
    assert sorted(kept["version"]) == list(range(1, 7)) and sorted(kept["text"]) == texts
    assert len(notes.list_notes(db, KPI, "2024-03", AREA)) == 1


def test_edits_of_one_action_at_once_each_get_their_own_version(tmp_path, monkeypatch):
    db = tmp_path / "app.duckdb"
    action = notes.add_action(db, text="Recruit EPs", owner="Head of SEND", due=date(2024, 5, 1), **WHERE,
                              **ANALYST)
    _slow_reads(monkeypatch)
    dues = [date(2024, 5, d) for d in range(2, 7)]
    with ThreadPoolExecutor(len(dues)) as pool:
        list(pool.map(lambda d: notes.update_action(db, action["note_id"], due=d, **ANALYST), dues))
    assert sorted(notes.history(db)["version"]) == list(range(1, 7))


def test_a_writer_that_cannot_get_its_turn_is_told_to_try_again(tmp_path, monkeypatch):
    db = tmp_path / "app.duckdb"
    monkeypatch.setattr(notes, "_DECIDE_S", 0.2)
    path = notes.notes_path(db)
    holder = subprocess.Popen([sys.executable, "-c", DECIDING, str(path.with_name(path.name + ".lock"))],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(notes.NoteRefused, match="another note is being saved.*try again"):
            notes.add_narrative(db, text="Waited.", **WHERE, **ANALYST)
    finally:
        holder.kill()
        holder.wait()
    assert notes.history(db).empty  # nothing half-written
    assert notes.add_narrative(db, text="Now.", **WHERE, **ANALYST)["version"] == 1


DECIDING = """
import sys, time
from filelock import FileLock
with FileLock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(60)
"""


# --- the command line ---------------------------------------------------------------------------------------

def _run(capsys, *args: str) -> tuple[int, str, str]:
    try:
        code = kpi_main(list(args))
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def main_db(tmp_path) -> str:
    """A database for the notes to sit beside (the command line refuses a path with none)."""
    connect(tmp_path / "app.duckdb").close()
    return str(tmp_path / "app.duckdb")


def test_cli_note_add_done_and_list(main_db, capsys):
    db = main_db
    code, out, _ = _run(capsys, "note", "add", "--db", db, "--kpi", KPI, "--period", "2024-03", "--narrative",
                        "EP advice late.")
    assert code == 0 and out.startswith("narrative ") and f"{KPI}, 2024-03, {AREA}" in out  # the home area
    code, out, _ = _run(capsys, "note", "add", "--db", db, "--kpi", KPI, "--period", "2024-03", "--area", "Luton",
                        "--action", "Recruit EPs", "--owner", "Head of SEND", "--due", "2024-04-30",
                        "--author", "J Smith")
    assert code == 0
    action_id = out.split()[1]
    code, out, _ = _run(capsys, "note", "list", "--db", db, "--format", "json")
    listed = json.loads(out)
    assert [(r["kind"], r["area_code"], r["author"]) for r in listed] == [  # in area order
        ("action", "E06000032", "J Smith"), ("narrative", AREA, f"local:{getpass.getuser()}")]
    assert listed[0]["due"] == "2024-04-30" and listed[0]["status"] == "open"
    assert _run(capsys, "note", "done", action_id, "--db", db)[0] == 0
    code, out, _ = _run(capsys, "note", "list", "--db", db, "--area", "E06000032")
    assert code == 0 and out.splitlines()[0].startswith("note_id,version,kind,area_code,kpi_id,period,text")
    assert out.splitlines()[1].split(",")[:3] == [action_id, "2", "action"] and ",done," in out.splitlines()[1]


@pytest.mark.parametrize(("args", "reason"), [
    (["--kpi", "nope", "--period", "2024-03", "--narrative", "x"], "unknown KPI id: nope"),
    (["--kpi", KPI, "--period", "March", "--narrative", "x"], "'March' is not a month written YYYY-MM"),
    (["--kpi", KPI, "--period", "2024-03", "--action", "x"], "an --action needs --owner NAME and --due"),
    (["--kpi", KPI, "--period", "2024-03", "--narrative", "x", "--owner", "o"], "belong to an --action"),
    (["--kpi", KPI, "--period", "2024-03", "--narrative", "UPN A823123400001"], "child's identifier (a UPN)"),
    (["--kpi", KPI, "--period", "2024-03", "--area", "Atlantis", "--narrative", "x"], "not an English local"),
    (["--kpi", KPI, "--period", "2024-03", "--action", "x", "--owner", "o", "--due", "soon"],
     "is not a day written YYYY-MM-DD"),
    (["--kpi", KPI, "--period", "2024-03"], "one of the arguments --narrative --action is required"),
])
def test_cli_bad_input_exits_2_with_one_line(tmp_path, main_db, capsys, args, reason):
    code, out, err = _run(capsys, "note", "add", "--db", main_db, *args)
    assert code == 2 and reason in err and "Traceback" not in err and out == ""
    assert not notes.notes_path(tmp_path / "app.duckdb").exists()


def test_cli_a_monitor_cannot_write_and_an_unknown_id_is_refused(main_db, capsys, monkeypatch):
    db = main_db
    monkeypatch.setenv(roles.ROLE_ENV_VAR, "monitor")
    code, _, err = _run(capsys, "note", "add", "--db", db, "--kpi", KPI, "--period", "2024-03", "--narrative", "x")
    assert code == 2 and err.strip() == ("error: the monitor role reads meeting notes but does not write them "
                                         "(writers: leadership, analyst)")
    monkeypatch.setenv(roles.ROLE_ENV_VAR, "leadership")
    assert _run(capsys, "note", "add", "--db", db, "--kpi", KPI, "--period", "2024-03", "--narrative", "x")[0] == 0
    code, _, err = _run(capsys, "note", "done", "abc123", "--db", db)
    assert code == 2 and err.strip() == "error: no note 'abc123' (see `python -m kpi note list`)"
    assert notes.list_notes(db)["role"].tolist() == ["leadership"]


def test_cli_refuses_notes_beside_no_database(tmp_path, capsys):
    mistyped = str(tmp_path / "app.duckb")
    for args in (["add", "--kpi", KPI, "--period", "2024-03", "--narrative", "x"], ["done", "abc"], ["list"]):
        code, out, err = _run(capsys, "note", *args, "--db", mistyped)
        assert code == 2 and err.startswith(f"error: no database at {mistyped}") and out == ""
    assert list(tmp_path.iterdir()) == []


# --- a load while people write --------------------------------------------------------------------------------

def test_notes_written_while_a_load_runs_are_all_kept(tmp_path):
    """A real `python -m etl load` builds a copy of the database and swaps it in while notes are written in a loop
    beside it: afterwards the load has landed and every note is there."""
    db = tmp_path / "app.duckdb"
    assert subprocess.run([sys.executable, "-m", "etl", "load", str(first_extract().write(tmp_path / "jan")),
                           "--db", str(db)], cwd=ROOT, capture_output=True).returncode == 0
    before = db.stat().st_ino
    feb = second_extract().write(tmp_path / "feb")
    load = subprocess.Popen([sys.executable, "-m", "etl", "load", str(feb), "--db", str(db)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    written, during = [], 0
    try:
        deadline = time.monotonic() + 120
        while load.poll() is None or len(written) < 5:
            assert time.monotonic() < deadline, "the load never finished"
            running = load.poll() is None
            row = notes.add_action(db, text=f"Action {len(written)}", owner="Head of SEND", due=date(2024, 5, 1),
                                   **WHERE, **ANALYST)
            written.append(row["note_id"])
            during += running and load.poll() is None  # the load ran all through this write
    finally:
        if load.poll() is None:
            load.kill()
        _, err = load.communicate(timeout=60)
    assert load.returncode == 0, err.decode()
    assert during >= 3, "too few notes were written while the load ran to test anything"
    assert db.stat().st_ino != before  # the load swapped a new database in
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM request").fetchone()[0] == 301
    listed = notes.list_notes(db)
    assert sorted(listed["note_id"]) == sorted(written) and len(set(written)) == len(written)
    assert listed["text"].tolist() == [f"Action {i}" for i in range(len(written))]
