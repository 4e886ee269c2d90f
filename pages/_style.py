"""The dashboard's look: the style sheet every run adds and the browser tab's title for each page.

The colours and sizes follow the GOV.UK palette at AA contrast; status is always written in words too, so a tint is
only a secondary cue. The classes (``kpi-label``, ``kpi-status``, ``kpi-tile`` …) are written by pages/_html.py and the
pages.
"""

from __future__ import annotations

import streamlit as st

from kpi.views.palette import status_css

APP_NAME = "APP KPI dashboard"

CSS = """
<style>
[data-testid="stMainBlockContainer"] {padding-top: 2.5rem;}
[data-testid="stMarkdownContainer"] p.kpi-label, [data-testid="stMarkdownContainer"] .kpi-name,
[data-testid="stMarkdownContainer"] p.kpi-big, [data-testid="stMarkdownContainer"] p.kpi-mid,
[data-testid="stMarkdownContainer"] p.kpi-note, [data-testid="stMarkdownContainer"] p.kpi-small {margin-bottom: 0;}
p.kpi-label {font-size: 0.8rem !important; color: #505A5F; margin: 0 0 0.1rem 0; text-transform: none;}
[data-testid="stMarkdownContainer"] h4.kpi-name {font-weight: 700; font-size: 1.02rem !important; line-height: 1.3;
    margin: 0; padding: 0; scroll-margin-top: 0; color: #0B0C0C;}
p.kpi-big {font-size: 1.5rem !important; font-weight: 700; line-height: 1.2; margin: 0; color: #0B0C0C;
           white-space: nowrap;}
p.kpi-mid {font-size: 1.15rem !important; font-weight: 600; line-height: 1.3; margin: 0; color: #0B0C0C;}
p.kpi-small {font-size: 1rem !important; font-weight: 700; line-height: 1.3; margin: 0; color: #0B0C0C;}
.kpi-unit {font-size: 0.8em; font-weight: 600;}
p.kpi-note {font-size: 0.85rem !important; color: #505A5F; line-height: 1.35; margin: 0.1rem 0 0 0;}
.kpi-status {display: inline-block; padding: 0.2rem 0.55rem; border-left: 5px solid #B1B4B6;
             background: #F3F2F1; color: #0B0C0C; font-weight: 700; font-size: 0.95rem; white-space: nowrap;}
.kpi-tile {border-left: 6px solid #B1B4B6; padding: 0.35rem 0.8rem; background: #F8F8F8;}
""" + status_css() + """
.kpi-tile .count {font-size: 2rem; font-weight: 700; line-height: 1.1;}
.kpi-tile .what {font-size: 1rem; font-weight: 600;}
.kpi-icon {display: flex; align-items: center; gap: 0.45rem; font-size: 0.85rem; line-height: 1.25;}
.kpi-icon img {flex: none;}
p.kpi-sentence {font-size: 0.92rem !important; color: #0B0C0C; line-height: 1.4; margin: 0;
                border-left: 3px solid #B1B4B6; padding-left: 0.6rem;}
[class*="st-key-kpi_"] [data-testid="stPageLink-NavLink"] * {white-space: normal !important; overflow: visible;
    text-overflow: clip; line-height: 1.35;}  /* the card's links name their KPI in full */
/* Code (st.code, fenced code in markdown) at AA contrast on its grey ground, wrapped rather than scrolled (a
   scrolling block is a keyboard trap for axe's scrollable-region-focusable); inline code at body-text contrast. */
[data-testid="stCode"] pre, [data-testid="stCode"] pre code {white-space: pre-wrap !important;
    overflow-wrap: anywhere; overflow: visible !important;}
[data-testid="stCode"] .token {color: #0B0C0C !important;}
[data-testid="stCode"] .token.keyword, [data-testid="stCode"] .token.function, [data-testid="stCode"] .token.builtin,
[data-testid="stCode"] .token.parameter, [data-testid="stCode"] .token.variable,
[data-testid="stCode"] .token.atrule {color: #1D70B8 !important;}
[data-testid="stCode"] .token.string, [data-testid="stCode"] .token.number, [data-testid="stCode"] .token.boolean,
[data-testid="stCode"] .token.attr-value {color: #00703C !important;}
[data-testid="stCode"] .token.comment {color: #505A5F !important;}
:not(pre) > code {color: #0B0C0C !important;}
.app-eyebrow {font-size: 0.85rem; letter-spacing: 0.04em; text-transform: uppercase; color: #505A5F; margin: 0;}
/* Phones: plotly's toolbar would cover the chart (zoom and pan are there on a wider screen). A KPI card reads in
   the order a chair needs it (name; value and status; trajectory, change and sparkline; the sentence; variation,
   assurance and forecast), its figures two or three to a row in smaller type, so that a card is about 380 px tall
   rather than 650 (tests/test_phone.py measures it); the status tiles three to a row, the headings smaller. */
@media (max-width: 640px) {
  .modebar-container {display: none !important;}
  [data-testid="stMain"] h1 {font-size: 1.75rem !important;}
  [data-testid="stMain"] h2 {font-size: 1.45rem !important;}
  [data-testid="stHorizontalBlock"]:has(.kpi-tile) {flex-flow: row wrap !important; gap: 0.4rem !important;}
  [data-testid="stHorizontalBlock"]:has(.kpi-tile) > [data-testid="stColumn"] {
    min-width: 0 !important; width: auto !important; flex: 1 1 30% !important;}
  .kpi-tile {padding: 0.2rem 0.5rem;}
  .kpi-tile .count {font-size: 1.4rem;}
  .kpi-tile .what {font-size: 0.85rem;}
  [class*="st-key-kpi_"] {gap: 0.55rem !important; padding: 0.7rem 0.75rem !important;}
  [class*="st-key-kpi_"] [data-testid="stHorizontalBlock"] {flex-flow: row wrap !important;
    gap: 0.4rem 0.7rem !important;}
  [class*="st-key-kpi_"] [data-testid="stHorizontalBlock"] > [data-testid="stColumn"] {
    min-width: 0 !important; width: auto !important; flex: 1 1 28% !important;}
  [class*="st-key-kpi_"] [data-testid="stColumn"] [data-testid="stVerticalBlock"] {gap: 0.2rem !important;}
  /* the first row: name and links; value | sparkline (plotly draws it at least 150 px wide); status | trajectory |
     since last month */
  [class*="st-key-kpi_"] > :nth-child(1) > [data-testid="stHorizontalBlock"] > :nth-child(1) {
    flex-basis: 100% !important;}
  [class*="st-key-kpi_"] > :nth-child(1) > [data-testid="stHorizontalBlock"] > :nth-child(2) {
    flex-basis: 40% !important; order: 1;}
  [class*="st-key-kpi_"] > :nth-child(1) > [data-testid="stHorizontalBlock"] > :nth-child(6) {
    flex-basis: 50% !important; order: 2;}
  [class*="st-key-kpi_"] > :nth-child(1) > [data-testid="stHorizontalBlock"] > :nth-child(4) {order: 3;}
  [class*="st-key-kpi_"] > :nth-child(1) > [data-testid="stHorizontalBlock"] > :nth-child(3) {order: 4;}
  [class*="st-key-kpi_"] > :nth-child(1) > [data-testid="stHorizontalBlock"] > :nth-child(5) {order: 5;}
  /* the second row: the sentence first, then variation | assurance | forecast */
  [class*="st-key-kpi_"] > :nth-child(2) > [data-testid="stHorizontalBlock"] > :nth-child(4) {
    flex-basis: 100% !important; order: -1;}
  [class*="st-key-kpi_"] h4.kpi-name {font-size: 1rem !important;}
  /* Streamlit pulls each markdown block up 1rem (for a paragraph's margin, which the card's paragraphs do not have) */
  [class*="st-key-kpi_"] [data-testid="stMarkdownContainer"] {margin-bottom: 0 !important;}
  [class*="st-key-kpi_"] [data-testid="stPageLink-NavLink"] * {font-size: 0.85rem !important;}
  [class*="st-key-kpi_"] p.kpi-big {font-size: 1.3rem !important;}
  [class*="st-key-kpi_"] p.kpi-mid, [class*="st-key-kpi_"] p.kpi-small {font-size: 0.95rem !important;}
  [class*="st-key-kpi_"] p.kpi-label, [class*="st-key-kpi_"] p.kpi-note,
  [class*="st-key-kpi_"] .kpi-icon {font-size: 0.75rem !important; line-height: 1.25;}
  [class*="st-key-kpi_"] .kpi-icon img {width: 24px; height: 24px;}
  [class*="st-key-kpi_"] .kpi-status {white-space: normal; font-size: 0.85rem;}
  [class*="st-key-kpi_"] p.kpi-sentence {font-size: 0.88rem !important;}
  /* Waiting lists: the month's five figures two to a row, apart, rather than one run-together column */
  .st-key-waits_now [data-testid="stHorizontalBlock"] {flex-flow: row wrap !important; gap: 0.8rem 1rem !important;}
  .st-key-waits_now [data-testid="stHorizontalBlock"] > [data-testid="stColumn"] {
    min-width: 0 !important; width: auto !important; flex: 1 1 40% !important;}
  .st-key-waits_now [data-testid="stMarkdownContainer"] {margin-bottom: 0 !important;}
}
/* A date field's day, month and year parts are its click targets: at least 24 px each (WCAG 2.2 2.5.8). */
[data-testid="stDateInput"] [role="spinbutton"] {display: inline-block; min-width: 24px; min-height: 24px;
  line-height: 24px; text-align: center;}
/* Print, every page: the content only (no sidebar, header toolbar, controls or chart toolbars), in the desktop's
   layout at 72% (the paper, A4 less its margins, is about 720 px: its 1000 px of layout hold the desktop's columns).
   Plotly drew each chart for the screen's width, whatever that was, and does not redraw for print: PRINT_FIT (below)
   gives each chart's drawing a viewBox while printing, and this style scales it to its column's width on paper, so
   a chart drawn in a 1000 px or a 1900 px window fits the paper alike (tests/test_print.py prints to PDF, checks).
*/
@media print {
  @page {size: A4; margin: 10mm;}
  [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"],
  [data-testid="stToolbar"], [data-testid="stDecoration"], [data-testid="stStatusWidget"],
  [data-testid="stSkipLink"], .modebar-container, [data-testid="stElementToolbar"],
  [data-testid="stSelectbox"], [data-testid="stMultiSelect"], [data-testid="stRadio"],
  [data-testid="stButtonGroup"], [data-testid="stCheckbox"], [data-testid="stToggle"],
  [data-testid="stDownloadButton"], [data-testid="stButton"], [data-testid="stFormSubmitButton"],
  [data-testid="stTextInput"], [data-testid="stTextArea"], [data-testid="stDateInput"],
  [data-testid="stNumberInput"], [data-testid="stSlider"], [data-testid="stPageLink"] {display: none !important;}
  html, body, [data-testid="stApp"], [data-testid="stAppViewContainer"], [data-testid="stMain"] {
    overflow: visible !important; height: auto !important; position: static !important;}
  [data-testid="stMain"] {zoom: 0.72;}
  /* Columns side by side, as on screen: Streamlit's own print style stacks any columns that hold a chart. */
  [data-testid="stHorizontalBlock"] {display: flex !important; flex-direction: row !important;
    flex-wrap: nowrap !important;}
  [data-testid="stHorizontalBlock"] > [data-testid="stColumn"] {min-width: 0 !important; width: auto !important;}
  [data-testid="stMainBlockContainer"] {padding: 0 !important; max-width: 100% !important; width: 100% !important;}
  [data-testid="stPlotlyChart"], [data-testid="stVerticalBlockBorderWrapper"] {break-inside: avoid;}
  [data-testid="stPlotlyChart"] {max-width: 100% !important; overflow: hidden !important;}
  .js-plotly-plot, .plot-container, .svg-container {max-width: 100% !important;}
  [data-testid="stPlotlyChart"]:has(svg.main-svg[viewBox]), .js-plotly-plot:has(svg.main-svg[viewBox]),
  .plot-container:has(svg.main-svg[viewBox]), .svg-container:has(svg.main-svg[viewBox]) {
    width: 100% !important; height: auto !important;}
  .svg-container {position: relative !important;}
  .svg-container > svg.main-svg[viewBox] {width: 100% !important; height: auto !important;}
  .svg-container > svg.main-svg[viewBox]:first-child {position: relative !important;}
}
</style>
"""

