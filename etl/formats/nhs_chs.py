"""NHS England Community Health Services waiting-list workbooks (placeholder, filled in below)."""

from __future__ import annotations

from pathlib import Path


class NhsChsWorkbook:
    name = "nhs_chs"
    layout = "nhs_chs"
    description = "an NHS England Community Health Services waiting-list workbook (.xlsx, Tables 4 and 4a–4h)"

    def matches(self, path: Path, headers: list[str] | None) -> bool:
        return False
