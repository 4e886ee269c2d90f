"""The suite's own layout: a helper more than one test needs lives in tests/support/ (or is a fixture in
tests/conftest.py), so no test module imports another test module, and none imports conftest for its helpers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
STANDALONE = "test_standalone.py"  # tests conftest's own guard against reads beside the checkout


def _is_test_module(name: str) -> bool:
    top, _, module = name.partition(".")
    return top == "tests" and module.split(".")[0].startswith(("test_", "conftest"))


def imported_test_modules(source: str) -> list[str]:
    """The modules ``source`` imports that are test modules or conftest (``tests.test_x``, ``from tests import …``)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + ([f"tests.{a.name}" for a in node.names] if node.module == "tests" else [])
        else:
            continue
        found += [n for n in names if _is_test_module(n)]
    return found


def test_the_check_sees_imports_of_test_modules():
    assert imported_test_modules("from tests.test_app import run_app") == ["tests.test_app"]
    assert imported_test_modules("from tests import test_browser as tb") == ["tests.test_browser"]
    assert imported_test_modules("from tests.conftest import ROOT") == ["tests.conftest"]
    assert imported_test_modules("from tests.support.app import run_app\nimport pytest") == []


@pytest.mark.parametrize("path", sorted(p for p in TESTS.rglob("*.py") if p.name != STANDALONE),
                         ids=lambda p: p.relative_to(TESTS).as_posix())
def test_no_test_module_imports_another(path):
    assert imported_test_modules(path.read_text()) == [], "move the shared helper to tests/support/"
