"""Small HTML and markdown pieces the pages draw: a labelled value, a status badge, an icon with its meaning, and
user-controlled text made inert (escaped for HTML, fenced for markdown).

Pure functions returning strings, for ``st.markdown(..., unsafe_allow_html=True)``; the classes are styled in
pages/_style.py.
"""

from __future__ import annotations

import html
import re

_PLAIN = re.compile(r"[A-Za-z0-9 \-]*")
_EMAIL = re.compile(r"[A-Za-z0-9.+\-]+@[A-Za-z0-9.\-]+")


def esc(text: object) -> str:
    """Text escaped for HTML."""
    return html.escape(str(text))


def md(text: object, limit: int = 80) -> str:
    """A user-controlled value (a URL parameter, a claim, a message quoting input) made inert inside Streamlit
    markdown. Letters, digits, spaces and hyphens are shown as they are (``E06000056``, ``2023-07``), and so is
    a plain email address; anything else goes in a code span, where no link, image, autolink, HTML, emphasis,
    colour or icon directive can form. Line breaks are flattened and the value is cut to ``limit`` characters."""
    flat = " ".join(str(text).split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    if _PLAIN.fullmatch(flat) or _EMAIL.fullmatch(flat):
        return flat
    fence = "`" * (max((len(run) for run in re.findall(r"`+", flat)), default=0) + 1)
    return f"{fence} {flat} {fence}"


def cell(label: str, main: str, note: str | None = None, size: str = "big") -> str:
    """A labelled value: small label above, the value, a muted note below."""
    shown = esc(main)
    if main.endswith(" weeks"):  # a smaller unit keeps '23.4 weeks' within its column
        shown = f'{esc(main.removesuffix(" weeks"))}<span class="kpi-unit"> weeks</span>'
    out = f'<p class="kpi-label">{esc(label)}</p><p class="kpi-{size}">{shown}</p>'
    if note:
        out += f'<p class="kpi-note">{esc(note)}</p>'
    return out


def status_badge(status: str | None, text: str) -> str:
    """Status in words and symbol; the tint is only a secondary cue."""
    css = status if isinstance(status, str) and status else "not_in_plan"
    return f'<span class="kpi-status {esc(css)}">{esc(text)}</span>'


def icon_cell(label: str, svg: str, text: str) -> str:
    """A labelled icon with its meaning written beside it (the icon is never the only cue)."""
    from kpi.views.icons import data_uri

    return (f'<p class="kpi-label">{esc(label)}</p><div class="kpi-icon"><img src="{data_uri(svg)}" '
            f'alt="{esc(text)}" width="34" height="34"/><span>{esc(text)}</span></div>')
