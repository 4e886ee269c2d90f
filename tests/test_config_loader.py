"""etl/config.py: the one YAML → pydantic loader behind area.yaml, access.yaml and kpi_definitions.yaml, and the
messages each of the three gives through it (the file, the line and column of a YAML error, every field at fault)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict, Field

from etl import area as area_config
from etl.config import ConfigFileError, load_model
from kpi import definitions
from kpi.access import roles


class _Thing(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    size: int


def test_a_valid_file_gives_the_model(tmp_path):
    path = tmp_path / "thing.yaml"
    path.write_text("name: box\nsize: 3\n")
    assert load_model(path, _Thing, "the thing") == _Thing(name="box", size=3)


def test_a_missing_file_names_what_and_where(tmp_path):
    with pytest.raises(ConfigFileError, match=r"^cannot read the thing .*missing\.yaml: No such file"):
        load_model(tmp_path / "missing.yaml", _Thing, "the thing")


def test_a_yaml_error_gives_its_line_and_column(tmp_path):
    path = tmp_path / "thing.yaml"
    path.write_text("name: box\nsize: [3\n")
    with pytest.raises(ConfigFileError) as err:
        load_model(path, _Thing, "the thing")
    assert str(err.value).startswith(f"{path} is not valid YAML (line 3, column 1): ")


def test_every_field_at_fault_is_named_after_the_file(tmp_path):
    path = tmp_path / "thing.yaml"
    path.write_text("name: ''\nsize: big\ncolour: red\n")
    with pytest.raises(ConfigFileError) as err:
        load_model(path, _Thing, "the thing")
    assert err.value.problems == ["name: String should have at least 1 character",
                                  "size: Input should be a valid integer, unable to parse string as an integer",
                                  "colour: Extra inputs are not permitted"]
    assert str(err.value) == f"{path}: " + "; ".join(err.value.problems)
    path.write_text("- a list\n")
    with pytest.raises(ConfigFileError, match="top level: Input should be a valid dictionary"):
        load_model(path, _Thing, "the thing")


def test_the_three_configuration_files_report_through_it(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("home_area: [\n")
    with pytest.raises(area_config.AreaConfigError, match=r"broken\.yaml is not valid YAML \(line 2, column 1\)"):
        area_config.load(broken)
    with pytest.raises(roles.AccessConfigError, match=r"broken\.yaml is not valid YAML \(line 2, column 1\)"):
        roles.load(broken)
    with pytest.raises(definitions.DefinitionError, match=r"broken\.yaml is not valid YAML \(line 2, column 1\)"):
        definitions.load(broken)

    wrong = tmp_path / "area.yaml"
    wrong.write_text("home_area: {name: X, new_la_code: E06000056, old_la_code: '8230', region_code: E12000006, "
                     "region_name: East}\n")
    with pytest.raises(area_config.AreaConfigError, match=r"area\.yaml: home_area\.old_la_code: String should match"):
        area_config.load(wrong)
    with pytest.raises(area_config.AreaConfigError, match=r"cannot read the area configuration .*nowhere\.yaml"):
        area_config.load(tmp_path / "nowhere.yaml")
    with pytest.raises(definitions.DefinitionError, match=r"cannot read the KPI definitions .*nowhere\.yaml"):
        definitions.load(tmp_path / "nowhere.yaml")
