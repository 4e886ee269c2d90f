"""HTML printed to PDF by Debian's Chromium headless (the browser `make browser` installs): real text, vector
charts, the document's own @page size and margins, no network.

:class:`BrowserMissing` says how to install it when it is not there; :class:`PrintFailed` when it ran and wrote
nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "/usr/bin/chromium")
ENV_VAR = "APP_CHROMIUM"  # another browser binary (a Chrome or Chromium elsewhere)
TIMEOUT_S = 120


class BrowserMissing(RuntimeError):
    """No Chromium to print with; the message is one line saying how to install it."""


class PrintFailed(RuntimeError):
    """Chromium ran but wrote no PDF; the message is one line."""


def chromium() -> str:
    """The Chromium binary: ``APP_CHROMIUM``, else the first of chromium, chromium-browser on the PATH."""
    given = os.environ.get(ENV_VAR)
    for name in ([given] if given else CANDIDATES):
        found = shutil.which(name)
        if found:
            return found
    raise BrowserMissing("Chromium is not installed, so no PDF can be printed: run `make browser` (or `apt-get "
                         "install chromium`), or write the pack as HTML (--out FILE.html)")


def html_to_pdf(html: str, out: Path | str) -> Path:
    """Print ``html`` (a self-contained document) to the PDF ``out`` and return its path."""
    browser = chromium()
    out = Path(out).resolve()
    with tempfile.TemporaryDirectory(prefix="app-pack-") as tmp:
        page = Path(tmp) / "pack.html"
        page.write_text(html, encoding="utf-8")
        target = Path(tmp) / "pack.pdf"
        command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                   "--disable-dev-shm-usage", f"--user-data-dir={Path(tmp) / 'profile'}", "--no-pdf-header-footer",
                   f"--print-to-pdf={target}", page.as_uri()]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise PrintFailed(f"Chromium did not finish printing within {TIMEOUT_S} s") from None
        if not target.is_file() or target.stat().st_size == 0:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise PrintFailed(f"Chromium printed no PDF (exit {done.returncode}): {last}")
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(target), out)
    return out


def html_to_pdf_bytes(html: str) -> bytes:
    """The PDF of ``html`` as bytes (for a download button)."""
    with tempfile.TemporaryDirectory(prefix="app-pack-out-") as tmp:
        return html_to_pdf(html, Path(tmp) / "pack.pdf").read_bytes()
