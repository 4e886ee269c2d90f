"""KPI definitions: the pydantic model of ``kpi_definitions.yaml`` and its staged validation.

Stage 1 (shape): the YAML parses and every field has the right type and vocabulary.
Stage 2 (references): ids are unique, areas exist, plan dates are in order, units suit the computation.
Stage 3 (database): the tables each KPI reads exist and hold data in the plan window.
Each stage reports every problem it finds, not just the first.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "kpi_definitions.yaml"
PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_period(value: str) -> str:
    value = str(value)
    if not PERIOD_RE.match(value):
        raise ValueError(f"period must be YYYY-MM, got {value!r}")
    return value


class PlanPoint(_Strict):
    """A planned value at a month (baseline or milestone)."""

    value: float
    period: str
    note: str | None = None

    _period = field_validator("period", mode="before")(_check_period)


class TargetBenchmark(_Strict):
    """A target set as a published benchmark: checked against DfE's figures when they are loaded."""

    of: Literal["england", "region", "neighbours_pooled", "neighbours_median"]
    year: int = Field(ge=2010, le=2100, description="Calendar year of the published figure")


class Target(PlanPoint):
    source: str = Field(description="Where the target comes from, e.g. 'England average for 2022 (DfE)'")
    benchmark: TargetBenchmark | None = None


BASES = ("month", "rolling_12m")
# Words in a baseline note or target source that say the figure is a calendar year's (DfE publishes rates per
# calendar year): such a plan must be judged on the rolling 12 months, whose December value is that year's figure.
_CALENDAR_YEAR = re.compile(r"calendar[- ]year|\bDfE\b|England average", re.IGNORECASE)


class Plan(_Strict):
    """A KPI's 12-month plan: baseline, target, optional milestones and the tolerance for 'within tolerance'.

    ``basis`` is what the plan's numbers are: ``month`` (a month's own value, e.g. a month-end count) or
    ``rolling_12m`` (the 12 months ending in the month, the basis of calendar-year figures such as DfE's published
    rates). Status and forecast judge the figure on that basis. ``min_denominator`` is the fewest events the judged
    figure may rest on before its status says 'too few to judge' (the catalogue's default when not given)."""

    baseline: PlanPoint
    target: Target
    milestones: list[PlanPoint] = []
    tolerance: float = Field(ge=0, description="Distance from the trajectory, in the KPI's unit, still 'within'")
    basis: Literal["month", "rolling_12m"] = Field(
        default="month", description="The figure the baseline and target are on, and the one status judges")
    min_denominator: int | None = Field(
        default=None, ge=1, description="Fewest events the judged rate may rest on (default: the catalogue's)")

    def cites_calendar_year(self) -> bool:
        """Whether the baseline or target is a calendar-year or DfE published figure (so not a single month's)."""
        texts = [self.baseline.note or "", self.target.note or "", self.target.source]
        return self.target.benchmark is not None or any(_CALENDAR_YEAR.search(t) for t in texts)


class Recalculation(_Strict):
    """A process change after which SPC limits are recalculated, with the reason the chart shows."""

    period: str
    reason: str = Field(min_length=3)

    _period = field_validator("period", mode="before")(_check_period)


class SpcSettings(_Strict):
    """How a KPI's XmR chart is drawn (DESIGN.md §3): rule set, recalculation points, baseline length."""

    method: Literal["mdc", "nhsr"] = "mdc"
    recalculations: list[Recalculation] = []
    baseline: int | None = Field(default=None, ge=2, description="Leading months that set the limits")


# --- computations: one SQL family each (kpi/engine/compute.py) -----------------------------------------------------

class PlansIssuedWithin(_Strict):
    method: Literal["plans_issued_within"]
    days: int = Field(gt=0)
    exceptions: Literal["include", "exclude"]


class RequestDecisionsWithin(_Strict):
    method: Literal["request_decisions_within"]
    days: int = Field(gt=0)


class NotIssueWithin(_Strict):
    method: Literal["not_issue_within"]
    days: int = Field(gt=0)
    exceptions: Literal["include", "exclude"] = "include"  # exclude: week20 = 0 only (blank = unknown, left out)


class WeeksToIssue(_Strict):
    method: Literal["weeks_to_issue"]


class OpenAssessmentsOver(_Strict):
    method: Literal["open_assessments_over"]
    days: int = Field(gt=0)


class PhaseTransfersByDeadline(_Strict):
    """% of phase-transfer plans finalised on or before their due date, in the month of the due date."""

    method: Literal["phase_transfers_by_deadline"]


class ReviewDecisionsWithin(_Strict):
    method: Literal["review_decisions_within"]
    days: int = Field(gt=0)


class ReviewsOverdue(_Strict):
    method: Literal["reviews_overdue"]
    months: int = Field(gt=0)


