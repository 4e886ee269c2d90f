"""Source layouts. SEN2 Blade modules are declared in ``sen2_blade``; every other layout registers here.

A layout other than Blade is an object with ``name`` (module name for load_log), ``layout`` (layout name),
``description`` (for the 'unknown layout' message), ``matches(path, headers) -> bool`` (``headers`` is None
when DuckDB could not sniff the file) and ``load(con, path, load_id) -> etl.report.FileResult``, which inserts
inside the caller's transaction and reports problems rather than raising for bad rows.
"""

OTHER_LAYOUTS: list = []
