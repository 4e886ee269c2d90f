"""KPI definitions: the pydantic model of ``kpi_definitions.yaml`` and its staged validation.

Stage 1 (shape): the YAML parses and every field has the right type and vocabulary.
Stage 2 (references): ids are unique, areas exist, plan dates are in order, units suit the computation.
Stage 3 (database): the tables each KPI reads exist and hold data in the plan window.
Each stage reports every problem it finds, not just the first. Plans and SPC settings are in kpi/plans.py.

The waiting-list KPIs are written once as a services × measures block (``waiting_lists:`` in the ``kpis`` list) and
expanded here, in place, into one KPI per service and measure. ``json_schema()`` is the file's JSON schema (for
editors: ``python -m kpi schema``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, create_model, field_validator, model_validator

from etl.config import ConfigFileError, field_problems, parse_yaml, read_yaml, validate
from etl.formats.dfe_kpi_map import CATALOGUE_PATH, DfePublished
from kpi.plans import Plan, SpcSettings, Strict, check_period, month_index

DEFAULT_PATH = CATALOGUE_PATH


# --- computations: one SQL family each (kpi/engine/compute.py) -----------------------------------------------------

class PlansIssuedWithin(Strict):
    method: Literal["plans_issued_within"]
    days: int = Field(gt=0)
    exceptions: Literal["include", "exclude"]


class RequestDecisionsWithin(Strict):
    method: Literal["request_decisions_within"]
    days: int = Field(gt=0)


class NotIssueWithin(Strict):
    method: Literal["not_issue_within"]
    days: int = Field(gt=0)
    exceptions: Literal["include", "exclude"] = "include"  # exclude: week20 = 0 only (blank = unknown, left out)


class WeeksToIssue(Strict):
    method: Literal["weeks_to_issue"]


class OpenAssessmentsOver(Strict):
    method: Literal["open_assessments_over"]
    days: int = Field(gt=0)


class PhaseTransfersByDeadline(Strict):
    """% of phase-transfer plans finalised on or before their due date, in the month of the due date."""

    method: Literal["phase_transfers_by_deadline"]


class ReviewDecisionsWithin(Strict):
    method: Literal["review_decisions_within"]
    days: int = Field(gt=0)


class ReviewsOverdue(Strict):
    method: Literal["reviews_overdue"]
    months: int = Field(gt=0)


# Waiting lists (kpi/engine/compute_waits.py): a wait runs from referral to first contact or removal.
WaitService = Literal["SALT", "OT", "PHYSIO", "COMMUNITY_PAEDS", "NEURODEVELOPMENTAL", "AUDIOLOGY"]


class WaitingOver(Strict):
    """% of those waiting at month end who have waited more than ``days``."""

    method: Literal["waiting_over"]
    service: WaitService
    days: int = Field(gt=0)


class WaitingOverCount(Strict):
    """Number waiting at month end who have waited more than ``days``."""

    method: Literal["waiting_over_count"]
    service: WaitService
    days: int = Field(gt=0)


class WaitingListSize(Strict):
    method: Literal["waiting_list_size"]
    service: WaitService


class WaitingMedianWeeks(Strict):
    """Median weeks waited so far by those waiting at month end."""

    method: Literal["waiting_median_weeks"]
    service: WaitService


class SeenWithin(Strict):
    """% of first contacts in the month that came within ``days`` of referral."""

    method: Literal["seen_within"]
    service: WaitService
    days: int = Field(gt=0)


# Local extracts (kpi/engine/compute_local.py)
class AdviceWithin(Strict):
    method: Literal["advice_within"]
    days: int = Field(gt=0)
    advice_type: Literal["EP", "HEALTH", "SOCIAL_CARE", "OTHER"]


AuditGradeCode = Literal["OUTSTANDING", "GOOD", "REQUIRES_IMPROVEMENT", "INADEQUATE"]


class AuditGrade(Strict):
    method: Literal["audit_grade"]
    grades: list[AuditGradeCode] = Field(min_length=1)
    plan_types: list[Literal["NEW", "AMENDED"]] = []  # empty: every audit


class AwaitingPlacement(Strict):
    method: Literal["awaiting_placement"]


class ReducedTimetable(Strict):
    method: Literal["reduced_timetable"]


class KpiReturn(Strict):
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


class KpiDefinition(Strict):
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
    published: DfePublished | None = Field(
        default=None, description="The DfE published measure this KPI corresponds to (Benchmarks, reconcile)")

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


class PublishedMeasure(Strict):
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
    published: DfePublished = Field(description="The DfE published measure (which columns of which dataset)")

    @property
    def plan(self) -> None:
        return None

    @property
    def is_rate(self) -> bool:
        return True


# --- the waiting-list block: services × measures, expanded into one KPI per pair --------------------------------

PLACEHOLDERS = ("service", "service_short", "service_id")


class WaitComputation(Strict):
    """A waiting-list computation without its service (the block's service fills it in)."""

    method: Literal["waiting_over", "waiting_over_count", "waiting_list_size", "waiting_median_weeks", "seen_within"]
    days: int | None = Field(default=None, gt=0)


class WaitMeasure(Strict):
    """One waiting-list measure, for every service of the block. ``id``, ``name``, ``short_name`` and
    ``description`` are templates: ``{service}`` (the service's name), ``{service_short}`` and ``{service_id}``."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*\{service_id\}[a-z0-9_]*$",
                     description="KPI id template, e.g. wait_over_18wk_{service_id}")
    name: str
    short_name: str
    description: str
    polarity: Literal["up", "down"]
    unit: Literal["percent", "count", "weeks"]
    decimals: int = Field(ge=0, le=3)
    computation: WaitComputation
    statutory_basis: str


class WaitServiceEntry(Strict):
    """One service of the block: its code in the referral extract, the words the templates use, its owner and the
    plans of those of its KPIs that have one (keyed by KPI id)."""

    service: WaitService
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Fills {service_id} in KPI ids, e.g. salt")
    name: str = Field(description="Fills {service}, e.g. speech and language therapy")
    short_name: str = Field(description="Fills {service_short}, e.g. SALT")
    owner: str
    plans: dict[str, Plan] = Field(default_factory=dict, description="KPI id → its plan")


class WaitingLists(Strict):
    app_area: str
    source: str
    measures: list[WaitMeasure] = Field(min_length=1)
    services: list[WaitServiceEntry] = Field(min_length=1)


class WaitingListBlock(Strict):
    """In the ``kpis`` list: one KPI for each service × measure, in service order, ids and texts from the templates."""

    waiting_lists: WaitingLists

    def expand(self) -> list[dict]:
        """The block's KPIs, as the entries they stand for. Raises ValueError for an unknown placeholder or a plan
        that names none of its service's KPIs."""
        block, out = self.waiting_lists, []
        for svc in block.services:
            words = {"service": svc.name, "service_short": svc.short_name, "service_id": svc.id}
            ids = []
            for m in block.measures:
                texts = {f: _fill(getattr(m, f), words, f"measure {m.id}: {f}")
                         for f in ("id", "name", "short_name", "description")}
                ids.append(texts["id"])
                entry = {**texts, "app_area": block.app_area, "polarity": m.polarity, "unit": m.unit,
                         "decimals": m.decimals, "statutory_basis": m.statutory_basis, "source": block.source,
                         "owner": svc.owner,
                         "computation": {"method": m.computation.method, "service": svc.service,
                                         **({"days": m.computation.days} if m.computation.days else {})}}
                if texts["id"] in svc.plans:
                    entry["plan"] = svc.plans[texts["id"]].model_dump(exclude_unset=True)
                out.append(entry)
            unknown = sorted(set(svc.plans) - set(ids))
            if unknown:
                raise ValueError(f"service {svc.service}: plans for {', '.join(unknown)}, which is none of its KPIs "
                                 f"({', '.join(ids)})")
        return out


def _fill(template: str, words: dict[str, str], where: str) -> str:
    try:
        return template.format_map(words)
    except (KeyError, ValueError, IndexError) as exc:
        raise ValueError(f"{where}: {template!r} uses a placeholder other than "
                         f"{', '.join('{' + p + '}' for p in PLACEHOLDERS)} ({exc})") from exc


def expand_blocks(entries: list) -> list:
    """The ``kpis`` list with each waiting-list block replaced, in place, by the KPIs it stands for. Raises
    ValueError naming the block (its position in ``kpis``) and every problem with it."""
    out = []
    for i, entry in enumerate(entries):
        if not (isinstance(entry, dict) and "waiting_lists" in entry):
            out.append(entry)
            continue
        try:
            out.extend(WaitingListBlock.model_validate(entry).expand())
        except ValidationError as exc:
            raise ValueError(f"kpis[{i}] (waiting-list block): " + "; ".join(field_problems(exc))) from exc
        except ValueError as exc:
            raise ValueError(f"kpis[{i}] (waiting-list block): {exc}") from exc
    return out


class AppArea(Strict):
    id: str
    name: str


class PlanWindow(Strict):
    name: str
    start: str
    end: str
    approved: str | None = None

    _periods = field_validator("start", "end", mode="before")(check_period)


class Catalogue(Strict):
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
        lambda v: None if v is None else check_period(v))

    @model_validator(mode="before")
    @classmethod
    def _expand_blocks(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("kpis"), list):
            data = {**data, "kpis": expand_blocks(data["kpis"])}
        return data

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
    def published_entries(self) -> list[KpiDefinition | PublishedMeasure]:
        """The KPIs and published-only measures DfE publishes (those with a ``published`` block), in file order."""
        return [m for m in [*self.kpis, *self.published_measures] if m.published is not None]

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


