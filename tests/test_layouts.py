"""Every layout of the same SEN2 records gives the same KPIs: Blade (older and newer), the DfE Excel template,
per-module CSVs with human headings. Unknown layouts are refused with the list of what was expected."""

from __future__ import annotations

import csv
from datetime import date, timedelta

import duckdb
import pytest
from openpyxl import load_workbook

from demo.sen2_layouts import write_module_csvs, write_template
from etl.__main__ import main as etl_main
from etl.load import load_paths
from kpi.engine.series import kpi_series, open_readonly
from tests.support.blade import Blade


def records() -> Blade:
    """Plans issued on both sides of 140 days, with and without exceptions, decisions on both sides of 42 days,
    a refusal to issue on both sides of 112 days, an open assessment and reviews on both sides of 28 days."""
    b = Blade()
    start = date(2023, 1, 9)
    for i in range(14):
        received = start + timedelta(days=20 * i)
        days = [100, 140, 141, 200][i % 4]
        r = b.issued_plan(received.isoformat(), (received + timedelta(days=days)).isoformat(),
                          week20=1 if i % 5 == 0 else 0,
                          decided=(received + timedelta(days=42 if i % 2 else 43)).isoformat())
        if i % 3 == 0:
            meeting = received + timedelta(days=days + 200)
            b.review(r, meeting.isoformat(), (meeting + timedelta(days=28 if i % 2 else 29)).isoformat(), "M")
    for days in (112, 113):
        p = b.person()
        r = b.request(p, "2023-03-01", "Y", "2023-04-01")
        b.assessment(r, "N", (date(2023, 3, 1) + timedelta(days=days)).isoformat())
    b.request(b.person(), "2023-02-01", "Y", "2023-03-10")  # open assessment: backlog
    b.request(b.person(), "2023-05-01", "N", "2023-06-01")
    return b


def _series(db):
    con = open_readonly(db)
    try:
        from kpi import definitions

        return kpi_series(con, definitions.load())
    finally:
        con.close()


def _load(paths, db):
    report = load_paths(paths, db)
    assert report.exit_code == 0, [str(p) for f in report.files for p in f.problems]
    return report


def _layouts(db):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {r[0] for r in con.execute("SELECT DISTINCT layout FROM load_log").fetchall()}
    finally:
        con.close()


def test_blade_template_and_module_csvs_give_identical_kpi_series(tmp_path):
    b = records()
    blade_db, xlsx_db, csv_db = (tmp_path / f"{n}.duckdb" for n in ("blade", "xlsx", "csv"))
    _load([b.write(tmp_path / "blade")], blade_db)
    _load([write_template(b.rows, tmp_path / "template" / "SEN2 return.xlsx")], xlsx_db)
    _load([tmp_path / "modules"], csv_db) if write_module_csvs(b.rows, tmp_path / "modules") else None

    assert _layouts(blade_db) == {"sen2_blade"}
    assert _layouts(xlsx_db) == {"sen2_template"}
    assert _layouts(csv_db) == {"sen2_modules_csv"}
    reference = _series(blade_db)
    assert reference["numerator"].sum() > 0 and reference["value"].notna().sum() > 10
    for db in (xlsx_db, csv_db):
        other = _series(db)
        assert other.equals(reference), other.compare(reference)


def test_the_template_really_holds_human_headings_iso_dates_and_float_ids(tmp_path):
    path = write_template(records().rows, tmp_path / "t.xlsx")
    ws = load_workbook(path)["Requests"]
    header = [c.value for c in ws[1]]
    assert "Date request was received" in header and "Requests Record ID" in header
    first = [c.value for c in ws[2]]
    assert first[header.index("Requests Record ID")].endswith(".0")
    assert hasattr(first[header.index("Date request was received")], "year")  # a real Excel date
    ws = load_workbook(path)["Assessment"]
    assert "Twenty week time limit exceptions apply" in [c.value for c in ws[1]]


