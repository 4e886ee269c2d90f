"""Plans per local area: ``plans/<ONS code>.yaml`` holds an area's successive plans (an APP, then an improvement
plan), each with its name, window and per-KPI plans, beside the home area's plan in ``kpi_definitions.yaml``.

Each month is judged against the plan in force: the latest whose window starts on or before it (the first plan
before any window starts, so its baseline month still reads as the baseline). An area with no plan has figures but
no status. ``check`` finds every problem in every file (unknown KPI, unknown area, overlapping windows, a plan the
KPI cannot be judged on), each naming the file and the field.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import Field

from etl import reference
from etl.config import ConfigFileError, load_model, yaml_lines
from kpi.definitions import Catalogue, PlanWindow, plan_problems
from kpi.plans import Plan, Strict, month_index

ENV_VAR = "APP_PLANS_DIR"
DEFAULT_DIR = Path(__file__).resolve().parents[1] / "plans"
HOME_FILE = "kpi_definitions.yaml"  # where the home area's own plan lives (named as its file in messages)
NO_PLAN = "No plan for this area: figures without status"  # what every view says of an area without a plan


class AreaPlan(PlanWindow):
    """One plan of one area: its name, window (first and last month judged), approval and each KPI's plan."""

    kpis: dict[str, Plan] = Field(default_factory=dict, description="KPI id → its plan under this plan")
    demo: bool = Field(default=False, description="A synthetic plan shipped with the demo data, not a real one")

    @property
    def length(self) -> int:
        """Months in the window (12 for a year's plan)."""
        return month_index(self.end) - month_index(self.start) + 1

    def month_of(self, period: str) -> int | None:
        """Which month of the plan ``period`` is (1 = its first), None outside the window."""
        n = month_index(period) - month_index(self.start) + 1
        return n if 1 <= n <= self.length else None


class AreaPlanFile(Strict):
    """A ``plans/<ONS code>.yaml`` file: the area and its plans in date order."""

    area: str = Field(pattern=r"^E\d{8}$", description="The area's ONS code (the file's name)")
    demo: bool = Field(default=False, description="Every plan in the file is a demo plan")
    plans: list[AreaPlan] = Field(min_length=1)


def plans_dir() -> Path:
    """Where the area plan files are (``APP_PLANS_DIR``, default ``plans/`` beside kpi_definitions.yaml)."""
    return Path(os.environ.get(ENV_VAR) or DEFAULT_DIR)


def plan_files(directory: Path | None = None) -> list[Path]:
    """The ``*.yaml`` files of the plans folder, in name order (none when the folder does not exist)."""
    directory = plans_dir() if directory is None else directory
    return sorted(directory.glob("*.yaml")) if directory.is_dir() else []


def home_plan(catalogue: Catalogue) -> AreaPlan:
    """The home area's plan as kpi_definitions.yaml gives it: its plan window and every KPI's plan."""
    w = catalogue.plan_window
    return AreaPlan(name=w.name, start=w.start, end=w.end, approved=w.approved,
                    kpis={k.id: k.plan for k in catalogue.kpis if k.plan is not None})


@dataclass(frozen=True)
class PlanBook:
    """Every area's plans in date order (the home area's first plan from kpi_definitions.yaml)."""

    catalogue: Catalogue
    home: str | None = None
    by_area: dict[str, tuple[AreaPlan, ...]] = field(default_factory=dict)
    home_plan: AreaPlan | None = None  # kpi_definitions.yaml's: under it the catalogue is used as it is

    @property
    def areas(self) -> list[str]:
        """The ONS codes of the areas with a plan."""
        return sorted(self.by_area)

    def plans(self, area: str) -> tuple[AreaPlan, ...]:
        return self.by_area.get(area, ())

    def has_plan(self, area: str) -> bool:
        """Whether the area has a plan at all (without one its figures are shown without status)."""
        return bool(self.plans(area))

    def plan_name(self, area: str, period: str) -> str:
        """The name of the plan ``period`` is judged against, or :data:`NO_PLAN`."""
        plan = self.in_force(area, period)
        return plan.name if plan is not None else NO_PLAN

    def in_force(self, area: str, period: str) -> AreaPlan | None:
        """The plan a month is judged against: the latest starting on or before it; the first before any starts;
        None when the area has no plan."""
        plans = self.plans(area)
        started = [p for p in plans if p.start <= period]
        return started[-1] if started else (plans[0] if plans else None)

    def catalogue_for(self, area: str, period: str) -> Catalogue:
        """The catalogue with the plan in force for ``area`` in ``period``: its window and each KPI's plan (None for
        a KPI it does not cover). With no plan, no KPI has one and the window stays the home area's."""
        plan = self.in_force(area, period)
        if plan is not None and plan is self.home_plan:
            return self.catalogue
        kpis = [k.model_copy(update={"plan": plan.kpis.get(k.id) if plan else None}) for k in self.catalogue.kpis]
        update = {"kpis": kpis}
        if plan is not None:
            update["plan_window"] = PlanWindow(name=plan.name, start=plan.start, end=plan.end, approved=plan.approved)
        return self.catalogue.model_copy(update=update)


