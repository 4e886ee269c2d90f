"""The pages under Streamlit's AppTest, and the small extract whose numbers the page tests know by heart.

The extract (``plan_extract``): from January 2022 to September 2023, on the 15th of each month, one plan issued
100 days after the request (within 20 weeks) and one issued 200 days after (late); June 2023 has two extra late
plans and August 2023 no timely one. Three requests agreed for assessment in January 2023 stay open.
The ``app_db`` fixture (tests/conftest.py) serves it to the app.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from streamlit.testing.v1 import AppTest

from tests.support import ROOT
from tests.support.blade import Blade, blade_date

APP = str(ROOT / "app.py")
TRAJECTORY_PAGE = "pages/kpi_trajectory.py"


def plan_extract() -> Blade:
    """Plans issued every month from January 2022 to September 2023 (one on time, one late; June 2023 two more late;
    none on time in August 2023), in an extract dated 5 October 2023."""
    b = Blade()
    b.rows["sen2"][0]["referencedate"] = blade_date("2023-10-05")
    extra_late = {(2023, 6): 2}
    no_timely = {(2023, 8)}
    for i in range(21):  # January 2022 … September 2023
        year, month = 2022 + i // 12, i % 12 + 1
        issued = date(year, month, 15)
        if (year, month) not in no_timely:
            b.issued_plan((issued - timedelta(days=100)).isoformat(), issued.isoformat())
        for _ in range(1 + extra_late.get((year, month), 0)):
            b.issued_plan((issued - timedelta(days=200)).isoformat(), issued.isoformat())
    for _ in range(3):
        b.request(b.person(), "2022-12-01", "Y", "2023-01-10")
    return b


def run_app(query: dict[str, str] | None = None, page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(query or {})
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def text_of(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [h.value for h in at.header]
    parts += [i.value for i in at.info] + [w.value for w in at.warning] + [h.value for h in at.title]
    return re.sub(r"<[^>]+>", "", "\n".join(str(p) for p in parts))  # the words a reader sees
