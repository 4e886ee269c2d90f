"""The board pack: one self-contained HTML document (print CSS, A4) for a month's review meeting, made for a role.

A cover (plan, month, area, data as-at date, who it is for, the suppression note); what is for discussion first
(off track, special-cause concern, actions overdue); one summary table of every plan KPI (value, trajectory,
status, change since the last meeting, variation and assurance, forecast); for each plan KPI its trajectory chart
over the plan window with the target, its commentary and actions; the definitions in an appendix. Figures come
from the role's series (kpi.access.roles.series_for_role, as ``kpi series --role`` and the pages show them), so a
leadership or monitor pack shows suppressed counts as "c". :func:`load_pack` reads the database and the notes
file; :func:`pack_html` is pure. kpi/views/pdf.py prints the HTML to PDF.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from html import escape
from pathlib import Path

import pandas as pd

from kpi import notes as meeting_notes
from kpi.access import roles
from kpi.access.suppress import SuppressionRule
from kpi.area_plans import NO_PLAN, PlanBook
from kpi.definitions import Catalogue, KpiDefinition
from kpi.views.board import board, sort_board
from kpi.views.changes import changes, meeting_as_of
from kpi.views.charts import (
    basis_text,
    format_basis,
    format_change,
    format_date,
    format_period,
    format_value,
    format_window,
    polarity_text,
    status_text,
    telling_decimals,
)
from kpi.views.icons import assurance_svg, variation_svg
from kpi.views.pack_chart import trajectory_svg
from kpi.views.palette import SERIES, STATUS

CONCERN = ("concern_high", "concern_low")
ROLE_READERS = {"leadership": "Leadership team", "monitor": "Monitoring partners (DfE, NHS England)",
                "analyst": "Analysts (exact figures)"}


@dataclass(frozen=True)
class Pack:
    """Everything a pack shows: one area's series as the role sees it, the month, the notes and the changes."""

    catalogue: Catalogue
    series: pd.DataFrame
    period: str
    role: str
    area_code: str
    area_name: str
    as_at: str | None  # ISO date of the newest extract
    notes: pd.DataFrame  # kpi.notes.list_notes: the current version of each note
    suppression: SuppressionRule | None  # None: the role sees exact figures
    since: str | None = None
    changes: pd.DataFrame | None = None  # kpi.views.changes.changes, when ``since`` is given
    on: date = field(default_factory=date.today)  # the meeting's day: actions due before it are overdue
    planned: bool = True  # False: the area has no plan, so its figures are shown without status (NO_PLAN)

    @property
    def plan_name(self) -> str:
        """The plan the month is judged against, or :data:`kpi.area_plans.NO_PLAN`."""
        return self.catalogue.plan_window.name if self.planned else NO_PLAN

    @property
    def kpis(self) -> list[KpiDefinition]:
        """The KPIs the pack reports: the plan's, or every KPI for an area without a plan."""
        return [k for k in self.catalogue.kpis if k.plan is not None or not self.planned]


def load_pack(db_path: Path | str, catalogue: Catalogue, config: roles.AccessConfig, period: str, role: str,
              area: str | None = None, since: str | None = None, on: date | None = None,
              plans: PlanBook | None = None) -> Pack:
    """A :class:`Pack` from the database and its notes file: ``area`` (an ONS code; default the home area, else the
    first area loaded), its series as ``role`` sees it, and with ``since`` the changes since that meeting, "then"
    being the series as it stood at the last day of that month, suppressed for the role alike. With ``plans``
    (kpi/area_plans.py) the area is judged against its own plan in force each month, and an area without a plan
    gets its figures without status; without, against the catalogue's plan."""
    from kpi.engine import area as areas
    from kpi.engine.series import kpi_series, open_readonly

    con = open_readonly(db_path)
    try:
        if area is None:
            codes = [code for code, _ in areas.loaded_areas(con)]
            try:
                home = areas.load().area_code
            except areas.AreaConfigError:
                home = None
            area = areas.default_area(codes, home)
        if area is None:
            raise ValueError(f"{db_path} holds no case records: load data with `python -m etl load` first")
        as_at, _ = areas.data_as_at(con, area)
        exact = kpi_series(con, catalogue, None, [area], plans=plans)
        then = kpi_series(con, catalogue, None, [area], meeting_as_of(since), plans=plans) if since else None
    finally:
        con.close()
    shown = roles.series_for_role(exact, catalogue, role, config)
    notes = meeting_notes.list_notes(db_path, area_code=area)
    day = on or date.today()
    moved = None
    if then is not None:
        moved = changes(shown, roles.series_for_role(then, catalogue, role, config), catalogue, period, since,
                        notes, day, plans)
    rule = None if roles.exact_figures(role, config.roles) else config.suppression
    own = catalogue if plans is None else plans.catalogue_for(area, period)
    return Pack(own, shown, period, role, area, areas.area_name(area), as_at, notes, rule, since, moved, day,
                plans is None or plans.has_plan(area))


