"""Small-number suppression (statistical disclosure control) for figures that leave the analyst role.

Monitors and every export see small counts (default 1–4) as "c"; analysts see exact figures. The rule
is configuration (the ``suppression:`` block of ``access.yaml``, :class:`SuppressionRule`). Pure functions on
pandas objects; nothing here reads files or talks to Streamlit.

The rules, and why each is needed so that no suppressed count can be recovered by arithmetic:

1. **Primary.** A count between ``min_count`` and ``max_count`` (default 1–4) is suppressed. Zero is shown (DfE
   practice): it says no child, not which child.
2. **Rates.** A rate whose numerator or denominator is suppressed is suppressed, and so is its numerator. With
   ``complement: true`` (default) the complement, denominator − numerator (e.g. plans *not* issued within 20
   weeks), counts as a cell too: shown numerator and denominator would give it by subtraction, so when it is small
   the numerator and the rate are suppressed and the denominator stays. A suppressed denominator hides the
   whole row (numerator and rate would give it back). Mean-weeks KPIs: the denominator (plans) is the only count
   about children; when it is suppressed so are the total weeks, the mean and the median. Month-end counts:
   the count itself.
3. **Status** (on track / off track) is a function of the rate, so a suppressed rate has status ``suppressed``.
4. **Rolling 12-month values** are shown only when none of the 12 months in their window has a suppressed cell.
   Otherwise the rolling rate, with the other months' shown figures, gives back the suppressed month's numerator
   (rolling numerator = rate × sum of the shown denominators). Shown this way a rolling value is a function of
   shown cells only, so it can reveal nothing new.
5. **Nested KPIs** (``nested`` in the config: the child's events are a subset of the parent's, e.g. plans without
   an exception within all plans issued): the differences parent − child of denominators, numerators and
   complements are cells too (e.g. plans with an exception). When one is small and both sides are shown, the
   parent's row is suppressed (the child is the DfE headline measure and stays). KPIs listed in
   ``same_events`` count the same events as their denominator (all plans issued), so when one of them has its
   denominator suppressed the others' rows are suppressed that month too.
6. **Breakdown tables with a total** (:func:`secondary_1d`, :func:`suppress_rate_table`): if any cell is
   suppressed and the total is shown, the suppressed cells must include at least one cell above ``max_count``, the
   smallest available (secondary suppression); otherwise the total minus the shown cells would give the
   suppressed cell, or pin several small ones. With no such cell the total is suppressed instead. In a rate
   table the rule runs over denominators, numerators and complements, and the row rule, until nothing changes.

7. **KPIs that partition one population** (``partitions`` in the config: rate KPIs whose numerators are disjoint
   parts of one shared denominator, e.g. audited plans graded Good or Outstanding and graded Inadequate): the rest,
   denominator − the parts (graded Requires improvement), is a cell, and parts, rest and denominator are a line of
   a table with its total, protected by rule 6 (:func:`_partitions`). Count KPIs nested in a rate's numerator (a
   waiting list's children over 52 weeks within those over 18) are ``nested`` pairs (rule 5): the band between
   them is the difference.

Not covered (documented limits): differences of month-end counts between months (net flows, not children),
and tables built outside these functions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from kpi.engine.trajectory import SUPPRESSED  # the status of a month whose rate is suppressed

SYMBOL = "c"  # what a suppressed cell shows: DfE's convention, fixed so every page and export reads the same
FIELDS = ["numerator", "denominator", "value", "rolling_12m", "median", "status"]


class NestedPair(BaseModel):
    """The child KPI's events are a subset of the parent's, in the same months (so parent − child is a count)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    child: str
    parent: str