def test_module_csvs_use_dd_mm_yyyy_and_the_domain_headings(tmp_path):
    paths = write_module_csvs(records().rows, tmp_path / "m")
    req = next(p for p in paths if p.name.endswith("_requests.csv"))
    with open(req) as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:3] == ["Requests Record ID", "Person ID", "Date request was received"]
    assert rows[1][2] == "09/01/2023"


def test_ids_written_as_floats_link_to_the_same_pseudonymous_people(tmp_path):
    b = records()
    _load([b.write(tmp_path / "blade")], tmp_path / "a.duckdb")
    _load([write_template(b.rows, tmp_path / "t.xlsx")], tmp_path / "b.duckdb")
    keys = []
    for db in ("a", "b"):
        con = duckdb.connect(str(tmp_path / f"{db}.duckdb"), read_only=True)
        keys.append(con.execute("SELECT person_key, request_id FROM request ORDER BY 2, 1").fetchall())
        con.close()
    assert keys[0] == keys[1]
    assert all("." not in r for _, r in keys[1])


def _drop_columns(path, drop=(), rename=None, add=None):
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    rename = rename or {}
    out = []
    for r in rows:
        r = {rename.get(k, k): v for k, v in r.items() if k not in drop}
        r.update(add or {})
        out.append(r)
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(out[0]))
        w.writeheader()
        w.writerows(out)


def test_older_and_newer_blade_versions_give_the_same_kpis(tmp_path):
    b = records()
    old = b.write(tmp_path / "old")
    new = b.write(tmp_path / "new")
    # Older files: gendercurrent instead of sex; no requestsource, dsco, reviewdraft or phase-transfer dates.
    _drop_columns(next(old.glob("*_person.csv")), rename={"sex": "gendercurrent"})
    _drop_columns(next(old.glob("*_requests.csv")), drop=("requestsource",))
    _drop_columns(next(old.glob("*_activeplans.csv")),
                  drop=("reviewdraft", "phasetransferduedate", "phasetransferfinaldate"))
    # Newer files: dsco on the header module, a request source, phase-transfer dates.
    _drop_columns(next(new.glob("*_sen2.csv")), add={"dsco": "1"})
    _drop_columns(next(new.glob("*_requests.csv")), add={"requestsource": "P"})
    _drop_columns(next(new.glob("*_activeplans.csv")),
                  add={"phasetransferduedate": "2025-Feb-15 00:00:00", "reviewdraft": "2024-Jan-10 00:00:00"})
    _load([old], tmp_path / "old.duckdb")
    _load([new], tmp_path / "new.duckdb")
    assert _series(tmp_path / "old.duckdb").equals(_series(tmp_path / "new.duckdb"))
    con = duckdb.connect(str(tmp_path / "old.duckdb"), read_only=True)
    assert con.execute("SELECT DISTINCT sex FROM person").fetchall() == [("F",)]  # gendercurrent read as sex
    assert con.execute("SELECT count(request_source) FROM request").fetchone() == (0,)
    con.close()
    con = duckdb.connect(str(tmp_path / "new.duckdb"), read_only=True)
    assert con.execute("SELECT DISTINCT request_source FROM request").fetchall() == [("P",)]
    assert con.execute("SELECT count(phase_transfer_due) FROM active_plan").fetchone()[0] > 0
    con.close()


def test_template_rows_are_validated_like_blade_rows(tmp_path):
    b = Blade()
    p = b.person()
    b.request(p, "2023-03-01", "Q", "2023-03-20")        # unknown outcome code
    b.request(p, "2023-03-01", "Y", "2023-02-01")        # decided before received
    report = load_paths([write_template(b.rows, tmp_path / "t.xlsx")], tmp_path / "a.duckdb")
    assert report.exit_code == 1
    problems = [(q.file, q.row, q.column) for f in report.files for q in f.problems]
    assert ("t.xlsx [Requests]", 1, "Request outcome") in problems
    assert ("t.xlsx [Requests]", 2, "Request outcome date") in problems


