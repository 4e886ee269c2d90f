"""Values written into SQL text as literals, quoted in one place.

Why: DuckDB parameters (``?``) are the first choice, but some SQL cannot take them (a file path in ``COPY … TO``
or ``read_csv``, a ``SET`` value, a list of codes inside a view or a CASE built once). Quoting by hand in each
module is how an apostrophe ("O'Neil", a folder called "Sam's data") ends up breaking a query; these do it right.
"""

from __future__ import annotations

import datetime as _dt
import math
import numbers
import os
from collections.abc import Iterable

Literal = str | int | float | bool | _dt.date | os.PathLike | None


def literal(value: Literal) -> str:
    """One value as a DuckDB SQL literal: text (and paths) in single quotes with quotes doubled, None as NULL,
    booleans as TRUE/FALSE, numbers as written, dates as DATE '…' and date-times as TIMESTAMP '…'.
    ValueError for a number that is not finite, TypeError for any other type."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, numbers.Integral):  # numpy's integers too
        return str(int(value))
    if isinstance(value, numbers.Real):
        if not math.isfinite(value):
            raise ValueError(f"no SQL literal for {value!r}")
        return repr(float(value))
    if isinstance(value, _dt.datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, _dt.date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, str | os.PathLike):
        return "'" + os.fspath(value).replace("'", "''") + "'"
    raise TypeError(f"no SQL literal for a {type(value).__name__}: {value!r}")


def in_list(values: Iterable[Literal]) -> str:
    """Values as the comma-separated body of ``IN (…)`` or of a list ``[…]``: "'a', 'b'". ValueError when there
    are none (``IN ()`` is not SQL: the caller decides what no values means)."""
    items = [literal(v) for v in values]
    if not items:
        raise ValueError("an empty list has no SQL literal")
    return ", ".join(items)
