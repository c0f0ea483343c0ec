"""Tabular verifier: looks candidates up in the space's bundled benchmark (source: benchmark).

Example:
    >>> import numpy as np
    >>> from searchlab import load_space
    >>> from searchlab.verifiers.lookup import TabularVerifier
    >>> space = load_space("nb201")
    >>> cand = space.sample(np.random.default_rng(0))
    >>> [e] = TabularVerifier(space).verify([cand], ["acc_cifar10_test"])
    >>> e.source, 0 < e.values["acc_cifar10_test"] < 100
    ('benchmark', True)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from searchlab.core.candidate import Candidate
from searchlab.core.space import Space
from searchlab.verifiers.base import Verifier, VerifierError


class TabularVerifier(Verifier):
    """Values from the space's tabular benchmark; a candidate it lacks fails with the reason."""

    name = "tabular"
    source = "benchmark"

    def __init__(self, space: Space) -> None:
        super().__init__(space)
        table = space.benchmark()
        if table is None:
            raise VerifierError(
                f"space {space.name!r} bundles no tabular benchmark: choose another verifier"
            )
        self.table = table

    def provides(self, objective: str) -> bool:
        """True for the benchmark's metric columns."""
        return objective in self.table.columns

    def _verify_one(self, candidate: Candidate, objectives: Sequence[str]) -> dict[str, float]:
        return self.table.lookup(candidate, list(objectives))

    def settings(self) -> dict[str, Any]:
        """Which table answered."""
        return {"verifier": self.name, "table": Path(self.table.source).name or self.space.name}

    def hint(self) -> str:
        """What to add to a refusal: how to get the objectives this verifier lacks."""
        return f" (benchmark columns: {', '.join(self.table.columns)})"
