"""Source layouts. SEN2 Blade modules are declared in ``sen2_blade``; every other layout registers here.

A layout other than Blade is an object with ``name`` (module name for load_log), ``layout`` (layout name),
``description`` (for the 'unknown layout' message), ``matches(path, headers) -> bool`` (``headers``: a CSV's
heading row as the loader sniffed it, None for a workbook or a file it could not read as a table) and
``load(con, path, load_id) -> etl.report.FileResult`` (with ``per_area = True``: ``load(con, path, load_id,
area)``, a case extract of one local area), which inserts inside the caller's transaction and reports problems
rather than raising for bad rows.

The first layout whose ``matches`` is true takes the file, so the more specific come first.
"""

OTHER_LAYOUTS: list = []


def _register_published() -> None:
    from etl.formats.dfe_release import EesRelease, Sen2Mi
    from etl.formats.dfe_tribunal import TribunalAppealRate
    from etl.formats.stat_neighbours import StatNeighbours

    # Sen2Mi before EesRelease: both are tidy CSVs with time_period; SEN2 MI has its own signature columns.
    OTHER_LAYOUTS.extend([Sen2Mi(), EesRelease(), TribunalAppealRate(), StatNeighbours()])


_register_published()


def _register_waits() -> None:
    from etl.formats.nhs_chs import NhsChsWorkbook
    from etl.formats.waits_extract import WaitingListExtract

    OTHER_LAYOUTS.extend([WaitingListExtract(), NhsChsWorkbook()])


_register_waits()