def test_unknown_layout_lists_every_expected_layout(tmp_path, capsys):
    (tmp_path / "notes.csv").write_text("colour,flavour\nred,sweet\n")
    assert etl_main(["load", str(tmp_path / "notes.csv"), "--db", str(tmp_path / "a.duckdb")]) == 2
    err = capsys.readouterr().err
    assert "notes.csv" in err and "unknown layout" in err
    for expected in ("requests (requeststableid", "DfE template's headings", "Date Request Was Received",
                     "advice requests (request_id", "EHCP quality audits", "placement sufficiency",
                     "reduced timetables", "KPI returns"):
        assert expected in err


def test_an_unknown_workbook_is_rejected(tmp_path, capsys):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["colour", "flavour"])
    wb.active.append(["red", "sweet"])
    wb.save(tmp_path / "notes.xlsx")
    assert etl_main(["load", str(tmp_path / "notes.xlsx"), "--db", str(tmp_path / "a.duckdb")]) == 2
    assert "notes.xlsx: unknown layout" in capsys.readouterr().err


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_a_damaged_file_is_a_one_line_rejection(tmp_path, capsys, suffix):
    path = tmp_path / f"broken{suffix}"
    path.write_bytes(b"PK\x03\x04 not really a zip \x00\x01\x02")
    assert etl_main(["load", str(path), "--db", str(tmp_path / "a.duckdb")]) == 2
    err = capsys.readouterr().err
    assert f"broken{suffix}" in err and "Traceback" not in err


def test_an_active_plans_file_with_unknown_headings_is_never_read_as_a_local_extract(tmp_path, capsys):
    """Human headings with no record id of its own and a heading the loader does not know: it is an active plans
    file (never placement sufficiency), and the rejection names the closest layout, what it lacks and what was
    not recognised."""
    path = tmp_path / "active_plans.csv"
    path.write_text("Person ID,Request reference,EHCP review meeting date,Review outcome,Phase transfer due date\n"
                    "101,5001,01/05/2024,M,\n")
    db = tmp_path / "a.duckdb"
    assert etl_main(["load", str(path), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "required column" not in err and "placement_sufficiency module" not in err
    assert "closest is the activeplans SEN2 module" in err
    assert "activeplanstableid (Active Plans Record ID)" in err and "requeststableid" in err
    assert "headings not recognised: Person ID, Request reference" in err
    assert not db.exists() or duckdb.connect(str(db), read_only=True).execute(
        "SELECT count(*) FROM load_log").fetchone() == (0,)


def test_active_plans_keyed_by_request_and_meeting_date_with_no_record_id_of_their_own(tmp_path):
    """A case-system export of reviews (person, request, meeting and decision dates, outcome) has no active plans
    record id: the key is derived from the request id and the review meeting date."""
    b = Blade()
    r = b.issued_plan("2023-01-02", "2023-05-22")
    db = tmp_path / "a.duckdb"
    load_paths([b.write(tmp_path / "blade")], db)
    path = tmp_path / "reviews.csv"
    path.write_text("Person ID,Requests Record ID,EHCP review meeting date,EHCP review decisions date,Review outcome\n"
                    f"1,{r},01/05/2024,20/05/2024,M\n{1},{r},02/05/2025,,\n")
    report = load_paths([path], db)
    assert report.exit_code == 0, [str(p) for f in report.files for p in f.problems]
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT active_plan_id, review_outcome FROM active_plan ORDER BY 1").fetchall() == [
        (f"{r}|2024-05-01", "M"), (f"{r}|2025-05-02", None)]
    con.close()


def test_every_code_is_its_own_normal_form_so_a_code_as_written_skips_the_normalising():
    """A code cell equal to one of its field's codes is taken as it is (etl.typed.typed_expr): right only if
    normalising a code (upper case, runs of spaces, hyphens and underscores made one underscore) leaves it."""
    import re

    from etl.detect import ALL_MODULES
    from etl.formats.sen2_blade import Module

    fields = [f for m in ALL_MODULES if isinstance(m, Module) for f in m.all_fields if f.kind == "code" and f.codes]
    assert len(fields) > 10
    for f in fields:
        for code in f.codes:
            assert re.sub(r"[\s_-]+", "_", code).upper() == code, (f.source, code)