# While printing, each plotly chart's SVG layers get a viewBox of their drawn size (and lose it afterwards), so that
# the print style above can scale them to the paper; on screen plotly keeps sizing them itself. Our own fixed script:
# app.py adds it with the style sheet (st.html runs it in the page, not in a frame).
PRINT_FIT = """
<script>
(() => {
  if (window.__appPrintFit) return;
  window.__appPrintFit = true;
  const layers = () => document.querySelectorAll('.js-plotly-plot .svg-container > svg.main-svg');
  const fit = () => layers().forEach(svg => svg.setAttribute(
    'viewBox', `0 0 ${svg.getAttribute('width')} ${svg.getAttribute('height')}`));
  const unfit = () => layers().forEach(svg => svg.removeAttribute('viewBox'));
  window.addEventListener('beforeprint', fit);
  window.addEventListener('afterprint', unfit);
  window.matchMedia('print').addEventListener('change', (m) => (m.matches ? fit() : unfit()));
})();
</script>
"""


def document_title(what: str) -> str:
    """The browser tab's title for a page: what it shows, then the product (WCAG 2.4.2, page titled)."""
    return f"{what} · {APP_NAME}"


def page_title(what: str) -> None:
    """Give this page its own document title; may be called again in the run once the page knows more."""
    st.set_page_config(page_title=document_title(what))
