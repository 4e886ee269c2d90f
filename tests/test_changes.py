"""What changed since the last meeting (kpi/views/changes.py, python -m kpi changes): status then and now, figures
revised since they were presented, new SPC signals and actions due, on two hand-built extracts a month apart."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from kpi import notes
from kpi.__main__ import main as kpi_main
from kpi.engine.series import open_readonly
from kpi.views.changes import changes, meeting_as_of, since_last_meeting, status_change
from kpi.views.meeting import since_summary
from tests.support.meetings import PSEUDONYM_KEY, load_two_meetings

AREA = "E06000056"  # Blade's LA 823, Central Bedfordshire


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """February's extract (as at 29 February 2024: 70 overdue reviews) and March's (as at 31 March: 40 of them
    were reviewed in January after all, so 30 overdue in January, February and March), loaded once."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("APP_PSEUDONYM_KEY", PSEUDONYM_KEY)
        return load_two_meetings(tmp_path_factory.mktemp("two_meetings"))


@pytest.fixture
def two_meetings(loaded, tmp_path, monkeypatch):
    """The loaded database, with this test's own notes and audit files."""
    monkeypatch.setenv(notes.ENV_VAR, str(tmp_path / "app.notes.duckdb"))
    monkeypatch.setenv("APP_AUDIT_DB", str(tmp_path / "app.audit.duckdb"))
    return loaded


def test_status_moves_are_named():
    assert status_change("off_track", "on_track") == "improved"
    assert status_change("on_track", "within_tolerance") == "worsened"
    assert status_change("off_track", "off_track") == "unchanged"
    assert status_change("on_track", "too_few") == "changed" and status_change(None, "on_track") == "changed"
    assert status_change(None, None) == ""
    assert meeting_as_of("2024-02") == date(2024, 2, 29) and meeting_as_of("2023-12") == date(2023, 12, 31)


def test_a_last_meeting_whose_month_no_extract_covered_is_not_known_never_a_move(two_meetings, catalogue):
    """As it stood on 31 January 2024 (before February's extract), February's figures did not exist: every plan
    KPI's then is not known, no move is claimed, and the Overview's lines say so; as at 29 February it is known."""
    con = open_readonly(two_meetings)
    try:
        early = since_last_meeting(con, catalogue, two_meetings, "2024-03", "2024-02", since_as_of=date(2024, 1, 31),
                                   on=date(2024, 4, 2))
        usual = since_last_meeting(con, catalogue, two_meetings, "2024-03", "2024-02", on=date(2024, 4, 2))
    finally:
        con.close()
    assert not early["then_known"].any() and set(early["status_change"]) == {"not known"}
    assert early["status_then"].isna().all() and not early["revised"].any()
    assert since_summary(early)[0].startswith("Nothing to compare with: no extract dated by the end of February 2024")
    assert usual["then_known"].all() and "not known" not in set(usual["status_change"])


def test_status_then_and_now_and_the_figure_revised_since_it_was_presented(two_meetings, catalogue):
    con = open_readonly(two_meetings)
    try:
        df = since_last_meeting(con, catalogue, two_meetings, "2024-03", "2024-02", on=date(2024, 4, 2))
    finally:
        con.close()
    assert set(df["kpi_id"]) == {k.id for k in catalogue.kpis if k.plan is not None}  # every plan KPI, no other
    row = df.set_index("kpi_id").loc["ar_overdue"]
    assert (row["status_then"], row["status_now"], row["status_change"]) == ("off_track", "on_track", "improved")
    assert (row["value_then"], row["since_value_now"], row["value_now"]) == (70, 30, 30)  # presented 70, now 30
    assert row["revision"] == -40 and row["revised"]
    # 0 overdue for 19 months, then 70 (then) or 30 (now): a signal above the limits, a concern for this KPI
    assert row["variation_then"] == "concern_high" and row["new_signals"] == "2024-03 concern (high)"
    backlog = df.set_index("kpi_id").loc["ehcna_open_over_20wk"]  # 70 open in May 2022, none since
    assert not backlog["revised"] and backlog["status_change"] == "unchanged" and backlog["value_now"] == 0
    assert backlog["new_signals"] == "2024-03 improvement (low)"  # a long run below the mean: only March is new


def test_an_explicit_as_of_day_for_the_last_meeting(two_meetings, catalogue):
    con = open_readonly(two_meetings)
    try:  # a meeting held on 31 March (with March's extract): February was already revised by then
        df = since_last_meeting(con, catalogue, two_meetings, "2024-03", "2024-02", since_as_of=date(2024, 3, 31))
    finally:
        con.close()
    row = df.set_index("kpi_id").loc["ar_overdue"]
    assert row["value_then"] == 30 and not row["revised"] and row["status_then"] == "on_track"


