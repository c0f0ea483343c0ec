"""Cheap rankers: what a candidate's parameter count or FLOPs say of an expensive objective.

Every candidate's parameters and multiply-accumulates are computed from its graph for free.
Often they rank an objective well (bigger networks are slower, and on NB201 more accurate),
so a surrogate that has seen few verified values must not rank worse than they do. For each
expensive objective, :func:`choose` compares the surrogate's Kendall tau on rows it predicted
before verification with each feature's tau on the same rows (a feature is a fixed, free
ranking: only its sign is taken from the data) and names the better ranker. When a feature
wins, :func:`feature_samples` stands in for the surrogate's samples of that objective: a
Theil-Sen line of the objective on the log of the feature, fitted on every verified value,
plus draws of that line's residuals, so the acquisition sees the feature's ranking in the
objective's units with its real spread.

Example:
    >>> import numpy as np
    >>> from searchlab.surrogates.cheap import feature_samples, signed_tau
    >>> flops = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    >>> latency = np.array([1.1, 1.9, 3.2, 4.1, 5.0])
    >>> round(signed_tau(flops, latency), 6)
    1.0
    >>> s = feature_samples(flops, latency, np.array([32.0]), k=4, rng=np.random.default_rng(0))
    >>> s.shape, bool(s.mean() > 5.0)
    ((1, 4), True)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.stats import kendalltau, theilslopes

#: the cheap features, in the order they are tried (ties keep the earlier one)
FEATURES = ("params", "flops")


def features(space: Any, candidates: Sequence[Any]) -> dict[str, np.ndarray]:
    """{feature: [N] values} for the features the space computes for every candidate."""
    out: dict[str, np.ndarray] = {}
    if not getattr(space, "renders_network", True):  # a configuration has no graph to count
        return out
    for name in FEATURES:
        try:
            out[name] = np.array([float(getattr(space, name)(c)) for c in candidates])
        except (NotImplementedError, AttributeError):
            continue
    return out


def signed_tau(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall tau of x against y (0 when undefined: constant columns or under 3 rows)."""
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return 0.0
    tau = kendalltau(x, y).statistic
    return 0.0 if np.isnan(tau) else float(tau)


def choose(
    surrogate_tau: float,
    feature_x: dict[str, np.ndarray],
    y: np.ndarray,
    sign_x: dict[str, np.ndarray] | None = None,
    sign_y: np.ndarray | None = None,
) -> tuple[str, float]:
    """("surrogate" or a feature name, its tau on ``y``): the better ranker of one objective.

    ``feature_x[f]`` are the features of the rows ``y`` (the rows the surrogate's tau was
    measured on); the sign of each feature comes from ``sign_x``/``sign_y`` (every verified
    row) when given, so choosing the direction costs no fit on the compared rows.
    """
    best, best_tau = "surrogate", surrogate_tau
    for name, x in feature_x.items():
        sign = np.sign(signed_tau(sign_x[name], sign_y)) if sign_x is not None else 1.0
        tau = (sign or 1.0) * signed_tau(x, y)
        if tau > best_tau:
            best, best_tau = name, tau
    return best, float(best_tau)


def feature_line(x_seen: np.ndarray, y_seen: np.ndarray) -> tuple[float, float, np.ndarray]:
    """(slope, intercept, residuals) of the Theil-Sen line of y on log x over the seen rows."""
    lx = _log(x_seen)
    y = np.asarray(y_seen, dtype=float)
    slope, intercept, _, _ = theilslopes(y, lx) if np.ptp(lx) > 0 else (0.0, np.median(y), 0, 0)
    return float(slope), float(intercept), y - (intercept + slope * lx)


def feature_points(x_seen: np.ndarray, y_seen: np.ndarray, x_new: np.ndarray) -> np.ndarray:
    """[N] the line's values (the samples' centre) for features ``x_new``."""
    slope, intercept, _ = feature_line(x_seen, y_seen)
    return intercept + slope * _log(x_new)


def feature_samples(
    x_seen: np.ndarray,
    y_seen: np.ndarray,
    x_new: np.ndarray,
    k: int,
    rng: np.random.Generator,
    shared: bool = False,
) -> np.ndarray:
    """[N, k] samples of the objective for features ``x_new``: line on log x plus residuals
    drawn from the seen rows; ``shared``: the same k draws for every candidate, so the
    samples keep the feature's order."""
    slope, intercept, residuals = feature_line(x_seen, y_seen)
    point = intercept + slope * _log(x_new)
    draws = rng.choice(residuals, size=(1 if shared else len(point), k), replace=True)
    return point[:, None] + draws


def _log(x: np.ndarray) -> np.ndarray:
    return np.log(np.maximum(np.asarray(x, dtype=float), 1e-12))
