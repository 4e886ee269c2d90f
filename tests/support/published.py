"""The public statistics bundled in the repository (data/published, see its PROVENANCE.md): the suite reads them
there and nowhere else."""

from __future__ import annotations

import gzip
from pathlib import Path

from tests.support import ROOT

PUBLISHED_DATA = ROOT / "data" / "published"


def published_text(path: Path) -> str:
    """The text of a bundled file (``name.csv.gz`` read as the plain CSV), BOM removed."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
        return fh.read()


def published_plain(path: Path, into: Path) -> Path:
    """A bundled file written out as published (``requests.csv.gz`` → ``into/requests.csv``, same bytes)."""
    out = into / (path.name[:-3] if path.name.endswith(".gz") else path.name)
    with (gzip.open if path.name.endswith(".gz") else open)(path, "rb") as fh:
        out.write_bytes(fh.read())
    return out
