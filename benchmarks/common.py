"""Shared helpers of the benchmark scripts: checkpoint identity, results folder, splits."""

from __future__ import annotations

import json
import platform
import resource
from pathlib import Path
from typing import Any

import numpy as np
import torch

RESULTS = Path(__file__).parent / "results"


def machine() -> str:
    """One line naming the machine a figure was measured on."""
    return f"{platform.processor() or platform.machine()}, torch threads {torch.get_num_threads()}"


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def save(name: str, payload: dict[str, Any]) -> Path:
    """Write a benchmark's figures as JSON under benchmarks/results/."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=1, sort_keys=True, default=float) + "\n")
    return path


def nb201_split(
    seed: int, n_train: int, n_test: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """ANCHORS split: cells permuted by default_rng(seed); the first n_train train, then test."""
    perm = np.random.default_rng(seed).permutation(15625)
    test = perm[n_train:] if n_test is None else perm[n_train : n_train + n_test]
    return perm[:n_train], test
