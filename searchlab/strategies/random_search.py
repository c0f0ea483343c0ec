"""Random search: every ask draws fresh candidates uniformly from the space's sampler.

Random search is the baseline every other strategy must beat, and the fallback the others
use while they have too little history (``sample_new``).

Example:
    >>> from searchlab import load_space
    >>> from searchlab.core.objectives import Objectives
    >>> from searchlab.strategies.random_search import RandomSearch
    >>> space = load_space("nb201")
    >>> objectives = Objectives.parse(["acc_cifar10_test"])
    >>> batch = RandomSearch(space, objectives, seed=1).ask(4)
    >>> again = RandomSearch(space, objectives, seed=1).ask(4)
    >>> len(batch), [c.key for c in batch] == [c.key for c in again]
    (4, True)
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np

from searchlab.core.candidate import Candidate
from searchlab.core.space import Space
from searchlab.strategies.base import Strategy


def attempts_for(n: int) -> int:
    """How many draws an ask of ``n`` may spend before it gives up on finding new ones."""
    # twice the request plus a margin: enough when most draws are new, and still bounded
    # when the space is nearly exhausted and almost every draw repeats a told candidate
    return 2 * n + 16


def sample_new(
    space: Space, rng: np.random.Generator, n: int, exclude: Collection[str] = ()
) -> list[Candidate]:
    """Up to ``n`` distinct random candidates whose keys are not in ``exclude``."""
    out: list[Candidate] = []
    keys: set[str] = set()
    for _ in range(attempts_for(n)):
        if len(out) >= n:
            break
        cand = space.sample(rng)
        if cand.key not in keys and cand.key not in exclude:
            keys.add(cand.key)
            out.append(cand)
    return out


class RandomSearch(Strategy):
    """Uniform sampling of the space; ignores everything it is told."""

    name = "random"

    def _ask(self, n: int, rng: np.random.Generator) -> list[Candidate]:
        """``n`` fresh samples (fewer when the space is nearly exhausted)."""
        return sample_new(self.space, rng, n, self.told)
