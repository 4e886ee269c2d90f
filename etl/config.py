"""Reading a YAML configuration file into a pydantic model, written once for every configuration file.

``area.yaml`` (etl/area.py), ``access.yaml`` (kpi/access/roles.py) and ``kpi_definitions.yaml`` (kpi/definitions.py)
are all read the same way: read the file, parse the YAML, validate it, and turn any failure into a message that
names the file and, for a validation error, each field at fault (``home_area.old_la_code: String should match
pattern …``). Here, at the bottom layer, because kpi may import etl but not the reverse.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)
# Names a validation error's location for people (e.g. ``kpi ehcp_20wk_excl: plan.tolerance``); None: the default.
Locator = Callable[[tuple], str | None]


class ConfigFileError(ValueError):
    """A configuration file cannot be read, is not YAML or fails validation: ``problems`` lists every reason, each
    naming the file or the field; ``str()`` joins them."""

    def __init__(self, path: Path, problems: list[str], message: str | None = None):
        self.path = path
        self.problems = problems
        super().__init__(message or "; ".join(problems))


def _yaml_problem(path: Path, exc: yaml.YAMLError) -> str:
    """'area.yaml is not valid YAML (line 3, column 7): mapping values are not allowed here'."""
    mark = getattr(exc, "problem_mark", None)
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"{path} is not valid YAML{where}: {what}"


def parse_yaml(text: str, path: Path | str) -> Any:
    """The parsed YAML of ``text`` (read from ``path``). Raises ConfigFileError naming the file, line and column."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigFileError(Path(path), [_yaml_problem(Path(path), exc)]) from exc


def read_yaml(path: Path | str, what: str) -> Any:
    """The parsed YAML of ``path`` (``what`` names the file in messages: 'the area configuration'). Raises
    ConfigFileError when it cannot be read or parsed."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigFileError(path, [f"cannot read {what} {path}: {exc.strerror}"]) from exc
    return parse_yaml(text, path)


def field_problems(exc: ValidationError, locate: Locator | None = None) -> list[str]:
    """One 'field.path: message' per validation error (``top level`` when the whole file is wrong)."""
    out = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        where = (locate(loc) if locate else None) or ".".join(str(x) for x in loc) or "top level"
        out.append(f"{where}: {err['msg']}")
    return out


def validate(raw: Any, model: type[Model], path: Path | str, locate: Locator | None = None) -> Model:
    """``raw`` validated as ``model``; raises ConfigFileError with one problem per field (its message: the file, then
    every problem)."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = field_problems(exc, locate)
        raise ConfigFileError(Path(path), problems, f"{path}: " + "; ".join(problems)) from exc


def load_model(path: Path | str, model: type[Model], what: str, locate: Locator | None = None) -> Model:
    """Read ``path`` and validate it as ``model``. Raises ConfigFileError naming the file and every field at fault."""
    return validate(read_yaml(path, what), model, path, locate)


def yaml_lines(path: Path | str) -> Callable[[tuple], int | None]:
    """A function giving the line (1-based) of a field in the YAML file ``path``, the field named by its path of
    mapping keys and list indexes (``("plans", 0, "kpis", "ar_overdue")``): the nearest enclosing field's line when
    the path goes further than the file does; None when the file cannot be read or parsed. For messages that name
    the file and the line of a problem found after validation (an unknown KPI, an overlapping window)."""
    try:
        root = yaml.compose(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        root = None

    def line(keys: tuple) -> int | None:
        if root is None:
            return None
        node, mark = root, root.start_mark
        for key in keys:
            found = _child(node, key)
            if found is None:
                break
            mark, node = found
        return mark.line + 1

    return line


def _child(node: yaml.Node, key) -> tuple[yaml.Mark, yaml.Node] | None:
    """(where the child starts: its key for a mapping, the item for a list; the child's node), or None."""
    if isinstance(node, yaml.MappingNode):
        return next(((k.start_mark, v) for k, v in node.value if k.value == str(key)), None)
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
        return node.value[key].start_mark, node.value[key]
    return None