# --- what goes in ----------------------------------------------------------------------------------------------

def overdue_actions(pack: Pack) -> pd.DataFrame:
    """Open actions due before the meeting's day, of any month up to the pack's."""
    notes = pack.notes[pack.notes["period"] <= pack.period] if len(pack.notes) else pack.notes
    if notes.empty:
        return notes.assign(overdue=pd.Series(dtype=bool))
    due = meeting_notes.due_actions(notes, pack.on)
    return due[due["overdue"]]


def exception_reasons(row, overdue: pd.DataFrame) -> list[str]:
    """Why a KPI is for discussion: off track, a special-cause concern, actions overdue (none: not an exception)."""
    reasons = []
    if row.status == "off_track":
        reasons.append("Off track")
    if row.variation in CONCERN:
        reasons.append("Special cause: concern")
    late = int((overdue["kpi_id"] == row.kpi_id).sum()) if len(overdue) else 0
    if late:
        reasons.append(f"{late} action{'s' if late > 1 else ''} overdue")
    return reasons


def plan_rows(pack: Pack) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """The board of the plan KPIs (every KPI, unjudged, for an area without a plan), exceptions first (worst status
    first), then the rest in plan order; and each exception's reasons."""
    plan_ids = [k.id for k in pack.kpis]
    rows = board(pack.series, pack.catalogue, pack.period)
    rows = rows[rows["kpi_id"].isin(plan_ids)]
    overdue = overdue_actions(pack)
    reasons = {r.kpi_id: exception_reasons(r, overdue) for r in rows.itertuples()}
    worst = sort_board(rows, pack.catalogue, "status")
    first = worst[worst["kpi_id"].map(lambda k: bool(reasons[k]))]
    rest = rows[~rows["kpi_id"].isin(first["kpi_id"])]
    return pd.concat([first, rest]), {k: v for k, v in reasons.items() if v}


def suppression_note(pack: Pack) -> str:
    """The cover's sentence on small numbers, for the role the pack is for."""
    if pack.suppression is None:
        return ("Exact figures: this pack is for the analysts' team and must not leave it. Small numbers are not "
                "suppressed.")
    rule = pack.suppression
    return (f"Figures about {rule.min_count} to {rule.max_count} children are suppressed and shown as “c”, with "
            "any figure that would let them be worked out (a rate, its status, a 12-month value). Zero is shown. "
            "These are the figures this role sees on screen.")


# --- HTML ------------------------------------------------------------------------------------------------------

def _e(text) -> str:
    return escape("" if text is None else str(text))


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _value(row, kpi: KpiDefinition) -> str:
    """The judged figure, at the decimals that tell it from its trajectory (charts.telling_decimals)."""
    return format_value(row.value, kpi.unit, telling_decimals(row.value, row.trajectory, kpi.decimals),
                        suppressed=row.status == "suppressed")


def _planned(value, kpi: KpiDefinition) -> str:
    return format_value(value, kpi.unit, kpi.decimals)


def _trajectory(row, kpi: KpiDefinition) -> str:
    return format_value(row.trajectory, kpi.unit, telling_decimals(row.value, row.trajectory, kpi.decimals))


def _status(row) -> str:
    judged = row.status if isinstance(row.status, str) else row.unjudged
    return status_text(judged if isinstance(judged, str) else None)


