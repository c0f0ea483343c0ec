"""Pareto tools on minimization arrays: thin wrappers over pymoo's sorting and hypervolume.

All functions take ``F`` as an [N, M] array where every column is minimized (see
``Objectives.to_min``).

Example:
    >>> import numpy as np
    >>> from searchlab.core.pareto import front_mask, hypervolume, fitness_order
    >>> F = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 3.0], [3.0, 1.0]])
    >>> front_mask(F).tolist()
    [True, True, False, True]
    >>> round(hypervolume(F, np.array([4.0, 4.0])), 3)
    6.0
    >>> fitness_order(np.array([[3.0], [1.0], [2.0]])).tolist()
    [1, 2, 0]
"""

from __future__ import annotations

import numpy as np
from pymoo.indicators.hv import HV
from pymoo.operators.survival.rank_and_crowding.metrics import get_crowding_function
from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting


def _check(F: np.ndarray) -> np.ndarray:
    F = np.asarray(F, dtype=float)
    if F.ndim != 2:
        raise ValueError(f"expected an [N, M] objective array, got shape {F.shape}")
    if not np.isfinite(F).all():
        raise ValueError("objective array holds NaN or infinite values")
    return F


def front_ranks(F: np.ndarray) -> np.ndarray:
    """Non-domination rank per row (0 = on the Pareto front)."""
    F = _check(F)
    if len(F) == 0:
        return np.zeros(0, dtype=int)
    return NonDominatedSorting().do(F, return_rank=True)[1].astype(int)


def front_mask(F: np.ndarray) -> np.ndarray:
    """True for the rows on the Pareto front (duplicates of a front point included)."""
    return front_ranks(F) == 0


def hypervolume(F: np.ndarray, reference: np.ndarray) -> float:
    """Hypervolume dominated by the rows of F that beat the reference point in every column."""
    F = _check(F)
    reference = np.asarray(reference, dtype=float)
    if len(F) == 0:
        return 0.0
    inside = F[(F < reference).all(axis=1)]
    if len(inside) == 0:
        return 0.0
    return float(HV(ref_point=reference)(inside))


def fitness_order(F: np.ndarray, violation: np.ndarray | None = None) -> np.ndarray:
    """Row indices from best to worst: feasible first, then rank, then crowding (spread wins).

    With one objective this is a plain sort on the value; ties keep their original order.
    """
    F = _check(F)
    n = len(F)
    violation = np.zeros(n) if violation is None else np.asarray(violation, dtype=float)
    if n == 0:
        return np.zeros(0, dtype=int)
    if F.shape[1] == 1:
        return np.lexsort((np.arange(n), F[:, 0], violation))
    ranks = front_ranks(F)
    crowding = np.zeros(n)
    crowd = get_crowding_function("cd")
    for r in np.unique(ranks):
        idx = np.flatnonzero(ranks == r)
        crowding[idx] = crowd.do(F[idx], n_remove=0) if len(idx) > 2 else np.inf
    return np.lexsort((np.arange(n), -crowding, ranks, violation))
