"""What a load reports: problems found (file, row, column, reason), per-file results, the overall outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from etl.identifiers import REMOVED, looks_like_identifier


@dataclass
class Problem:
    """One thing wrong with an input: where it is and which rule it broke."""

    file: str
    row: int | None
    column: str | None
    reason: str
    value: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column {self.column}"
        value = self.value
        if value is not None and looks_like_identifier(str(value)):  # never print a child's identifier
            value = REMOVED
        shown = f" (value {value!r})" if value is not None else ""
        return f"{where}: {self.reason}{shown}"


@dataclass
class FileResult:
    path: Path
    module: str | None
    status: str  # loaded | quarantined | unchanged
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)  # columns ignored etc.: reported, not quarantined
    source_name: str | None = None  # 'file.xlsx [Sheet]' for a sheet; the file name otherwise

    @property
    def name(self) -> str:
        return self.source_name or self.path.name


@dataclass
class LoadReport:
    files: list[FileResult]
    warnings: list[Problem] = field(default_factory=list)  # about whole files (e.g. a sheet that was ignored)

    @property
    def all_warnings(self) -> list[Problem]:
        return [*self.warnings, *(w for f in self.files for w in f.warnings)]

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    @property
    def exit_code(self) -> int:
        return 1 if self.rows_quarantined else 0


class LoadRejected(Exception):
    """The load was refused as a whole; nothing was written."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems[:5]))
