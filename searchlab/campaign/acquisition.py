"""Acquisition functions: pick the next candidates to verify from k predicted samples each.

The samples are ``Density.samples`` ([N, k, M], natural units; cheap objectives such as params
are constant across the k samples). ``Acquisition.select`` validates, converts to minimization
form (value * ``Objective.sign``) and lets ``_select`` return up to q distinct rows, best first.

Constraints: each candidate's probability of feasibility is the fraction of its k samples
satisfying every constraint. Improvement scores (EI, EHVI) are multiplied by it; ranking
acquisitions (UCB, greedy) put candidates feasible with probability >= 0.5 first and the rest
after them by expected violation. When no sample of any candidate is feasible, every
acquisition picks by least expected violation.

Example:
    >>> import numpy as np
    >>> from searchlab.core.objectives import Objectives
    >>> from searchlab.campaign.acquisition import hypervolume_improvement, make_acquisition
    >>> objs = Objectives.parse(["acc_cifar10_test"])
    >>> samples = np.array([[90.0, 90, 90, 90], [86, 88, 92, 94]])[:, :, None]
    >>> rng = np.random.default_rng(0)
    >>> make_acquisition("ei").select(samples, objs, np.array([[91.0]]), q=2, rng=rng).tolist()
    [1, 0]
    >>> make_acquisition("greedy").select(samples, objs, np.empty((0, 1)), q=2, rng=rng).tolist()
    [0, 1]
    >>> front = np.array([[0.0, 2.0], [2.0, 0.0]])
    >>> hypervolume_improvement(np.array([[1.0, 1.0]]), front, np.array([3.0, 3.0])).tolist()
    [1.0]
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from searchlab.core.objectives import Objectives
from searchlab.core.pareto import fitness_order, hypervolume_improvement, pareto_front

#: probability of feasibility from which ranking acquisitions treat a candidate as feasible
LIKELY_FEASIBLE = 0.5


def expected_improvement(F: np.ndarray, best: float) -> np.ndarray:
    """[N] mean over the k samples of max(0, best - F) for minimization samples F [N, k]."""
    return np.maximum(0.0, best - np.asarray(F, dtype=float)).mean(axis=1)


def _checked(arg: str, value: Any, layout: str, m: int, names: str) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if arg == "verified" and arr.size == 0:
        arr = arr.reshape(0, m)
    if arr.ndim != layout.count(",") + 1 or arr.shape[-1] != m or 0 in arr.shape[1:]:
        raise ValueError(
            f"{arg} must be an [{layout}] array with M = {m} ({names}) and k >= 1, "
            f"got shape {arr.shape}"
        )
    if not np.isfinite(arr).all():
        raise ValueError(f"{arg} (shape {arr.shape}) holds NaN or infinite values")
    return arr


@dataclass(frozen=True)
class Candidates:
    """Input of ``_select`` in minimization form, with feasibility estimated from the samples."""

    F: np.ndarray  # [N, k, M] samples, every column minimized
    verified: np.ndarray  # [V, M] feasible verified values, minimized
    feasible: np.ndarray  # [N] fraction of the k samples satisfying every constraint
    violation: np.ndarray  # [N] mean total constraint violation over the k samples
    reference: np.ndarray | None  # [M] hypervolume reference point, minimized

    def median(self) -> np.ndarray:
        """[N, M] sample medians (minimized)."""
        return np.median(self.F, axis=1)

    def penalty(self) -> np.ndarray:
        """[N] 0 for likely feasible candidates, else their expected violation (rank key)."""
        return np.where(self.feasible >= LIKELY_FEASIBLE, 0.0, self.violation)


class Acquisition(ABC):
    """Picks up to q distinct candidates, best first, from their predicted samples.

    ``rng`` serves acquisitions that draw at random; the built-in ones are deterministic.
    """

    name: ClassVar[str] = "acquisition"
    #: True for acquisitions defined on one objective only
    single: ClassVar[bool] = False

    def select(
        self,
        samples: np.ndarray,
        objectives: Objectives,
        verified: np.ndarray,
        q: int,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Up to ``q`` distinct row indices into ``samples``, best first (validated input)."""
        m, names = len(objectives), ", ".join(objectives.names)
        samples = _checked("samples", samples, "N, k, M", m, names)
        verified = _checked("verified", verified, "V, M", m, names)
        if isinstance(q, (bool, np.bool_)) or not isinstance(q, (int, np.integer)) or q < 1:
            raise ValueError(f"q must be a positive integer, got {q!r}")
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy Generator, got {type(rng).__name__}")
        if self.single and m != 1:
            raise ValueError(
                f"acquisition {self.name!r} handles one objective, got {m} ({names}); "
                "use 'ehvi' or 'greedy'"
            )
        signs = np.array([o.sign for o in objectives])
        violation = np.zeros(samples.shape[:2])
        verified_violation = np.zeros(len(verified))
        for c in objectives.constraints:
            j = objectives.names.index(c.name)
            for values, out in ((samples[..., j], violation), (verified[:, j], verified_violation)):
                out += np.maximum(0.0, values - c.bound if c.op == "<=" else c.bound - values)
        ref = objectives.reference_min()
        cands = Candidates(
            F=samples * signs,
            verified=(verified * signs)[verified_violation == 0],
            feasible=(violation == 0).mean(axis=1),
            violation=violation.mean(axis=1),
            reference=None if ref is None else np.asarray(ref, dtype=float),
        )
        if len(samples) == 0:
            return np.zeros(0, dtype=int)
        if not (cands.feasible > 0).any():
            return fitness_order(cands.median(), cands.violation)[:q].astype(int)
        picks = np.asarray(self._select(cands, int(q), rng), dtype=int)[:q]
        if len(np.unique(picks)) != len(picks) or ((picks < 0) | (picks >= len(samples))).any():
            raise RuntimeError(f"{self.name}: _select returned invalid indices {picks.tolist()}")
        return picks

    @abstractmethod
    def _select(self, cands: Candidates, q: int, rng: np.random.Generator) -> np.ndarray:
        """Up to ``q`` distinct indices, best first; some candidate has a feasible sample."""


