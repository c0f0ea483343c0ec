"""Strategy: the ask/tell contract every optimizer implements.

A strategy proposes candidates (``ask``) and learns verified values (``tell``). Its state is
a function of the seed, the number of asks so far and the told history, in order: a fresh
strategy given ``restore(history, asks)`` continues exactly where a killed one stopped
(the idea of optuna's storage-backed GA sampler). Each ask draws from its own generator,
``default_rng([seed, asks])``, so the same seed and history give the same candidates.

Subclasses implement ``_ask(n, rng)`` (return up to n new candidates) and may extend
``_tell(candidates, values)``; the public methods validate and deduplicate. ``_tell`` must
reach the same state however the history is split into batches, because ``restore``
replays it as one batch.

Example:
    >>> import numpy as np
    >>> from searchlab import load_space
    >>> from searchlab.core.objectives import Objectives
    >>> from searchlab.strategies.base import Strategy
    >>> class Sampler(Strategy):
    ...     name = "demo"
    ...     def _ask(self, n, rng):
    ...         return [self.space.sample(rng) for _ in range(n)]
    >>> s = Sampler(load_space("nb201"), Objectives.parse(["acc_cifar10_test"]), seed=0)
    >>> batch = s.ask(3)
    >>> s.tell(batch, [{"acc_cifar10_test": v} for v in (90.0, 91.0, 92.0)])
    >>> len(s.history), s.asks, s.best()[1]["acc_cifar10_test"]
    (3, 1, 92.0)
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from searchlab.core.candidate import Candidate
from searchlab.core.objectives import Objectives
from searchlab.core.pareto import fitness_order
from searchlab.core.space import Space


class StrategyError(ValueError):
    """A strategy was misused or misconfigured (the message names the option and value)."""


class Strategy(ABC):
    """Ask/tell optimizer over one space; state = seed + asks + told history."""

    name: ClassVar[str] = "strategy"

    def __init__(self, space: Space, objectives: Objectives, seed: int = 0) -> None:
        if not isinstance(space, Space):
            raise StrategyError(f"strategy needs a Space, got {type(space).__name__}")
        if not isinstance(seed, (int, np.integer)) or seed < 0:
            raise StrategyError(f"seed must be a non-negative integer, got {seed!r}")
        self.space, self.objectives, self.seed = space, objectives, int(seed)
        self.asks = 0
        #: told candidates and their values, in the order told (failed ones: values None)
        self.history: list[tuple[Candidate, dict[str, float] | None]] = []
        self.told: set[str] = set()

    # ----- public API ----------------------------------------------------------------------
    def ask(self, n: int) -> list[Candidate]:
        """Up to ``n`` distinct candidates never told before (fewer when the space runs dry)."""
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
            raise StrategyError(f"ask(n) needs a positive integer, got {n!r}")
        rng = np.random.default_rng([self.seed, self.asks])
        self.asks += 1
        out, keys = [], set()
        for cand in self._ask(int(n), rng):
            if not isinstance(cand, Candidate):
                raise StrategyError(f"{self.name}: _ask returned {type(cand).__name__}")
            if cand.key not in keys and cand.key not in self.told:
                keys.add(cand.key)
                out.append(cand)
        return out[:n]

    def tell(
        self,
        candidates: Sequence[Candidate],
        values: Sequence[Mapping[str, float] | None],
    ) -> None:
        """Record verified values (None for a failed candidate: it is never proposed again)."""
        if len(candidates) != len(values):
            raise StrategyError(f"tell got {len(candidates)} candidates and {len(values)} values")
        clean: list[dict[str, float] | None] = []
        for cand, row in zip(candidates, values):
            if row is None:
                clean.append(None)
                continue
            missing = [n for n in self.objectives.names if n not in row]
            if missing:
                raise StrategyError(f"tell: candidate {cand.key} lacks objective(s) {missing}")
            vals = {n: float(row[n]) for n in self.objectives.names}
            if not all(math.isfinite(v) for v in vals.values()):
                raise StrategyError(f"tell: candidate {cand.key} has non-finite values {vals}")
            clean.append(vals)
        fresh = []
        for cand, row in zip(candidates, clean):
            # a key repeated within one batch is recorded once, like one told twice
            if cand.key not in self.told:
                self.told.add(cand.key)
                fresh.append((cand, row))
        self.history.extend(fresh)
        if fresh:
            self._tell([c for c, _ in fresh], [v for _, v in fresh])

    def restore(
        self, history: Sequence[tuple[Candidate, Mapping[str, float] | None]], asks: int
    ) -> None:
        """Rebuild the state of a strategy that had asked ``asks`` times and been told these."""
        if self.history or self.asks:
            raise StrategyError("restore() needs a fresh strategy")
        if history:
            self.tell([c for c, _ in history], [v for _, v in history])
        self.asks = int(asks)

    def succeeded(self) -> list[tuple[Candidate, dict[str, float]]]:
        """Told candidates that did not fail, in order."""
        return [(c, v) for c, v in self.history if v is not None]

    def best(self) -> tuple[Candidate, dict[str, float]]:
        """The best told candidate (feasible first; several objectives: rank then crowding)."""
        ok = self.succeeded()
        if not ok:
            raise StrategyError("no successful candidate told yet")
        return ok[int(self.order([v for _, v in ok])[0])]

    def order(self, values: Sequence[Mapping[str, float]]) -> np.ndarray:
        """Indices of ``values`` from best to worst under the objectives and constraints."""
        if not values:
            return np.zeros(0, dtype=int)
        return fitness_order(self.objectives.to_min(values), self.objectives.violation(values))

    def options(self) -> dict[str, Any]:
        """The strategy's settings (stored with the campaign)."""
        return {"name": self.name, "seed": self.seed}

    # ----- for subclasses --------------------------------------------------------------------
    @abstractmethod
    def _ask(self, n: int, rng: np.random.Generator) -> list[Candidate]:
        """Propose up to n candidates (duplicates and told ones are filtered by ``ask``)."""

    def _tell(self, candidates: list[Candidate], values: list[dict[str, float] | None]) -> None:
        """Update state from newly told candidates (must not use randomness)."""
        return None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.space.name}, seed={self.seed}, told={len(self.history)})"
        )
