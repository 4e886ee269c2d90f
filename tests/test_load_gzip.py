"""Gzip-compressed inputs (``name.csv.gz``, ``name.xlsx.gz``) load exactly as the plain file would: same rows,
same name and SHA-256 in load_log (so the plain file after the compressed one is a no-op), folders include them,
and a file that is not gzip is a one-line problem, never a traceback."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import duckdb
import pytest

from etl.__main__ import main as etl_main
from etl.load import LoadRejected, load_paths

ROOT = Path(__file__).resolve().parents[1]
BLADE = ROOT / "data" / "samples" / "blade"


def _gzip_folder(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for f in src.iterdir():
        with open(f, "rb") as fh, gzip.open(dst / (f.name + ".gz"), "wb") as out:
            shutil.copyfileobj(fh, out)
    return dst


def _tables(db: Path) -> dict[str, object]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("person", "request", "quarantine")}
        return counts | {
            "log": sorted(con.execute("SELECT source_file, file_sha256 FROM load_log").fetchall())}
    finally:
        con.close()


def test_a_gzipped_folder_loads_like_the_plain_one(tmp_path):
    plain_db, gz_db = tmp_path / "plain.duckdb", tmp_path / "gz.duckdb"
    assert load_paths([BLADE], plain_db).exit_code == 0
    report = load_paths([_gzip_folder(BLADE, tmp_path / "gz")], gz_db)
    assert report.exit_code == 0
    assert {f.name for f in report.files} == {f.name for f in BLADE.iterdir()}  # named as the plain file
    assert _tables(gz_db) == _tables(plain_db)
    assert _tables(gz_db)["person"] > 0


def test_the_plain_file_after_its_gzipped_copy_is_a_no_op(tmp_path):
    db = tmp_path / "db.duckdb"
    gz = _gzip_folder(BLADE, tmp_path / "gz")
    load_paths([gz], db)
    report = load_paths([BLADE], db)
    assert {f.status for f in report.files} == {"unchanged"}


def test_a_file_named_gz_that_is_not_gzip_is_rejected_in_one_line(tmp_path, capsys):
    bad = tmp_path / "requests.csv.gz"
    bad.write_text("not gzip at all\n")
    with pytest.raises(LoadRejected) as exc:
        load_paths([bad], tmp_path / "db.duckdb")
    assert "requests.csv.gz" in str(exc.value.problems[0]) and "gzip" in str(exc.value.problems[0])
    assert etl_main(["load", str(bad), "--db", str(tmp_path / "db.duckdb")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "gzip" in err
