"""Verifier: evaluates candidates for real and says where every number came from.

``verify`` never raises for a bad candidate: an exception in ``_verify_one`` becomes a
failed :class:`~searchlab.core.evaluation.Evaluation` with the reason, so one broken candidate
cannot stop a campaign. Configuration mistakes (an objective the verifier cannot provide)
are caught up front by ``check``.

Example:
    >>> import numpy as np
    >>> from searchlab import load_space
    >>> from searchlab.verifiers.base import Verifier
    >>> class Flops(Verifier):
    ...     name, source = "flops", "measured"
    ...     def provides(self, objective):
    ...         return objective == "mflops"
    ...     def _verify_one(self, candidate, objectives):
    ...         return {"mflops": self.space.flops(candidate) / 1e6}
    >>> space = load_space("nb201")
    >>> [e.ok for e in Flops(space).verify([space.sample(np.random.default_rng(0))], ["mflops"])]
    [True]
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

from searchlab.core.candidate import Candidate
from searchlab.core.evaluation import Evaluation, Source
from searchlab.core.space import Space


class VerifierError(ValueError):
    """A verifier cannot serve the objectives or settings asked (names them)."""


class Verifier(ABC):
    """Turns candidates into measured or looked-up values for named objectives."""

    name: ClassVar[str] = "verifier"
    source: ClassVar[Source] = "measured"

    def __init__(self, space: Space) -> None:
        self.space = space

    @abstractmethod
    def provides(self, objective: str) -> bool:
        """True when this verifier can produce the objective's value."""

    @abstractmethod
    def _verify_one(self, candidate: Candidate, objectives: Sequence[str]) -> dict[str, float]:
        """Values of the objectives for one candidate (raise on failure)."""

    def check(self, objectives: Sequence[str]) -> None:
        """Raise VerifierError naming any objective this verifier cannot provide."""
        missing = [o for o in objectives if not self.provides(o)]
        if missing:
            raise VerifierError(
                f"verifier {self.name!r} on space {self.space.name!r} cannot provide "
                f"{missing}{self.hint()}"
            )

    def verify(
        self, candidates: Sequence[Candidate], objectives: Sequence[str]
    ) -> list[Evaluation]:
        """One evaluation per candidate, in order; failures are recorded, never raised."""
        out: list[Evaluation | None] = [None] * len(candidates)
        for i, evaluation in self.iter_verify(candidates, objectives):
            out[i] = evaluation
        return [e for e in out if e is not None]

    def iter_verify(
        self, candidates: Sequence[Candidate], objectives: Sequence[str]
    ) -> Iterator[tuple[int, Evaluation]]:
        """(index, evaluation) as each candidate finishes, so callers can store it at once."""
        self.check(objectives)
        for i, cand in enumerate(candidates):
            yield i, self.evaluate(cand, objectives)

    def evaluate(self, candidate: Candidate, objectives: Sequence[str]) -> Evaluation:
        """Verify one candidate; an exception becomes a failed evaluation with its reason."""
        start = time.perf_counter()
        try:
            values = self._verify_one(candidate, objectives)
            bad = {k: v for k, v in values.items() if not math.isfinite(float(v))}
            if bad:
                raise ValueError(f"non-finite values {bad}")
            missing = [o for o in objectives if o not in values]
            if missing:
                raise ValueError(f"verifier returned no value for {missing}")
            return Evaluation(
                candidate.key,
                {o: float(values[o]) for o in objectives},
                self.source,
                model=self.name,
                seconds=time.perf_counter() - start,
                extra=self.settings(),
            )
        except Exception as exc:  # noqa: BLE001  (a candidate's failure is data)
            reason = f"{type(exc).__name__}: {exc}"
            return Evaluation.failure(
                candidate.key, self.source, reason, time.perf_counter() - start
            )

    def settings(self) -> dict[str, Any]:
        """The settings the numbers were made with (stored next to them)."""
        return {"verifier": self.name}

    def hint(self) -> str:
        """What to add to a refusal: how to get the objectives this verifier lacks."""
        return ""
