"""The public statistics bundled in data/published: what is there matches its provenance, ``python -m etl published
list|load|update`` (exit codes 0/1/2, one-line errors), and an update that does not validate leaves the bundle
untouched."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from etl import published as pub
from etl.__main__ import main as etl_main
from tests.support import ROOT
from tests.support.published import PUBLISHED_DATA, published_text

MB = 1024 * 1024


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def bundle(tmp_path):
    """A copy of the bundle to update (data/published itself is never written by tests)."""
    return Path(shutil.copytree(PUBLISHED_DATA, tmp_path / "published"))


def test_every_bundled_file_is_listed_with_its_provenance():
    entries = pub.read_manifest(PUBLISHED_DATA)
    assert pub.check(PUBLISHED_DATA) == []  # no file missing, unlisted or changed
    assert {e["file"] for e in entries} >= {
        "dfe_ehcp/timeliness_20_week.csv.gz", "dfe_ehcp/requests.csv.gz", "dfe_ehcp/assessments.csv.gz",
        "dfe_ehcp/annual_reviews.csv.gz", "dfe_ehcp/ceased_plans.csv.gz", "dfe_ehcp/sen_need_newplans.csv.gz",
        "dfe_ehcp/send_tribunals_appeal_rate_2014-2024.csv.gz", "dfe_ehcp/data-guidance.txt",
        "dfe_sen2_mi_2014-2022.csv.gz", "statistical_neighbours.csv.gz", "nhs_chs/published_2023-03.xlsx",
        "nhs_chs/published_2025-12.xlsx"}
    for e in entries:
        for key in ("title", "publisher", "release", "source", "licence", "taken_from", "taken_on", "sha256_taken"):
            assert e[key], (e["file"], key)
        assert e["licence"] == "Open Government Licence v3.0"
        assert len(e["sha256_taken"]) == 64 and len(e["sha256"]) == 64
    assert (PUBLISHED_DATA / "PROVENANCE.md").read_text(encoding="utf-8") == pub.render_markdown(entries)


def test_a_gzipped_csv_is_the_file_taken_byte_for_byte():
    for e in pub.read_manifest(PUBLISHED_DATA):
        if e["file"].endswith(".gz"):
            with gzip.open(PUBLISHED_DATA / e["file"], "rb") as fh:
                assert hashlib.sha256(fh.read()).hexdigest() == e["sha256_taken"], e["file"]


def test_the_bundle_fits_its_budget():
    sizes = {p: p.stat().st_size for p in PUBLISHED_DATA.rglob("*") if p.is_file()}
    assert sum(sizes.values()) <= 8 * MB
    assert max(sizes.values()) <= 3 * MB


def test_dfe_files_keep_every_area_and_their_markers():
    rows = list(csv.DictReader(io.StringIO(published_text(PUBLISHED_DATA / "dfe_ehcp" / "timeliness_20_week.csv.gz"))))
    levels = {r["geographic_level"] for r in rows}
    assert {"National", "Regional", "Local authority"} <= levels
    assert len({r["new_la_code"] for r in rows if r["geographic_level"] == "Local authority"}) >= 150
    assert (PUBLISHED_DATA / "dfe_ehcp" / "timeliness_20_week.csv.gz").open("rb").read(2) == b"\x1f\x8b"
    with gzip.open(PUBLISHED_DATA / "dfe_ehcp" / "timeliness_20_week.csv.gz", "rb") as fh:
        assert fh.read(3) == b"\xef\xbb\xbf"  # DfE's byte-order mark, kept


def test_list_shows_file_release_licence_rows(capsys):
    assert etl_main(["published", "list"]) == 0
    out = capsys.readouterr().out
    assert "Open Government Licence v3.0" in out
    line = next(ln for ln in out.splitlines() if ln.startswith("dfe_ehcp/timeliness_20_week.csv.gz"))
    assert "12211" in line and "reporting year 2025" in line
    assert any(ln.startswith("nhs_chs/published_2025-12.xlsx") and "October 2025" in ln for ln in out.splitlines())


def test_list_warns_about_a_changed_file_and_a_missing_folder_is_one_line(bundle, tmp_path, capsys):
    (bundle / "statistical_neighbours.csv.gz").write_bytes(b"changed")
    assert etl_main(["published", "list", "--dir", str(bundle)]) == 1
    assert "warning: statistical_neighbours.csv.gz: SHA-256 differs" in capsys.readouterr().out
    assert etl_main(["published", "list", "--dir", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "provenance.json not found" in err


@pytest.mark.slow  # loads everything bundled, NHS workbooks included (about a minute)
def test_load_puts_benchmarks_and_nhs_waits_in_a_database(tmp_path, capsys):
    db = tmp_path / "p.duckdb"
    assert etl_main(["published", "load", "--db", str(db)]) == 0
    con = duckdb.connect(str(db), read_only=True)
    try:
        got = dict(con.execute("SELECT area_code, value FROM published_kpi WHERE kpi_id = 'ehcp_20wk_excl' "
                               "AND year = 2024 AND area_code IN ('E06000056', 'E92000001')").fetchall())
        assert got == {"E06000056": 48.8, "E92000001": 46.4}
        assert con.execute("SELECT count(DISTINCT period) FROM nhs_chs_wait").fetchone() == (11,)
        assert con.execute("SELECT count(*) FROM quarantine").fetchone() == (0,)
    finally:
        con.close()
    capsys.readouterr()
    assert etl_main(["published", "load", "--db", str(db)]) == 0  # again: every file already loaded
    assert "already loaded (identical file)" in capsys.readouterr().out


def test_load_of_a_folder_without_published_files_is_one_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert etl_main(["published", "load", "--dir", str(tmp_path / "empty"), "--db", str(tmp_path / "x.duckdb")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no .csv, .csv.gz or .xlsx files" in err


def _neighbours_with(tmp_path: Path, edit) -> Path:
    rows = list(csv.reader(io.StringIO(published_text(PUBLISHED_DATA / "statistical_neighbours.csv.gz"))))
    edit(rows, rows[0].index("Central Bedfordshire"))
    path = tmp_path / "download" / "statistical_neighbours.csv"
    path.parent.mkdir(exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        csv.writer(fh).writerows(rows)
    return path


def test_update_replaces_the_file_and_its_provenance(bundle, tmp_path, capsys):
    def swap(rows, col):
        rows[1][col], rows[2][col] = rows[2][col], rows[1][col]

    new = _neighbours_with(tmp_path, swap)
    before = _snapshot(bundle)
    assert etl_main(["published", "update", str(new), "--dir", str(bundle), "--release", "2025 list",
                     "--taken-from", "gov.uk, downloaded by hand"]) == 0
    assert "bundled statistical_neighbours.csv.gz" in capsys.readouterr().out
    after = _snapshot(bundle)
    changed = {k for k in after if before.get(k) != after[k]}
    assert changed == {"statistical_neighbours.csv.gz", "provenance.json", "PROVENANCE.md"}
    with gzip.open(bundle / "statistical_neighbours.csv.gz", "rb") as fh:
        assert fh.read() == new.read_bytes()
    entry = next(e for e in json.loads((bundle / "provenance.json").read_text())["files"]
                 if e["file"] == "statistical_neighbours.csv.gz")
    assert entry["sha256_taken"] == pub.sha256_of(new)
    assert entry["sha256"] == pub.sha256_of(bundle / "statistical_neighbours.csv.gz")
    assert entry["release"] == "2025 list" and entry["taken_from"] == "gov.uk, downloaded by hand"
    assert entry["title"] == "Children's services statistical neighbours" or "neighbours" in entry["title"]
    assert pub.check(bundle) == []


def test_update_with_a_quarantined_row_is_refused_and_changes_nothing(bundle, tmp_path, capsys):
    def unknown(rows, col):
        rows[3][col] = "Atlantis"

    bad = _neighbours_with(tmp_path, unknown)
    before = _snapshot(bundle)
    assert etl_main(["published", "update", str(bad), "--dir", str(bundle)]) == 2
    err = capsys.readouterr().err
    assert "Update refused: the bundled copy is unchanged." in err and "Atlantis" in err
    assert _snapshot(bundle) == before


def test_update_with_a_rejected_file_changes_nothing(bundle, tmp_path, capsys):
    good = _neighbours_with(tmp_path, lambda rows, col: None)
    junk = tmp_path / "download" / "notes.csv"
    junk.write_text("a,b\n1,2\n")
    before = _snapshot(bundle)
    assert etl_main(["published", "update", str(good), str(junk), "--dir", str(bundle)]) == 2
    assert "unknown layout" in capsys.readouterr().err
    assert _snapshot(bundle) == before


def test_update_refuses_a_case_extract(bundle, capsys):
    before = _snapshot(bundle)
    assert etl_main(["published", "update", str(ROOT / "data" / "samples" / "blade"), "--dir", str(bundle)]) == 2
    err = capsys.readouterr().err
    assert "is not public statistics" in err and err.count("\n") == 1
    assert _snapshot(bundle) == before


def test_update_of_a_missing_path_is_one_line(bundle, tmp_path, capsys):
    assert etl_main(["published", "update", str(tmp_path / "missing.csv"), "--dir", str(bundle)]) == 2
    err = capsys.readouterr().err
    assert "no such file or folder" in err and "Traceback" not in err


def test_module_entry_point_prints_no_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "etl", "published", "list", "--dir", str(tmp_path)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and proc.stderr.startswith("error: ")
