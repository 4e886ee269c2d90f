"""Privacy and security round 2 (issue 19): the key file, identifiers through quarantine and free text,
the sign-in rules, disclosure by differencing."""

from __future__ import annotations

import os
import re
import stat

import pytest

from etl.__main__ import main as etl_main
from etl.pseudonymise import KEY_ENV, KeyError_, load_key
from tests.support.blade import Blade


def _extract(tmp_path):
    b = Blade()
    b.request(b.person(), "2023-02-01", "N", "2023-03-01")
    return b.write(tmp_path / "extract")


@pytest.mark.parametrize("content", ["", "\n", "ab", "00" * 15])
def test_a_short_key_file_is_refused_with_exit_2_and_one_line(tmp_path, monkeypatch, capsys, content):
    monkeypatch.delenv(KEY_ENV)
    db = tmp_path / "db" / "app.duckdb"
    db.parent.mkdir()
    (db.parent / "pseudonym.key").write_text(content)
    with pytest.raises(KeyError_):
        load_key(db)
    assert etl_main(["load", str(_extract(tmp_path)), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "pseudonym.key" in err and "16 bytes" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("value", ["", " ", "ab", "00" * 15])
def test_a_short_key_in_the_environment_is_refused(tmp_path, monkeypatch, capsys, value):
    monkeypatch.setenv(KEY_ENV, value)
    with pytest.raises(KeyError_):
        load_key(tmp_path / "app.duckdb")
    assert etl_main(["load", str(_extract(tmp_path)), "--db", str(tmp_path / "app.duckdb")]) == 2
    err = capsys.readouterr().err
    assert KEY_ENV in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "pseudonym.key").exists()


def test_a_new_key_file_is_written_atomically_and_owner_only(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_ENV)
    calls = []
    real_fsync, real_link, real_rename = os.fsync, os.link, os.rename
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "link", lambda a, b: (calls.append(("link", str(b))), real_link(a, b))[1])
    monkeypatch.setattr(os, "rename", lambda a, b: (calls.append(("rename", str(b))), real_rename(a, b))[1])
    old = os.umask(0)  # the mode must not depend on the umask
    try:
        key = load_key(tmp_path / "app.duckdb")
    finally:
        os.umask(old)
    path = tmp_path / "pseudonym.key"
    assert len(key) == 32 and path.read_text() == key.hex()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert calls[0] == "fsync" and calls[1][1] == str(path)  # written, synced, then put in place
    assert [p.name for p in tmp_path.iterdir()] == ["pseudonym.key"]  # no temporary file left
    assert load_key(tmp_path / "app.duckdb") == key  # and read back the same


def test_a_key_file_made_meanwhile_by_another_process_wins(tmp_path, monkeypatch):
    from etl import pseudonymise

    monkeypatch.delenv(KEY_ENV)
    theirs = "ab" * 32
    real = pseudonymise._write_atomically

    def race(path, text):
        path.write_text(theirs)
        return real(path, text)

    monkeypatch.setattr(pseudonymise, "_write_atomically", race)
    assert load_key(tmp_path / "app.duckdb") == bytes.fromhex(theirs)


ENTRA = "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0"


@pytest.mark.parametrize("claims,role", [
    ({"email": "eve@education.gov.uk"}, None),                                   # no email_verified
    ({"email": "eve@education.gov.uk", "email_verified": "false"}, None),        # a string is not a boolean
    ({"email": "eve@education.gov.uk", "email_verified": "true"}, None),
    ({"email": "eve@education.gov.uk", "email_verified": 1}, None),
    ({"email": "eve@education.gov.uk", "email_verified": False}, None),
    ({"email": "eve@education.gov.uk", "email_verified": True}, "monitor"),
    ({"email": "eve@education.gov.uk", "iss": ENTRA}, "monitor"),                # a trusted provider
    ({"email": "eve@education.gov.uk", "iss": ENTRA + "/"}, "monitor"),
    ({"email": "eve@education.gov.uk", "iss": "https://login.microsoftonline.com/common/v2.0"}, None),
    ({"email": "eve@education.gov.uk", "iss": "https://evil.example"}, None),
    ({"preferred_username": "eve@education.gov.uk"}, None),                      # other email-like claims too
    ({"email": "eve@education.gov.uk", "roles": ["app-analyst"]}, "analyst"),    # app roles need no email
])
def test_an_email_rule_needs_a_verified_email_or_a_trusted_provider(claims, role):
    from kpi.access.roles import ClaimRule, RolesConfig, role_for

    cfg = RolesConfig(rules=[ClaimRule(claim="roles", equals="app-analyst", role="analyst"),
                             ClaimRule(claim="email", ends_with="@education.gov.uk", role="monitor"),
                             ClaimRule(claim="preferred_username", ends_with="@education.gov.uk", role="monitor")],
                      pages={"monitor": [], "leadership": [], "analyst": "all"}, trusted_email_issuers=[ENTRA])
    assert role_for(claims, cfg) == role


