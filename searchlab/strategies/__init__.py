"""Optimizers behind one ask/tell contract, built by name with ``make_strategy``.

``random`` (uniform sampling), ``rea`` (regularized evolution), ``local`` (hill climbing
with restarts), ``nsga2`` (pymoo NSGA-II) and ``optuna`` (TPE, NSGA-II or random from
optuna, categorical spaces only). Options are checked by name, so a typo fails loudly.

Example:
    >>> from searchlab import load_space
    >>> from searchlab.core.objectives import Objectives
    >>> from searchlab.strategies import make_strategy, StrategyError
    >>> objectives = Objectives.parse(["acc_cifar10_test"])
    >>> rea = make_strategy("rea", load_space("nb201"), objectives, seed=3, population=20)
    >>> rea.options()
    {'name': 'rea', 'seed': 3, 'population': 20, 'sample': 10}
    >>> try:
    ...     make_strategy("rea", load_space("nb201"), objectives, popsize=20)
    ... except StrategyError as exc:
    ...     print(exc)
    strategy 'rea' has no option 'popsize' (options: population, sample)
"""

from __future__ import annotations

import inspect
from typing import Any

from searchlab.core.objectives import Objectives
from searchlab.core.space import Space
from searchlab.strategies.base import Strategy, StrategyError
from searchlab.strategies.evolution import RegularizedEvolution
from searchlab.strategies.local_search import LocalSearch
from searchlab.strategies.nsga2 import NSGA2
from searchlab.strategies.optuna_sampler import OptunaSampler
from searchlab.strategies.random_search import RandomSearch

STRATEGIES: dict[str, type[Strategy]] = {
    cls.name: cls for cls in (RandomSearch, RegularizedEvolution, LocalSearch, NSGA2, OptunaSampler)
}

#: constructor arguments every strategy takes, which are not options
_COMMON = ("self", "space", "objectives", "seed")


def strategy_options(name: str) -> list[str]:
    """The option names a strategy accepts (its constructor's keyword settings)."""
    params = inspect.signature(STRATEGIES[name].__init__).parameters
    return [p for p in params if p not in _COMMON]


def make_strategy(
    name: str, space: Space, objectives: Objectives, seed: int = 0, **options: Any
) -> Strategy:
    """Build a strategy by name; StrategyError names an unknown strategy or option."""
    if not isinstance(name, str) or name not in STRATEGIES:
        raise StrategyError(f"unknown strategy {name!r} (known: {', '.join(sorted(STRATEGIES))})")
    known = strategy_options(name)
    for option in options:
        if option not in known:
            raise StrategyError(
                f"strategy {name!r} has no option {option!r} "
                f"(options: {', '.join(known) or 'none'})"
            )
    return STRATEGIES[name](space, objectives, seed, **options)


__all__ = [
    "NSGA2",
    "STRATEGIES",
    "LocalSearch",
    "OptunaSampler",
    "RandomSearch",
    "RegularizedEvolution",
    "Strategy",
    "StrategyError",
    "make_strategy",
    "strategy_options",
]