class UpperConfidence(Acquisition):
    """Optimistic quantile of the samples, best first (one objective).

    ``beta`` = 0.8 takes the 0.8 quantile of a maximized objective (0.2 of a minimized one):
    with k = 8 samples it sits between the 6th and 7th order statistics, optimistic enough to
    favour uncertain candidates without trusting the single most extreme sample.
    """

    name = "ucb"
    single = True

    def __init__(self, beta: float = 0.8) -> None:
        if not 0.0 < float(beta) < 1.0:
            raise ValueError(f"ucb: beta must lie strictly between 0 and 1, got {beta!r}")
        self.beta = float(beta)

    def _select(self, cands: Candidates, q: int, rng: np.random.Generator) -> np.ndarray:
        F = cands.F[:, :, 0]
        optimistic = np.quantile(F, 1.0 - self.beta, axis=1)  # low tail of minimized values
        keys = (np.arange(len(F)), np.median(F, axis=1), optimistic, cands.penalty())
        return np.lexsort(keys)[:q]


class ExpectedImprovement(Acquisition):
    """Monte Carlo expected improvement over the best feasible verified value (one objective).

    EI is the mean over the k samples of max(0, best - sample); with nothing verified the
    best is the best median among candidates with a feasible sample. Scores are weighted by
    the probability of feasibility; ties (typically EI = 0) go to the better median.
    """

    name = "ei"
    single = True

    def _select(self, cands: Candidates, q: int, rng: np.random.Generator) -> np.ndarray:
        F = cands.F[:, :, 0]
        median = np.median(F, axis=1)
        pool = cands.verified[:, 0] if len(cands.verified) else median[cands.feasible > 0]
        best = float(pool.min())
        score = expected_improvement(F, best) * cands.feasible
        return np.lexsort((np.arange(len(F)), median, cands.penalty(), -score))[:q]