def _naming_kpis(raw: dict):
    """A locator (etl.config) naming a KPI by its id rather than its position: ``kpi ehcp_20wk_excl: plan.target``."""
    def locate(loc: tuple) -> str | None:
        if len(loc) >= 2 and loc[0] in ("kpis", "published_measures") and isinstance(loc[1], int):
            what = "kpi" if loc[0] == "kpis" else "published measure"
            try:
                return f"{what} {raw[loc[0]][loc[1]].get('id', '#' + str(loc[1]))}: " + ".".join(map(str, loc[2:]))
            except (KeyError, IndexError, AttributeError, TypeError):
                return None
        return None
    return locate


def parse(text: str, source: str = "kpi_definitions.yaml") -> Catalogue:
    """Stage 1: shape (the waiting-list block expanded first). Raises DefinitionError listing every problem."""
    try:
        raw = parse_yaml(text, source)
    except ConfigFileError as exc:
        raise DefinitionError("shape", exc.problems) from exc
    return _shaped(raw, source)


def _shaped(raw: Any, source: str) -> Catalogue:
    if not isinstance(raw, dict):
        raise DefinitionError("shape", [f"{source} must hold a mapping with version, plan_window, app_areas, kpis"])
    if isinstance(raw.get("kpis"), list):
        try:
            raw = {**raw, "kpis": expand_blocks(raw["kpis"])}
        except ValueError as exc:
            raise DefinitionError("shape", [str(exc)]) from exc
    try:
        return validate(raw, Catalogue, source, _naming_kpis(raw))
    except ConfigFileError as exc:
        raise DefinitionError("shape", exc.problems) from exc


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
            problems.extend(f"kpi {k.id}: {problem}" for problem in plan_problems(k, k.plan))
        recalcs = [r.period for r in k.spc.recalculations]
        if recalcs != sorted(set(recalcs)):
            problems.append(f"kpi {k.id}: spc recalculations must be in date order without repeats")
        if cat.series_start and any(r <= cat.series_start for r in recalcs):
            problems.append(f"kpi {k.id}: an spc recalculation must come after series_start {cat.series_start}")
    return problems + _published_measure_problems(cat, seen)


