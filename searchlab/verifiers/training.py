"""Training verifier: trains each candidate's torch module and measures its accuracy.

Every candidate is built with ``space.to_torch``, trained with SGD (momentum 0.9, Nesterov)
or AdamW under a per-step cosine schedule, once per seed, and scored on the validation and
test splits (accuracy in %, mean over seeds). On CPU a seed gives identical numbers on every
run: weights are initialized under ``torch.manual_seed``, batches are shuffled by a seeded
generator and deterministic algorithms are switched on while training. Training state stays
in memory (:class:`TrainState`), so successive halving can resume a candidate where it
stopped; the schedule spans the full ``epochs`` budget, so resuming equals training straight
through.

Example (one cheap NB201 cell, one step of training):
    >>> from searchlab import load_space
    >>> from searchlab.verifiers.training import TrainVerifier
    >>> space = load_space("nb201", num_classes=10)
    >>> cell = space.from_str("|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|")
    >>> verifier = TrainVerifier(space, epochs=1, limit=64)
    >>> [e] = verifier.verify([cell], ["acc_digits_val", "train_seconds"])
    >>> e.ok, e.source, sorted(e.values)
    (True, 'measured', ['acc_digits_val', 'train_seconds'])
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from searchlab.core.candidate import Candidate
from searchlab.core.space import Space
from searchlab.verifiers.base import Verifier, VerifierError
from searchlab.verifiers.datasets import load_dataset

OPTIMIZERS = ("sgd", "adamw")
EVAL_BATCH = 256
SGD_EXTRA = {"momentum": 0.9, "nesterov": True}


@dataclass
class SeedRun:
    """One seed's model, optimizer, schedule and random streams, ready to resume."""

    seed: int
    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    shuffle: torch.Generator
    #: global torch RNG state (dropout and the like) carried over between calls
    rng_state: torch.Tensor


@dataclass
class TrainState:
    """A candidate's training so far: one run per seed, epochs done, seconds spent."""

    runs: list[SeedRun]
    epochs: int = 0
    seconds: float = 0.0
    #: mean accuracy per split at ``epochs``, so rung after rung nothing is scored twice
    cache: dict[str, float] = field(default_factory=dict)


@contextmanager
def _deterministic(threads: int | None) -> Iterator[None]:
    """Deterministic algorithms and a fixed thread count, restoring the previous settings."""
    previous = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    previous_threads = torch.get_num_threads()
    torch.use_deterministic_algorithms(True)
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous, warn_only=warn_only)
        torch.set_num_threads(previous_threads)


