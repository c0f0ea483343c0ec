"""The peers' surrogate: gradient-boosted trees on one-hot encodings, refit on verified data.

A point predictor (no density): ``predict`` repeats its prediction k times, so expected
improvement reduces to picking the best predicted candidates (the "GBDT-greedy" peer).
Settings follow the peers' figures: 500 trees, depth 4, learning rate 0.05, standardized
targets, one model per objective.

Example:
    >>> import numpy as np
    >>> from searchlab import load_space
    >>> from searchlab.surrogates.gbdt import GbdtSurrogate
    >>> space = load_space("nb201")
    >>> cands = [space.sample(np.random.default_rng(s)) for s in range(12)]
    >>> values = [{"acc": float(c.genotype.count("nor_conv_3x3"))} for c in cands]
    >>> g = GbdtSurrogate(space)
    >>> g.update(cands, values, ["acc"], {})
    >>> g.predict(cands[:2], ["acc"], k=3, seed=0).shape
    (2, 3, 1)
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.ensemble import GradientBoostingRegressor

from searchlab.core.candidate import Candidate
from searchlab.core.space import Space
from searchlab.surrogates.base import Surrogate


class GbdtSurrogate(Surrogate):
    """One GradientBoostingRegressor per objective on ``space.encode``."""

    name = "gbdt"

    def __init__(self, space: Space, seed: int = 0) -> None:
        self.space, self.seed = space, seed
        self.models: dict[str, tuple[GradientBoostingRegressor, float, float]] = {}

    def _x(self, candidates: Sequence[Candidate]) -> np.ndarray:
        return np.stack([self.space.encode(c) for c in candidates])

    def update(
        self,
        candidates: Sequence[Candidate],
        values: Sequence[Mapping[str, float]],
        objectives: Sequence[str],
        source: Mapping[str, Any],
    ) -> None:
        """Refit every objective's trees on all verified values."""
        x = self._x(candidates)
        for name in objectives:
            y = np.array([v[name] for v in values])
            mu, sd = float(y.mean()), float(y.std()) or 1.0
            model = GradientBoostingRegressor(
                n_estimators=500, max_depth=4, learning_rate=0.05, random_state=self.seed
            )
            self.models[name] = (model.fit(x, (y - mu) / sd), mu, sd)

    def predict(
        self, candidates: Sequence[Candidate], objectives: Sequence[str], k: int, seed: int
    ) -> np.ndarray:
        """Point predictions repeated k times: [N, k, M]."""
        x = self._x(candidates)
        cols = []
        for name in objectives:
            model, mu, sd = self.models[name]
            cols.append(model.predict(x) * sd + mu)
        point = np.stack(cols, axis=1)
        return np.repeat(point[:, None, :], k, axis=1)

    def save(self, directory: str | Path) -> str:
        """Pickle the fitted trees."""
        Path(directory).mkdir(parents=True, exist_ok=True)
        (Path(directory) / "gbdt.pkl").write_bytes(pickle.dumps(self.models))
        return self.name

    def load(self, directory: str | Path) -> None:
        """Read trees saved by :meth:`save`."""
        self.models = pickle.loads((Path(directory) / "gbdt.pkl").read_bytes())

    def settings(self) -> dict[str, Any]:
        """JSON-ready settings."""
        return {"surrogate": "gbdt", "trees": 500, "depth": 4, "lr": 0.05}
