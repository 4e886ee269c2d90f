"""The board pack (kpi/views/pack.py, pack_chart.py, pdf.py; python -m kpi pack) on the small extract of
tests/support/app.py in July 2023: 12 of 26 plans within 20 weeks over the 12 months (46.2%), each month 1 of 2,
so a monitor sees "c"; a narrative for July and an action from June overdue at the meeting of 10 August 2023.
The HTML is checked without a browser; the PDF (Chromium) is read back with pypdf, text and page count."""

from __future__ import annotations

import dataclasses
import io
import re
from datetime import date

import pandas as pd
import pytest

from etl.load import load_paths
from kpi import definitions, notes
from kpi.__main__ import main as kpi_main
from kpi.access import audit, roles
from kpi.views import pdf
from kpi.views.pack import load_pack, pack_html
from tests.support.app import plan_extract

AREA, KPI, PERIOD = "E06000056", "ehcp_20wk_excl", "2023-07"
MEETING = date(2023, 8, 10)
NARRATIVE = "EP advice is late; agency EPs start in August."
ACTION = "Recruit two agency EPs"


@pytest.fixture(autouse=True)
def _own_files(monkeypatch):
    for var in (notes.ENV_VAR, audit.ENV_VAR, roles.ENV_VAR, roles.ROLE_ENV_VAR, pdf.ENV_VAR):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    """The extract loaded once, with July's narrative and an action from June due on 20 July."""
    folder = tmp_path_factory.mktemp("pack")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("APP_PSEUDONYM_KEY", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")
        for var in (notes.ENV_VAR, audit.ENV_VAR):
            mp.delenv(var, raising=False)
        load_paths([plan_extract().write(folder / "extract")], folder / "app.duckdb")
        writer = dict(area_code=AREA, kpi_id=KPI, author="chair@council.gov.uk", role="leadership")
        notes.add_narrative(folder / "app.duckdb", period=PERIOD, text=NARRATIVE, **writer)
        notes.add_action(folder / "app.duckdb", period="2023-06", text=ACTION, owner="Head of SEND",
                         due=date(2023, 7, 20), **writer)
    return folder / "app.duckdb"


@pytest.fixture(scope="module")
def catalogue():
    return definitions.load()


def _html(db, catalogue, role: str, since: str | None = "2023-06") -> str:
    config = roles.load(catalogue=catalogue)
    return pack_html(load_pack(db, catalogue, config, PERIOD, role, since=since, on=MEETING))


def _text(html: str) -> str:
    """The HTML's words, one space apart (no space left before punctuation where a tag ended)."""
    return re.sub(r" ([:.,;])", r"\1", re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def _section(html: str, kpi_id: str) -> str:
    start = html.index(f'id="kpi-{kpi_id}"')
    return _text(html[start:html.index("</section>", start)])


def test_the_html_has_a_cover_the_exceptions_first_and_a_page_per_plan_kpi(db, catalogue):
    html = _html(db, catalogue, "leadership")
    text = _text(html)
    plan = [k for k in catalogue.kpis if k.plan is not None]
    assert "<svg" in html and "<img" not in html and "http" not in html.replace("http://www.w3.org/2000/svg", "")
    for words in ("Board pack", "July 2023", "Central Bedfordshire", "Data as at 5 October 2023",
                  "Prepared for Leadership team (role: leadership)", "shown as “c”",
                  "Changes are since the meeting on June 2023"):
        assert words in text, words
    assert html.count('<section class="kpi"') == len(plan) and html.count('class="chart"') == len(plan)
    # For discussion: the overdue action puts the 20-week KPI among the exceptions, first in the table and pages
    assert "EHCPs within 20 weeks (excl. exceptions): 1 action overdue" in text
    board = html[html.index('<table class="board">'):html.index("</table>")]
    assert all(k.short_name in _text(board) for k in plan)
    assert 1 <= board.count('<tr class="exception">') < len(plan)
    assert board.rindex('<tr class="exception">') < board.index("<tr><td>")  # every exception before the rest
    first_page = html.index('<section class="kpi"')
    assert 'class="flag"' in html[first_page:html.index('<section class="kpi"', first_page + 1)]
    # its page: the commentary and the June action, overdue at the meeting
    page = _section(html, KPI)
    assert NARRATIVE in page and "chair@council.gov.uk" in page
    assert f"{ACTION} from June 2023 Head of SEND 20 July 2023 Overdue" in page
    assert "Appendix: definitions" in text and plan[0].statutory_basis in text


def test_figures_are_exact_for_analysts_and_suppressed_for_monitors(db, catalogue):
    analyst = _section(_html(db, catalogue, "analyst"), KPI)
    assert "July 2023 46.2% 12 of 26 Trajectory 30.0% Status ✔ On track Target 49.2%" in analyst
    monitor_html = _html(db, catalogue, "monitor")
    monitor = _section(monitor_html, KPI)
    assert "July 2023 c c of c Trajectory 30.0% Status ⊘ Suppressed" in monitor
    assert "46.2%" not in monitor_html and "12 of 26" not in monitor_html
    assert "Monitoring partners (DfE, NHS England) (role: monitor)" in _text(monitor_html)
    assert "Exact figures" in _text(_html(db, catalogue, "analyst"))


def test_without_since_the_change_is_since_last_month(db, catalogue):
    text = _text(_html(db, catalogue, "analyst", since=None))
    assert "Changes are since last month" in text and "since last month" in text
    assert "Unchanged" not in text


def test_a_last_meeting_no_extract_covered_is_said_unknown_never_unchanged(db, catalogue):
    """Where no extract dated by the last meeting covered its month (kpi.views.changes: then_known false), no KPI
    reads 'Unchanged' or '– → …' as if it had moved from nothing: the pack says the month as presented is not
    known."""
    config = roles.load(catalogue=catalogue)
    pack = load_pack(db, catalogue, config, PERIOD, "analyst", since="2023-06", on=MEETING)
    assert pack.changes["then_known"].all()  # this extract covers June: the usual comparison
    unknown = dataclasses.replace(pack, changes=pack.changes.assign(then_known=False))
    html = pack_html(unknown)
    table = _text(html[html.index('<table class="board">'):html.index("</table>")])
    planned = sum(k.plan is not None for k in catalogue.kpis)
    assert table.count("June 2023 as presented: not known") == planned
    assert "Unchanged" not in table and "– →" not in table
    assert "Unchanged" in _text(pack_html(pack))


def test_the_chart_spans_the_plan_window_with_the_target(db, catalogue):
    from kpi.views.pack_chart import chart_months, trajectory_svg

    kpi = catalogue.get(KPI)
    months = chart_months(kpi, catalogue.plan_window)
    assert months[0] == "2022-08" and months[-1] == max(catalogue.plan_window.end, kpi.plan.target.period)
    svg = trajectory_svg(pd.DataFrame(columns=["period", "value", "rolling_12m", "status"]),
                         kpi, catalogue.plan_window, PERIOD)
    assert svg.startswith("<svg") and "APP monitoring window" in svg and "★" in svg
    assert "Jan 2024" in svg  # the target month is labelled, not cut off
    from kpi.views.pack import LEGEND
    from kpi.views.palette import SERIES, STATUS

    # One colour, one meaning, as on screen: the plan's colour draws the trajectory and target, status colours
    # only mark statuses.
    assert f'stroke="{SERIES["plan"]}" stroke-width="2" stroke-dasharray' in svg
    assert all(colour not in svg for colour in STATUS.values())  # no status in this empty series: none drawn
    # The judged figure stops at the pack's month, as the KPI page's chart does.
    rows = pd.DataFrame({"period": months, kpi.basis_column: 50.0, "status": "on_track"})
    drawn = trajectory_svg(rows, kpi, catalogue.plan_window, PERIOD)
    assert drawn.count(f'fill="{STATUS["on_track"]}"') == sum(m <= PERIOD for m in months)
    assert f'color:{STATUS["within_tolerance"]}">◆</span> within tolerance' in LEGEND


def _run(capsys, *args: str) -> tuple[int, str, str]:
    try:
        code = kpi_main(list(args))
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_writes_html(db, tmp_path, capsys):
    out = tmp_path / "pack.html"
    code, said, _ = _run(capsys, "pack", "--db", str(db), "--period", PERIOD, "--out", str(out), "--role",
                         "monitor", "--since", "2023-06", "--on", "2023-08-10")
    assert code == 0 and str(out) in said
    assert "Monitoring partners" in out.read_text() and "46.2%" not in out.read_text()


@pytest.mark.parametrize(("args", "reason"), [
    (["--out", "pack.docx"], "name a .pdf or an .html file"),
    (["--out", "pack.html", "--since", "2023-08"], "must be a month before"),
    (["--out", "pack.html", "--area", "Nowhere at all"], "Nowhere at all"),
])
def test_cli_bad_input_exits_2_with_one_line(db, tmp_path, capsys, monkeypatch, args, reason):
    monkeypatch.chdir(tmp_path)
    code, _, err = _run(capsys, "pack", "--db", str(db), "--period", PERIOD, *args)
    assert code == 2 and reason in err and len(err.strip().splitlines()) == 1


def test_cli_says_how_to_install_chromium_when_it_is_missing(db, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(pdf.ENV_VAR, str(tmp_path / "no-such-browser"))
    code, _, err = _run(capsys, "pack", "--db", str(db), "--period", PERIOD, "--out", str(tmp_path / "p.pdf"))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "make browser" in err and "apt-get install chromium" in err
    assert not (tmp_path / "p.pdf").exists()


@pytest.mark.browser
def test_the_pdf_reads_back_cover_table_suppression_and_one_page_per_kpi(db, catalogue, tmp_path, capsys):
    from pypdf import PdfReader

    out = tmp_path / "pack.pdf"
    code, _, err = _run(capsys, "pack", "--db", str(db), "--period", PERIOD, "--out", str(out), "--role",
                        "monitor", "--since", "2023-06", "--on", "2023-08-10")
    assert code == 0, err
    reader = PdfReader(out)
    pages = [re.sub(r"\s+", " ", p.extract_text()) for p in reader.pages]
    plan = [k for k in catalogue.kpis if k.plan is not None]
    assert all(abs(float(p.mediabox.width) - 595) < 2 and abs(float(p.mediabox.height) - 842) < 2
               for p in reader.pages)  # A4 portrait
    assert "July 2023" in pages[0] and "Central Bedfordshire" in pages[0] and "role: monitor" in pages[0]
    assert "Data as at 5 October 2023" in pages[0] and "“c”" in pages[0]
    assert "For discussion" in pages[1] and "Summary: every plan KPI, July 2023" in pages[1]
    whole = " ".join(pages)
    assert all(k.short_name.split(" (")[0] in whole for k in plan)
    # one page per plan KPI, each whole (its name, figures, chart legend and commentary on the same page)
    for kpi in plan:
        own = [p for p in pages if kpi.name in p and "Commentary" in p and "judged figure" in p]
        assert len(own) == 1, kpi.id
    mine = next(p for p in pages if catalogue.get(KPI).name in p and "Commentary" in p)
    assert "July 2023 c c of c" in mine and "⊘ Suppressed" in mine and NARRATIVE in mine
    assert "46.2%" not in whole
    # the page count: the cover, then the summary (at most 4 pages), one page per plan KPI, then the appendix
    kind = ["kpi" if "Commentary" in p else "appendix" if "Statutory basis" in p else "summary" for p in pages]
    summary, appendix = kind.count("summary") - 1, kind.count("appendix")  # the cover counts as neither
    assert kind == ["summary"] * (1 + summary) + ["kpi"] * len(plan) + ["appendix"] * appendix
    assert 1 <= summary <= 4 and 1 <= appendix <= 6
    assert f"Page {len(pages)} of {len(pages)}" in pages[-1] and "Page 1 of" in pages[0]


@pytest.mark.slow
def test_the_overview_offers_the_board_pack(app_db):
    from tests.support.app import run_app

    at = run_app({"period": PERIOD})
    pack = [b for b in at.get("download_button") if b.proto.label == "Download board pack (PDF)"]
    assert len(pack) == 1 and not pack[0].proto.disabled


@pytest.mark.browser
def test_the_pages_pack_is_a_pdf_of_the_figures_the_role_sees(app_db):
    from pypdf import PdfReader

    from pages import _data as data

    pdf_bytes = data.board_pack(AREA, "monitor", PERIOD)
    assert pdf_bytes.startswith(b"%PDF")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf_bytes)).pages)
    assert "role: monitor" in text and "46.2%" not in text