def _change_cell(pack: Pack, row, kpi: KpiDefinition) -> str:
    """Since the last meeting (``since``): status then → now and a revised figure; else since last month."""
    if pack.changes is None:
        change = format_change(row.change, kpi.unit, kpi.decimals, kpi.polarity)
        return _e(change) + "<br><small>since last month</small>"
    found = pack.changes[pack.changes["kpi_id"] == row.kpi_id]
    if found.empty:
        return "–"
    c = found.iloc[0]
    if not c["then_known"]:  # no extract dated by the last meeting: claim no move and no status then
        return f"{_e(_status(row))}<br><small>{_e(format_period(pack.since))} as presented: not known</small>"
    then = status_text(c["status_then"]) if isinstance(c["status_then"], str) else "–"
    if c["status_change"] == "unchanged":
        text = f"Unchanged<br><small>{_e(then)} then</small>"
    else:
        text = f"{_e(then)} → {_e(_status(row))}"
        text += f"<br><small>{_e(c['status_change'])}</small>" if c["status_change"] else ""
    if c["revised"]:
        text += (f"<br><small>{_e(format_period(pack.since))} revised: "
                 f"{_e(format_value(c['value_then'], kpi.unit, kpi.decimals))} → "
                 f"{_e(format_value(c['since_value_now'], kpi.unit, kpi.decimals))}</small>")
    return text


def _forecast(row, joint: str = "<br>") -> str:
    note = f"{joint}<small>{_e(row.forecast_note)}</small>" if isinstance(row.forecast_note, str) else ""
    return _e(row.forecast_label) + note


def summarised(pack: Pack) -> str:
    """What the summary table holds: every plan KPI, or, for an area without a plan, every KPI without status."""
    return "every plan KPI" if pack.planned else "every KPI, without status"


def cover(pack: Pack, exceptions: int) -> str:
    cat = pack.catalogue
    as_at = f"Data as at {format_date(pack.as_at)}" if pack.as_at else "Data as-at date not recorded"
    since = (f"<p>Changes are since the meeting on {_e(format_period(pack.since))}.</p>" if pack.since else
             "<p>Changes are since last month (no earlier meeting given).</p>")
    return f"""<section class="cover">
<p class="kicker">Board pack · {_e(pack.plan_name)}</p>
<h1>{_e(format_period(pack.period))}</h1>
<p class="area">{_e(pack.area_name)} <span class="code">({_e(pack.area_code)})</span></p>
<dl>
<dt>Plan window</dt><dd>{_e(format_window(cat.plan_window) if pack.planned else NO_PLAN)}</dd>
<dt>Data</dt><dd>{_e(as_at)}</dd>
<dt>Prepared for</dt><dd>{_e(ROLE_READERS[pack.role])} (role: {_e(pack.role)})</dd>
<dt>Meeting day</dt><dd>{_e(format_date(pack.on.isoformat()))}</dd>
<dt>For discussion</dt><dd>{exceptions} of {len(pack.kpis)} {"plan " if pack.planned else ""}KPIs</dd>
</dl>
<p class="note"><strong>Small numbers.</strong> {_e(suppression_note(pack))}</p>
{since}
<p>Contents: for discussion; summary of {summarised(pack)}; one page per KPI (trajectory, commentary and actions);
appendix: definitions.</p>
</section>"""


def discussion(pack: Pack, rows: pd.DataFrame, reasons: dict[str, list[str]]) -> str:
    """The exceptions: each KPI with why it is for discussion, its figure against the trajectory."""
    if not reasons:
        return ('<section class="discussion"><h2>For discussion</h2><p>No plan KPI is off track, shows a '
                "special-cause concern or has an action overdue.</p></section>")
    items = []
    for r in rows[rows["kpi_id"].isin(reasons)].itertuples():
        kpi = pack.catalogue.get(r.kpi_id)
        items.append(f"<li><strong>{_e(kpi.short_name)}</strong>: {_e('; '.join(reasons[r.kpi_id]))}. "
                     f"{_e(_value(r, kpi))} against a trajectory of "
                     f"{_e(_trajectory(r, kpi))} ({_e(_status(r))}).</li>")
    return f'<section class="discussion"><h2>For discussion</h2><ul>{"".join(items)}</ul></section>'


