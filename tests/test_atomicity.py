"""A load killed mid-way (SIGKILL: no cleanup, no rollback by our code) leaves the database exactly as it was,
and the next load works. The loading process is paused inside its transaction, after some tables have been
written, and killed there."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from etl.load import load_paths
from tests.support.db import snapshot
from tests.support.revisions import first_extract, second_extract

ROOT = Path(__file__).resolve().parent.parent

# Run in the child: load, but after the Nth table has been written (inside the open transaction) say so and hang.
CHILD = """
import sys, time
from pathlib import Path
from etl import load as L

stop_after, ready = int(sys.argv[3]), Path(sys.argv[4])
original, done = L.Loader.load_file, []

def load_and_hang(self, source, module, mapping, load_id, area, buffer=None):
    result = original(self, source, module, mapping, load_id, area, buffer)
    done.append(module.name)
    if len(done) == stop_after:
        ready.write_text(",".join(done))
        time.sleep(120)
    return result

L.Loader.load_file = load_and_hang
L.load_paths([Path(sys.argv[1])], Path(sys.argv[2]))
print("finished without being killed")
"""


@pytest.mark.parametrize("stop_after", [1, 4])
def test_a_load_killed_mid_transaction_leaves_the_database_exactly_as_before(tmp_path, stop_after):
    db = tmp_path / "app.duckdb"
    assert load_paths([first_extract().write(tmp_path / "jan")], db).exit_code == 0
    before = snapshot(db)
    feb = second_extract().write(tmp_path / "feb")
    ready = tmp_path / "ready"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(feb), str(db), str(stop_after), str(ready)],
                             cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90
        while not ready.exists():
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "the loading process never reached the pause"
            time.sleep(0.05)
        written = ready.read_text().split(",")
        assert len(written) == stop_after  # tables really were written inside the transaction
        os.kill(child.pid, signal.SIGKILL)
    finally:
        if child.poll() is None:
            child.kill()
        out, _ = child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL and b"finished" not in out

    assert snapshot(db) == before
    report = load_paths([feb], db)  # the database is usable and the interrupted load can simply be rerun
    assert report.exit_code == 0
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM request").fetchone()[0] == 301
    assert con.execute("SELECT changed_columns FROM record_revision WHERE table_name = 'assessment'").fetchall() == [
        ("week20_exception",)]
    con.close()
