"""Reading DfE's published CSVs: header matching, measure names as stored, the first rows and the file's encoding.

Measure names are DfE's, lower-cased and snake_case (CamelCase headers of the older SEN2 MI vintage are mapped
onto the snake_case ones), with DfE's misspellings corrected (``number_decsion_4weeks`` → ``number_decision_4weeks``).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

MEASURE_SPELLING = {
    "number_decsion_4weeks": "number_decision_4weeks",
    "pc_decsion_4weeks": "pc_decision_4weeks",
    "outcome_maintan": "outcome_maintain",
    "number_asssess_mediation_tribunal": "number_assess_mediation_tribunal",
}



def norm(header: str) -> str:
    """Header matching ignores case, spaces, punctuation and a UTF-8 BOM."""
    return "".join(ch for ch in header.lower() if ch.isalnum())


def snake(header: str) -> str:
    """CamelCase → snake_case (``TotNoExcEHC`` → ``tot_no_exc_ehc``); snake_case headers are lower-cased."""
    text = header.strip().replace("\ufeff", "")
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", text)
    text = re.sub(r"[^0-9a-zA-Z]+", "_", text).strip("_").lower()
    return text


def measure_name(header: str, known: dict[str, str] | None = None) -> str:
    """The stored measure name for a header: a known name when its normalised form matches, else snake_case."""
    if known and norm(header) in known:
        name = known[norm(header)]
    else:
        name = snake(header)
    return MEASURE_SPELLING.get(name, name)


def read_rows(path: Path, limit: int | None = None) -> list[list[str]]:
    """The first rows of a CSV as text (BOM removed; Windows-1252 accepted when the file is not UTF-8)."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            with open(path, newline="", encoding=encoding) as fh:
                rows = []
                for i, row in enumerate(csv.reader(fh)):
                    if limit is not None and i >= limit:
                        break
                    rows.append(row)
                return rows
        except UnicodeDecodeError:
            continue
        except (OSError, csv.Error):
            return []
    return []


def file_encoding(path: Path) -> str:
    try:
        with open(path, encoding="utf-8-sig") as fh:
            for _ in fh:
                pass
        return "utf-8"
    except UnicodeDecodeError:
        return "latin-1"

