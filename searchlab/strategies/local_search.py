"""Local search: hill climbing over one-edit neighbours with random restarts.

The NAS-Bench baseline of White, Nolen, Savani, "Exploring the Loss Landscape in Neural
Architecture Search" (UAI 2021). The incumbent ``current`` is replaced by any told
candidate that beats it (``Strategy.order``: feasibility, then value, or Pareto rank then
crowding with several objectives). Asks return the incumbent's untold neighbours in random
order, topped up with untold neighbours of the best told candidates (``elite_share`` of the
top-up, best candidate first) and random samples (the rest). A campaign's screened pool is
such a large ask: the surrogate then chooses among the incumbent's neighbours, the best
candidates' neighbourhoods and fresh regions. When every neighbour has been told without an
improvement the climb restarts: the next told candidate becomes the new incumbent.

Neighbours are ``space.neighbours(c)`` when the space enumerates them (a
CategoricalSpace); otherwise up to ``n_mutations`` distinct mutations drawn with a
generator seeded by the strategy's seed and the incumbent's key, so the neighbourhood is a
fixed function of the incumbent.

Example:
    >>> from searchlab import load_space
    >>> from searchlab.core.objectives import Objectives
    >>> from searchlab.strategies.local_search import LocalSearch
    >>> space = load_space("nb201")
    >>> table = space.benchmark()
    >>> ls = LocalSearch(space, Objectives.parse(["acc_cifar10_test"]), seed=0)
    >>> first = ls.ask(3)
    >>> ls.tell(first, [table.lookup(c, ["acc_cifar10_test"]) for c in first])
    >>> ls.current == ls.best()[0]
    True
    >>> around = {c.key for c in space.neighbours(ls.current)}
    >>> all(c.key in around for c in ls.ask(5))
    True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from searchlab.core.candidate import Candidate
from searchlab.core.objectives import Objectives
from searchlab.core.space import Space
from searchlab.strategies.base import Strategy, StrategyError
from searchlab.strategies.evolution import positive_int
from searchlab.strategies.random_search import sample_new


class LocalSearch(Strategy):
    """Hill climbing on one-edit neighbourhoods, restarting at a local optimum."""

    name = "local"

    def __init__(
        self,
        space: Space,
        objectives: Objectives,
        seed: int = 0,
        n_mutations: int = 32,
        elite_share: float = 0.5,
    ) -> None:
        super().__init__(space, objectives, seed)
        self.n_mutations = positive_int(self.name, "n_mutations", n_mutations)
        if isinstance(elite_share, bool) or not 0.0 <= float(elite_share) <= 1.0:
            raise StrategyError(
                f"strategy 'local': option 'elite_share' must lie in [0, 1], got {elite_share!r}"
            )
        #: share of an ask beyond the incumbent's neighbours taken from the neighbourhoods of
        #: the best told candidates (the rest: random samples)
        self.elite_share = float(elite_share)
        #: the incumbent and its values (None right after a restart)
        self.current: Candidate | None = None
        self.current_values: dict[str, float] | None = None
        self.restarts = 0
        self._neighbours: list[Candidate] = []
        self._around: dict[str, list[Candidate]] = {}  #: neighbourhoods rendered so far
        # keys told so far *while replaying the history in order*: the restart test must not
        # see candidates later in the same batch, or the state would depend on batching
        self._seen: set[str] = set()

    def options(self) -> dict[str, Any]:
        """Name, seed and the mutation count used for spaces without enumerated neighbours."""
        return {
            **super().options(),
            "n_mutations": self.n_mutations,
            "elite_share": self.elite_share,
        }

    def neighbours(self, candidate: Candidate) -> list[Candidate]:
        """The one-edit neighbourhood of ``candidate`` (deterministic, without itself)."""
        if candidate.key not in self._around:  # the best candidates' are asked every round
            self._around[candidate.key] = self._neighbourhood(candidate)
        return self._around[candidate.key]

    def _neighbourhood(self, candidate: Candidate) -> list[Candidate]:
        enumerate_ = getattr(self.space, "neighbours", None)
        if callable(enumerate_):
            found = list(enumerate_(candidate))
        else:
            rng = np.random.default_rng([self.seed, int(candidate.key, 16)])
            found = [self.space.mutate(candidate, rng) for _ in range(4 * self.n_mutations)]
        out: list[Candidate] = []
        keys = {candidate.key}
        for cand in found:
            if cand.key not in keys:
                keys.add(cand.key)
                out.append(cand)
        return out if callable(enumerate_) else out[: self.n_mutations]

    def _ask(self, n: int, rng: np.random.Generator) -> list[Candidate]:
        """Untold neighbours of the incumbent, shuffled, then random samples up to ``n``."""
        out: list[Candidate] = []
        if self.current is not None:
            fresh = [c for c in self._neighbours if c.key not in self.told]
            out = [fresh[int(i)] for i in rng.permutation(len(fresh))][:n]
        if len(out) < n:
            exclude = self.told | {c.key for c in out}
            elite = self._elite_neighbours(round(self.elite_share * (n - len(out))), exclude, rng)
            exclude |= {c.key for c in elite}
            out += elite + sample_new(self.space, rng, n - len(out) - len(elite), exclude)
        return out

    def _elite_neighbours(
        self, n: int, exclude: set[str], rng: np.random.Generator
    ) -> list[Candidate]:
        """Up to ``n`` untold neighbours of the best told candidates, best candidate first."""
        if n <= 0:
            return []
        ok = self.succeeded()
        out: list[Candidate] = []
        keys = set(exclude)
        for i in self.order([v for _, v in ok]):
            around = [c for c in self.neighbours(ok[int(i)][0]) if c.key not in keys]
            for j in rng.permutation(len(around))[: n - len(out)]:
                out.append(around[int(j)])
                keys.add(around[int(j)].key)
            if len(out) >= n:
                break
        return out

    def _tell(self, candidates: list[Candidate], values: list[dict[str, float] | None]) -> None:
        """Replay the told candidates one at a time: move on improvement, restart when stuck."""
        for cand, vals in zip(candidates, values):
            self._seen.add(cand.key)
            if vals is not None and (self.current is None or self._beats(vals)):
                self.current, self.current_values = cand, vals
                self._neighbours = self.neighbours(cand)
            if self.current is not None and all(c.key in self._seen for c in self._neighbours):
                # a local optimum: every neighbour was tried (or failed) and none was better
                self.current, self.current_values = None, None
                self._neighbours = []
                self.restarts += 1

    def _beats(self, values: dict[str, float]) -> bool:
        """Whether ``values`` is strictly better than the incumbent's (ties keep it)."""
        assert self.current_values is not None
        # the incumbent goes first: fitness_order keeps ties in input order
        return int(self.order([self.current_values, values])[0]) == 1
