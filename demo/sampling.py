"""Seeded sampling helpers for the demo generators: per-year parameters, exact-count selection, distinct integers,
weighted choices.

Why: the calibrated yearly counts must come out exactly for any seed while which records are picked stays random;
every helper takes the caller's numpy Generator, so the same seed always gives the same draws.
"""

from __future__ import annotations

import numpy as np


def by_year(table: dict[int, float], years: np.ndarray | int) -> np.ndarray:
    """Per-year parameter, clamping years outside the table to its first/last year."""
    keys = np.array(sorted(table))
    vals = np.array([table[k] for k in keys], dtype=float)
    return vals[np.clip(np.asarray(years) - keys[0], 0, len(keys) - 1)]


def pick_exact(rng: np.random.Generator, weights: np.ndarray, k: int) -> np.ndarray:
    """Select exactly k items with inclusion probability proportional to weights (systematic sampling).

    Why: calibrated yearly counts (e.g. plans issued within 20 weeks) must hold for any seed, while which
    plans are picked — and the month-to-month pattern — stays random.
    """
    n = len(weights)
    mask = np.zeros(n, dtype=bool)
    k = int(min(max(k, 0), n))
    if k == 0:
        return mask
    if k == n:
        mask[:] = True
        return mask
    p = np.asarray(weights, dtype=float) + 1e-12
    p = p * k / p.sum()
    for _ in range(50):
        over = p > 1
        if not over.any():
            break
        p[over] = 1.0
        rest = ~over
        p[rest] *= (k - over.sum()) / p[rest].sum()
    order = rng.permutation(n)
    c = np.cumsum(p[order])
    c *= k / c[-1]
    u = rng.random() * 0.999999 + 5e-7
    prev = np.concatenate(([0.0], c[:-1]))
    mask[order[np.floor(c - u) > np.floor(prev - u)]] = True
    return mask


def unique_ints(rng: np.random.Generator, low: int, high: int, n: int) -> np.ndarray:
    """n distinct random integers in [low, high), in random order (deterministic for a given rng)."""
    if n > high - low:
        raise ValueError("not enough distinct values")
    out = np.empty(0, dtype=np.int64)
    while len(out) < n:
        draw = np.concatenate((out, rng.integers(low, high, size=int((n - len(out)) * 1.2) + 16)))
        _, first = np.unique(draw, return_index=True)
        out = draw[np.sort(first)][:n]
    return out


def str_or_blank(values: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Values as text, blank where not ``present``."""
    out = np.asarray(values).astype(str).astype(object)
    out[~present] = ""
    return out


def choice(rng: np.random.Generator, options, weights, n: int) -> np.ndarray:
    """n draws from options with the given (unnormalised) weights."""
    w = np.asarray(weights, dtype=float)
    return np.asarray(options)[rng.choice(len(w), size=n, p=w / w.sum())]

