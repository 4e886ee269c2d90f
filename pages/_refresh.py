"""Tell an open session, once, that the data changed since its last run ("Data refreshed at 10:42").

Why: a load swaps a new database file in while people use the dashboard (etl/refresh.py). Every run reads the
database afresh (the caches are keyed on the file's modification times), so a session picks the new data up on
its next interaction; this says so, instead of numbers changing silently under a meeting's feet.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import streamlit as st

from pages._shared import _stamp

SEEN_KEY = "_data_stamp_seen"


def refreshed_since(seen: tuple[int, int] | None, current: tuple[int, int]) -> bool:
    """True when this session has run before on other data (a first run is not a refresh)."""
    return seen is not None and seen != current


def refresh_message(mtime: float) -> str:
    return f"Data refreshed at {datetime.fromtimestamp(mtime):%H:%M}: the figures below include the latest load."


def refresh_notice(path: Path) -> None:
    """Show the notice when the database's stamp differs from the one this session last ran on."""
    try:
        stamp = _stamp(path)
    except FileNotFoundError:
        return
    seen = st.session_state.get(SEEN_KEY)
    st.session_state[SEEN_KEY] = stamp
    if refreshed_since(seen, stamp):
        st.info(refresh_message(stamp[0] / 1e9), icon=":material/update:")
