"""The multi-area demo: one extract folder per local area, each with its own size and history.

``python -m etl demo --scale region|england`` writes, for every area of the scale (the home area's region, or
every current English local authority), the same files one council would hand over (the nine SEN2 Blade modules,
the five local extracts, a referral-level waiting list) into ``OUT/<ONS code>/``, and loads each folder as that
area's extract. The la scale is the home area alone, written straight into ``OUT``.

Each area differs deterministically (seeded by the area's code): its size relative to Central Bedfordshire
(log-normal, scaled so the sizes add up to the scale's multiplier: about 10x for the region, 150x for England)
and its timeliness (points added to the published 20-week rates). The home area keeps the la demo's own seed,
size and calibration, so its figures are the same in every scale.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from demo.local_extracts import generate_local
from demo.sen2 import DEFAULT_SEED, LEA, SCALES, generate
from demo.waits import generate as generate_waits
from etl import reference

HOME_CODE = "E06000056"  # Central Bedfordshire: the demo's calibration area (demo/sen2_calibration.py)
MIN_FACTOR = 0.1  # the smallest areas (City of London, Isles of Scilly) still get a few records
SIZE_SIGMA = 0.55  # spread of area sizes (log-normal): the largest councils are several times the median
SHIFT_SD = 12.0  # spread of areas' 20-week timeliness around the calibration area's, in percentage points


@dataclass(frozen=True)
class AreaProfile:
    """One synthetic area: who it is and how it differs from the calibration area."""

    code: str  # ONS code
    lea: str  # DfE LA number
    name: str
    factor: float  # size relative to Central Bedfordshire
    pct_shift: float  # points added to the 20-week rates
    seed: int


def _area_seed(seed: int, code: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{code}".encode()).digest()[:4], "big")


def areas_for(scale: str) -> list[reference.LocalAuthority]:
    """The areas of a scale: the home area; its region's current authorities; or every current one."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; expected one of {sorted(SCALES)}")
    home = reference.by_code(HOME_CODE)
    current = [la for la in reference.local_authorities() if la.last_year is None]
    if scale == "la":
        return [home]
    if scale == "region":
        return sorted((la for la in current if la.region_code == home.region_code), key=lambda la: la.new_la_code)
    return sorted(current, key=lambda la: la.new_la_code)


def profiles(scale: str, seed: int = DEFAULT_SEED) -> list[AreaProfile]:
    """Every area of the scale with its size and timeliness; sizes add up to the scale's multiplier."""
    areas = areas_for(scale)
    others = [la for la in areas if la.new_la_code != HOME_CODE]
    raw = {la.new_la_code: float(np.random.default_rng(_area_seed(seed, la.new_la_code)).lognormal(0, SIZE_SIGMA))
           for la in others}
    budget = SCALES[scale] - 1.0  # the home area is 1
    total = sum(raw.values()) or 1.0
    out = []
    for la in areas:
        if la.new_la_code == HOME_CODE:
            out.append(AreaProfile(la.new_la_code, LEA, la.name, 1.0, 0.0, seed))
            continue
        rng = np.random.default_rng(_area_seed(seed, la.new_la_code) + 1)
        factor = max(MIN_FACTOR, raw[la.new_la_code] * budget / total)
        out.append(AreaProfile(la.new_la_code, la.old_la_code, la.name, round(factor, 3),
                               round(float(rng.normal(0, SHIFT_SD)), 1), _area_seed(seed, la.new_la_code)))
    return out


def generate_area(out_dir: Path, profile: AreaProfile, start: str, months: int, history: bool = False) -> Path:
    """One area's folder: SEN2 Blade modules, local extracts and the referral extract; with ``history``, the
    earlier SEN2 extracts in its ``history/`` folder (demo/history.py)."""
    generate(out_dir, seed=profile.seed, start=start, months=months, factor=profile.factor, lea=profile.lea,
             pct_shift=profile.pct_shift, history=history)
    generate_local(out_dir, seed=profile.seed)
    generate_waits(out_dir, seed=profile.seed, start=start, months=months, factor=profile.factor)
    return out_dir


def _generate_one(args: tuple[str, AreaProfile, str, int, bool]) -> tuple[str, str]:
    out, profile, start, months, history = args
    return profile.code, str(generate_area(Path(out), profile, start, months, history))


def generate_areas(out_dir: Path, scale: str = "la", seed: int = DEFAULT_SEED, start: str = "2019-01",
                   months: int = 72, workers: int = 1, history: bool = False) -> list[tuple[str, Path]]:
    """Write every area's extract folder; returns (ONS code, folder) per area. The la scale writes into out_dir
    itself. ``workers`` > 1 generates areas in parallel processes (the files are the same either way)."""
    out = Path(out_dir)
    chosen = profiles(scale, seed)
    if scale == "la":
        return [(chosen[0].code, generate_area(out, chosen[0], start, months, history))]
    jobs = [(str(out / p.code), p, start, months, history) for p in chosen]
    if workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers) as pool:
            done = list(pool.map(_generate_one, jobs))
    else:
        done = [_generate_one(j) for j in jobs]
    return [(code, Path(folder)) for code, folder in done]
