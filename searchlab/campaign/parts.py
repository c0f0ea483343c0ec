"""A campaign's parts, built from plain values and checked against each other.

``searchlab run`` (:mod:`searchlab.cli.launch`, from a hydra config) and
:func:`searchlab.optimize` (from Python arguments) both assemble a campaign here, so the two
refuse the same misfits with the same words and build the same loop.

Example:
    >>> from searchlab.core.objectives import Objectives
    >>> from searchlab.core.registry import load_space
    >>> from searchlab.verifiers import make_verifier
    >>> space = load_space("nb201")
    >>> objs = Objectives.parse(["acc_cifar10_test"])
    >>> p = assemble(space, objs, "random", {}, make_verifier("tabular", space), None, {},
    ...              CampaignSettings(batch=5))
    >>> type(p.strategy).__name__, p.surrogate
    ('RandomSearch', None)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from searchlab.campaign.loop import Campaign
from searchlab.campaign.settings import CampaignSettings
from searchlab.core.objectives import Objectives


class Parts(NamedTuple):
    """A campaign's parts, built and checked against each other; no store yet."""

    space: Any
    objectives: Objectives
    strategy: Any
    verifier: Any
    surrogate: Any
    settings: CampaignSettings

    def campaign(self, store: Any, run_dir: Path | None = None) -> Campaign:
        """The campaign of these parts on ``store``."""
        return Campaign(
            self.space, self.strategy, self.surrogate, self.verifier, self.objectives, store,
            self.settings, run_dir,
        )  # fmt: skip


def assemble(
    space: Any,
    objectives: Objectives,
    strategy: str,
    strategy_options: Mapping[str, Any],
    verifier: Any,
    surrogate: str | Path | None,
    surrogate_options: Mapping[str, Any],
    settings: CampaignSettings,
) -> Parts:
    """Strategy and surrogate made by name, the verifier and acquisition checked against the
    objectives; ``surrogate``: an RLM checkpoint, or None for the strategy alone."""
    from searchlab.campaign.acquisition import default_acquisition, make_acquisition
    from searchlab.strategies import make_strategy
    from searchlab.surrogates.rlm import RlmSurrogate

    made = make_strategy(strategy, space, objectives, seed=settings.seed, **dict(strategy_options))
    verifier.check(objectives.expensive)
    make_acquisition(settings.acquisition or default_acquisition(objectives))
    rlm = None
    if surrogate is not None:
        rlm = RlmSurrogate(surrogate, seed=settings.seed, **dict(surrogate_options))
        rlm.check(objectives.expensive)
    return Parts(space, objectives, made, verifier, rlm, settings)