COLUMN_WIDTHS = "<colgroup>" + "".join(f'<col style="width:{w}%">' for w in (22, 11, 9, 12, 14, 18, 14)) + \
    "</colgroup>"


def summary_table(pack: Pack, rows: pd.DataFrame, reasons: dict[str, list[str]]) -> str:
    since = f"Since {format_period(pack.since)}" if pack.since else "Change"
    head = ("<tr><th>KPI</th><th>Value</th><th>Trajectory</th><th>Status</th>"
            f"<th>{_e(since)}</th><th>Variation and assurance</th><th>Forecast for the target</th></tr>")
    body = []
    for r in rows.itertuples():
        kpi = pack.catalogue.get(r.kpi_id)
        flag = ' class="exception"' if r.kpi_id in reasons else ""
        basis = "12 months to the month" if kpi.basis == "rolling_12m" else "the month"
        body.append(
            f"<tr{flag}><td><strong>{_e(kpi.short_name)}</strong>"
            + (f"<br><small>For discussion: {_e('; '.join(reasons[r.kpi_id]))}</small>" if r.kpi_id in reasons
               else "")
            + f"</td><td class='num'>{_e(_value(r, kpi))}<br><small>{_e(basis)}</small></td>"
            f"<td class='num'>{_e(_trajectory(r, kpi))}</td>"
            f"<td>{_e(_status(r))}</td><td>{_change_cell(pack, r, kpi)}</td>"
            f"<td><span class='icons'>{variation_svg(r.variation, 22)}{assurance_svg(r.assurance, 22)}</span>"
            f"<small>{_e(r.variation_label)}.<br>{_e(r.assurance_label)}.</small></td>"
            f"<td>{_forecast(r)}</td></tr>")
    return (f'<section class="summary"><h2>Summary: {summarised(pack)}, {_e(format_period(pack.period))}</h2>'
            f'<table class="board">{COLUMN_WIDTHS}<thead>{head}</thead><tbody>{"".join(body)}</tbody></table>'
            "<p class='small'>Status compares the judged figure with the plan's trajectory for the month: ✔ On track, "
            "◐ Within tolerance, ✖ Off track, – No data, ⊘ Suppressed, ≈ Too few to judge. Variation and assurance "
            "follow NHS England's Making Data Count rules; the forecast is a straight line through the last 12 "
            "months with an 80% prediction interval.</p></section>")


def _key(symbol: str, colour: str, words: str) -> str:
    """One legend entry: the symbol in its colour, the words in the text colour (readable whatever the colour)."""
    return f'<span><span style="color:{colour}">{symbol}</span> {words}</span>'


LEGEND = ('<p class="legend">' + " ".join([
    _key("━", SERIES["area"], "judged figure"), _key("╍", SERIES["plan"], "trajectory (plan)"),
    _key("┈ ★", SERIES["plan"], "target, target month"), _key("●", STATUS["on_track"], "on track"),
    _key("◆", STATUS["within_tolerance"], "within tolerance"), _key("✖", STATUS["off_track"], "off track")])
    + " · shaded: APP monitoring window · dash-dot line: this pack's month · gaps: suppressed or no value</p>")


def _notes_html(pack: Pack, kpi_id: str) -> str:
    """The month's narrative and the KPI's actions: the month's, and earlier months' still open."""
    notes = pack.notes[pack.notes["kpi_id"] == kpi_id] if len(pack.notes) else pack.notes
    narrative = notes[(notes["kind"] == meeting_notes.NARRATIVE) & (notes["period"] == pack.period)] \
        if len(notes) else notes
    out = ["<h3>Commentary</h3>"]
    if len(narrative):
        for n in narrative.itertuples():
            out.append(f'<blockquote>{_e(n.text)}<footer>{_e(n.author)}, '
                       f'{_e(format_date(pd.Timestamp(n.written_at).date().isoformat()))}</footer></blockquote>')
    else:
        out.append(f'<p class="none">No commentary written for {_e(format_period(pack.period))}.</p>')
    actions = notes[(notes["kind"] == meeting_notes.ACTION) & ((notes["period"] == pack.period) | (
        (notes["status"] == meeting_notes.OPEN) & (notes["period"] < pack.period)))] if len(notes) else notes
    out.append("<h3>Actions</h3>")
    if actions.empty:
        out.append('<p class="none">No actions.</p>')
        return "".join(out)
    rows = []
    for a in actions.itertuples():
        late = a.status == meeting_notes.OPEN and a.due is not None and a.due < pack.on
        status = "Overdue" if late else a.status.capitalize()
        flag = ' class="exception"' if late else ""
        rows.append(f"<tr{flag}><td>{_e(a.text)}"
                    + (f"<br><small>from {_e(format_period(a.period))}</small>" if a.period != pack.period else "")
                    + f"</td><td>{_e(a.owner)}</td><td>{_e(format_date(a.due.isoformat()) if a.due else '–')}</td>"
                    f"<td>{_e(status)}</td></tr>")
    out.append('<table class="actions"><thead><tr><th>Action</th><th>Owner</th><th>Due</th><th>Status</th></tr>'
               f'</thead><tbody>{"".join(rows)}</tbody></table>')
    return "".join(out)