class SuppressionRule(BaseModel):
    """The disclosure-control rule, from the ``suppression:`` block of access.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_count: int = Field(1, ge=1, description="smallest count suppressed (zero is always shown)")
    max_count: int = Field(4, ge=1, description="largest count suppressed")
    complement: bool = Field(True, description="treat denominator − numerator as a cell too")
    nested: list[NestedPair] = Field(default_factory=list)
    same_events: list[list[str]] = Field(default_factory=list)
    # Rate KPIs whose numerators are disjoint parts of one shared denominator (audited plans graded Good, graded
    # Inadequate): the rest, denominator − their sum (graded Requires improvement), is a cell too.
    partitions: list[list[str]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _range(self) -> SuppressionRule:
        if self.max_count < self.min_count:
            raise ValueError(f"max_count ({self.max_count}) is below min_count ({self.min_count})")
        return self

    def kpi_ids(self) -> set[str]:
        """Every KPI id the rule names (checked against the catalogue by the loader)."""
        return ({p.child for p in self.nested} | {p.parent for p in self.nested}
                | {k for g in [*self.same_events, *self.partitions] for k in g})


DEFAULT_RULE = SuppressionRule()


# --- cells ------------------------------------------------------------------------------------------------------

def is_small(values, rule: SuppressionRule = DEFAULT_RULE):
    """True where a count is in the suppressed range (missing values are not small). Works on scalars and arrays."""
    v = pd.to_numeric(pd.Series(np.atleast_1d(np.asarray(values, dtype="float64"))), errors="coerce")
    out = (v >= rule.min_count) & (v <= rule.max_count)
    return bool(out.iloc[0]) if np.ndim(values) == 0 else out.to_numpy()


def secondary_1d(counts: Sequence[float], total: float | None, hidden: Sequence[bool] | None = None,
                 rule: SuppressionRule = DEFAULT_RULE) -> tuple[np.ndarray, bool]:
    """Cells to hide in one line of a table (a breakdown and its total): primary suppression plus secondary
    suppression so the total cannot give a hidden cell back (rule 6). ``hidden`` adds cells already hidden for
    other reasons. Returns (hidden cells, total hidden)."""
    c = np.asarray(counts, dtype="float64")
    mask = is_small(c, rule) | (np.asarray(hidden, dtype=bool) if hidden is not None else False)
    if total is None or (not np.isnan(total) and is_small(total, rule)):
        return mask, total is not None
    if not mask.any() or (c[mask] > rule.max_count).any():
        return mask, False
    candidates = np.where(~mask & (c > rule.max_count))[0]
    if len(candidates) == 0:
        return mask, True  # nothing big enough to hide beside it: hide the total instead
    mask = mask.copy()
    mask[candidates[np.argmin(c[candidates])]] = True
    return mask, False


def rate_row_hidden(numerator, denominator, rule: SuppressionRule = DEFAULT_RULE) -> tuple[np.ndarray, np.ndarray]:
    """(numerator hidden, denominator hidden) for rate rows by rule 2: the denominator when small; the numerator
    (and so the rate) when the numerator, the denominator or (with ``complement``) denominator − numerator is."""
    n = np.asarray(numerator, dtype="float64")
    d = np.asarray(denominator, dtype="float64")
    den_hidden = is_small(d, rule)
    num_hidden = den_hidden | is_small(n, rule)
    if rule.complement:
        num_hidden = num_hidden | is_small(d - n, rule)
    return num_hidden, den_hidden


def suppress_rate_table(numerators: Sequence[float], denominators: Sequence[float], total_numerator: float,
                        total_denominator: float, rule: SuppressionRule = DEFAULT_RULE) -> dict[str, object]:
    """A breakdown of a rate (rows such as age bands) with its total row: which cells to hide.

    Applies the row rule to every row and the total, then secondary suppression down the denominator, numerator and
    complement columns, repeating until nothing changes. Returns numpy masks ``numerator`` and ``denominator`` (a
    hidden numerator hides the row's rate too) and booleans ``total_numerator`` and ``total_denominator``."""
    n = np.asarray(numerators, dtype="float64")
    d = np.asarray(denominators, dtype="float64")
    num_h, den_h = rate_row_hidden(n, d, rule)
    tn_h, td_h = (bool(x[0]) for x in rate_row_hidden([total_numerator], [total_denominator], rule))
    while True:
        before = (num_h.copy(), den_h.copy(), tn_h, td_h)
        den_h, td_hidden = secondary_1d(d, None if td_h else total_denominator, den_h, rule)
        td_h = td_h or td_hidden
        num_h = num_h | den_h
        num_h, tn_hidden = secondary_1d(n, None if tn_h else total_numerator, num_h, rule)
        tn_h = tn_h or tn_hidden or td_h
        if rule.complement:  # a complement is hidden when its row's numerator or denominator is
            comp_total = None if (tn_h or td_h) else total_denominator - total_numerator
            comp_h, tc_hidden = secondary_1d(d - n, comp_total, num_h | den_h, rule)
            num_h = num_h | comp_h
            tn_h = tn_h or tc_hidden
        if (num_h == before[0]).all() and (den_h == before[1]).all() and (tn_h, td_h) == before[2:]:
            break
    return {"numerator": num_h, "denominator": den_h, "total_numerator": tn_h, "total_denominator": td_h}


# --- the monthly KPI series -------------------------------------------------------------------------------------

def series_masks(series: pd.DataFrame, units: dict[str, str], rule: SuppressionRule = DEFAULT_RULE) -> pd.DataFrame:
    """Which cells of the monthly series to hide: a boolean frame aligned with ``series`` with one column per
    field in FIELDS. ``units`` maps kpi_id to 'percent', 'weeks' or 'count' (rules 1–5 of the module docstring).
    A series of several local areas is protected area by area: each area's figures are published on their own,
    and its rules (nested KPIs, partitions, rolling windows) relate one area's cells only."""
    if "area_code" in series.columns and series["area_code"].nunique(dropna=False) > 1:
        positions = series.reset_index(drop=True)
        parts = [_area_masks(part, units, rule)
                 for _, part in positions.groupby("area_code", sort=False, dropna=False)]
        masks = pd.concat(parts).sort_index()
        masks.index = series.index
        return masks
    return _area_masks(series, units, rule)


def _area_masks(series: pd.DataFrame, units: dict[str, str], rule: SuppressionRule) -> pd.DataFrame:
    """:func:`series_masks` for one local area's series (each KPI and month once)."""
    s = series.reset_index(drop=True)
    unit = s["kpi_id"].map(units)
    if unit.isna().any():
        raise ValueError(f"no unit for KPI(s) {sorted(set(s.loc[unit.isna(), 'kpi_id']))}")
    n = pd.to_numeric(s["numerator"], errors="coerce").astype("float64")
    d = pd.to_numeric(s["denominator"], errors="coerce").astype("float64")
    rate_num, rate_den = rate_row_hidden(n, d, rule)
    is_rate, is_weeks, is_count = ((unit == u).to_numpy() for u in ("percent", "weeks", "count"))
    den_h = (is_rate & rate_den) | (is_weeks & is_small(d, rule))
    num_h = (is_rate & rate_num) | (is_weeks & den_h) | (is_count & is_small(n, rule))
    num_h, den_h = _nested(s, n, d, num_h, den_h, rule)
    masks = pd.DataFrame({"numerator": num_h, "denominator": den_h})
    masks["value"] = masks["numerator"] | masks["denominator"]
    masks["median"] = masks["value"]
    masks["status"] = masks["value"]
    # Rule 4: a rolling value only where none of the 12 months in its window has a hidden cell.
    order = s.sort_values(["kpi_id", "period"]).index
    any_hidden = masks["value"].astype(int).reindex(order)
    window = any_hidden.groupby(s.loc[order, "kpi_id"], sort=False).transform(
        lambda x: x.rolling(12, min_periods=1).max())
    masks["rolling_12m"] = (window > 0).reindex(s.index)
    for col in ("numerator", "denominator", "value", "rolling_12m", "median"):  # nothing to hide in an empty cell
        masks[col] &= pd.to_numeric(s[col], errors="coerce").notna()
    if "basis" in s.columns:  # a status judged on the rolling 12 months is hidden with the figure it judges
        rolling = (s["basis"] == "rolling_12m").to_numpy()
        masks["status"] = np.where(rolling, masks["rolling_12m"] | masks["value"], masks["status"])
    masks.index = series.index
    return masks[FIELDS]


def _nested(s: pd.DataFrame, n: pd.Series, d: pd.Series, num_h: np.ndarray, den_h: np.ndarray,
            rule: SuppressionRule) -> tuple[np.ndarray, np.ndarray]:
    """Rule 5: hide the parent's row where a parent − child difference is a small count; then hide the rows of
    KPIs counting the same events where any of them has a hidden denominator."""
    num_h, den_h = num_h.copy(), den_h.copy()
    key = s["kpi_id"] + "|" + s["period"].astype(str)
    pos = pd.Series(np.arange(len(s)), index=key)
    for pair in rule.nested:
        child = s.index[s["kpi_id"] == pair.child]
        parent_pos = pos.reindex(pair.parent + "|" + s.loc[child, "period"].astype(str)).to_numpy()
        ok = ~np.isnan(parent_pos)
        c, p = child.to_numpy()[ok], parent_pos[ok].astype(int)
        dd, dn = d.to_numpy()[p] - d.to_numpy()[c], n.to_numpy()[p] - n.to_numpy()[c]
        den_seen = ~den_h[c] & ~den_h[p]
        num_seen = ~num_h[c] & ~num_h[p]
        hide = (den_seen & is_small(dd, rule)) | (num_seen & is_small(dn, rule))
        if rule.complement:
            hide |= num_seen & den_seen & is_small(dd - dn, rule)
        den_h[p[hide]] = True
        num_h[p[hide]] = True
    num_h, den_h = _partitions(s, n, d, num_h, den_h, rule)
    for group in rule.same_events:
        rows = s["kpi_id"].isin(group).to_numpy()
        hidden_periods = set(s.loc[rows & den_h, "period"])
        hit = rows & s["period"].isin(hidden_periods).to_numpy()
        den_h |= hit
        num_h |= hit
    return num_h, den_h


def _partitions(s: pd.DataFrame, n: pd.Series, d: pd.Series, num_h: np.ndarray, den_h: np.ndarray,
                rule: SuppressionRule) -> tuple[np.ndarray, np.ndarray]:
    """Rule 7: KPIs in a ``partitions`` group split one denominator into disjoint numerators; with the rest
    (denominator − their sum) they form a line of a table whose total is the denominator, protected like a
    breakdown (rule 6). In a month where the rest or a part is small and everything else shown, the smallest other
    part above ``max_count`` is hidden (its row's numerator and rate); with none, every row of the group is."""
    num_h, den_h = num_h.copy(), den_h.copy()
    for group in rule.partitions:
        rows = s.index[s["kpi_id"].isin(group)]
        for _, idx in s.loc[rows].groupby("period").groups.items():
            idx = np.asarray(idx)
            if len(idx) != len(group):
                continue
            dens = d.to_numpy()[idx]
            if np.isnan(dens).any() or (dens != dens[0]).any() or den_h[idx].any():
                continue  # not one shared, shown denominator
            parts = n.to_numpy()[idx]
            if np.isnan(parts).any():
                continue
            cells = np.append(parts, dens[0] - parts.sum())
            hidden = np.append(num_h[idx], False)  # the rest is never shown, but shown parts would give it
            mask, total_hidden = secondary_1d(cells, dens[0], hidden, rule)
            if total_hidden:
                num_h[idx] = True
                den_h[idx] = True
            else:
                num_h[idx] |= mask[:-1]
    return num_h, den_h


def suppress_series(series: pd.DataFrame, units: dict[str, str], rule: SuppressionRule = DEFAULT_RULE) -> pd.DataFrame:
    """The series as a non-analyst sees it: hidden cells empty (NaN), their status ``suppressed``, and a column
    ``suppressed`` naming the hidden fields of each row (comma-separated, '' when none). Numeric columns stay
    numeric so charts and formatting keep working; :func:`display_frame` turns hidden cells into the symbol."""
    masks = series_masks(series, units, rule)
    out = series.copy()
    for col in ("numerator", "denominator", "value", "rolling_12m", "median"):
        values = out[col]
        if pd.api.types.is_integer_dtype(values):  # counts stay whole numbers ('5', not '5.0')
            out[col] = values.astype("Int64").mask(masks[col])
        else:
            out[col] = pd.to_numeric(values, errors="coerce").astype("float64").where(~masks[col])
    out["status"] = out["status"].astype(object).where(~masks["status"], SUPPRESSED)
    names = pd.Series("", index=out.index)
    for col in FIELDS:
        names = names + np.where(masks[col], col + ",", "")
    out["suppressed"] = names.str.rstrip(",")
    return out


def display_frame(suppressed: pd.DataFrame, symbol: str = SYMBOL) -> pd.DataFrame:
    """The suppressed series for export: every hidden number written as the symbol ("c"), the status as
    'suppressed', other cells as they are."""
    out = suppressed.drop(columns=["suppressed"]).astype(object)
    hidden = "," + suppressed["suppressed"] + ","
    for col in FIELDS[:-1]:
        out.loc[hidden.str.contains(f",{col},", regex=False).to_numpy(), col] = symbol
    return out