class ExpectedHypervolumeImprovement(Acquisition):
    """Monte Carlo EHVI with greedy sequential batches ("kriging believer"), several objectives.

    Score: mean over the k samples of the exact hypervolume each adds to the front of the
    feasible verified values, times the probability of feasibility. Each pick's median joins
    the front (if likely feasible), so the next pick must improve on it. Reference point:
    ``objectives.reference_min()``, else derived from the data as the worst value per objective
    over feasible verified values and predicted medians plus 10 % of the range. Scores only
    shrink as the front grows, so later picks lazily re-score just the leading stale
    candidates (still exact greedy). When nothing improves, the batch is filled greedily.
    """

    name = "ehvi"
    #: candidates re-scored at once when a stale score leads
    block: ClassVar[int] = 64

    def _select(self, cands: Candidates, q: int, rng: np.random.Generator) -> np.ndarray:
        n, k, m = cands.F.shape
        median = cands.median()
        ref = cands.reference
        if ref is None:  # worst value plus 10 % of the range (of max(|worst|, 1) if flat)
            pool = np.vstack([cands.verified, median])
            worst, spread = pool.max(axis=0), np.ptp(pool, axis=0)
            ref = worst + 0.1 * np.where(spread > 0, spread, np.maximum(np.abs(worst), 1.0))
        front = pareto_front(cands.verified, ref)

        def ehvi(idx: np.ndarray) -> np.ndarray:
            gain = hypervolume_improvement(cands.F[idx].reshape(-1, m), front, ref)
            return gain.reshape(len(idx), k).mean(axis=1) * cands.feasible[idx]

        bound, fresh = ehvi(np.arange(n)), np.ones(n, dtype=bool)
        open_, picks = np.ones(n, dtype=bool), []
        while len(picks) < q:
            scores = np.where(open_, bound, -np.inf)
            best = int(np.argmax(scores))
            if scores[best] <= 0:
                break
            if not fresh[best]:
                stale = np.flatnonzero(open_ & ~fresh)
                top = stale[np.argsort(-bound[stale], kind="stable")[: self.block]]
                bound[top], fresh[top] = ehvi(top), True
                continue
            picks.append(best)
            open_[best] = False
            believed = median[best][None]
            if cands.feasible[best] >= LIKELY_FEASIBLE:
                if hypervolume_improvement(believed, front, ref)[0] > 0:
                    front = pareto_front(np.vstack([front, believed]), ref)
                    fresh[:] = False
        rest = [i for i in fitness_order(median, cands.penalty()) if open_[i]]
        return np.array(picks + rest[: q - len(picks)], dtype=int)


class Greedy(Acquisition):
    """Best median first; several objectives: rank of the medians, then crowding.

    The no-uncertainty baseline: it ignores the spread of the samples entirely.
    """

    name = "greedy"

    def _select(self, cands: Candidates, q: int, rng: np.random.Generator) -> np.ndarray:
        return fitness_order(cands.median(), cands.penalty())[:q]


ACQUISITIONS: dict[str, type[Acquisition]] = {
    cls.name: cls
    for cls in (UpperConfidence, ExpectedImprovement, ExpectedHypervolumeImprovement, Greedy)
}


def make_acquisition(name: str, **options: Any) -> Acquisition:
    """Build a registered acquisition by name; ValueError names unknown names and options."""
    if name not in ACQUISITIONS:
        raise ValueError(f"unknown acquisition {name!r}; known: {', '.join(sorted(ACQUISITIONS))}")
    try:
        return ACQUISITIONS[name](**options)
    except TypeError as err:
        raise ValueError(f"acquisition {name!r}: bad options {sorted(options)} ({err})") from None


def default_acquisition(objectives: Objectives) -> str:
    """Name of the default acquisition: "ei" for one objective, "ehvi" for several."""
    return "ei" if len(objectives) == 1 else "ehvi"
