"""Random durations and choices from experiment config, always from a seeded RNG.

A duration is written as a number (fixed) or a table such as
``{dist = "exponential", mean = 30}``, ``{dist = "uniform", low = 5, high = 15}``,
``{dist = "normal", mean = 20, sd = 4}`` (truncated at 0), ``{dist = "lognormal", mean
= 3600, sigma = 1}`` (mean of the distribution, not of its log) or ``{dist = "choice",
values = [...], weights = [...]}``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from functools import partial
from itertools import repeat
from typing import Any

Sampler = Callable[[], float]


def sampler(spec: Any, rng: random.Random) -> Sampler:
    """A zero-argument function drawing values as ``spec`` describes."""
    # Fixed values and plain draws are C-level callables (repeat's __next__, a partial
    # of the RNG's method), not lambdas: a large run draws several per instance.
    if isinstance(spec, int | float):
        return repeat(float(spec)).__next__
    if not isinstance(spec, dict):
        raise ValueError(f"cannot read distribution {spec!r}")
    kind = str(spec.get("dist", "fixed")).lower()
    if kind == "fixed":
        return repeat(float(spec["value"])).__next__
    if kind in ("exponential", "exp"):
        return partial(rng.expovariate, 1.0 / float(spec["mean"]))
    if kind == "uniform":
        return partial(rng.uniform, float(spec["low"]), float(spec["high"]))
    if kind == "normal":
        mean, sd = float(spec["mean"]), float(spec["sd"])
        return lambda: max(0.0, rng.gauss(mean, sd))
    if kind == "lognormal":
        sigma = float(spec["sigma"])
        mu = math.log(float(spec["mean"])) - sigma * sigma / 2.0
        return lambda: rng.lognormvariate(mu, sigma)
    if kind == "choice":
        values = [float(v) for v in spec["values"]]
        weights = [float(w) for w in spec.get("weights", [1.0] * len(values))]
        return lambda: rng.choices(values, weights)[0]
    raise ValueError(f"unknown distribution {kind!r}")


def weighted_names(spec: dict[str, float], rng: random.Random) -> Callable[[], str]:
    """Draw names (e.g. VM types) with the given relative weights."""
    names = list(spec)
    cum: list[float] = []
    total = 0.0
    for name in names:
        total += float(spec[name])
        cum.append(total)
    if len(names) == 1:
        only = names[0]
        return lambda: only
    import bisect

    def draw() -> str:
        return names[bisect.bisect_right(cum, rng.random() * total)]
    return draw
