"""Empty and error states: what the dashboard shows instead of a traceback when there is no database yet, it holds
no case records, a load holds it or it cannot be read.

Analysts (who run loads) are told the database's path and the commands that fill it; other roles that the data are
not available and whom to ask.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import streamlit as st

from kpi.access import roles
from kpi.views.comparison import KpiComparison
from pages import _data as data
from pages._session import current_role, sees_exact_figures


def empty_state(path: Path, reason: str, detail: str | None = None) -> None:
    """Tell the user how to get data in, instead of a traceback. The database's path and the commands are for
    analysts; other roles are told the data are not available and whom to ask."""
    if not _sees_paths():
        st.warning({"missing": "No data yet.", "empty": "The database holds no case records yet.",
                    "busy": "The dashboard's data is being updated (a load is running).",
                    "unreadable": "The data could not be read."}[reason], icon=":material/database:")
        st.markdown("Wait a few minutes and reload this page." if reason == "busy"
                    else "Ask the dashboard's analysts to load the data.")
        return
    headline = {
        "missing": f"No database yet at `{path}`.",
        "empty": f"The database at `{path}` holds no case records yet.",
        "busy": f"The database at `{path}` is being updated (a load is running).",
        "unreadable": f"The database at `{path}` could not be read.",
    }[reason]
    st.warning(headline, icon=":material/database:")
    if detail:
        st.caption(f"Details: {detail}")
    if reason == "busy":
        st.markdown("Wait for the load to finish, then reload this page.")
        return
    st.markdown(
        "To explore the dashboard with synthetic demonstration data, run:\n\n"
        "```sh\nmake run\n```\n\n"
        f"or build the demo database yourself with `python -m etl demo --db {path}`.\n\n"
        "To load your own SEN2 extract (COLLECT Blade CSV export), run:\n\n"
        f"```sh\npython -m etl load PATH --db {path}\n```\n\n"
        "The dashboard reads the file named by the `APP_DB` environment variable (default `data/app.duckdb`)."
    )


def not_loaded(what: str, explain: str, how: str) -> None:
    """A source that is not loaded: ``what`` and why it matters (``explain``) for everyone; for analysts, who run
    loads, ``how`` (Markdown: the commands, with the database's path); everyone else is told whom to ask."""
    st.warning(what, icon=":material/database:")
    st.markdown(f"{explain} {how}" if _sees_paths() else f"{explain} Ask the dashboard's analysts to load them.")


def bundled(db: Path, newer: str) -> str:
    """How an analyst loads the public statistics the product bundles, and a newer download (``newer``)."""
    return (f"Load the copy the product bundles (`data/published`):\n\n```sh\npython -m etl published load --db {db}"
            f"\n```\n\n{newer}")


def comparison_problem(comparison: KpiComparison, warning: bool = False) -> None:
    """Why a KPI has no published comparison, as a caption (or a warning, where it is all the page has); 'nothing
    loaded' (whose remedy is a command) is told to others than analysts as whom to ask."""
    problem = comparison.problem
    if comparison.nothing_loaded and not _sees_paths():
        problem = "DfE's published statistics are not loaded in this dashboard yet: ask its analysts to load them."
    if warning:
        st.warning(problem, icon=":material/info:")
    else:
        st.caption(problem)


def _sees_paths() -> bool:
    """Whether this session may see the server's file paths (analysts, who run loads)."""
    try:
        return sees_exact_figures()
    except roles.AccessConfigError:
        return False



def _or_empty_state(path: Path, fn: Callable):
    """``fn()``, or None after showing the empty state that fits the failure."""
    found, failure = data.read_or_failure(fn)
    if failure:
        empty_state(path, *failure)
    return found


def areas_or_explain(path: Path) -> list[tuple[str, str]] | None:
    """(ONS code, name) of every area with case records, or None after showing the right empty state."""
    found = _or_empty_state(path, lambda: data.areas(path))
    if found is not None and not found:
        empty_state(path, "empty")
        return None
    return found


def load_series_or_explain(path: Path, area: str, as_of: str | None = None) -> pd.DataFrame | None:
    """The area's series as this session's role may see it (as it stood on ``as_of`` when given), or None after
    showing the right empty state."""
    df = _or_empty_state(path, lambda: data.series(path, area, current_role(), as_of))
    if df is not None and (df.empty or data.latest_with_data(df) is None):
        empty_state(path, "empty")
        return None
    return df
