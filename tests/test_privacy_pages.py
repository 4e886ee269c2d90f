"""Privacy and security round 2 (issue 19) on the pages, run with AppTest: URL values quoted inert, the database
path and record-level revisions for analysts only, audit gaps closed."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from tests.test_app import plan_extract, run_app

EVIL = "[Urgent: sign in again](https://evil.example/login) ![t](https://evil.example/p.png)"
PAGES = ["pages/kpi_trajectory.py", "pages/explain.py", "pages/benchmarks.py", "pages/waiting_lists.py",
         "pages/explore.py"]


@pytest.fixture
def app_db(build_db, monkeypatch):
    db = build_db(plan_extract())
    monkeypatch.setenv("APP_DB", str(db))
    monkeypatch.delenv("APP_ROLE", raising=False)
    return db


def _shown_markdown(at) -> list[str]:
    elements = [*at.markdown, *at.caption, *at.info, *at.warning, *at.error, *at.sidebar.markdown,
                *at.sidebar.caption]
    return [str(e.value) for e in elements]


def _assert_inert(at, quoted_somewhere: bool = True) -> None:
    """No shown text renders a link or an image to the attacker's host, and the host appears only in code."""
    parser = MarkdownIt("commonmark")
    quoted = [s for s in _shown_markdown(at) if "evil.example" in s]
    assert quoted or not quoted_somewhere, "the notice quoting the URL value is shown"
    for text in quoted:
        rendered = parser.render(text)
        assert "<a " not in rendered and "<img" not in rendered, text
        outside_code = rendered
        for chunk in rendered.split("<code>")[1:]:
            outside_code = outside_code.replace(chunk.split("</code>")[0], "")
        assert "evil.example" not in outside_code, text  # no bare URL either (GFM would autolink it)


def test_a_month_in_the_url_cannot_inject_a_link_or_an_image(app_db):
    at = run_app({"period": EVIL})
    _assert_inert(at)


@pytest.mark.parametrize("page", PAGES)
def test_url_values_on_each_page_are_quoted_inert(app_db, page):
    query = {"period": "2023-07", "kpi": EVIL, "service": EVIL, "start": EVIL, "f_locality": EVIL}
    at = run_app(query, page=page)
    _assert_inert(at, quoted_somewhere=page != "pages/benchmarks.py")  # no published data here: no KPI chooser


def test_md_quotes_any_value_inert_and_cut():
    from pages._shared import md

    assert md("E06000056") == "E06000056" and md("2023-07") == "2023-07"
    assert md("a.monitor@education.gov.uk") == "a.monitor@education.gov.uk"
    for value in [EVIL, "``` ![x](https://evil.example/a) `", "<img src=https://evil.example/a>", "www.evil.example",
                  ":red[https://evil.example]", "line\n\n[x](https://evil.example)"]:
        rendered = MarkdownIt("commonmark").render(f"The link asks for “{md(value)}”.")
        assert "<a " not in rendered and "<img" not in rendered and rendered.count("<code>") == 1, rendered
    assert len(md("x" * 5000)) < 100


def _all_text(at) -> str:
    return "\n".join(_shown_markdown(at))


@pytest.mark.parametrize("role", ["monitor", "leadership"])
def test_the_database_path_is_shown_to_analysts_only(app_db, monkeypatch, role):
    at = run_app({"period": "2023-07"})
    assert str(app_db) in _all_text(at)
    monkeypatch.setenv("APP_ROLE", role)
    at = run_app({"period": "2023-07"})
    assert str(app_db) not in _all_text(at) and str(app_db.parent) not in _all_text(at)
    assert "updated" in "\n".join(str(c.value) for c in at.sidebar.caption)
    if role == "leadership":
        at.switch_page("pages/data_quality.py").run()
        assert not at.exception and str(app_db.parent) not in _all_text(at)


def test_a_missing_database_does_not_show_its_path_to_a_monitor(tmp_path, monkeypatch):
    monkeypatch.setenv("APP_DB", str(tmp_path / "secret" / "app.duckdb"))
    monkeypatch.setenv("APP_ROLE", "monitor")
    at = run_app()
    assert "secret" not in _all_text(at) and "No data yet." in _all_text(at)