def kpi_section(pack: Pack, row, reasons: list[str] | None) -> str:
    kpi = pack.catalogue.get(row.kpi_id)
    target = kpi.plan.target if kpi.plan else None
    by = f"by {format_period(target.period)}" if target else NO_PLAN
    rows = pack.series[pack.series["kpi_id"] == kpi.id].sort_values("period")
    chart = (trajectory_svg(rows, kpi, pack.catalogue.plan_window, pack.period) + "\n" + LEGEND if pack.planned
             else f'<p class="none">{_e(NO_PLAN)}.</p>')
    hidden = row.status == "suppressed"
    made_of = format_basis(row.numerator, row.denominator, kpi.unit, suppressed=hidden)
    flag = f'<p class="flag">For discussion: {_e("; ".join(reasons))}</p>' if reasons else ""
    return f"""<section class="kpi" id="kpi-{_e(kpi.id)}">
<p class="kicker">{_e(pack.catalogue.area_name(kpi.app_area))}</p>
<h2>{_e(kpi.name)}</h2>
{flag}
<div class="figures">
<div><span class="label">{_e(format_period(pack.period))}</span><span class="big">{_e(_value(row, kpi))}</span>
<small>{_e(made_of)}</small></div>
<div><span class="label">Trajectory</span><span class="big">{_e(_trajectory(row, kpi))}</span></div>
<div><span class="label">Status</span><span class="big">{_e(_status(row))}</span></div>
<div><span class="label">Target</span><span class="big">{_e(_planned(target.value if target else None, kpi))}</span>
<small>{_e(by)}</small></div>
</div>
<p class="small">{_e(polarity_text(kpi.polarity))}. Judged on {_e(basis_text(kpi))}.
Variation: {_e(row.variation_label)}. Assurance: {_e(row.assurance_label)}. Forecast: {_forecast(row, ': ')}.</p>
{chart}
<p class="sentence">{_e(row.sentence)}</p>
{_notes_html(pack, kpi.id)}
</section>"""


def appendix(pack: Pack) -> str:
    items = []
    for kpi in pack.kpis:
        p = kpi.plan
        plan = (f"Baseline {_e(_planned(p.baseline.value, kpi))} ({_e(format_period(p.baseline.period))}); target "
                f"{_e(_planned(p.target.value, kpi))} by {_e(format_period(p.target.period))} ({_e(p.target.source)})"
                if p else _e(NO_PLAN))
        items.append(
            f"<div class='definition'><h3>{_e(kpi.name)}</h3><p>{_e(kpi.description)}</p><dl>"
            f"<dt>Better</dt><dd>{_e(polarity_text(kpi.polarity))}</dd>"
            f"<dt>Plan</dt><dd>{plan}</dd>"
            f"<dt>Statutory basis</dt><dd>{_e(kpi.statutory_basis)}</dd><dt>Source</dt><dd>{_e(kpi.source)}</dd>"
            f"<dt>Owner</dt><dd>{_e(kpi.owner)}</dd></dl></div>")
    return f'<section class="appendix"><h2>Appendix: definitions</h2>{"".join(items)}</section>'


