"""How a campaign's rounds run: the settings ``searchlab run`` reads from ``rounds.*`` and
``searchlab.optimize`` from its keyword arguments.

Example:
    >>> CampaignSettings(batch=5).pool
    250
    >>> CampaignSettings(trust="never")
    Traceback (most recent call last):
    ...
    ValueError: rounds.trust must be one of ['measured', 'always'], got 'never'
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class CampaignSettings:
    """How a round runs: pool size, batch, samples, acquisition, fine-tuning cadence."""

    pool: int = 250  #: candidates the strategy proposes per round
    batch: int = 10  #: candidates verified per round
    k: int = 8  #: surrogate samples per candidate
    initial: int = 5  #: first verifications chosen without the surrogate
    finetune_every: int = 20  #: fine-tune after this many new verified values
    acquisition: str | None = None  #: None: "ei" for one objective, "ehvi" for several
    seed: int = 0
    heartbeat: float = 10.0  #: seconds between heartbeats on claims being verified
    #: "measured": the surrogate picks the share of each batch its health earns
    #: (:mod:`~searchlab.campaign.trust`), the strategy the rest; "always": the surrogate picks
    #: it all
    trust: str = "measured"
    #: rank an objective by params or FLOPs where they rank it better than the surrogate
    cheap_rankers: bool = True

    def __post_init__(self) -> None:
        if self.trust not in TRUST_MODES:
            raise ValueError(f"rounds.trust must be one of {list(TRUST_MODES)}, got {self.trust!r}")


#: the ways a round splits its batch between the surrogate and the strategy
TRUST_MODES = ("measured", "always")
