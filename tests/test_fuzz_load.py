"""Fuzzing the loader with malformed variants of valid files (hypothesis, bounded and derandomised so it is fast
and repeatable): never a traceback; a malformed file always exits 1 (rows quarantined, report printed) or 2
(rejected, message printed); on exit 2 the database is exactly as before."""

from __future__ import annotations

import atexit
import contextlib
import io
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from demo.sen2_layouts import write_template
from etl.__main__ import main as etl_main
from etl.load import detect_module, load_paths
from tests.support.blade import Blade
from tests.support.db import snapshot

pytestmark = pytest.mark.slow  # hypothesis fuzzing of the loader (~30 s): make test

ADVICE = "request_id,person_id,advice_type,requested_date,received_date\n" \
         "A1,11,EP,2023-03-01,2023-04-12\nA2,11,HEALTH,2023-03-01,\nA3,12,SOCIAL_CARE,2023-02-01,2023-03-01\n"
FUZZ = settings(max_examples=20, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])


def _extract(year: int) -> Blade:
    b = Blade()
    b.rows["sen2"][0]["year"] = year
    for pid, received, issued in ((11, "2023-01-02", "2023-05-22"), (12, "2023-02-06", "2023-08-01")):
        b.person(pid=pid)
        r = b.request(pid, received, "Y", "2023-03-01" if pid == 11 else "2023-03-20")
        b.assessment(r, "Y", issued)
    return b


_BASE = Path(tempfile.mkdtemp(prefix="fuzz-base-"))  # every file of this module's runs, removed when the run ends
atexit.register(shutil.rmtree, _BASE, ignore_errors=True)
_BASELINE_DB = _BASE / "baseline.duckdb"
_VALID = _extract(2026).write(_BASE / "valid")
(_VALID / "advice.csv").write_text(ADVICE)
_TEMPLATE = write_template(_extract(2027).rows, _BASE / "template.xlsx")


def _baseline() -> Path:
    if not _BASELINE_DB.exists():
        import os

        os.environ.setdefault("APP_PSEUDONYM_KEY", "00112233445566778899aabbccddeeff" * 2)
        load_paths([_extract(2025).write(_BASE / "first")], _BASELINE_DB)
    return _BASELINE_DB


def _run(files: list[Path]) -> tuple[int, str, str, Path]:
    work = Path(tempfile.mkdtemp(prefix="fuzz-", dir=_BASE))
    db = work / "app.duckdb"
    shutil.copy(_baseline(), db)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = etl_main(["load", *map(str, files), "--db", str(db)])
    return rc, out.getvalue(), err.getvalue(), db


def _check(rc: int, out: str, err: str, db: Path, strict: bool) -> None:
    """strict: the variant is certainly malformed, so it must not load cleanly."""
    assert rc in ((1, 2) if strict else (0, 1, 2)), (rc, out, err)
    assert "Traceback" not in out + err
    if rc == 2:
        assert err.startswith("Load rejected: nothing was loaded.") and len(err.splitlines()) >= 2, err
        assert snapshot(db) == snapshot(_baseline())
    if rc == 1:
        assert "quarantined" in out
    shutil.rmtree(db.parent, ignore_errors=True)


def _copy_valid() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="fuzz-files-", dir=_BASE))
    for p in _VALID.iterdir():
        shutil.copy(p, folder / p.name)
    return folder


FILES = sorted(p.name for p in _VALID.iterdir() if p.stat().st_size and
               len(p.read_text().splitlines()) > 1)  # files with data rows
JUNK = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12)


@FUZZ
@given(name=st.sampled_from(FILES), row=st.integers(1, 3), col=st.integers(0, 9), junk=JUNK,
       kind=st.sampled_from(["cell", "drop_column", "duplicate_row", "truncate_header", "header_junk"]))
def test_structured_damage_is_quarantined_or_rejected(name, row, col, junk, kind):
    folder = _copy_valid()
    path = folder / name
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    row = min(row, len(lines) - 1)
    col = col % len(header)
    if kind == "cell":  # a value that no typed, coded or required column accepts: '@' + junk + an Excel error
        cells = lines[row].split(",")
        target = next((i for i, h in enumerate(header) if h in (
            "receiveddate", "assessmentoutcome", "requestoutcome", "personbirthdate", "advice_type",
            "requested_date", "sentype", "week20", "referencedate")), col)
        cells[target] = '"@' + junk.replace('"', "'") + '#REF!"'
        lines[row] = ",".join(cells)
    elif kind == "drop_column":  # drop a required column
        module, _ = detect_module(header)
        required = [i for i, h in enumerate(header) if h in module.required_columns]
        drop = required[col % len(required)]
        lines = [",".join(c for i, c in enumerate(ln.split(",")) if i != drop) for ln in lines]
    elif kind == "duplicate_row":
        lines.append(lines[row])
    elif kind == "truncate_header":
        lines = [lines[0][: max(1, col)]] + lines[1:]
    else:
        lines[0] = junk.replace("\n", " ") + "," + "," .join("x" * (i + 1) for i in range(len(header) - 1))
    path.write_text("\n".join(lines) + "\n")
    _check(*_run([folder]), strict=True)


@FUZZ
@given(name=st.sampled_from(FILES), at=st.floats(0, 1), data=st.binary(min_size=1, max_size=40),
       kind=st.sampled_from(["insert", "overwrite", "truncate", "replace_all"]))
def test_byte_level_damage_never_crashes(name, at, data, kind):
    folder = _copy_valid()
    path = folder / name
    raw = path.read_bytes()
    i = int(at * len(raw))
    if kind == "insert":
        raw = raw[:i] + data + raw[i:]
    elif kind == "overwrite":
        raw = raw[:i] + data + raw[i + len(data):]
    elif kind == "truncate":
        raw = raw[:i]
    else:
        raw = data
    path.write_bytes(raw)
    _check(*_run([folder]), strict=False)


@settings(max_examples=10, deadline=None, derandomize=True, database=None)
@given(at=st.floats(0, 1), data=st.binary(min_size=1, max_size=64), kind=st.sampled_from(["overwrite", "truncate"]))
def test_damaged_workbooks_never_crash(at, data, kind):
    work = Path(tempfile.mkdtemp(prefix="fuzz-xlsx-", dir=_BASE))
    raw = _TEMPLATE.read_bytes()
    i = int(at * len(raw))
    raw = raw[:i] + data + raw[i + len(data):] if kind == "overwrite" else raw[:i]
    path = work / "template.xlsx"
    path.write_bytes(raw)
    _check(*_run([path]), strict=False)
