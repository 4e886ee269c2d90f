"""The review meeting in the running app (AppTest): commentary and actions read by every role on the KPI trajectory
page and the Overview cards and written only by leadership and analysts (audited); refused text shows its reason;
the "Since the last meeting" block and the previous status on a two-extract database; exceptions first."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from kpi import definitions, notes
from kpi.access import audit
from kpi.views.meeting import exception_rank
from tests.support.app import TRAJECTORY_PAGE, run_app, text_of
from tests.support.meetings import PSEUDONYM_KEY, load_two_meetings

pytestmark = pytest.mark.slow  # AppTest pages, a few seconds each

AREA = "E06000056"  # the fixtures' local area (Blade's LA 823)
KPI = "ehcp_20wk_excl"


def _button(at, label: str):
    """A form's submit button (AppTest lists them apart from st.button)."""
    return next(b for b in at.get("form_submit_button") if b.proto.label == label)


def _note_events(db) -> pd.DataFrame:
    return audit.read_log(audit.audit_path(db), limit=50, event="note")


def test_a_monitor_reads_the_commentary_and_gets_no_form(app_db, monkeypatch):
    notes.add_narrative(app_db, area_code=AREA, kpi_id=KPI, period="2023-07", text="EP advice is late in July.",
                        author="local:chair", role="leadership")
    notes.add_action(app_db, area_code=AREA, kpi_id=KPI, period="2023-07", text="Recruit two agency EPs",
                     owner="Head of SEND", due=date(2023, 8, 31), author="local:chair", role="leadership")
    monkeypatch.setenv("APP_ROLE", "monitor")
    at = run_app({"period": "2023-07", "kpi": KPI}, page=TRAJECTORY_PAGE)
    text = text_of(at)
    assert "EP advice is late in July." in text and "Recruit two agency EPs" in text and "Head of SEND" in text
    assert "this role reads them" in text
    assert not at.text_area and not at.get("form_submit_button")
    overview = run_app({"period": "2023-07"})
    assert "EP advice is late in July." in text_of(overview)  # on the card too, under its expander
    assert not overview.text_area


def test_leadership_writes_commentary_and_an_action_marks_it_done_and_each_write_is_audited(app_db, monkeypatch):
    monkeypatch.setenv("APP_ROLE", "leadership")
    at = run_app({"period": "2023-07", "kpi": KPI}, page=TRAJECTORY_PAGE)
    at.text_area(key="notes_narrative").input("Agency EPs start in August.")
    _button(at, "Save commentary").click().run()
    assert not at.exception
    assert "Agency EPs start in August." in text_of(at) and "Commentary saved." in [s.value for s in at.success]
    at.text_input(key="notes_action_text").input("Weekly panel for late advice")
    at.text_input(key="notes_action_owner").input("SEND service manager")
    at.date_input(key="notes_action_due").set_value(date(2023, 8, 15))
    _button(at, "Add action").click().run()
    assert not at.exception and "Weekly panel for late advice" in text_of(at)
    written = notes.list_notes(app_db, KPI, "2023-07", AREA)
    action = written[written["kind"] == "action"].iloc[0]
    assert (action["owner"], action["due"], action["status"], action["role"]) == (
        "SEND service manager", date(2023, 8, 15), "open", "leadership")
    _button(at, "Mark done").click().run()
    assert not at.exception and "☑ Weekly panel for late advice" in text_of(at)
    assert notes.list_notes(app_db, KPI, "2023-07", AREA).set_index("kind").loc["action", "status"] == "done"
    events = _note_events(app_db)
    assert len(events) == 3 and set(events["role"]) == {"leadership"}
    assert {'"add_narrative"', '"add_action"', '"update_action"'} <= {
        part for d in events["detail"] for part in str(d).replace(",", " ").split() if part.startswith('"')}