def test_the_shipped_configuration_trusts_no_provider_by_default():
    from kpi.access import roles

    cfg = roles.load().roles
    assert cfg.trusted_email_issuers == []
    assert roles.role_for({"email": "eve@education.gov.uk"}, cfg) is None
    assert roles.role_for({"email": "eve@education.gov.uk", "email_verified": "false"}, cfg) is None


# --- identifiers through the quarantine (item 1) and in free text (item 2) ---------------------------------------

def _dump(db) -> str:
    """Every value of every table, as text."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        return "\n".join(str(v) for t in tables for row in con.execute(f"SELECT * FROM {t}").fetchall()
                         for v in row if v is not None)
    finally:
        con.close()


def _misaligned_person(tmp_path, overflow: str):
    """A person row whose surname holds an unquoted comma: every later cell moves one column right."""
    b = Blade()
    pid = b.person(pid=77, surname="ONeil", forename="Sam", birth="2014-05-09", postcode="LU5 7AZ",
                   upn="A123456789012", uniquelearnernumber="9876543210")
    b.request(pid, "2023-02-01", "N", "2023-03-01")
    folder = b.write(tmp_path / "x")
    path = next(folder.glob("*_person.csv"))
    lines = path.read_text().splitlines()
    lines[1] = lines[1].replace("ONeil", "O,Neil") + overflow
    path.write_text("\n".join(lines) + "\n")
    return folder


SECRETS = ["Neil", "Sam", "2014-May-09", "2014-05-09", "LU5 7AZ", "A123456789012", "9876543210", "Mia Jones"]


@pytest.mark.parametrize("overflow", [",Mia Jones 2014-05-09 extra", ""])
def test_a_misaligned_person_row_leaves_no_identifier_in_the_quarantine_or_the_report(tmp_path, capsys, overflow):
    db = tmp_path / "app.duckdb"
    assert etl_main(["load", str(_misaligned_person(tmp_path, overflow)), "--db", str(db)]) == 1
    out = capsys.readouterr()
    stored, printed = _dump(db), out.out + out.err
    assert "person.csv, row 1" in printed  # the analyst still learns which row to fix
    for secret in SECRETS:
        assert secret not in stored, f"{secret!r} stored"
        assert secret not in printed, f"{secret!r} printed"
    if overflow:
        assert re.search(r"\"\(beyond the last heading\)\":\"(1 cell|[02-9] cells), not kept\"", stored)


def test_identifier_shapes_in_quarantined_values_are_removed_but_ordinary_values_kept(tmp_path):
    import duckdb

    from etl.load import load_paths

    b = Blade()
    p = b.person(pid=5, upnunknown="9434765919")               # an NHS number where a code belongs
    b.request(p, "2023-13-01", "A", None)                       # a bad date: kept, the analyst needs it
    b.request(p, "2023-03-01", "LU5 7AZ", None)                # a postcode where an outcome belongs
    db = tmp_path / "app.duckdb"
    load_paths([b.write(tmp_path / "x")], db)
    con = duckdb.connect(str(db), read_only=True)
    values = dict(((c, v) for c, v in con.execute("SELECT column_name, value FROM quarantine").fetchall()))
    con.close()
    assert values["receiveddate"] == "2023-13-01"
    assert values["requestoutcome"] == "(removed: looked like a child's identifier)"
    assert values["upnunknown"] is None  # after the identifier columns: the row may be shifted, nothing kept
    assert "9434765919" not in _dump(db) and "LU5 7AZ" not in _dump(db)


def test_free_text_in_referrals_is_checked_redacted_and_warned(tmp_path, capsys):
    from tests.support.waits import referral, write_csv

    path = write_csv(tmp_path / "waits.csv", [
        referral("P1", "SALT", "2023-01-10", removed="2023-02-01",
                 reason="Sam O'Neil DOB 05/01/2010 UPN A123456789012"),
        referral("P2", "OT", "2023-01-11", locality="LU5 7AZ"),
        referral("P3", "OT", "2023-01-12", removed="2023-02-01", reason="Moved out of area", locality="Dunstable"),
    ])
    db = tmp_path / "app.duckdb"
    assert etl_main(["load", str(path), "--db", str(db)]) == 0
    printed = capsys.readouterr().out
    stored = _dump(db)
    for secret in ["O'Neil", "05/01/2010", "A123456789012", "LU5 7AZ"]:
        assert secret not in stored and secret not in printed
    assert "Moved out of area" in stored and "Dunstable" in stored  # ordinary text kept
    assert "looked like a child's identifier" in printed
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    warned = con.execute("SELECT column_name, message FROM load_warning").fetchall()
    con.close()
    assert {c for c, _ in warned} == {"removal_reason", "locality"}
    assert all(m.startswith("1 free-text value looked like") for _, m in warned)
    from kpi.engine.data_quality import warnings as quality_warnings  # what Data quality's Warnings tab lists

    con = duckdb.connect(str(db), read_only=True)
    shown = quality_warnings(con)
    con.close()
    assert shown["Warning"].str.contains("looked like a child's identifier").sum() == 2


def test_free_text_in_local_extracts_is_checked(tmp_path):
    from etl.load import load_paths
    from tests.support.local_extracts import PLACEMENT, RETURNS, write

    folder = tmp_path / "local"
    write(folder / "placement.csv", PLACEMENT, [["501", "2023-03-01", "", "Special school near LU5 7AZ"],
                                                ["502", "2023-03-01", "", "Special school"]])
    write(folder / "returns.csv", RETURNS, [["ehcp_audit_good", "2023-03", "1", "2", "", "Child born 3 Jan 2010"]])
    db = tmp_path / "app.duckdb"
    report = load_paths([folder], db)
    stored = _dump(db)
    assert "LU5 7AZ" not in stored and "3 Jan 2010" not in stored and "Special school" in stored
    assert len([w for w in report.all_warnings if "looked like a child's identifier" in w.reason]) == 2


# --- disclosure by differencing across KPIs (item 5) -----------------------------------------------------------

def _series(rows):
    """A crafted series: (kpi_id, period, numerator, denominator) rows."""
    import numpy as np
    import pandas as pd

    out = []
    for kpi_id, period, n, d in rows:
        value = n if d is None else 100 * n / d
        out.append({"kpi_id": kpi_id, "period": period, "numerator": float(n),
                    "denominator": np.nan if d is None else float(d), "value": value, "rolling_12m": np.nan,
                    "median": np.nan, "status": "on_track"})
    return pd.DataFrame(out)


def _shown(masked, kpi_id, period, field):
    row = masked[(masked["kpi_id"] == kpi_id) & (masked["period"] == period)].iloc[0]
    return None if row[field] != row[field] else row[field]  # NaN: hidden


@pytest.mark.parametrize("good,inadequate,total,hidden", [
    (6, 5, 12, {"ehcp_audit_inadequate"}),   # Requires improvement = 1: the smaller other part is hidden
    (5, 6, 12, {"ehcp_audit_good"}),
    (20, 9, 30, {"ehcp_audit_inadequate"}),
    (7, 0, 8, {"ehcp_audit_good"}),          # rest 1; Good's own complement (8 − 7) hides Good already
    (10, 10, 30, set()),                     # rest 10: nothing to protect
    (3, 3, 7, {"ehcp_audit_good", "ehcp_audit_inadequate"}),  # small parts: hidden by the primary rule
])
def test_audit_grades_sharing_a_denominator_never_give_a_small_rest(good, inadequate, total, hidden):
    """A monitor reads Good '6 of 12' and Inadequate '5 of 12': Requires improvement would be 1."""
    from kpi.access import roles
    from kpi.access.suppress import suppress_series

    rule = roles.load().suppression  # the shipped access.yaml
    s = _series([("ehcp_audit_good", "2023-07", good, total), ("ehcp_audit_inadequate", "2023-07", inadequate, total)])
    out = suppress_series(s, {"ehcp_audit_good": "percent", "ehcp_audit_inadequate": "percent"}, rule)
    shown = {k: _shown(out, k, "2023-07", "numerator") for k in ("ehcp_audit_good", "ehcp_audit_inadequate")}
    assert {k for k, v in shown.items() if v is None} == hidden
    assert all(_shown(out, k, "2023-07", "value") is None for k in hidden)  # the rate gives the numerator back
    if len(hidden) < 2 and 1 <= total - good - inadequate <= 4:
        assert _shown(out, "ehcp_audit_good", "2023-07", "denominator") == total  # the hidden part is big:
        assert all((good, inadequate)[i] > 4 for i, k in enumerate(shown) if k in hidden)  # the rest stays unknown


def test_the_waiting_list_band_between_18_and_52_weeks_is_not_given_by_difference(catalogue):
    """Over 18 weeks 6, over 52 weeks 5: the stacked 'over 18 to 52 weeks' band would be 1."""
    from kpi.access import roles
    from kpi.access.suppress import suppress_series
    from kpi.views.waits_view import service_table

    rule = roles.load().suppression
    units = {"waiting_list_size_salt": "count", "wait_over_18wk_salt": "percent", "wait_over_52wk_salt": "count"}
    s = _series([("waiting_list_size_salt", "2023-07", 40, None), ("wait_over_18wk_salt", "2023-07", 6, 40),
                 ("wait_over_52wk_salt", "2023-07", 5, None),
                 ("waiting_list_size_salt", "2023-08", 40, None), ("wait_over_18wk_salt", "2023-08", 16, 40),
                 ("wait_over_52wk_salt", "2023-08", 5, None)])
    out = suppress_series(s, units, rule)
    table = service_table(out, "SALT", catalogue).set_index("period")
    band = table["over_18wk"] - table["over_52wk"]
    assert band.isna()["2023-07"]  # hidden: 6 − 5 = 1
    assert band["2023-08"] == 11  # a band of 11 is no small count: shown


def test_the_shipped_rule_names_the_partitions_and_the_waiting_list_pairs(catalogue):
    from kpi.access import roles

    rule = roles.load(catalogue=catalogue).suppression
    assert ["ehcp_audit_good", "ehcp_audit_inadequate"] in rule.partitions
    pairs = {(p.child, p.parent) for p in rule.nested}
    for service in ("salt", "ot", "physio", "community_paeds", "neurodevelopmental", "audiology"):
        assert (f"wait_over_52wk_{service}", f"wait_over_18wk_{service}") in pairs


# --- the SQL console's limits reach everything a query can call (item 4) ---------------------------------------

@pytest.fixture
def small_db(tmp_path):
    from etl.db import connect

    db = tmp_path / "app.duckdb"
    con = connect(db)
    con.execute("CREATE TABLE numbers AS SELECT range AS n FROM range(10)")
    con.execute("CHECKPOINT")
    con.close()
    return db


def test_a_scalar_function_the_interrupt_cannot_reach_is_stopped_at_the_time_limit(small_db):
    import time

    from kpi.access.sql_sandbox import SqlRefused, run_query

    start = time.monotonic()
    with pytest.raises(SqlRefused, match="longer than the 1-second limit"):
        run_query(small_db, "SELECT levenshtein(repeat('a', 120000), repeat('b', 120000)) AS d", time_limit_s=1)
    assert time.monotonic() - start < 15  # worker start + 1 s + 1 s grace, not the minute it would run
    assert run_query(small_db, "SELECT count(*) AS c FROM numbers").frame["c"].tolist() == [10]  # still serving


@pytest.mark.parametrize("sql", ["SELECT length(repeat('x', 1000000000)) AS n",
                                 "SELECT length(repeat(repeat('x', 100000000), 20)) AS n"])
def test_a_string_bigger_than_the_memory_limit_is_stopped(small_db, sql):
    import time

    from kpi.access.sql_sandbox import SqlRefused, run_query

    start = time.monotonic()
    with pytest.raises(SqlRefused, match="(?i)memory"):
        run_query(small_db, sql, memory_limit="256MB", time_limit_s=20)
    assert time.monotonic() - start < 20


def test_the_cli_runs_queries_in_the_limited_worker_too(small_db, capsys):
    from kpi.__main__ import main as kpi_main

    assert kpi_main(["sql", "--db", str(small_db), "--timeout", "1", "--query",
                     "SELECT levenshtein(repeat('a', 120000), repeat('b', 120000)) AS d"]) == 2
    err = capsys.readouterr().err
    assert "stopped: the query ran longer than the 1-second limit" in err and err.count("\n") == 1


def test_the_load_report_never_prints_a_value_of_identifier_shape():
    from etl.report import Problem

    assert "A123456789012" not in str(Problem("f.csv", 3, "upnunknown", "not a valid code", "A123456789012"))
    assert "5919" not in str(Problem("f.csv", 3, "x", "bad", "NHS 943 476 5919"))
    assert "(value '2023-13-01')" in str(Problem("f.csv", 3, "receiveddate", "not a valid date", "2023-13-01"))


def test_a_row_shifted_without_overflow_still_leaves_no_name(tmp_path, capsys):
    """Two unquoted commas and blank trailing cells: the forename lands in `sex` and nothing overflows; the birth
    date that lands in `ethnicity` gives the shift away, so no cell from the surname on is kept."""
    b = Blade()
    b.person(pid=78, surname="ONeil", forename="Samantha", birth="2014-05-09", upnunknown="")
    folder = b.write(tmp_path / "x")
    path = next(folder.glob("*_person.csv"))
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[1].split(",")
    cells[header.index("personorderseqcolumn")] = cells[header.index("sourceid")] = ""
    lines[1] = ",".join(cells).replace("ONeil", "O,Ne,il").rstrip(",")  # the shift eats the blank trailing cells
    path.write_text("\n".join(lines) + "\n")
    db = tmp_path / "app.duckdb"
    etl_main(["load", str(folder), "--db", str(db)])
    printed = capsys.readouterr().out
    stored = _dump(db)
    assert "person.csv, row 1" in printed and '"(beyond the last heading)":null' in stored  # no overflow
    for secret in ("Samantha", "2014-May-09", "LU7 1QX", "A823123400001", "9876500001"):
        assert secret not in stored and secret not in printed, secret
