"""Helpers the tests share; none of them is a test. Fixtures built on them are in tests/conftest.py.

- ``blade``: hand-built SEN2 Blade extracts; ``waits``: referral-level waiting-list extracts; ``local_extracts``: the
  local CSV extracts (advice, audits, placements, reduced timetables, KPI returns); ``nhs``: NHS England workbooks;
  ``explore_fixture``: the Explore and Explain extracts;
- ``app``: the pages run under Streamlit's AppTest on ``plan_extract``; ``browser``: the app served for Chromium;
- ``revisions``: two extracts a month apart, the second revising the first; ``published``: the public statistics
  bundled in data/published; ``db``: a database read whole.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the checkout
