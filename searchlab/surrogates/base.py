"""Surrogate: the contract between the campaign and whatever predicts before verifying.

A surrogate checks that it may predict the objectives (it never saw their labels for the
candidates it will score), draws ``k`` samples per candidate and objective (a density: the
acquisition reads means, spreads and joint draws from them), learns from verified values, and
saves and reloads its state with the run. Two members are optional, looked up by name:
``predict_point(candidates, objectives) -> [N, M]`` (a deterministic point prediction; else
the median of the samples already drawn) and ``self_check(objectives) -> {name: (tau, n)}``
(a health reading before anything it predicted is verified; else half the batch is trusted).

Example:
    >>> import numpy as np
    >>> from searchlab import load_space
    >>> from searchlab.surrogates.base import Surrogate
    >>> class ConvCount(Surrogate):
    ...     name = "conv_count"
    ...     def predict(self, candidates, objectives, k, seed):
    ...         x = [[c.genotype.count("nor_conv_3x3")] * len(objectives) for c in candidates]
    ...         return np.repeat(np.array(x, float)[:, None, :], k, axis=1)
    >>> space = load_space("nb201")
    >>> cands = [space.sample(np.random.default_rng(s)) for s in range(4)]
    >>> s = ConvCount()
    >>> s.check(["acc"]); s.update(cands, [{"acc": 90.0}] * 4, ["acc"], {})
    >>> s.predict(cands, ["acc"], k=5, seed=0).shape
    (4, 5, 1)
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from searchlab.core.candidate import Candidate


class Surrogate(ABC):
    """Predicts objectives of candidates as samples; learns from verified values."""

    #: stored with the campaign and shown in its records and reports (an instance may set
    #: its own: the RLM's is its checkpoint's identity)
    name: str = "surrogate"

    def check(self, objectives: Sequence[str]) -> None:
        """Refuse (raise ValueError) objectives it may not predict; nothing to refuse here."""
        return None

    @abstractmethod
    def predict(
        self, candidates: Sequence[Candidate], objectives: Sequence[str], k: int, seed: int
    ) -> np.ndarray:
        """Samples [N, k, M] in natural units, for M objectives in the order given."""

    def update(
        self,
        candidates: Sequence[Candidate],
        values: Sequence[Mapping[str, float]],
        objectives: Sequence[str],
        source: Mapping[str, Any],
    ) -> None:
        """Learn from all verified values so far (``source`` names the campaign and round)."""
        return None

    def save(self, directory: str | Path) -> str:
        """Write the state a resumed run needs under ``directory``; return its name."""
        Path(directory).mkdir(parents=True, exist_ok=True)
        return self.name

    def load(self, directory: str | Path) -> None:
        """Read the state :meth:`save` wrote."""
        return None

    def settings(self) -> dict[str, Any]:
        """JSON-ready settings, stored with the campaign."""
        return {"surrogate": self.name}