@pytest.mark.parametrize(("text", "reason"), [
    ("   ", "the narrative is empty"),
    ("Pupil A123456789012 waited too long", "looks like it holds a child's identifier"),
])
def test_refused_commentary_shows_the_reason_never_a_traceback(app_db, monkeypatch, text, reason):
    monkeypatch.setenv("APP_ROLE", "analyst")
    at = run_app({"period": "2023-07", "kpi": KPI}, page=TRAJECTORY_PAGE)
    at.text_area(key="notes_narrative").input(text)
    _button(at, "Save commentary").click().run()
    assert not at.exception
    assert any(reason in e.value and e.value.startswith("Not saved:") for e in at.error)
    assert notes.list_notes(app_db).empty and _note_events(app_db).empty


def test_an_action_without_an_owner_is_refused_with_its_reason(app_db, monkeypatch):
    monkeypatch.setenv("APP_ROLE", "leadership")
    at = run_app({"period": "2023-07", "kpi": KPI}, page=TRAJECTORY_PAGE)
    at.text_input(key="notes_action_text").input("Chase the health advice")
    _button(at, "Add action").click().run()
    assert not at.exception and any("needs an owner and a due date" in e.value for e in at.error)
    assert notes.list_notes(app_db).empty


@pytest.fixture
def two_meetings_app(tmp_path, monkeypatch):
    """The February and March extracts (tests/support/meetings.py) served to the app as leadership."""
    monkeypatch.setenv("APP_PSEUDONYM_KEY", PSEUDONYM_KEY)
    db = load_two_meetings(tmp_path)
    monkeypatch.setenv("APP_DB", str(db))
    monkeypatch.setenv("APP_ROLE", "leadership")
    return db


def test_since_the_last_meeting_block_and_the_previous_status_on_cards_and_rows(two_meetings_app):
    notes.add_action(two_meetings_app, area_code=AREA, kpi_id="ar_overdue", period="2024-02", text="Clear the "
                     "review backlog", owner="Reviews lead", due=date(2024, 3, 15), author="local:chair",
                     role="leadership")
    at = run_app({"period": "2024-03"})
    assert at.selectbox(key="since").value == "2024-02"  # default: the month before
    assert at.query_params["since"] == ["2024-02"] or at.query_params["since"] == "2024-02"
    text = text_of(at)
    assert "Since the last meeting" in [s.value for s in at.subheader]
    # annual reviews overdue: 70 presented in February (off track), 30 in March on today's data (on track)
    short = definitions.load().get("ar_overdue").short_name
    assert f"1 KPI improved ({short})" in text
    assert "Revised since presented: 1 figure" in text
    assert "Actions due: 1, of which 1 overdue." in text
    assert "At the last meeting (February 2024): ✖ Off track" in text
    at.segmented_control(key="board_view").set_value("Table").run()
    table = at.dataframe[-1].value
    assert "Status at last meeting" in table.columns
    row = table.set_index("KPI").loc[short]
    assert row["Status at last meeting"] == "✖ Off track" and row["Status"] == "✔ On track"
    # another meeting month from the link
    earlier = run_app({"period": "2024-03", "since": "2024-01"})
    assert earlier.selectbox(key="since").value == "2024-01"
    assert "At the last meeting (January 2024)" in text_of(earlier)


def test_the_overview_puts_exceptions_first_and_the_tiles_filter_it(app_db):
    at = run_app({"period": "2023-07"})
    assert at.selectbox(key="board_sort").value == "exceptions"
    at.segmented_control(key="board_view").set_value("Table").run()
    shown = at.dataframe[-1].value
    codes = {"✖ Off track": "off_track", "◐ Within tolerance": "within_tolerance", "– No data": "no_data",
             "≈ Too few to judge": "too_few", "✔ On track": "on_track"}
    ranks = [exception_rank(codes.get(s), "concern_high" if "concern" in v.lower() else None, True)
             for s, v in zip(shown["Status"], shown["Variation"], strict=True)]
    assert ranks == sorted(ranks) and len(set(ranks)) > 2  # a concern, then no data, then on track
    only = run_app({"period": "2023-07", "status": "on_track"})
    only.segmented_control(key="board_view").set_value("Table").run()
    assert set(only.dataframe[-1].value["Status"]) == {"✔ On track"}
    assert only.query_params["status"] in ("on_track", ["on_track"])
