"""NSGA-II (Deb et al. 2002) on pymoo's operators, over any space's own mutate/crossover.

The space's ``crossover`` and ``mutate`` become pymoo operators on one object-typed
variable holding the Candidate; parents come from pymoo's binary tournament (constraint
violation, then Pareto dominance, then crowding) and survivors from ``RankAndCrowding``.
The population evolves steady-state: each successful told candidate in turn joins it and
the worst is dropped, with a survival generator seeded by the seed and the candidate's
place in the history, so the population is a function of the told history alone (however
it was batched). Until ``population`` candidates have succeeded, asks sample at random.
Constraint violations become pymoo's ``G``/``CV``, so feasible candidates always win.

Example:
    >>> from searchlab import load_space
    >>> from searchlab.core.objectives import Objectives
    >>> from searchlab.strategies.nsga2 import NSGA2
    >>> space = load_space("nb201")
    >>> table = space.benchmark()
    >>> objectives = Objectives.parse(["acc_cifar10_test", "lat_ms_hwnb_pixel3"])
    >>> ga = NSGA2(space, objectives, seed=0, population=6)
    >>> for _ in range(3):
    ...     batch = ga.ask(6)
    ...     ga.tell(batch, [table.lookup(c, objectives.names) for c in batch])
    >>> len(ga.survivors()), min(rank for _, _, rank in ga.survivors())
    (6, 0)
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
from pymoo.algorithms.moo.nsga2 import binary_tournament
from pymoo.core.crossover import Crossover
from pymoo.core.duplicate import ElementwiseDuplicateElimination
from pymoo.core.individual import Individual
from pymoo.core.mating import Mating
from pymoo.core.mutation import Mutation
from pymoo.core.population import Population
from pymoo.core.problem import Problem
from pymoo.operators.selection.tournament import TournamentSelection
from pymoo.operators.survival.rank_and_crowding import RankAndCrowding

from searchlab.core.candidate import Candidate
from searchlab.core.objectives import Objectives
from searchlab.core.space import Space
from searchlab.strategies.base import Strategy
from searchlab.strategies.evolution import positive_int
from searchlab.strategies.random_search import sample_new

#: rounds of selection/crossover/mutation an ask may run to replace repeats (bounds the work)
MATING_ROUNDS = 3


class SpaceMutation(Mutation):
    """pymoo mutation applying ``space.mutate`` to the Candidate in each individual."""

    def __init__(self, space: Space) -> None:
        super().__init__(prob=1.0)
        self.space = space

    def _do(
        self, problem: Problem, X: np.ndarray, *args: Any, random_state: Any = None, **kwargs: Any
    ) -> np.ndarray:
        """Mutate every row (one Candidate per row)."""
        out = np.empty_like(X)
        for i, (cand,) in enumerate(X):
            out[i, 0] = self.space.mutate(cand, random_state)
        return out


class SpaceCrossover(Crossover):
    """pymoo crossover: ``space.crossover`` of two parents, or a copy of one (mutation only)."""

    def __init__(self, space: Space) -> None:
        parents = 2 if space.has_crossover() else 1
        # a single-parent crossover always "fires" and copies the winner of its tournament
        super().__init__(parents, 1, prob=0.9 if parents == 2 else 1.0)
        self.space = space

    def _do(
        self, problem: Problem, X: np.ndarray, *args: Any, random_state: Any = None, **kwargs: Any
    ) -> np.ndarray:
        """Children of shape (1, matings, 1) from parents of shape (parents, matings, 1)."""
        out = np.empty((1,) + X.shape[1:], dtype=object)
        for k in range(X.shape[1]):
            if self.n_parents == 1:
                out[0, k, 0] = X[0, k, 0]
            else:
                out[0, k, 0] = self.space.crossover(X[0, k, 0], X[1, k, 0], random_state)
        return out


class KeyDuplicates(ElementwiseDuplicateElimination):
    """Duplicates by candidate key; candidates already told count as duplicates too."""

    def __init__(self, told: set[str]) -> None:
        super().__init__()
        self.told = told

    def is_equal(self, a: Individual, b: Individual) -> bool:
        """Two individuals are the same architecture when their keys match."""
        return a.X[0].key == b.X[0].key

    def _do(
        self, pop: Population, other: Population | None, is_duplicate: np.ndarray
    ) -> np.ndarray:
        # same verdict as pairwise is_equal, in linear time: asks may hold thousands of children
        if other is not None:
            taken = {ind.X[0].key for ind in other}
            for i, ind in enumerate(pop):
                is_duplicate[i] = is_duplicate[i] or ind.X[0].key in taken
            return is_duplicate
        seen: set[str] = set()
        for i, ind in enumerate(pop):
            key = ind.X[0].key
            is_duplicate[i] = is_duplicate[i] or key in seen or key in self.told
            seen.add(key)
        return is_duplicate


class NSGA2(Strategy):
    """NSGA-II: binary tournament, space crossover + mutation, rank-and-crowding survival."""

    name = "nsga2"

    def __init__(
        self, space: Space, objectives: Objectives, seed: int = 0, population: int = 20
    ) -> None:
        super().__init__(space, objectives, seed)
        self.population = positive_int(self.name, "population", population, least=2)
        # one object variable; one inequality constraint carrying the total violation
        self.problem = Problem(n_var=1, n_obj=len(objectives), n_ieq_constr=1, vtype=object)
        self.survival = RankAndCrowding()
        self.mating = Mating(
            TournamentSelection(func_comp=binary_tournament),
            SpaceCrossover(space),
            SpaceMutation(space),
            eliminate_duplicates=KeyDuplicates(self.told),
            n_max_iterations=MATING_ROUNDS,
        )
        self.pop = Population.empty(0)
        self._told_ok = 0

    def options(self) -> dict[str, Any]:
        """Name, seed and population size."""
        return {**super().options(), "population": self.population}

    def survivors(self) -> list[tuple[Candidate, dict[str, float], int | None]]:
        """The population as (candidate, values, rank among feasible survivors or None)."""
        # pymoo ranks only the feasible survivors; infeasible ones are ordered by violation
        return [
            (ind.X[0], ind.get("values"), None if ind.CV[0] > 0 else int(ind.get("rank")))
            for ind in self.pop
        ]

    def _ask(self, n: int, rng: np.random.Generator) -> list[Candidate]:
        """Random samples until the population is full, then offspring of the population."""
        if len(self.pop) < self.population:
            return sample_new(self.space, rng, n, self.told)
        # binary_tournament reads the tournament type and its tie-breaking generator here
        algorithm = SimpleNamespace(tournament_type="comp_by_dom_and_crowding", random_state=rng)
        off = self.mating.do(self.problem, self.pop, n, random_state=rng, algorithm=algorithm)
        return [ind.X[0] for ind in off]

    def _tell(self, candidates: list[Candidate], values: list[dict[str, float] | None]) -> None:
        """Insert each success in turn and keep the best ``population`` (deterministically)."""
        for cand, vals in zip(candidates, values):
            if vals is None:
                continue  # a failed candidate never becomes a parent
            violation = float(self.objectives.violation([vals])[0])
            ind = Individual(
                X=np.array([cand], dtype=object),
                F=self.objectives.to_min([vals])[0],
                G=np.array([violation]),
                CV=np.array([violation]),
            )
            ind.set("values", vals)
            rng = np.random.default_rng([self.seed, self._told_ok])
            self._told_ok += 1
            merged = Population.merge(self.pop, Population.create(ind))
            self.pop = self.survival.do(
                self.problem, merged, n_survive=self.population, random_state=rng
            )
            # rank/crowding must describe the survivors themselves (the tournament reads them)
            self.survival.do(self.problem, self.pop, n_survive=len(self.pop), random_state=rng)
