"""``searchlab.optimize``: tune any objective function in a few lines, as in optuna.

The objective takes a configuration (a dict) and returns a dict of objective values (or one
number for one objective). The space is a :class:`~searchlab.core.config_space.ConfigSpace`, the
``params`` mapping of one, or a space file's path; any other :class:`~searchlab.core.space.Space`
works too (its genotypes are what the objective receives). The campaign underneath is the
same loop as ``searchlab run``: a strategy proposes, the RLM screens under the trust rule,
the function verifies, and every value is kept in optuna storage, so calling again with the
same ``storage`` and a larger ``n_trials`` continues the study.

Example:
    >>> import searchlab
    >>> result = searchlab.optimize(
    ...     lambda c: (c["x"] - 0.3) ** 2 + (c["kind"] != "b"),
    ...     {"x": {"type": "float", "low": -1, "high": 1},
    ...      "kind": {"type": "categorical", "choices": ["a", "b"]}},
    ...     n_trials=40, surrogate=None, seed=0)
    >>> result.best_config["kind"], abs(result.best_config["x"] - 0.3) < 0.1
    ('b', True)
    >>> len(result.trials), result.best_values["value"] < 0.01
    (40, True)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from searchlab.campaign.parts import assemble
from searchlab.campaign.settings import CampaignSettings
from searchlab.core.config_space import ConfigSpace
from searchlab.core.objectives import Objectives
from searchlab.core.pareto import front_mask
from searchlab.core.space import Space
from searchlab.store.study import CampaignStore
from searchlab.verifiers import make_verifier


@dataclass
class OptimizeResult:
    """What an optimization found: the best configuration, the front, every verified trial."""

    objectives: Objectives
    #: (configuration, values) of every verified trial, in verification order
    trials: list[tuple[dict[str, Any], dict[str, float]]]
    store: CampaignStore = field(repr=False)

    @property
    def front(self) -> list[tuple[dict[str, Any], dict[str, float]]]:
        """The verified trials no other verified trial dominates."""
        if not self.trials:
            return []
        mask = front_mask(self.objectives.to_min([v for _, v in self.trials]))
        return [t for t, keep in zip(self.trials, mask) if keep]

    @property
    def best_config(self) -> dict[str, Any]:
        """The best configuration of the first objective."""
        return self._best()[0]

    @property
    def best_values(self) -> dict[str, float]:
        """The values of :attr:`best_config`."""
        return self._best()[1]

    def _best(self) -> tuple[dict[str, Any], dict[str, float]]:
        if not self.trials:
            raise ValueError("no trial was verified")
        first = self.objectives.names[0]
        sign = self.objectives[0].sign
        return min(self.trials, key=lambda t: sign * t[1][first])


def as_space(space: Space | Mapping[str, Any] | str | Path) -> Space:
    """A space from a Space, a ``params`` mapping or a space file's path."""
    if isinstance(space, Space):
        return space
    if isinstance(space, (str, Path)):
        return ConfigSpace(file=space)
    return ConfigSpace(dict(space))


def optimize(
    objective: Callable[[Any], Any] | str,
    space: Space | Mapping[str, Any] | str | Path,
    n_trials: int = 100,
    objectives: Sequence[str | Mapping[str, str]] = ("value",),
    storage: str | None = None,
    study_name: str | None = None,
    strategy: str = "local",
    surrogate: str | None = "default",
    seed: int = 0,
    batch: int = 10,
    time_limit: float | None = None,
    workers: int = 0,
    **rounds: Any,
) -> OptimizeResult:
    """Minimize (or maximize: ``{"name": ..., "direction": "maximize"}``) ``objective``.

    ``objective``: the function or its ``"module:function"`` path. ``storage``: an optuna
    storage URL (SQLite file or PostgreSQL) to keep and resume the study; in memory when
    None. ``surrogate``: an RLM checkpoint (``"default"``: the bundled one) or None for the
    strategy alone. ``time_limit``: seconds per call, each call then in a worker process.
    ``rounds``: further :class:`~searchlab.campaign.loop.CampaignSettings` (``pool``, ``k`` ...).
    """
    space = as_space(space)
    objs = Objectives.parse(list(objectives))
    verifier = make_verifier(
        "function", space, workers=workers, time_limit=time_limit, target=objective
    )
    name = study_name or f"{space.name}-{strategy}-{surrogate or 'none'}-seed{seed}"
    identity = {
        "space": space.declaration() if isinstance(space, ConfigSpace) else space.name,
        "objectives": objs.names,
        "strategy": strategy,
        "surrogate": surrogate,
        "seed": seed,
    }
    settings = CampaignSettings(batch=batch, seed=seed, **rounds)
    parts = assemble(space, objs, strategy, {}, verifier, surrogate, {}, settings)
    store = CampaignStore.open(storage or "sqlite:///:memory:", name, identity, objs)
    campaign = parts.campaign(store)
    campaign.run(n_trials)
    trials = [(dict(r.candidate().genotype), dict(r.values)) for r in store.verified()]
    return OptimizeResult(objs, trials, store)
