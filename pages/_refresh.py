"""Tell an open session that the data changed since it opened ("Data refreshed at 10:42").

Why: a load swaps a new database file in while people use the dashboard (etl/refresh.py). Every run reads the
database afresh (the caches are keyed on the file's modification times), so a session picks the new data up on
its next interaction; this says so, instead of numbers changing silently under a meeting's feet. The notice is
shown on every run from the first one on the new data, not just once: a run cut short by the next click (which
Streamlit abandons, keeping its session state) would otherwise lose it.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import streamlit as st

from pages._data import stamp as data_stamp

OPENED_KEY = "_data_stamp_opened"


def refreshed_since(opened: tuple[int, int] | None, current: tuple[int, int]) -> bool:
    """True when the database is no longer the one the session opened on (a first run is not a refresh)."""
    return opened is not None and opened != current


def refresh_message(mtime: float) -> str:
    return f"Data refreshed at {datetime.fromtimestamp(mtime):%H:%M}: the figures include the latest load."


def refresh_notice(path: Path) -> None:
    """Show the notice when the database's stamp differs from the one this session opened on."""
    try:
        stamp = data_stamp(path)
    except FileNotFoundError:
        return
    opened = st.session_state.setdefault(OPENED_KEY, stamp)
    if refreshed_since(opened, stamp):
        st.info(refresh_message(stamp[0] / 1e9), icon=":material/update:")