CSS = """
@page { size: A4; margin: 14mm 13mm 16mm 13mm;
  @bottom-left { content: FOOTER; font: 8pt Arial, sans-serif; color: #505a5f; }
  @bottom-right { content: "Page " counter(page) " of " counter(pages); font: 8pt Arial, sans-serif; color: #505a5f; } }
@page :first { @bottom-left { content: none; } }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font: 10pt/1.4 Arial, Helvetica, sans-serif; color: #0b0c0c; margin: 0; }
@media screen { body { max-width: 190mm; margin: 0 auto; padding: 10mm 0; }
  section + section { border-top: 2px solid #b1b4b6; margin-top: 10mm; padding-top: 6mm; } }
h1 { font-size: 30pt; margin: 2mm 0 4mm; color: #12436D; }
h2 { font-size: 15pt; margin: 0 0 3mm; color: #12436D; }
h3 { font-size: 11pt; margin: 4mm 0 1.5mm; }
small, .small { font-size: 8pt; color: #3d3d3d; }
.kicker { text-transform: uppercase; letter-spacing: .04em; font-size: 9pt; color: #505a5f; margin: 0; }
.cover { padding-top: 40mm; }
.cover .area { font-size: 16pt; margin: 0 0 8mm; }
.cover .code { color: #505a5f; font-size: 11pt; }
.cover dl, .definition dl { display: grid; grid-template-columns: 32mm 1fr; gap: 1.5mm 4mm; margin: 0 0 6mm; }
dt { font-weight: bold; } dd { margin: 0; }
.note { border-left: 4px solid #12436D; padding: 2mm 4mm; background: #f3f2f1; }
.discussion { break-before: page; }
.discussion li { margin-bottom: 1.5mm; }
.summary { margin-top: 8mm; }
table { border-collapse: collapse; width: 100%; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
th, td { text-align: left; vertical-align: top; padding: 1.6mm 1.5mm; border-bottom: 1px solid #b1b4b6; }
th { font-size: 8.5pt; border-bottom: 2px solid #0b0c0c; }
table.board { font-size: 8.5pt; table-layout: fixed; }
td.num { white-space: nowrap; }
tr.exception td:first-child { border-left: 4px solid #801650; padding-left: 2mm; }
.icons { display: block; white-space: nowrap; } .icons svg { margin-right: 1mm; vertical-align: middle; }
.kpi { break-before: page; }
.flag { color: #801650; font-weight: bold; margin: 0 0 2mm; }
.figures { display: flex; gap: 4mm; margin: 2mm 0 2mm; }
.figures div { flex: 1; border-top: 3px solid #12436D; padding-top: 1mm; }
.label { display: block; font-size: 8pt; color: #505a5f; }
.big { display: block; font-size: 13pt; font-weight: bold; }
svg.chart { width: 100%; height: auto; display: block; margin-top: 2mm; }
.legend { font-size: 8pt; margin: 1mm 0 2mm; } .legend span { margin-right: 2.5mm; white-space: nowrap; }
.sentence { font-style: italic; }
blockquote { margin: 0 0 2mm; padding: 1.5mm 4mm; border-left: 4px solid #28A197; background: #f3f2f1; }
blockquote footer { font-size: 8pt; color: #505a5f; margin-top: 1mm; }
.none { color: #505a5f; }
table.actions { font-size: 9pt; }
.appendix { break-before: page; }
.definition { break-inside: avoid; margin-bottom: 4mm; }
.definition dl { font-size: 9pt; }
"""


def pack_html(pack: Pack) -> str:
    """The whole pack as one HTML document (no external files: fonts, charts and icons inline)."""
    rows, reasons = plan_rows(pack)
    footer = (f"{pack.plan_name} · {format_period(pack.period)} · {pack.area_name} · "
              f"for {pack.role}")
    sections = [cover(pack, len(reasons)), discussion(pack, rows, reasons), summary_table(pack, rows, reasons)]
    sections += [kpi_section(pack, r, reasons.get(r.kpi_id)) for r in rows.itertuples()]
    sections.append(appendix(pack))
    title = f"Board pack: {format_period(pack.period)}, {pack.area_name}"
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<style>{CSS.replace('FOOTER', _css_string(footer))}</style></head>"
            f"<body>{''.join(sections)}</body></html>\n")