# Waiting lists (kpi/engine/compute_waits.py): a wait runs from referral to first contact or removal.
WaitService = Literal["SALT", "OT", "PHYSIO", "COMMUNITY_PAEDS", "NEURODEVELOPMENTAL", "AUDIOLOGY"]


class WaitingOver(_Strict):
    """% of those waiting at month end who have waited more than ``days``."""

    method: Literal["waiting_over"]
    service: WaitService
    days: int = Field(gt=0)


class WaitingOverCount(_Strict):
    """Number waiting at month end who have waited more than ``days``."""

    method: Literal["waiting_over_count"]
    service: WaitService
    days: int = Field(gt=0)


class WaitingListSize(_Strict):
    method: Literal["waiting_list_size"]
    service: WaitService


class WaitingMedianWeeks(_Strict):
    """Median weeks waited so far by those waiting at month end."""

    method: Literal["waiting_median_weeks"]
    service: WaitService


class SeenWithin(_Strict):
    """% of first contacts in the month that came within ``days`` of referral."""

    method: Literal["seen_within"]
    service: WaitService
    days: int = Field(gt=0)


# Local extracts (kpi/engine/compute_local.py)
class AdviceWithin(_Strict):
    method: Literal["advice_within"]
    days: int = Field(gt=0)
    advice_type: Literal["EP", "HEALTH", "SOCIAL_CARE", "OTHER"]


AuditGradeCode = Literal["OUTSTANDING", "GOOD", "REQUIRES_IMPROVEMENT", "INADEQUATE"]


class AuditGrade(_Strict):
    method: Literal["audit_grade"]
    grades: list[AuditGradeCode] = Field(min_length=1)
    plan_types: list[Literal["NEW", "AMENDED"]] = []  # empty: every audit


class AwaitingPlacement(_Strict):
    method: Literal["awaiting_placement"]


class ReducedTimetable(_Strict):
    method: Literal["reduced_timetable"]


class KpiReturn(_Strict):
    """Values reported by another team in the KPI returns extract, under this KPI's id."""

    method: Literal["kpi_return"]


Computation = Annotated[
    PlansIssuedWithin | RequestDecisionsWithin | NotIssueWithin | WeeksToIssue | OpenAssessmentsOver
    | ReviewDecisionsWithin | ReviewsOverdue | PhaseTransfersByDeadline
    | WaitingOver | WaitingOverCount | WaitingListSize | WaitingMedianWeeks | SeenWithin
    | AdviceWithin | AuditGrade | AwaitingPlacement | ReducedTimetable | KpiReturn,
    Field(discriminator="method"),
]

RATE_METHODS = {"plans_issued_within", "request_decisions_within", "not_issue_within", "review_decisions_within",
                "phase_transfers_by_deadline", "waiting_over", "seen_within", "advice_within", "audit_grade"}
COUNT_METHODS = {"open_assessments_over", "reviews_overdue", "waiting_over_count", "waiting_list_size",
                 "awaiting_placement", "reduced_timetable"}
MEAN_METHODS = {"weeks_to_issue"}
MEDIAN_METHODS = {"waiting_median_weeks"}
WAIT_METHODS = {"waiting_over", "waiting_over_count", "waiting_list_size", "waiting_median_weeks", "seen_within"}
# Local extracts (kpi/engine/compute_local.py): their rows are not SEN2 events, so Explore and Explain leave them out.
LOCAL_METHODS = {"advice_within", "audit_grade", "awaiting_placement", "reduced_timetable", "kpi_return"}
ANY_UNIT_METHODS = {"kpi_return"}  # the unit is whatever the returning team reports
# Taken at each month end (no rolling 12-month value): counts, and the waiting-list rate and median.
SNAPSHOT_METHODS = COUNT_METHODS | {"waiting_over", "waiting_median_weeks"}
UNIT_FOR_METHOD = {**{m: "percent" for m in RATE_METHODS}, **{m: "count" for m in COUNT_METHODS},
                   "weeks_to_issue": "weeks", "waiting_median_weeks": "weeks"}
TABLES_FOR_METHOD = {
    "plans_issued_within": ("request", "assessment"),
    "request_decisions_within": ("request",),
    "not_issue_within": ("request", "assessment"),
    "weeks_to_issue": ("request", "assessment"),
    "open_assessments_over": ("request", "assessment"),
    "review_decisions_within": ("active_plan",),
    "reviews_overdue": ("named_plan", "assessment", "active_plan"),
    "phase_transfers_by_deadline": ("active_plan",),
    **{m: ("referral",) for m in WAIT_METHODS},
    "advice_within": ("advice_request",),
    "audit_grade": ("ehcp_audit",),
    "awaiting_placement": ("placement_need",),
    "reduced_timetable": ("reduced_timetable",),
    "kpi_return": ("kpi_return",),
}


