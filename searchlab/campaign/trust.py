"""Trust: how much of a round's batch the surrogate picks, from how well it has ranked so far.

Each round the campaign measures the surrogate on the values it predicted *before* they were
verified (the latest ``window`` such rows, whichever model version predicted them): Kendall
tau per predicted objective, averaged. The rule takes the lower end of that tau's one-sigma
band, ``tau - se(n)`` with ``se(n) = sqrt(2 (2n + 5) / (9 n (n - 1)))`` (the standard error
of tau under independence), and gives the surrogate the share ``clip(lower / full, 0, 1)``
of the batch; the strategy's own proposals, in the strategy's order, fill the rest. So a
surrogate that ranks like noise (tau near 0) hands the batch back to the strategy within a
round or two, and one that ranks well (lower end >= ``full``) picks the whole batch. Before
anything it predicted is verified, the surrogate's own estimate on the rows it learned
from (:meth:`Surrogate.self_check`, out of fold where it can) stands in for the measurement;
a surrogate without one starts at ``prior``.

Example:
    >>> from searchlab.campaign.trust import Health, TrustRule
    >>> rule = TrustRule()
    >>> rule.share(Health(tau=0.0, n=30, source="verified"))
    0.0
    >>> rule.share(Health(tau=0.9, n=30, source="verified"))
    1.0
    >>> rule.split(10, 0.55)
    (6, 4)
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def kendall_se(n: int) -> float:
    """Standard error of Kendall's tau over n independent pairs of values (inf below 2)."""
    if n < 2:
        return math.inf
    return math.sqrt(2.0 * (2 * n + 5) / (9.0 * n * (n - 1)))


@dataclass(frozen=True)
class Health:
    """How well the surrogate ranks: mean Kendall tau over ``n`` rows, and where it came from.

    ``source``: "verified" (predicted before verification), "self-check" (the surrogate's
    estimate on the rows it learned from) or "none" (nothing to go on yet).
    """

    tau: float
    n: int
    source: str

    def lower(self) -> float:
        """The lower end of the tau's one-sigma band (-inf when there is nothing to go on)."""
        if self.source == "none" or not math.isfinite(self.tau):
            return -math.inf
        return self.tau - kendall_se(self.n)


@dataclass(frozen=True)
class TrustRule:
    """The surrogate's share of the batch from its measured ranking health."""

    full: float = 0.3  #: lower tau bound from which the surrogate picks the whole batch
    prior: float = 0.5  #: share before there is any measurement or self-check
    window: int = 30  #: latest rows predicted before verification that the health is read on

    def __post_init__(self) -> None:
        if not 0.0 < self.full <= 1.0:
            raise ValueError(f"trust.full must lie in (0, 1], got {self.full!r}")
        if not 0.0 <= self.prior <= 1.0:
            raise ValueError(f"trust.prior must lie in [0, 1], got {self.prior!r}")
        if self.window < 3:
            raise ValueError(f"trust.window must be at least 3, got {self.window!r}")

    def share(self, health: Health) -> float:
        """The fraction of the batch the surrogate picks, in [0, 1]."""
        if health.source == "none":
            return self.prior
        return float(min(1.0, max(0.0, health.lower() / self.full)))

    def split(self, q: int, share: float) -> tuple[int, int]:
        """(picked by the surrogate, filled by the strategy) for a batch of ``q``."""
        by_surrogate = min(q, max(0, math.floor(share * q + 0.5)))
        return by_surrogate, q - by_surrogate
