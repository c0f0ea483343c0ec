"""Regularized (aging) evolution: Real et al., "Regularized Evolution for Image Classifier
Architecture Search", AAAI 2019.

The population is the last ``population`` successful candidates told, so the oldest member
dies whatever its fitness (aging regularizes: a lucky architecture cannot stay forever).
Each child is a mutation of the winner of a tournament among ``sample`` members drawn at
random. Until ``population`` candidates have succeeded, asks sample the space at random.

Example:
    >>> from searchlab import load_space
    >>> from searchlab.core.objectives import Objectives
    >>> from searchlab.strategies.evolution import RegularizedEvolution
    >>> space = load_space("nb201")
    >>> table = space.benchmark()
    >>> rea = RegularizedEvolution(space, Objectives.parse(["acc_cifar10_test"]), 0,
    ...                            population=4, sample=2)
    >>> for _ in range(3):
    ...     batch = rea.ask(4)
    ...     rea.tell(batch, [table.lookup(c, ["acc_cifar10_test"]) for c in batch])
    >>> len(rea.parents()), len(rea.history)
    (4, 12)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from searchlab.core.candidate import Candidate
from searchlab.core.objectives import Objectives
from searchlab.core.space import Space
from searchlab.strategies.base import Strategy, StrategyError
from searchlab.strategies.random_search import attempts_for, sample_new


def positive_int(strategy: str, option: str, value: Any, least: int = 1) -> int:
    """``value`` as an int of at least ``least``, or StrategyError naming the option."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
        raise StrategyError(
            f"strategy {strategy!r}: option {option!r} must be an integer >= {least}, got {value!r}"
        )
    return int(value)


class RegularizedEvolution(Strategy):
    """Aging evolution: tournament of ``sample`` among the last ``population`` successes."""

    name = "rea"

    def __init__(
        self,
        space: Space,
        objectives: Objectives,
        seed: int = 0,
        population: int = 50,
        sample: int = 10,
    ) -> None:
        super().__init__(space, objectives, seed)
        self.population = positive_int(self.name, "population", population)
        self.sample = positive_int(self.name, "sample", sample)
        if self.sample > self.population:
            raise StrategyError(
                f"strategy 'rea': sample ({sample}) cannot exceed population ({population})"
            )

    def options(self) -> dict[str, Any]:
        """Name, seed, population and tournament size."""
        return {**super().options(), "population": self.population, "sample": self.sample}

    def parents(self) -> list[tuple[Candidate, dict[str, float]]]:
        """The current population: the last ``population`` successes, oldest first."""
        # derived from the history on every call, so restore() needs no extra state
        ok = self.succeeded()
        return ok[-self.population :] if len(ok) >= self.population else ok

    def _ask(self, n: int, rng: np.random.Generator) -> list[Candidate]:
        """Random samples until the population is full, then one tournament per child."""
        pop = self.parents()
        if len(pop) < self.population:
            return sample_new(self.space, rng, n, self.told)
        values = [v for _, v in pop]
        out: list[Candidate] = []
        keys: set[str] = set()
        for _ in range(attempts_for(n)):
            if len(out) >= n:
                break
            entrants = rng.choice(len(pop), size=self.sample, replace=False)
            winner = entrants[int(self.order([values[i] for i in entrants])[0])]
            child = self.space.mutate(pop[winner][0], rng)
            # a repeat costs an attempt but is not returned: the bound keeps a
            # nearly exhausted neighbourhood from looping forever
            if child.key not in keys and child.key not in self.told:
                keys.add(child.key)
                out.append(child)
        return out
