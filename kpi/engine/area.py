"""Local areas for the engine and pages: the home area (its configuration lives with the loader, etl/area.py,
which also needs it to know which area an extract belongs to) and the areas whose case records are loaded."""

from __future__ import annotations

import duckdb

from etl import reference
from etl.area import (  # noqa: F401
    DEFAULT_PATH,
    ENV_VAR,
    AreaConfig,
    AreaConfigError,
    HomeArea,
    check_reference,
    config_path,
    load,
)


def area_name(code: str) -> str:
    """An area's name from its ONS code (the code itself when it is not in the reference list)."""
    la = reference.by_code(code)
    return la.name if la else code


def loaded_areas(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(ONS code, name) of every area with case records in the database, in name order."""
    from kpi.engine.compute import case_areas

    return sorted(((code, area_name(code)) for code in case_areas(con)), key=lambda a: (a[1], a[0]))


def default_area(codes: list[str], home: str | None) -> str | None:
    """The area shown first: the home area when its records are loaded, else the first area (None when none)."""
    if home in codes:
        return home
    return codes[0] if codes else None


def data_as_at(con: duckdb.DuckDBPyConnection, area: str, as_of: str | None = None
               ) -> tuple[str | None, str | None]:
    """The as-at date (ISO) of an area's newest SEN2 extract (dated on or before ``as_of`` when given) and where it
    came from ('sen2 header', 'file name', 'load time'); (None, None) when no date is recorded. The page header
    shows it ("Data as at 10 March 2024")."""
    from datetime import date

    from etl.as_at import extracts_as_at

    dates = extracts_as_at(con, "sen2", [area], date.fromisoformat(as_of) if as_of else None)
    if area not in dates:
        return None, None
    source = con.execute("SELECT min(as_at_source) FROM load_log WHERE area_code = ? AND as_at = ?",
                         [area, dates[area]]).fetchone()[0]
    return dates[area].isoformat(), source
