"""Pareto tools on minimization arrays: thin wrappers over pymoo's sorting and hypervolume,
and the exact hypervolume a point adds to a front (what hypervolume-improvement acquisition
scores).

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


def pareto_front(F: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Distinct non-dominated rows of F strictly better than ``reference``, sorted by column 0."""
    F = np.asarray(F, dtype=float).reshape(-1, len(reference))
    F = F[(F < reference).all(axis=1)]
    if len(F) > 1:
        F = F[front_mask(F)]
    return np.unique(F, axis=0)


def _hvi_2d(points: np.ndarray, front: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Exact 2-D improvement: integrate each point's box over the front's staircase."""
    # staircase of the front (sorted by x, so y decreases): height h_j on [left_j, right_j)
    left = np.concatenate([[-np.inf], front[:, 0]])
    right = np.concatenate([front[:, 0], [ref[0]]])
    height = np.concatenate([[ref[1]], front[:, 1]])
    out = np.empty(len(points))
    step = max(1, 2_000_000 // len(left))
    for s in range(0, len(points), step):
        a, b = points[s : s + step, :1], points[s : s + step, 1:]
        width = np.maximum(0.0, right - np.maximum(left, a))
        out[s : s + step] = (width * np.maximum(0.0, height - b)).sum(axis=1)
    return out


def hypervolume_improvement(
    points: np.ndarray, front: np.ndarray, reference: np.ndarray
) -> np.ndarray:
    """[P] exact hypervolume each point alone adds to ``front`` within ``reference`` (minimized).

    Sweep over the staircase for two objectives; for three or more, the point's box minus
    pymoo's hypervolume of the front clipped to that box, only for points the front does not
    already dominate.
    """
    points = np.asarray(points, dtype=float)
    ref = np.asarray(reference, dtype=float)
    front = pareto_front(front, ref)
    box = np.prod(np.maximum(0.0, ref - points), axis=1)
    if len(front) == 0 or len(points) == 0:
        return box
    if len(ref) == 1:
        return np.maximum(0.0, front[0, 0] - points[:, 0])
    if len(ref) == 2:
        return _hvi_2d(points, front, ref)
    chunks = np.array_split(np.flatnonzero(box > 0), len(points) // 4096 + 1)
    alive = [c[~(front[None] <= points[c, None]).all(axis=2).any(axis=1)] for c in chunks]
    out, hv = np.zeros(len(points)), HV(ref_point=ref)
    for i in np.concatenate(alive):
        out[i] = box[i] - float(hv(np.maximum(front, points[i])))
    return np.maximum(out, 0.0)
