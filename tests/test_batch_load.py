"""Several areas in one load: each module's files of every area are read and validated in one pass, with every
rule, row number, result and log row still per file and per area."""

from __future__ import annotations

from pathlib import Path

import duckdb

from etl.load import load_areas
from tests.support.blade import Blade

AREAS = {"E06000056": "823", "E06000032": "821", "E06000055": "822"}  # Central Bedfordshire, Luton, Bedford


def _extract(lea: str) -> Blade:
    b = Blade()
    b.rows["sen2"][0]["lea"] = lea
    for pid, received in ((11, "2023-01-02"), (12, "2023-02-06")):  # the same ids in every area
        b.person(pid=pid)
        r = b.request(pid, received, "Y", "2023-03-01", rid=100 + pid)
        b.assessment(r, "Y", "2023-06-01", aid=200 + pid)
    return b


def _q(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _folders(tmp_path: Path, change=None) -> list[tuple[str, list[Path]]]:
    groups = []
    for code, lea in AREAS.items():
        b = _extract(lea)
        if change:
            change(code, b)
        groups.append((code, [b.write(tmp_path / code)]))
    return groups


def test_a_bad_row_in_one_areas_file_is_quarantined_there_and_the_other_areas_load(tmp_path):
    luton = "E06000032"

    def break_luton(code, b):
        if code == luton:
            b.rows["requests"][1]["receiveddate"] = "2023-13-45"  # row 2: no such date
            b.assessment(999, "Y", "2023-06-01", aid=299)  # a request that Luton's extract does not hold

    groups = _folders(tmp_path, break_luton)
    requests = groups[1][1][0] / next(p.name for p in groups[1][1][0].glob("*_requests.csv"))
    lines = requests.read_text().splitlines()
    requests.write_text("\n".join([lines[0], lines[1], "", lines[2]]) + "\n")  # a blank line is not a row
    called = []
    db = tmp_path / "app.duckdb"
    report = load_areas(groups, db, on_file=called.append)
    assert len(called) == len(report.files) == 27
    bad = [f for f in report.files if f.rows_quarantined]
    assert [(f.module, f.rows_read, f.rows_loaded, f.rows_quarantined) for f in bad] == [
        ("requests", 2, 1, 1), ("assessment", 3, 1, 2)]  # Luton's request 112 is out, so its assessment too
    assert {p.row for p in bad[0].problems} == {2} and bad[0].problems[0].file == requests.name
    rows = _q(db, "SELECT l.area_code, q.source_file, q.module, q.row_number, q.reason FROM quarantine q "
                  "JOIN load_log l USING (load_id) ORDER BY q.module DESC, q.row_number, q.reason")
    assert rows == [
        (luton, requests.name, "requests", 2, "not a valid date"),
        (luton, requests.name.replace("requests", "assessment"), "assessment", 2,
         "refers to a requests record that is not loaded"),
        (luton, requests.name.replace("requests", "assessment"), "assessment", 3,
         "refers to a requests record that is not loaded"),
    ]
    assert _q(db, "SELECT q.module, q.row_number FROM quarantine_row q JOIN load_log l USING (load_id) "
                  "ORDER BY 1 DESC, 2") == [("requests", 2), ("assessment", 2), ("assessment", 3)]
    per_area = dict(_q(db, "SELECT area_code, count(*) FROM request GROUP BY 1"))
    assert per_area == {"E06000056": 2, luton: 1, "E06000055": 2}
    # One load_log row per file, with its own load_id and counts.
    log = _q(db, "SELECT area_code, module, rows_read, rows_loaded, rows_quarantined FROM load_log "
                 "WHERE module = 'requests' ORDER BY 1")
    assert log == [("E06000032", "requests", 2, 1, 1), ("E06000055", "requests", 2, 2, 0),
                   ("E06000056", "requests", 2, 2, 0)]
    assert _q(db, "SELECT count(DISTINCT load_id), count(*) FROM load_log") == [(27, 27)]


def test_the_same_ids_in_every_area_load_and_link_within_their_area(tmp_path):
    db = tmp_path / "app.duckdb"
    report = load_areas(_folders(tmp_path), db)
    assert report.rows_quarantined == 0
    assert _q(db, "SELECT count(*), count(DISTINCT area_code), count(DISTINCT request_id) FROM request") == [(6, 3, 2)]
    # Every assessment's request is its own area's (the join to the request for the date rule stays in the area).
    assert _q(db, "SELECT count(*) FROM assessment a JOIN request r USING (area_code, request_id)") == [(6,)]
    assert _q(db, "SELECT DISTINCT age_at_request FROM request ORDER BY 1") == [(8,)]


def test_an_unchanged_file_is_skipped_for_one_area_while_another_areas_file_loads(tmp_path):
    db = tmp_path / "app.duckdb"
    load_areas(_folders(tmp_path / "jan"), db)

    def revise_luton(code, b):
        if code == "E06000032":
            b.rows["requests"][0].update(requestoutcome="N", requestoutcomedate="2023-Mar-02 00:00:00")

    report = load_areas(_folders(tmp_path / "feb", revise_luton), db)
    changed = [(f.module, f.status) for f in report.files if f.status != "unchanged"]
    assert changed == [("requests", "loaded")]
    assert _q(db, "SELECT area_code, request_outcome FROM request WHERE request_id = '111' ORDER BY 1") == [
        ("E06000032", "N"), ("E06000055", "Y"), ("E06000056", "Y")]
    # The requests' ages still come from the (unchanged, unloaded) person file of that area.
    assert _q(db, "SELECT area_code, age_at_request FROM request WHERE area_code = 'E06000032' ORDER BY 1") == [
        ("E06000032", 8), ("E06000032", 8)]
    assert _q(db, "SELECT area_code, record_key, changed_columns FROM record_revision") == [
        ("E06000032", "111", "request_outcome_date, request_outcome")]


def test_a_file_duckdb_cannot_read_strictly_takes_the_per_file_path_inside_the_batch(tmp_path):
    groups = _folders(tmp_path)
    person = next(groups[2][1][0].glob("*_person.csv"))
    lines = person.read_text().splitlines()
    person.write_text("\n".join([lines[0], lines[1] + ",stray", lines[2]]) + "\n")  # a row wider than the header
    db = tmp_path / "app.duckdb"
    report = load_areas(groups, db)
    bad = [f for f in report.files if f.rows_quarantined]
    # Person 11 is out, so are the request and assessment that refer to it (in that area only).
    assert [(f.module, f.rows_read, f.rows_quarantined) for f in bad] == [
        ("person", 2, 1), ("requests", 2, 1), ("assessment", 2, 1)]
    assert bad[0].problems[0].row == 1 and bad[0].problems[0].reason == "row has more cells than the header has columns"
    assert _q(db, "SELECT DISTINCT l.area_code, q.row_number FROM quarantine q JOIN load_log l USING (load_id)") == [
        ("E06000055", 1)]
    assert dict(_q(db, "SELECT area_code, count(*) FROM person GROUP BY 1")) == {
        "E06000056": 2, "E06000032": 2, "E06000055": 1}


def test_referral_extracts_of_several_areas_load_in_one_pass_with_per_file_rows_and_problems(tmp_path):
    from tests.support.waits import referral, write_csv

    groups = _folders(tmp_path)
    for n, (_, folders) in enumerate(groups):
        rows = [referral("NHS1", "SALT", "2023-01-10"), referral("NHS2", "OT", "2023-02-01")]
        if n == 1:
            rows.insert(1, referral("NHS3", "DENTAL", "2023-01-10"))  # row 2 of this area's file only
        write_csv(folders[0] / "waiting_list_referrals.csv", rows)
    db = tmp_path / "app.duckdb"
    report = load_areas(groups, db)
    refs = [f for f in report.files if f.module == "referral"]  # by area code: Luton first
    assert [(f.rows_read, f.rows_loaded, f.rows_quarantined) for f in refs] == [(3, 2, 1), (2, 2, 0), (2, 2, 0)]
    assert [(p.file, p.row, p.column) for p in refs[0].problems] == [("waiting_list_referrals.csv", 2, "service")]
    assert _q(db, "SELECT l.area_code, q.row_number FROM quarantine q JOIN load_log l USING (load_id)") == [
        ("E06000032", 2)]
    assert _q(db, "SELECT area_code, count(*), count(DISTINCT load_id) FROM referral GROUP BY 1 ORDER BY 1") == [
        ("E06000032", 2, 1), ("E06000055", 2, 1), ("E06000056", 2, 1)]
    assert _q(db, "SELECT count(DISTINCT patient_key) FROM referral") == [(2,)]  # the same ids in every area
