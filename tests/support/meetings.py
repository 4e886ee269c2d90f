"""Two monthly extracts for the tests of what changed since the last meeting: in February's (as at 29 February
2024) 70 annual reviews are overdue; March's (as at 31 March) shows 40 of them held in January after all."""

from __future__ import annotations

from pathlib import Path

from etl.load import load_paths
from tests.support.blade import Blade, blade_date

PSEUDONYM_KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"


def review_extract(as_at: str, reviewed_late: int) -> Blade:
    """70 plans started in June 2022, each last reviewed in January 2023, so all 70 are overdue from January 2024;
    ``reviewed_late`` of them show a review held on 20 January 2024 (entered after the February extract)."""
    b = Blade()
    b.rows["sen2"][0]["referencedate"] = blade_date(as_at)
    for i in range(70):
        r = b.issued_plan("2022-01-10", "2022-06-15")
        b.review(r, "2024-01-20" if i < reviewed_late else "2023-01-10")
    return b


def load_two_meetings(folder: Path) -> Path:
    """February's and March's extracts loaded into ``folder``/app.duckdb (APP_PSEUDONYM_KEY must be set)."""
    db = folder / "app.duckdb"
    for n, b in enumerate([review_extract("2024-02-29", 0), review_extract("2024-03-31", 40)]):
        assert load_paths([b.write(folder / f"x{n}")], db).exit_code == 0
    return db
