"""Shared helpers of the benchmark scripts: checkpoint identity, results folder, splits."""

from __future__ import annotations

import fcntl
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


def campaign_record(store: Any, names: list[str], seconds: float, surrogate: Any) -> dict:
    """What a benchmark keeps of one campaign: verified keys and values in order, the
    surrogate's picks, trust and update seconds per round, and the wall time."""
    rounds = [r.get("log", {}) for r in store.rounds()]
    return {
        "seconds": seconds,
        "surrogate": None if surrogate is None else surrogate.name,
        "keys": [r.key for r in store.verified()],
        "values": [[r.values[n] for n in names] for r in store.verified()],
        "picked_by_surrogate": [r.get("picked_by_surrogate", 0) for r in rounds],
        "trust": [r.get("trust") for r in rounds],
        "update_seconds": sum(r.get("finetune_seconds", 0.0) for r in rounds),
    }


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def save(name: str, payload: dict[str, Any]) -> Path:
    """Write a benchmark's figures as JSON under benchmarks/results/."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=1, sort_keys=True, default=float) + "\n")
    return path


def load(name: str) -> dict[str, Any]:
    """A benchmark's saved figures, results/NAME.json ({} when it has not run)."""
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def nb201_split(
    seed: int, n_train: int, n_test: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """ANCHORS split: cells permuted by default_rng(seed); the first n_train train, then test."""
    perm = np.random.default_rng(seed).permutation(15625)
    test = perm[n_train:] if n_test is None else perm[n_train : n_train + n_test]
    return perm[:n_train], test


def add_record(
    name: str, record: dict, ident: tuple[str, ...], replace: bool = False, **top: Any
) -> list[dict]:
    """Add one record to results/NAME.json under a lock unless a record with the same
    ``ident`` fields is there (``replace``: it is dropped first), keeping what other runs wrote
    meanwhile (two runs may fill one table); ``top`` fields are written at the top level.
    Returns all records now in it."""
    RESULTS.mkdir(exist_ok=True)
    with open(RESULTS / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        payload = load(name)
        records = payload.get("records", [])
        key = tuple(record[k] for k in ident)
        if replace:
            records = [r for r in records if tuple(r.get(k) for k in ident) != key]
        if all(tuple(r.get(k) for k in ident) != key for r in records):
            records.append(record)
        save(name, {**payload, **top, "records": records})
    return records
