"""The dashboard served by ``streamlit run app.py`` on a small known database, for headless Chromium (Debian's, at
/usr/bin/chromium: ``make test`` installs it), and the checks every browser test makes of a page. The ``server``,
``browser`` and ``page`` fixtures (tests/conftest.py) are built on it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import expect

from etl.load import load_paths
from tests.support import ROOT
from tests.support.app import plan_extract

CHROMIUM = Path("/usr/bin/chromium")
# Beside the three the project launches with: no page of a test is throttled as a background page (timers, frames).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                 "--disable-backgrounding-occluded-windows"]
TIMEOUT_MS = 60_000
expect.set_options(timeout=30_000)  # for every browser test: each imports this module


def free_port() -> int:
    """A localhost port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, log: Path, seconds: float = 90) -> None:
    """Wait for the Streamlit server at ``url`` to answer its health check; fail with its log if it exits or hangs."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited with code {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"streamlit did not become healthy within {seconds} s:\n{log.read_text()}")


def serve(folder, role: str | None = None):
    """Serve the dashboard on a free localhost port from a fixture database in ``folder`` (local mode; ``role``
    previews another role through APP_ROLE); yields (url, folder) and stops the server afterwards."""
    env = {**os.environ, "APP_PSEUDONYM_KEY": "cd" * 32}
    if role:
        env["APP_ROLE"] = role
    mp = pytest.MonkeyPatch()
    mp.setenv("APP_PSEUDONYM_KEY", env["APP_PSEUDONYM_KEY"])
    try:
        db = folder / "app.duckdb"
        load_paths([plan_extract().write(folder / "extract")], db)
    finally:
        mp.undo()
    with running_app(db, env, folder / "streamlit.log") as url:
        yield url, folder


@contextmanager
def running_app(db: Path, env: dict[str, str], log: Path) -> Iterator[str]:
    """``streamlit run app.py`` on a free localhost port over ``db`` with ``env``, its output in ``log``; yields the
    URL once the server answers its health check, and stops the server afterwards."""
    port = free_port()
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"],
            cwd=ROOT, env={**env, "APP_DB": str(db)}, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def settle(page) -> None:
    """Wait until the app has drawn and finished running."""
    page.wait_for_selector("[data-testid='stAppViewContainer']")
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", polling=100)
    page.wait_for_timeout(500)


def shot(page, folder: Path, name: str) -> Path:
    """A full-page screenshot saved as ``folder/name.png`` (its path printed)."""
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


def no_exception(page) -> None:
    """The page shows no Python exception."""
    assert page.locator("[data-testid='stException']").count() == 0
