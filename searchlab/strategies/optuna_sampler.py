"""Optuna's samplers (TPE, NSGA-II, random) as a strategy over a CategoricalSpace or a
configuration space.

In a CategoricalSpace each genotype position ``i`` becomes a categorical parameter ``p{i}``
over ``space.choices[i]``; a configuration space (:mod:`searchlab.core.config_space`) gives its own
parameters, suggested define-by-run so conditional ones follow their conditions. Every ask
builds a fresh in-memory study, replays the told history as finished trials (failed ones as
FAIL trials; constraint violations as the trials' constraints), seeds a new sampler from the
ask's generator and calls ``study.ask`` until it has ``n`` new candidates or has spent a
bounded number of asks. Nothing is kept between asks, so the base contract (seed, ask count,
history) fixes every answer. TPE runs with ``constant_liar`` so the trials of one batch, still
running, push later ones elsewhere.

Example:
    >>> from searchlab import load_space
    >>> from searchlab.core.objectives import Objectives
    >>> from searchlab.strategies.optuna_sampler import OptunaSampler
    >>> space = load_space("nb201")
    >>> table = space.benchmark()
    >>> tpe = OptunaSampler(space, Objectives.parse(["acc_cifar10_test"]), seed=0)
    >>> for _ in range(3):
    ...     batch = tpe.ask(5)
    ...     tpe.tell(batch, [table.lookup(c, ["acc_cifar10_test"]) for c in batch])
    >>> len(tpe.history), len({c.key for c, _ in tpe.history})
    (15, 15)
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution
from optuna.trial import TrialState, create_trial

from searchlab.core.candidate import Candidate
from searchlab.core.categorical import CategoricalSpace
from searchlab.core.objectives import Objectives
from searchlab.core.space import Space
from searchlab.strategies.base import Strategy, StrategyError
from searchlab.strategies.random_search import attempts_for

SAMPLERS = ("tpe", "nsga2", "random")
#: optuna 5 reads constraints from the trials themselves; older releases need constraints_func
_NEEDS_CONSTRAINTS_FUNC = int(optuna.__version__.split(".")[0]) < 5


def _stored_constraints(trial: optuna.trial.FrozenTrial) -> list[float]:
    """The violations saved on a replayed trial (optuna's ``constraints`` system attribute)."""
    return list(trial.system_attrs.get("constraints", [0.0]))


class OptunaSampler(Strategy):
    """An optuna sampler replayed on the told history at every ask."""

    name = "optuna"

    def __init__(
        self, space: Space, objectives: Objectives, seed: int = 0, sampler: str = "tpe"
    ) -> None:
        super().__init__(space, objectives, seed)
        self.configured = callable(getattr(space, "suggest", None))
        if not (isinstance(space, CategoricalSpace) or self.configured):
            raise StrategyError(
                f"strategy 'optuna' needs a CategoricalSpace (a fixed list of choices per "
                f"position) or a configuration space; space {space.name!r} "
                f"({type(space).__name__}) is neither"
            )
        if sampler not in SAMPLERS:
            raise StrategyError(
                f"strategy 'optuna': sampler must be one of {', '.join(SAMPLERS)}, got {sampler!r}"
            )
        self.sampler = sampler
        if self.configured:
            self.distributions = space.distributions()
        else:
            self.distributions = {
                f"p{i}": CategoricalDistribution(list(opts)) for i, opts in enumerate(space.choices)
            }

    def _params(self, cand: Candidate) -> dict[str, Any]:
        """A candidate as optuna parameters (its configuration, or one ``p{i}`` a position)."""
        if self.configured:
            return dict(cand.genotype)
        return {f"p{i}": gene for i, gene in enumerate(cand.genotype)}

    def options(self) -> dict[str, Any]:
        """Name, seed and which optuna sampler."""
        return {**super().options(), "sampler": self.sampler}

    def _make_sampler(self, seed: int) -> optuna.samplers.BaseSampler:
        """A fresh optuna sampler of the configured kind."""
        extra: dict[str, Any] = {}
        if self.objectives.constraints and _NEEDS_CONSTRAINTS_FUNC:
            extra["constraints_func"] = _stored_constraints
        if self.sampler == "tpe":
            return optuna.samplers.TPESampler(seed=seed, constant_liar=True, **extra)
        if self.sampler == "nsga2":
            return optuna.samplers.NSGAIISampler(seed=seed, **extra)
        return optuna.samplers.RandomSampler(seed=seed)

    def _trials(self, sampler: optuna.samplers.BaseSampler) -> list[optuna.trial.FrozenTrial]:
        """The told history as finished optuna trials, in order."""
        names = self.objectives.names
        # NSGA-II groups trials into generations by a system attribute it sets when it
        # samples; replayed trials must carry it or every ask would restart at generation 0
        gen_key, size = None, 50
        if isinstance(sampler, optuna.samplers.NSGAIISampler):
            get_key = getattr(sampler, "_get_generation_key", None)
            gen_key = get_key() if callable(get_key) else "nsga2:generation"
            size = getattr(sampler, "population_size", None) or size
        trials, done = [], 0
        for cand, vals in self.history:
            params = self._params(cand)
            dists = {name: self.distributions[name] for name in params}
            if vals is None:
                trials.append(
                    create_trial(state=TrialState.FAIL, params=params, distributions=dists)
                )
                continue
            attrs: dict[str, Any] = {}
            if self.objectives.constraints:
                attrs["constraints"] = [
                    c.violation(vals[c.name]) for c in self.objectives.constraints
                ]
            if gen_key is not None:
                attrs[gen_key] = done // size
            done += 1
            trials.append(
                create_trial(
                    values=[vals[name] for name in names],
                    params=params,
                    distributions=dists,
                    system_attrs=attrs,
                )
            )
        return trials

    def _ask(self, n: int, rng: np.random.Generator) -> list[Candidate]:
        """Replay the history into a fresh study and ask it for up to ``n`` new candidates."""
        verbosity = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                sampler = self._make_sampler(int(rng.integers(2**32 - 1)))
                study = optuna.create_study(
                    directions=[o.direction for o in self.objectives], sampler=sampler
                )
                study.add_trials(self._trials(sampler))
                out: list[Candidate] = []
                keys: set[str] = set()
                for _ in range(attempts_for(n)):
                    if len(out) >= n:
                        break
                    # the trial stays RUNNING: with constant_liar TPE steers away from it
                    if self.configured:  # define-by-run: conditions decide what is asked
                        cand = self.space.candidate(self.space.suggest(study.ask()))
                    else:
                        trial = study.ask(self.distributions)
                        n_genes = len(self.distributions)
                        cand = self.space.candidate([trial.params[f"p{i}"] for i in range(n_genes)])
                    if cand.key not in keys and cand.key not in self.told:
                        keys.add(cand.key)
                        out.append(cand)
        finally:
            optuna.logging.set_verbosity(verbosity)
        return out