def test_actions_due_or_overdue_at_the_meeting(two_meetings, catalogue):
    where = dict(area_code=AREA, kpi_id="ar_overdue", period="2024-02", author="a@x", role="analyst")
    notes.add_action(two_meetings, text="Review backlog clinic", owner="SEND lead", due=date(2024, 3, 15), **where)
    notes.add_action(two_meetings, text="Extra reviewers", owner="Head of SEND", due=date(2024, 4, 2), **where)
    notes.add_action(two_meetings, text="New system", owner="IT", due=date(2024, 6, 1), **where)
    done = notes.add_action(two_meetings, text="Done already", owner="IT", due=date(2024, 3, 1), **where)
    notes.update_action(two_meetings, done["note_id"], status="done", author="a@x", role="analyst")
    notes.add_action(two_meetings, text="Other area", owner="X", due=date(2024, 3, 1),
                     **{**where, "area_code": "E06000032"})
    con = open_readonly(two_meetings)
    try:
        df = since_last_meeting(con, catalogue, two_meetings, "2024-03", "2024-02", on=date(2024, 4, 2))
    finally:
        con.close()
    assert set(df["area_code"]) == {AREA}  # the other area has no case records: no rows, its action not shown
    row = df.set_index("kpi_id").loc["ar_overdue"]
    assert (row["actions_due"], row["actions_overdue"]) == (2, 1)
    assert row["actions"] == ("Review backlog clinic (SEND lead, due 2024-03-15, overdue); "
                              "Extra reviewers (Head of SEND, due 2024-04-02)")
    assert (df.set_index("kpi_id").drop("ar_overdue")["actions_due"] == 0).all()


def test_changes_is_pure_on_series_it_is_given(catalogue):
    """A page passes its own (or a role's suppressed) series: a suppressed month compares without a figure."""
    base = {"area_code": AREA, "kpi_id": "ehcp_20wk_excl", "numerator": None, "denominator": None, "median": None,
            "basis": "rolling_12m", "complete": True, "target": 49.2, "trajectory": 40.0, "value": 40.0,
            "period": "2023-10", "status": "within_tolerance"}
    then = pd.DataFrame([{**base, "rolling_12m": 36.04}])
    now = pd.DataFrame([{**base, "rolling_12m": 35.96},
                        {**base, "period": "2023-11", "value": None, "rolling_12m": None, "status": "suppressed"}])
    row = changes(now, then, catalogue, "2023-11", "2023-10").set_index("kpi_id").loc["ehcp_20wk_excl"]
    assert (row["status_then"], row["status_now"], row["status_change"]) == ("within_tolerance", "suppressed",
                                                                             "changed")
    assert row["value_now"] is None or pd.isna(row["value_now"])
    assert row["revision"] == pytest.approx(-0.08) and not row["revised"]  # 36.0 both ways at 1 decimal
    assert (row["actions_due"], row["actions"]) == (0, "")


def _cli(capsys, *args):
    try:
        code = kpi_main(["changes", *args])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_changes(two_meetings, capsys):
    code, out, err = _cli(capsys, "--db", str(two_meetings), "--period", "2024-03", "--since", "2024-02",
                          "--area", "823", "--on", "2024-04-02")
    assert code == 0, err
    df = pd.read_csv(pd.io.common.StringIO(out)).set_index("kpi_id")
    assert list(df.columns[:4]) == ["area_code", "name", "since", "period"]
    assert df.loc["ar_overdue", ["status_then", "status_now", "status_change"]].tolist() == [
        "off_track", "on_track", "improved"]
    assert bool(df.loc["ar_overdue", "revised"]) and df.loc["ar_overdue", "revision"] == -40


@pytest.mark.parametrize(("args", "reason"), [
    (["--period", "2024-03", "--since", "2024-03"], "--since 2024-03 must be a month before --period 2024-03"),
    (["--period", "March", "--since", "2024-02"], "'March' is not a month written YYYY-MM"),
    (["--period", "2024-03", "--since", "2024-02", "--since-as-of", "end of Feb"], "is not a day written YYYY-MM-DD"),
    (["--period", "2024-03", "--since", "2024-02", "--area", "E06000032"], "no case records loaded for E06000032"),
])
def test_cli_changes_bad_input_exits_2_with_one_line(two_meetings, capsys, args, reason):
    code, out, err = _cli(capsys, "--db", str(two_meetings), *args)
    assert code == 2 and reason in err and "Traceback" not in err and out == ""


def test_cli_changes_without_a_database(tmp_path, capsys):
    code, _, err = _cli(capsys, "--db", str(tmp_path / "none.duckdb"), "--period", "2024-03", "--since", "2024-02")
    assert code == 2 and "no database at" in err