def plan_problems(k: KpiDefinition, p: Plan) -> list[str]:
    """A plan's problems for its KPI (dates in order, a basis the KPI has, percentages within 0–100): the
    definitions' plan and every area's plan (kpi/area_plans.py) are checked alike."""
    problems: list[str] = []
    if p.target.period <= p.baseline.period:
        problems.append(f"target period {p.target.period} is not after baseline {p.baseline.period}")
    last = p.baseline.period
    for m in p.milestones:
        if not (p.baseline.period < m.period < p.target.period):
            problems.append(f"milestone {m.period} is not between baseline and target")
        if m.period <= last:
            problems.append(f"milestones must be in date order ({m.period})")
        last = m.period
    if p.basis == "month" and p.cites_calendar_year():
        problems.append("the plan's baseline or target is a calendar-year (DfE published) figure but the plan is "
                        "judged on single months: set `basis: rolling_12m`")
    if p.basis == "rolling_12m" and k.is_snapshot:
        problems.append("a month-end count has no rolling 12-month figure: set `basis: month`")
    if p.basis == "rolling_12m" and k.computation.method in MEDIAN_METHODS:
        problems.append("a median has no rolling 12-month figure: set `basis: month`")
    if k.unit == "percent":
        for point in (p.baseline, p.target, *p.milestones):
            if not 0 <= point.value <= 100:
                problems.append(f"planned value {point.value} at {point.period} is not a percentage")
    return problems


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


def load(path: Path | str = DEFAULT_PATH) -> Catalogue:
    """Read and validate (stages 1–2) the definitions file."""
    path = Path(path)
    try:
        raw = read_yaml(path, "the KPI definitions")
    except ConfigFileError as exc:
        raise DefinitionError("shape", exc.problems) from exc
    cat = _shaped(raw, path.name)
    problems = check_references(cat)
    if problems:
        raise DefinitionError("references", problems)
    return cat


def json_schema() -> dict:
    """The JSON schema of kpi_definitions.yaml as written (the waiting-list block unexpanded), from the models, for
    editors to check the file as it is typed (``python -m kpi schema``)."""
    written = create_model("KpiDefinitionsFile", __base__=Catalogue,
                           kpis=(list[KpiDefinition | WaitingListBlock], ...))
    schema = written.model_json_schema()
    schema["title"] = "kpi_definitions.yaml"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
