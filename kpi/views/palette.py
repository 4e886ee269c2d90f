"""One colour, one meaning: every colour the charts, icons and status styles use, named by what it means.

Three families that never share a colour:

- **Status** (trajectory status: on track, within tolerance, off track), and only status: the GOV.UK Design
  System's green, yellow and a dark red, as a chair expects to read them; always beside the words and a symbol.
- **Making Data Count** (the SPC points and the variation and assurance icons): NHS England's own blue for
  improvement, orange for concern, purple for neither, grey for common cause (the NHSRplotthedots colours).
- **Series** (what a line or bar is): the GOV.UK Analysis Function categorical palette
  (https://analysisfunction.civilservice.gov.uk/policy-store/data-visualisation-colours-in-charts/): the area's own
  figures dark blue, the rolling 12-month line turquoise, the plan (trajectory, milestones and target) dark pink,
  England dark grey, the region orange, statistical neighbours light purple.

Chart furniture (text, grid, shading, the selected month, process limits) is black or grey tints that mean
nothing of their own. tests/test_palette.py checks that no two meanings share a colour or come close to it.
"""

from __future__ import annotations

# GOV.UK Analysis Function categorical palette
DARK_BLUE = "#12436D"
TURQUOISE = "#28A197"
DARK_PINK = "#801650"
ORANGE = "#F46A25"
DARK_GREY = "#3D3D3D"
LIGHT_PURPLE = "#A285D1"

STATUS = {"on_track": "#00703C", "within_tolerance": "#FFDD00", "off_track": "#942514"}
STATUS_TINT = {"on_track": "#E6F1EB", "within_tolerance": "#FFF8CC", "off_track": "#F4E9E8"}  # badge grounds
UNJUDGED = "#505A5F"  # no data, too few, baseline, partial: a grey border, no status colour

SPC = {"common_cause": "#7B7D7D", "improvement": "#289DE0", "concern": "#FAB428", "neutral": "#361475"}

SERIES = {
    "area": DARK_BLUE,  # the area's own figures: the monthly actual, its median, its published calendar years
    "rolling": TURQUOISE,  # the rolling 12-month line
    "plan": DARK_PINK,  # the plan: trajectory, baseline and milestones, target
    "england": DARK_GREY,
    "region": ORANGE,
    "neighbours": LIGHT_PURPLE,  # statistical neighbours, pooled and median
}

# Two periods compared side by side (Explore): the Analysis Function's pair for two categories, dark blue and
# orange; the second period's bars also hatched, so the pair is told apart without colour.
COMPARED_PERIODS = (DARK_BLUE, ORANGE)

# Waits by time waited, stacked bars (Waiting lists). Ordered: up to 18 weeks in blues, light to dark as the wait
# grows; over 18 weeks in wine tints, light to dark. Every band its own colour, none a status or SPC colour.
WAIT_BANDS = {
    "0-1": "#C6DBEF", ">1-2": "#93B4D8", ">2-4": "#5F86B8", ">4-12": "#2F5F94", ">12-18": DARK_BLUE,
    ">18-52": "#E9A6C6", ">52": "#CB5C96", ">52-104": "#8A1F5E", ">104": "#4F0A31",
}
# The local extract's three bands, the NHS bands they gather (kpi/views/waits_view.py)
LOCAL_WAIT_BANDS = {"up_to_18": WAIT_BANDS[">4-12"], "18_to_52": WAIT_BANDS[">18-52"], "over_52": WAIT_BANDS[">52-104"]}

# Furniture: meaning nothing by colour.
TEXT = "#0B0C0C"
GRID = "#E5E5E5"
LIGHT_GREY = "#B1B4B6"  # the thin line joining SPC points; each other neighbour's bar
PLAN_WINDOW_FILL = "rgba(18, 67, 109, 0.07)"  # dark blue, very light: the APP monitoring window
AFTER_FILL = "rgba(11, 12, 12, 0.06)"  # the months after the chosen one, greyed


def meanings() -> dict[str, str]:
    """Every meaning with its colour, as 'family.meaning' → '#RRGGBB' (for the one-colour-one-meaning test)."""
    out = {f"status.{k}": v for k, v in STATUS.items()}
    out.update({f"spc.{k}": v for k, v in SPC.items()})
    out.update({f"series.{k}": v for k, v in SERIES.items()})
    return out


def status_css() -> str:
    """The status badge and tile rules (pages/_style.py): border in the status colour, a light ground."""
    rules = []
    for status, colour in STATUS.items():
        rules.append(f".kpi-status.{status} {{border-color: {colour}; background: {STATUS_TINT[status]};}}")
        rules.append(f".kpi-tile.{status} {{border-color: {colour};}}")
    unjudged = ", ".join(f".kpi-{kind}.{s}" for kind in ("status", "tile")
                         for s in ("no_data", "too_few", "baseline", "partial"))
    rules.append(f"{unjudged} {{border-color: {UNJUDGED};}}")
    return "\n".join(rules)