class KpiDefinition(_Strict):
    """One KPI: what it means, how it is computed, who owns it and what the plan promises."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    short_name: str
    description: str
    app_area: str
    polarity: Literal["up", "down"]
    unit: Literal["percent", "count", "weeks"]
    decimals: int = Field(ge=0, le=3)
    computation: Computation
    statutory_basis: str
    source: str
    owner: str
    plan: Plan | None = None
    spc: SpcSettings = SpcSettings()

    @property
    def is_rate(self) -> bool:
        return self.computation.method in RATE_METHODS or (
            self.computation.method in ANY_UNIT_METHODS and self.unit == "percent")

    @property
    def basis(self) -> str:
        """The figure status is judged on: the plan's basis, or the month's own value without a plan."""
        return self.plan.basis if self.plan else "month"

    @property
    def basis_column(self) -> str:
        """The series column holding the judged figure: ``rolling_12m`` or ``value``."""
        return "rolling_12m" if self.basis == "rolling_12m" else "value"

    @property
    def is_snapshot(self) -> bool:
        """Values taken at each month end (no rolling 12-month value)."""
        return self.computation.method in SNAPSHOT_METHODS or (
            self.computation.method in ANY_UNIT_METHODS and self.unit == "count")


class PublishedMeasure(_Strict):
    """A measure DfE publishes for every area (annual) that the case records cannot compute month by month: shown
    on Benchmarks and by ``python -m kpi benchmark``, never in the monthly series (no plan, no status)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    short_name: str
    description: str
    polarity: Literal["up", "down"]
    unit: Literal["percent"]
    decimals: int = Field(ge=0, le=3)
    statutory_basis: str
    source: str
    owner: str

    @property
    def plan(self) -> None:
        return None

    @property
    def is_rate(self) -> bool:
        return True


class AppArea(_Strict):
    id: str
    name: str


class PlanWindow(_Strict):
    name: str
    start: str
    end: str
    approved: str | None = None

    _periods = field_validator("start", "end", mode="before")(_check_period)


class Catalogue(_Strict):
    """The whole file: the plan window, the APP areas and the KPIs.

    ``series_start`` is the first month from which the loaded extract is complete. Records dated earlier
    (requests received before the extract's period for plans issued within it) still count towards later
    months, but earlier months are not shown as if they were complete. Without it the engine starts at the
    first month with a request received.
    """

    version: int
    series_start: str | None = None
    status_min_denominator: int = Field(
        default=10, ge=1, description="Fewest events a rate's judged figure may rest on for an on/off-track status")
    plan_window: PlanWindow
    app_areas: list[AppArea]
    kpis: list[KpiDefinition]
    published_measures: list[PublishedMeasure] = []

    _series_start = field_validator("series_start", mode="before")(
        lambda v: None if v is None else _check_period(v))

    def get(self, kpi_id: str) -> KpiDefinition:
        for k in self.kpis:
            if k.id == kpi_id:
                return k
        raise KeyError(kpi_id)

    @property
    def ids(self) -> list[str]:
        return [k.id for k in self.kpis]

    def measure(self, measure_id: str) -> KpiDefinition | PublishedMeasure:
        """A KPI, or a published-only measure (Benchmarks)."""
        for m in self.published_measures:
            if m.id == measure_id:
                return m
        return self.get(measure_id)

    @property
    def event_ids(self) -> list[str]:
        """KPIs computed from SEN2 case events (Explore and Explain read their rows); not the waiting lists."""
        return [k.id for k in self.kpis if k.computation.method not in WAIT_METHODS | LOCAL_METHODS]

    def area_name(self, area_id: str) -> str:
        return next((a.name for a in self.app_areas if a.id == area_id), area_id)


class DefinitionError(ValueError):
    """The definitions file failed validation; ``problems`` lists every reason, ``stage`` says which stage."""

    def __init__(self, stage: str, problems: list[str]):
        self.stage = stage
        self.problems = problems
        super().__init__(f"{stage}: " + "; ".join(problems))


def _format_pydantic(exc: ValidationError, raw: dict) -> list[str]:
    out = []
    for err in exc.errors():
        loc = list(err["loc"])
        where = ".".join(str(x) for x in loc)
        if len(loc) >= 2 and loc[0] == "kpis" and isinstance(loc[1], int):
            try:
                where = f"kpi {raw['kpis'][loc[1]].get('id', '#' + str(loc[1]))}: " + ".".join(str(x) for x in loc[2:])
            except (KeyError, IndexError, AttributeError, TypeError):
                pass
        out.append(f"{where}: {err['msg']}")
    return out