class AreaPlansError(ValueError):
    """A plan file failed its checks: ``problems`` lists every one, each naming the file and the field."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def read_files(files: list[Path]) -> tuple[dict[Path, AreaPlanFile], list[str]]:
    """Each file's model, and the problems of those that cannot be read or fail their shape."""
    read, problems = {}, []
    for path in files:
        line = yaml_lines(path)
        try:
            read[path] = load_model(path, AreaPlanFile, "the area plan",
                                    lambda loc, line=line: f"{'.'.join(map(str, loc))} (line {line(loc)})")
        except ConfigFileError as exc:
            problems.extend(p if str(path) in p else f"{path.name}: {p}" for p in exc.problems)
    return read, problems


def check(catalogue: Catalogue, home: str | None, files: list[Path]) -> list[str]:
    """Every problem in the plan files: shape, file name ≠ area, unknown area, unknown KPI, a plan its KPI cannot
    be judged on (kpi.definitions.plan_problems), a window ending before it starts, windows that overlap (the home
    area's with kpi_definitions.yaml's too)."""
    read, problems = read_files(files)
    return problems + _problems(catalogue, home, read)


def _problems(catalogue: Catalogue, home: str | None, read: dict[Path, AreaPlanFile]) -> list[str]:
    problems = []
    kpis = {k.id: k for k in catalogue.kpis}
    for path, f in read.items():
        name, line = path.name, yaml_lines(path)

        def found(message: str, *keys, line=line) -> None:
            problems.append(f"{message} (line {line(keys)})")

        if path.stem != f.area:
            found(f"{name}: area: {f.area} is not the file's name (plans/{f.area}.yaml)", "area")
        if reference.by_code(f.area) is None:
            found(f"{name}: area: {f.area} is not an English local authority (etl/reference)", "area")
        for i, plan in enumerate(f.plans):
            where = f"{name}: plans[{i}] ({plan.name})"
            if plan.start > plan.end:
                found(f"{where}: end {plan.end} is before start {plan.start}", "plans", i, "end")
            if not plan.kpis:
                found(f"{where}: kpis: no KPI has a plan", "plans", i, "kpis")
            for kpi_id, kpi_plan in plan.kpis.items():
                if kpi_id not in kpis:
                    found(f"{where}: kpis.{kpi_id}: unknown KPI id (not in kpi_definitions.yaml)", "plans", i, "kpis",
                          kpi_id)
                    continue
                for p in plan_problems(kpis[kpi_id], kpi_plan):
                    found(f"{where}: kpis.{kpi_id}: {p}", "plans", i, "kpis", kpi_id)
        earlier = [(HOME_FILE, home_plan(catalogue), None)] if f.area == home else []
        earlier += [(f"{name}: plans[{i}] ({p.name})", p, line(("plans", i, "start"))) for i, p in enumerate(f.plans)]
        problems.extend(_overlaps(earlier))
    return problems


def _overlaps(plans: list[tuple[str, AreaPlan, int | None]]) -> list[str]:
    """Windows of one area that share a month (each month must have one plan in force), at the later one's line."""
    ordered = sorted(plans, key=lambda wp: wp[1].start)
    return [f"{b_where}: window {b.start}–{b.end} overlaps {a_where} ({a.start}–{a.end})"
            + (f" (line {b_line})" if b_line else "")
            for (a_where, a, _), (b_where, b, b_line) in zip(ordered, ordered[1:], strict=False) if b.start <= a.end]


def load(catalogue: Catalogue, home: str | None, directory: Path | None = None) -> PlanBook:
    """Every area's plans (the home area's from kpi_definitions.yaml first). Raises AreaPlansError naming every
    problem in every file."""
    read, problems = read_files(plan_files(directory))
    problems += _problems(catalogue, home, read)
    if problems:
        raise AreaPlansError(problems)
    own = home_plan(catalogue)
    by_area: dict[str, tuple[AreaPlan, ...]] = {home: (own,)} if home else {}
    for f in read.values():
        plans = [p.model_copy(update={"demo": p.demo or f.demo}) for p in f.plans]
        by_area[f.area] = tuple(sorted([*by_area.get(f.area, ()), *plans], key=lambda p: p.start))
    return PlanBook(catalogue=catalogue, home=home, by_area=by_area, home_plan=own)
