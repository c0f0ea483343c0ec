"""Is the verifiers' signal real? Measured values against the bundled benchmark's.

    python -m benchmarks.verifier_signal latency [--cells 200]
    python -m benchmarks.verifier_signal train [--cells 50] [--seeds 0 1]

``latency``: ``lat_ms_local_cpu`` (onnxruntime on this machine, batch 1, 1 thread) of random
NB201 cells; Spearman against the benchmark's CPU latencies (gold_6226, silver_4114) and
against flops. ``train``: cells spread over the cifar10 accuracy range (equal steps in rank),
trained on digits with the verifier's default budget for each seed; Spearman against the
benchmark's cifar10 accuracy, and the seed-to-seed spread against the spread across cells.
Saves results/verifier_signal_{part}.json.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.stats import spearmanr

from benchmarks.common import machine, save
from searchlab import load_space
from searchlab.verifiers.latency import LatencyVerifier
from searchlab.verifiers.training import TrainVerifier


def latency(cells: int) -> None:
    """Local latency against the benchmark's CPU columns and flops."""
    space = load_space("nb201")
    table = space.benchmark()
    rows = np.random.default_rng(0).choice(len(table), cells, replace=False)
    cands = table.candidates(rows)
    verifier = LatencyVerifier(space, runs=30, warmup=5)
    start = time.perf_counter()
    evals = verifier.verify(cands, ["lat_ms_local_cpu"])
    seconds = (time.perf_counter() - start) / cells
    local = np.array([e.values["lat_ms_local_cpu"] for e in evals])
    out = {"cells": cells, "seconds_per_cell": seconds, "machine": verifier.settings()}
    for name in ("lat_ms_gold_6226", "lat_ms_silver_4114"):
        out[name] = float(spearmanr(local, table.column(name)[rows]).statistic)
    out["flops"] = float(spearmanr(local, [space.flops(c) for c in cands]).statistic)
    print(f"{cells} NB201 cells, {seconds:.2f} s each; Spearman of lat_ms_local_cpu with:")
    for key in ("lat_ms_gold_6226", "lat_ms_silver_4114", "flops"):
        print(f"  {key:20} {out[key]:.3f}")
    save("verifier_signal_latency", out)


def train(cells: int, seeds: list[int]) -> None:
    """Digits accuracy of cells spread over the cifar10 range, per seed."""
    space = load_space("nb201")
    table = space.benchmark()
    order = np.argsort(table.column("acc_cifar10_test"))
    rows = order[np.linspace(0, len(order) - 1, cells).round().astype(int)]
    cands = table.candidates(rows)
    acc = np.zeros((len(seeds), cells))
    start = time.perf_counter()
    for i, seed in enumerate(seeds):
        evals = TrainVerifier(space, seeds=(seed,)).verify(cands, ["acc_digits_test"])
        acc[i] = [e.values["acc_digits_test"] if e.ok else np.nan for e in evals]
        print(f"seed {seed}: {np.isfinite(acc[i]).sum()} cells trained", flush=True)
    seconds = (time.perf_counter() - start) / (cells * len(seeds))
    truth = table.column("acc_cifar10_test")[rows]
    mean = np.nanmean(acc, axis=0)
    out = {
        "cells": cells,
        "seeds": seeds,
        "seconds_per_cell": seconds,
        "spearman_vs_cifar10": float(spearmanr(mean, truth, nan_policy="omit").statistic),
        "seed_spread_std": float(np.nanmean(np.nanstd(acc, axis=0))) if len(seeds) > 1 else None,
        "cell_spread_std": float(np.nanstd(mean)),
        "machine": machine(),
        # per cell, for a closer look: the benchmark's value and the verifier's per seed
        "cifar10": [float(v) for v in truth],
        "digits": [[None if np.isnan(v) else float(v) for v in row] for row in acc],
    }
    print(
        f"{cells} cells x {len(seeds)} seeds, {seconds:.1f} s per cell and seed; Spearman with "
        f"cifar10 {out['spearman_vs_cifar10']:.3f}; std across seeds {out['seed_spread_std']}, "
        f"across cells {out['cell_spread_std']:.2f}"
    )
    save("verifier_signal_train", out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["latency", "train"])
    parser.add_argument("--cells", type=int, default=None)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args()
    if args.part == "latency":
        latency(args.cells or 200)
    else:
        train(args.cells or 50, args.seeds)


if __name__ == "__main__":
    main()