def parse(text: str, source: str = "kpi_definitions.yaml") -> Catalogue:
    """Stage 1: shape. Raises DefinitionError listing every problem."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DefinitionError("shape", [f"{source} is not valid YAML: {exc}"]) from exc
    if not isinstance(raw, dict):
        raise DefinitionError("shape", [f"{source} must hold a mapping with version, plan_window, app_areas, kpis"])
    try:
        return Catalogue.model_validate(raw)
    except ValidationError as exc:
        raise DefinitionError("shape", _format_pydantic(exc, raw)) from exc


def check_references(cat: Catalogue) -> list[str]:
    """Stage 2: cross-references and plan logic. Returns every problem found."""
    problems: list[str] = []
    seen: set[str] = set()
    areas = {a.id for a in cat.app_areas}
    if cat.plan_window.start > cat.plan_window.end:
        problems.append("plan_window: start is after end")
    for k in cat.kpis:
        if k.id in seen:
            problems.append(f"kpi {k.id}: id is used more than once")
        seen.add(k.id)
        if k.app_area not in areas:
            problems.append(f"kpi {k.id}: app_area {k.app_area!r} is not one of {sorted(areas)}")
        expected_unit = UNIT_FOR_METHOD.get(k.computation.method)
        if expected_unit is not None and k.unit != expected_unit:
            problems.append(
                f"kpi {k.id}: unit {k.unit!r} does not suit {k.computation.method} (expected {expected_unit})")
        if k.plan:
            p = k.plan
            if p.target.period <= p.baseline.period:
                problems.append(
                    f"kpi {k.id}: target period {p.target.period} is not after baseline {p.baseline.period}")
            last = p.baseline.period
            for m in p.milestones:
                if not (p.baseline.period < m.period < p.target.period):
                    problems.append(f"kpi {k.id}: milestone {m.period} is not between baseline and target")
                if m.period <= last:
                    problems.append(f"kpi {k.id}: milestones must be in date order ({m.period})")
                last = m.period
            if p.basis == "month" and p.cites_calendar_year():
                problems.append(
                    f"kpi {k.id}: the plan's baseline or target is a calendar-year (DfE published) figure but the "
                    "plan is judged on single months: set `basis: rolling_12m`")
            if p.basis == "rolling_12m" and k.is_snapshot:
                problems.append(f"kpi {k.id}: a month-end count has no rolling 12-month figure: set `basis: month`")
            if p.basis == "rolling_12m" and k.computation.method in MEDIAN_METHODS:
                problems.append(f"kpi {k.id}: a median has no rolling 12-month figure: set `basis: month`")
            if k.unit == "percent":
                for point in (p.baseline, p.target, *p.milestones):
                    if not 0 <= point.value <= 100:
                        problems.append(
                            f"kpi {k.id}: planned value {point.value} at {point.period} is not a percentage")
        recalcs = [r.period for r in k.spc.recalculations]
        if recalcs != sorted(set(recalcs)):
            problems.append(f"kpi {k.id}: spc recalculations must be in date order without repeats")
        if cat.series_start and any(r <= cat.series_start for r in recalcs):
            problems.append(f"kpi {k.id}: an spc recalculation must come after series_start {cat.series_start}")
    return problems + _published_measure_problems(cat, seen)


def _published_measure_problems(cat: Catalogue, kpi_ids: set[str]) -> list[str]:
    """Published-only measures: ids unique, and none the same as a KPI's."""
    problems, seen = [], set()
    for m in cat.published_measures:
        if m.id in seen or m.id in kpi_ids:
            problems.append(f"published measure {m.id}: id is used more than once")
        seen.add(m.id)
    return problems


MIN_SEGMENT = 12


def spc_warnings(cat: Catalogue, first: str, last: str) -> list[str]:
    """Warnings (not errors) about SPC settings given the months the data cover: a recalculation that leaves
    fewer than 12 points in a segment gives limits too unstable to judge against (Making Data Count guidance)."""
    warnings = []
    for k in cat.kpis:
        bounds = [first] + [r.period for r in k.spc.recalculations] + [None]
        for start, nxt in zip(bounds, bounds[1:], strict=False):
            end_index = month_index(nxt) if nxt else month_index(last) + 1
            length = end_index - month_index(start)
            if length < MIN_SEGMENT:
                warnings.append(f"kpi {k.id}: the SPC segment from {start} has only {max(length, 0)} months "
                                f"(fewer than {MIN_SEGMENT}); its limits will be unstable")
        if k.spc.baseline and k.spc.recalculations:
            warnings.append(f"kpi {k.id}: with a baseline, recalculations are ignored under the mdc rules")
    return warnings


def month_index(period: str) -> int:
    year, month = period.split("-")
    return int(year) * 12 + int(month) - 1


def load(path: Path | str = DEFAULT_PATH) -> Catalogue:
    """Read and validate (stages 1–2) the definitions file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DefinitionError("shape", [f"cannot read {path}: {exc.strerror}"]) from exc
    cat = parse(text, path.name)
    problems = check_references(cat)
    if problems:
        raise DefinitionError("references", problems)
    return cat
