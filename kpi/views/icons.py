"""Making Data Count variation and assurance icons, drawn by the project as SVG.

The shapes and colours (kpi/views/palette.py's SPC) follow the NHS England convention: a circle; blue for
improvement, orange for concern, grey for common cause, purple for neutral special cause; a letter H or L for the
side of the mean; P / F / ? for assurance. Each icon carries a <title> and an aria-label so its meaning never
rests on colour, and pages show the text label beside it.
"""

from __future__ import annotations

from html import escape

from kpi.views.palette import SPC

BLUE, ORANGE, GREY, PURPLE = SPC["improvement"], SPC["concern"], SPC["common_cause"], SPC["neutral"]

VARIATION_STYLE = {
    "common_cause": (GREY, "", "Common cause variation"),
    "improvement_high": (BLUE, "H", "Special cause improvement: higher"),
    "improvement_low": (BLUE, "L", "Special cause improvement: lower"),
    "concern_high": (ORANGE, "H", "Special cause concern: higher"),
    "concern_low": (ORANGE, "L", "Special cause concern: lower"),
    "neutral_high": (PURPLE, "H", "Special cause, neither improvement nor concern: higher"),
    "neutral_low": (PURPLE, "L", "Special cause, neither improvement nor concern: lower"),
}
ASSURANCE_STYLE = {
    "consistent_pass": (BLUE, "P", "Target consistently met"),
    "consistent_fail": (ORANGE, "F", "Target consistently missed"),
    "inconsistent": (GREY, "?", "Target hit and miss"),
}


def _frame(colour: str, label: str, inner: str, size: int) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 40 40" '
        f'role="img" aria-label="{escape(label)}"><title>{escape(label)}</title>'
        f'<circle cx="20" cy="20" r="18" fill="#FFFFFF" stroke="{colour}" stroke-width="3"/>{inner}</svg>'
    )


def variation_svg(icon: str | None, size: int = 40) -> str:
    """The variation icon as an SVG string ('no SPC' icon when there were too few points)."""
    if not isinstance(icon, str):  # None (or a missing value from a table)
        return _frame(GREY, "Too few points for SPC", '<text x="20" y="25" font-size="12" text-anchor="middle" '
                      f'font-family="Arial" fill="{GREY}">n/a</text>', size)
    colour, letter, label = VARIATION_STYLE[icon]
    # A small run of dots: flat for common cause, rising or falling for a special cause.
    ys = [24, 20, 24, 20, 22] if not letter else ([28, 26, 22, 18, 14] if letter == "H" else [12, 14, 18, 22, 26])
    dots = "".join(f'<circle cx="{9 + 5.5 * i:.1f}" cy="{y}" r="2.2" fill="{colour}"/>' for i, y in enumerate(ys))
    text = (f'<text x="30" y="15" font-size="11" font-weight="bold" font-family="Arial" fill="{colour}">{letter}</text>'
            if letter else "")
    return _frame(colour, label, dots + text, size)


def assurance_svg(assurance: str | None, size: int = 40) -> str:
    """The assurance icon as an SVG string ('no target' icon when there is none)."""
    if not isinstance(assurance, str):
        colour, letter, label = GREY, "–", "No assurance: no target or too few points"
    else:
        colour, letter, label = ASSURANCE_STYLE[assurance]
    inner = (f'<text x="20" y="27" font-size="20" font-weight="bold" text-anchor="middle" font-family="Arial" '
             f'fill="{colour}">{escape(letter)}</text>')
    return _frame(colour, label, inner, size)


def label_for(svg: str) -> str:
    """The accessible label inside an icon (for tests and alt text)."""
    start = svg.index("<title>") + len("<title>")
    return svg[start:svg.index("</title>")]


def data_uri(svg: str) -> str:
    """An icon as a data: URI, for an <img> with alt text or a table's image column."""
    import base64

    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