class TrainVerifier(Verifier):
    """Accuracy after real training on a local dataset (source: measured)."""

    name = "train"
    source = "measured"

    def __init__(
        self,
        space: Space,
        dataset: str = "digits",
        root: str | Path | None = None,
        epochs: int = 4,
        batch_size: int = 64,
        lr: float = 0.05,
        optimizer: str = "sgd",
        weight_decay: float = 5e-4,
        seeds: Sequence[int] = (0,),
        threads: int | None = 1,
        time_limit: float | None = None,
        limit: int | None = None,
    ) -> None:
        super().__init__(space)
        if optimizer not in OPTIMIZERS:
            raise VerifierError(f"unknown optimizer {optimizer!r}; known: {', '.join(OPTIMIZERS)}")
        if epochs < 1 or batch_size < 1 or not seeds:
            raise VerifierError(f"need epochs, batch_size >= 1 and a seed: {epochs}, {batch_size}")
        self.dataset, self.root, self.epochs, self.batch_size = dataset, root, epochs, batch_size
        self.lr, self.optimizer, self.weight_decay = lr, optimizer, weight_decay
        self.seeds, self.threads = tuple(int(s) for s in seeds), threads
        self.time_limit, self.limit = time_limit, limit
        self.data = load_dataset(dataset, root, tuple(space.input_shape), limit=limit)
        wanted = getattr(space, "num_classes", None)
        if wanted is not None and wanted != self.data.num_classes:
            raise VerifierError(
                f"space {space.name!r} is built for {wanted} classes but dataset {dataset!r} "
                f"has {self.data.num_classes}: load the space with "
                f"num_classes={self.data.num_classes}"
            )
        self.objectives = (f"acc_{dataset}_val", f"acc_{dataset}_test", "train_seconds")
        self.steps_per_epoch = max(1, len(self.data.train_x) // batch_size)

    def provides(self, objective: str) -> bool:
        """True for ``acc_{dataset}_val``, ``acc_{dataset}_test`` and ``train_seconds``."""
        return objective in self.objectives

    def _verify_one(self, candidate: Candidate, objectives: Sequence[str]) -> dict[str, float]:
        return self.full_training(candidate)

    def full_training(self, candidate: Candidate) -> dict[str, float]:
        """Train the candidate for every epoch; the values of all objectives (raises on failure)."""
        _, state = self.train_epochs(candidate, self.epochs)
        return self.results(state)

    def new_state(self, candidate: Candidate) -> TrainState:
        """Fresh seeded models and optimizers for the candidate, one per seed."""
        runs = []
        with torch.random.fork_rng(devices=[]):  # leave the caller's RNG untouched
            for seed in self.seeds:
                torch.manual_seed(seed)
                model = self.space.to_torch(candidate)
                adamw = self.optimizer == "adamw"
                kind, extra = (torch.optim.AdamW, {}) if adamw else (torch.optim.SGD, SGD_EXTRA)
                opt = kind(model.parameters(), lr=self.lr, weight_decay=self.weight_decay, **extra)
                total = self.epochs * self.steps_per_epoch
                # the cosine spans the full budget, so resumed and straight runs match
                sched = torch.optim.lr_scheduler.LambdaLR(
                    opt, lambda step, total=total: 0.5 * (1 + math.cos(math.pi * step / total))
                )
                shuffle = torch.Generator().manual_seed(seed)
                runs.append(SeedRun(seed, model, opt, sched, shuffle, torch.get_rng_state()))
        return TrainState(runs)

    def train_epochs(
        self, candidate: Candidate, epochs: int, state: TrainState | None = None
    ) -> tuple[float, TrainState]:
        """Train (or resume) to ``epochs`` epochs in total; mean validation accuracy and state."""
        state = self.new_state(candidate) if state is None else state
        if not state.epochs <= epochs <= self.epochs:
            raise VerifierError(
                f"cannot train from {state.epochs} to {epochs} epochs (budget {self.epochs})"
            )
        with _deterministic(self.threads):
            if epochs > state.epochs:
                for run in state.runs:
                    self._train_run(run, state, epochs)
                state.epochs, state.cache = epochs, {}
            return self._mean_acc(state, "val"), state

    def results(self, state: TrainState) -> dict[str, float]:
        """Validation and test accuracy (%, mean over seeds) and training seconds per seed."""
        with _deterministic(self.threads):
            val, test = self._mean_acc(state, "val"), self._mean_acc(state, "test")
        return {
            self.objectives[0]: val,
            self.objectives[1]: test,
            "train_seconds": state.seconds / len(state.runs),
        }

    def accuracy(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
        """Top-1 accuracy in % of a model on (x, y), in eval mode."""
        model.eval()
        correct = 0
        with torch.no_grad():
            for i in range(0, len(x), EVAL_BATCH):
                logits = self._logits(model, x[i : i + EVAL_BATCH])
                correct += int((logits.argmax(dim=1) == y[i : i + EVAL_BATCH]).sum())
        return 100.0 * correct / max(1, len(x))

    def settings(self) -> dict[str, Any]:
        """Dataset, budget and optimizer the numbers were made with."""
        keys = ("dataset", "epochs", "batch_size", "lr", "optimizer", "weight_decay", "limit")
        return {
            "verifier": self.name,
            **{k: getattr(self, k) for k in keys},
            "seeds": [*self.seeds],
        }

    def hint(self) -> str:
        """What to add to a refusal: how to get the objectives this verifier lacks."""
        return f" (it provides {', '.join(self.objectives)})"

    def __getstate__(self) -> dict[str, Any]:
        # worker processes reload the (deterministic) data instead of receiving it pickled
        return {k: v for k, v in self.__dict__.items() if k != "data"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        shape = tuple(self.space.input_shape)
        self.data = load_dataset(self.dataset, self.root, shape, limit=self.limit)

    # ----- helpers -------------------------------------------------------------------
    def _train_run(self, run: SeedRun, state: TrainState, epochs: int) -> None:
        x, y, bs = self.data.train_x, self.data.train_y, self.batch_size
        start = time.perf_counter()
        with torch.random.fork_rng(devices=[]):
            torch.set_rng_state(run.rng_state)
            run.model.train()
            for epoch in range(state.epochs, epochs):
                order = torch.randperm(len(x), generator=run.shuffle)
                for step in range(self.steps_per_epoch):
                    idx = order[step * bs : (step + 1) * bs]
                    loss = F.cross_entropy(self._logits(run.model, x[idx]), y[idx])
                    if not torch.isfinite(loss):
                        kind = "NaN" if torch.isnan(loss) else "inf"
                        raise FloatingPointError(
                            f"{kind} loss at epoch {epoch + 1} step {step + 1} (seed {run.seed})"
                        )
                    run.optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    run.optimizer.step()
                    run.scheduler.step()
                    elapsed = state.seconds + time.perf_counter() - start
                    if self.time_limit is not None and elapsed > self.time_limit:
                        raise TimeoutError(
                            f"time limit {self.time_limit:g}s exceeded after {elapsed:.3f}s "
                            f"(epoch {epoch + 1} step {step + 1}, seed {run.seed})"
                        )
            run.rng_state = torch.get_rng_state()
        state.seconds += time.perf_counter() - start

    def _logits(self, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        out = model(x)
        want = (len(x), self.data.num_classes)
        if not isinstance(out, torch.Tensor) or tuple(out.shape) != want:
            shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise VerifierError(
                f"module output {shape} is not {self.data.num_classes} logits per example "
                f"(dataset {self.dataset!r} has {self.data.num_classes} classes)"
            )
        return out

    def _mean_acc(self, state: TrainState, split: str) -> float:
        if split not in state.cache:
            d = self.data
            x, y = (d.val_x, d.val_y) if split == "val" else (d.test_x, d.test_y)
            accs = [self.accuracy(run.model, x, y) for run in state.runs]
            state.cache[split] = sum(accs) / len(accs)
        return state.cache[split]
