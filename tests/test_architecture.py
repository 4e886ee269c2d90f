"""docs/architecture.md names every module of the product, and nothing that is not there: the page an engineer
reads first cannot drift from the tree."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"
PACKAGES = ("etl", "demo", "kpi", "pages", "bench")


def _modules() -> set[str]:
    found = {"app.py"}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            rel = path.relative_to(ROOT).as_posix()
            if "__pycache__" not in rel and (path.name != "__init__.py" or path.stat().st_size > 2_000):
                found.add(rel)
    return found


def test_every_module_is_described_and_every_description_is_a_module():
    listed = set(re.findall(r"^- `([\w/]+\.py)`: \S", DOC.read_text(), flags=re.M))
    modules = _modules()
    assert sorted(modules - listed) == [], "modules missing from docs/architecture.md"
    assert sorted(listed - modules) == [], "docs/architecture.md lists modules that are not in the tree"


def test_every_path_the_page_names_exists():
    named = set(re.findall(r"`((?:etl|demo|kpi|pages|bench|tests|docs|data)/[\w./-]*)`", DOC.read_text()))
    missing = [p for p in sorted(named) if not (ROOT / p.rstrip("/")).exists() and "*" not in p]
    assert missing == []
