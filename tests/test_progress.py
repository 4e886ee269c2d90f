"""The load progress bar: drawn on a terminal, silent when output is piped (scripts and logs see the report only)."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from etl.__main__ import _progress_callback
from tests.support.blade import Blade

ROOT = Path(__file__).resolve().parent.parent


def test_quiet_when_not_a_terminal():
    on_file, progress = _progress_callback(5, Console(file=io.StringIO(), force_terminal=False))
    assert on_file is None and progress is None


def test_a_bar_on_a_terminal_that_counts_files_not_sheets(tmp_path):
    out = io.StringIO()
    on_file, progress = _progress_callback(3, Console(file=out, force_terminal=True, width=100))
    try:
        for name in ("a.csv", "book.xlsx", "book.xlsx", "book.xlsx", "c.csv"):
            on_file(tmp_path / name)
        task = progress.tasks[0]
        assert (task.completed, task.total) == (2, 3)  # three files started: two done, the third under way
        assert task.description == "Loading c.csv"
    finally:
        progress.stop()
    assert "Loading" in out.getvalue()


def test_a_piped_load_prints_only_the_report(tmp_path):
    folder = Blade().write(tmp_path / "x")
    env = {"APP_PSEUDONYM_KEY": "ab" * 32, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "etl", "load", str(folder), "--db", str(tmp_path / "a.duckdb")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "\x1b[" not in done.stdout and "━" not in done.stdout
    assert done.stdout.count("rows loaded") == 9
