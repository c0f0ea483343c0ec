"""Successive halving over training epochs (Jamieson & Talwalkar 2016; Li et al., Hyperband).

Rung r trains every survivor to ``min_epochs * eta**r`` epochs (capped at the verifier's
``epochs``), ranks the survivors and keeps the best ``1/eta`` of them, until the full budget;
survivors resume from their in-memory state, so nothing is trained twice. Candidates that reach
the full budget get every objective (source ``measured``); the others come back as *pruned*
evaluations (no values, ``pruned=True``, reason ``stopped early at E epochs (val acc X)``,
the partial accuracy in ``extra``): the store keeps them as optuna PRUNED trials, apart from
real failures, and a campaign never takes them for full results.

Ranking defaults to validation accuracy. Pass ``rank`` to bring in other objectives: it gets
the survivors' :class:`Partial` results and returns their positions, best first. Non-dominated
sorting on accuracy and parameter count, for instance::

    def rank(parts):
        F = np.array([[-p.val_acc, space.params(p.candidate)] for p in parts])
        return searchlab.core.pareto.fitness_order(F)  # every column minimized

Example (the rung budgets of a 9-epoch run; no training happens here):
    >>> from searchlab.verifiers.halving import rung_epochs
    >>> rung_epochs(min_epochs=1, eta=3, epochs=9), rung_epochs(2, 2, 12)
    ([1, 3, 9], [2, 4, 8, 12])
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from searchlab.core.candidate import Candidate
from searchlab.core.evaluation import Evaluation
from searchlab.core.space import Space
from searchlab.verifiers.base import Verifier, VerifierError
from searchlab.verifiers.training import TrainState, TrainVerifier


@dataclass(frozen=True)
class Partial:
    """A survivor after a rung: its batch position, candidate, epochs and validation accuracy."""

    index: int
    candidate: Candidate
    epochs: int
    val_acc: float


Rank = Callable[[list[Partial]], Sequence[int]]


def by_val_acc(parts: list[Partial]) -> list[int]:
    """Positions by validation accuracy, best first (ties: batch order)."""
    return sorted(range(len(parts)), key=lambda i: (-parts[i].val_acc, parts[i].index))


def rung_epochs(min_epochs: int, eta: int, epochs: int) -> list[int]:
    """The epoch budget of each rung: min_epochs * eta**r, capped, ending at ``epochs``."""
    budgets, r = [], 0
    while not budgets or budgets[-1] < epochs:
        budgets.append(min(min_epochs * eta**r, epochs))
        r += 1
    return budgets


class SuccessiveHalving:
    """Successive halving of a batch of candidates with a :class:`TrainVerifier`."""

    def __init__(
        self, verifier: TrainVerifier, min_epochs: int = 1, eta: int = 3, rank: Rank | None = None
    ) -> None:
        if min_epochs < 1 or eta < 2:
            raise VerifierError(f"need min_epochs >= 1 and eta >= 2, got {min_epochs}, {eta}")
        self.verifier, self.min_epochs, self.eta = verifier, min_epochs, eta
        self.rank = rank or by_val_acc
        #: epochs trained by the latest run, summed over candidates (each seed trains as many)
        self.epochs_trained = 0

    def run(self, candidates: Sequence[Candidate], objectives: Sequence[str]) -> list[Evaluation]:
        """One evaluation per candidate, in order (stopped ones are pruned records)."""
        out: dict[int, Evaluation] = dict(self.iter_run(candidates, objectives))
        return [out[i] for i in range(len(candidates))]

    def iter_run(
        self, candidates: Sequence[Candidate], objectives: Sequence[str]
    ) -> Iterator[tuple[int, Evaluation]]:
        """(index, evaluation) as each candidate is stopped, fails or finishes the budget."""
        v = self.verifier
        v.check(objectives)
        self.epochs_trained = 0
        states: dict[int, TrainState | None] = dict.fromkeys(range(len(candidates)))
        seconds = dict.fromkeys(states, 0.0)
        for budget in rung_epochs(self.min_epochs, self.eta, v.epochs):
            # a lone survivor needs no more ranking: train it straight to the full budget
            if len(states) <= 1:
                budget = v.epochs
            parts: list[Partial] = []
            for i in sorted(states):
                start = time.perf_counter()
                done = 0 if states[i] is None else states[i].epochs
                try:
                    acc, states[i] = v.train_epochs(candidates[i], budget, states[i])
                    self.epochs_trained += budget - done
                    parts.append(Partial(i, candidates[i], budget, acc))
                except Exception as exc:  # noqa: BLE001  (a candidate's failure is data)
                    seconds[i] += time.perf_counter() - start
                    del states[i]
                    reason = f"{type(exc).__name__}: {exc}"
                    yield i, Evaluation.failure(candidates[i].key, v.source, reason, seconds[i])
                    continue
                seconds[i] += time.perf_counter() - start
            if budget >= v.epochs:
                for part in parts:
                    yield part.index, self._full(part, states[part.index], objectives, seconds)
                return
            if not parts:
                return
            keep = set(self._survivors(parts))
            for part in parts:
                if part.index not in keep:
                    del states[part.index]
                    yield part.index, self._stopped(part, seconds[part.index])

    def _survivors(self, parts: list[Partial]) -> list[int]:
        """Batch indices of the best ``max(1, n // eta)`` partial results."""
        order = [int(k) for k in self.rank(list(parts))]
        if sorted(order) != list(range(len(parts))):
            raise VerifierError(
                f"rank must return each position 0..{len(parts) - 1} once, got {order}"
            )
        return [parts[k].index for k in order[: max(1, len(parts) // self.eta)]]

    def _full(
        self,
        part: Partial,
        state: TrainState,
        objectives: Sequence[str],
        seconds: dict[int, float],
    ) -> Evaluation:
        v, start = self.verifier, time.perf_counter()
        try:
            values = v.results(state)
            seconds[part.index] += time.perf_counter() - start
            return Evaluation(
                part.candidate.key,
                {o: values[o] for o in objectives},
                v.source,
                model=HalvingVerifier.name,
                seconds=seconds[part.index],
                extra={**self.settings(), "epochs_trained": part.epochs},
            )
        except Exception as exc:  # noqa: BLE001
            reason = f"{type(exc).__name__}: {exc}"
            return Evaluation.failure(part.candidate.key, v.source, reason, seconds[part.index])

    def _stopped(self, part: Partial, seconds: float) -> Evaluation:
        reason = f"stopped early at {part.epochs} epochs (val acc {part.val_acc:.2f})"
        failed = Evaluation.failure(part.candidate.key, self.verifier.source, reason, seconds)
        extra = {**self.settings(), "stopped_at_epochs": part.epochs, "val_acc": part.val_acc}
        return replace(failed, extra=extra, pruned=True)

    def settings(self) -> dict[str, Any]:
        """The training settings plus the halving schedule."""
        return {
            **self.verifier.settings(),
            "verifier": HalvingVerifier.name,
            "min_epochs": self.min_epochs,
            "eta": self.eta,
            "rank": getattr(self.rank, "__name__", type(self.rank).__name__),
        }


class HalvingVerifier(Verifier):
    """A training verifier that spends its epochs by successive halving over each batch."""

    name = "train_halving"
    source = "measured"

    def __init__(
        self,
        space: Space,
        min_epochs: int = 1,
        eta: int = 3,
        rank: Rank | None = None,
        **train_options: Any,
    ) -> None:
        super().__init__(space)
        self.trainer = TrainVerifier(space, **train_options)
        self.halving = SuccessiveHalving(self.trainer, min_epochs, eta, rank)

    def provides(self, objective: str) -> bool:
        """The objectives of the underlying :class:`TrainVerifier`."""
        return self.trainer.provides(objective)

    def _verify_one(self, candidate: Candidate, objectives: Sequence[str]) -> dict[str, float]:
        # one candidate alone has nothing to race against: full training
        return self.trainer.full_training(candidate)

    def iter_verify(
        self, candidates: Sequence[Candidate], objectives: Sequence[str]
    ) -> Iterator[tuple[int, Evaluation]]:
        """(index, evaluation) for the whole batch, raced by successive halving."""
        self.check(objectives)
        yield from self.halving.iter_run(candidates, objectives)

    def settings(self) -> dict[str, Any]:
        """Training settings plus min_epochs, eta and the ranking."""
        return self.halving.settings()

    def hint(self) -> str:
        """What to add to a refusal: how to get the objectives this verifier lacks."""
        return self.trainer.hint()
