"""Combined verifier: several verifiers answering one candidate, each for its own objectives.

For example accuracy from real training and latency measured with onnxruntime, in one
campaign. A candidate fails if any part fails (the reason names the part).

Example:
    >>> import numpy as np
    >>> from searchlab import load_space
    >>> from searchlab.verifiers.combined import CombinedVerifier
    >>> from searchlab.verifiers.latency import LatencyVerifier
    >>> from searchlab.verifiers.lookup import TabularVerifier
    >>> space = load_space("nb201")
    >>> both = CombinedVerifier(space, [TabularVerifier(space), LatencyVerifier(space, runs=3)])
    >>> [e] = both.verify([space.sample(np.random.default_rng(0))],
    ...                   ["acc_cifar10_test", "lat_ms_local_cpu"])
    >>> e.extra["sources"]
    {'acc_cifar10_test': 'benchmark', 'lat_ms_local_cpu': 'measured'}
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from searchlab.core.candidate import Candidate
from searchlab.core.evaluation import Evaluation
from searchlab.core.space import Space
from searchlab.verifiers.base import Verifier, VerifierError


class CombinedVerifier(Verifier):
    """Each objective goes to the first part that provides it."""

    name = "combined"
    source = "measured"

    def __init__(self, space: Space, parts: Sequence[Verifier]) -> None:
        super().__init__(space)
        if not parts:
            raise VerifierError("a combined verifier needs at least one part")
        self.parts = list(parts)
        self.name = "+".join(p.name for p in self.parts)  # type: ignore[misc]
        #: per objective, the source of its number (the evaluation's ``extra["sources"]``)
        self.sources: dict[str, str] = {}

    def provides(self, objective: str) -> bool:
        """True when some part provides it."""
        return any(p.provides(objective) for p in self.parts)

    def _verify_one(self, candidate: Candidate, objectives: Sequence[str]) -> dict[str, float]:
        values: dict[str, float] = {}
        for part in self.parts:
            mine = [o for o in objectives if o not in values and part.provides(o)]
            if not mine:
                continue
            result = part.evaluate(candidate, mine)
            if not result.ok:
                raise RuntimeError(f"{part.name}: {result.error}")
            values.update(result.values)
            self.sources.update({o: part.source for o in mine})
        return values

    def evaluate(self, candidate: Candidate, objectives: Sequence[str]) -> Evaluation:
        """The parts' values, with each number's own source in ``extra["sources"]``."""
        result = super().evaluate(candidate, objectives)
        if not result.ok:
            return result
        sources = {o: self.sources.get(o, self.source) for o in objectives}
        # the record's tag says "measured" only when every number was measured here
        tag = "measured" if set(sources.values()) == {"measured"} else "benchmark"
        return replace(result, source=tag, extra={**result.extra, "sources": sources})

    def settings(self) -> dict[str, Any]:
        """Every part's settings by name."""
        return {"verifier": self.name, **{p.name: p.settings() for p in self.parts}}
