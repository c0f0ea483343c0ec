"""Is the verifiers' signal real? Measured values against the bundled benchmark's.

    python -m benchmarks.verifier_signal latency [--cells 200]
    python -m benchmarks.verifier_signal train [--cells 50] [--seeds 0 1]
    python -m benchmarks.verifier_signal {latency,train} --report  # reprint, redraw

``latency``: ``lat_ms_local_cpu`` (onnxruntime on this machine, batch 1, 1 thread) of random
NB201 cells; Spearman against the benchmark's CPU latencies (gold_6226, silver_4114) and
against flops. ``train``: cells spread over the cifar10 accuracy range (equal steps in rank),
trained on digits with the verifier's default budget for each seed; Spearman against the
benchmark's cifar10 accuracy, and the seed-to-seed spread against the spread across cells.
Saves results/OUT_{part}.{json,png} (OUT: ``--out``, default verifier_signal).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from benchmarks import common

CPU_COLUMNS = ("lat_ms_gold_6226", "lat_ms_silver_4114")


def latency(cells: int) -> dict[str, Any]:
    """Local latency of random cells against the benchmark's CPU columns and flops."""
    from searchlab import load_space
    from searchlab.verifiers.latency import LatencyVerifier

    space = load_space("nb201")
    table = space.benchmark()
    rows = np.random.default_rng(0).choice(len(table), cells, replace=False)
    cands = table.candidates(rows)
    verifier = LatencyVerifier(space, runs=30, warmup=5)
    start = time.perf_counter()
    evals = verifier.verify(cands, ["lat_ms_local_cpu"])
    seconds = (time.perf_counter() - start) / cells
    local = np.array([e.values["lat_ms_local_cpu"] for e in evals])
    # per cell, for the figure: the local latency and what it is ranked against
    per_cell = {"lat_ms_local_cpu": [float(v) for v in local]}
    per_cell |= {name: [float(v) for v in table.column(name)[rows]] for name in CPU_COLUMNS}
    per_cell["flops"] = [float(space.flops(c)) for c in cands]
    out: dict[str, Any] = {"cells": cells, "seconds_per_cell": seconds}
    out["machine"] = verifier.settings()
    for name in (*CPU_COLUMNS, "flops"):
        out[name] = common.rank_scores(local, np.array(per_cell[name]))["spearman"]
    return {**out, "per_cell": per_cell}


def train(cells: int, seeds: list[int]) -> dict[str, Any]:
    """Digits accuracy of cells spread over the cifar10 range, per seed."""
    from searchlab import load_space
    from searchlab.verifiers.training import TrainVerifier

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
    trained = np.isfinite(mean)  # a cell no seed trained has no digits accuracy to rank
    return {
        "cells": cells,
        "seeds": seeds,
        "seconds_per_cell": seconds,
        "spearman_vs_cifar10": common.rank_scores(mean[trained], truth[trained])["spearman"],
        "seed_spread_std": float(np.nanmean(np.nanstd(acc, axis=0))) if len(seeds) > 1 else None,
        "cell_spread_std": float(np.nanstd(mean)),
        "machine": common.machine(),
        # per cell, for a closer look: the benchmark's value and the verifier's per seed
        "cifar10": [float(v) for v in truth],
        "digits": [[None if np.isnan(v) else float(v) for v in row] for row in acc],
    }


def report_latency(name: str) -> None:
    """Print the latency figures and draw them from results/NAME.json alone: measured against
    each column per cell where the file holds per-cell values, else the Spearman values."""
    r = common.saved(name)
    m = r["machine"]
    print(
        f"{r['cells']} NB201 cells ({m.get('cpu')}, onnxruntime {m.get('onnxruntime')}, batch "
        f"{m.get('batch_size')}, {m.get('threads')} thread(s)), {r['seconds_per_cell']:.2f} s "
        "each; Spearman of lat_ms_local_cpu with:"
    )
    keys = (*CPU_COLUMNS, "flops")
    for key in keys:
        print(f"  {key:20} {r[key]:.3f}")
    title = f"lat_ms_local_cpu of {r['cells']} NB201 cells, {m.get('cpu')}, batch 1"
    cells = r.get("per_cell")  # written since the harness; older files hold the Spearman only
    with common.figure(name, panels=len(keys) if cells else 1, title=title) as axes:
        if not cells:
            axes[0].bar(keys, [r[key] for key in keys], color="tab:blue")
            axes[0].set_ylim(0, 1.1)  # room for the labels above the bars
            axes[0].set_ylabel("Spearman with lat_ms_local_cpu")
            for i, key in enumerate(keys):
                axes[0].annotate(f"{r[key]:.3f}", (i, r[key]), ha="center", va="bottom")
            return
        for ax, key in zip(axes, keys):
            ax.scatter(cells[key], cells["lat_ms_local_cpu"], s=8, alpha=0.6)
            ax.set_xlabel(key if key == "flops" else f"benchmark {key}")
            ax.set_ylabel("measured lat_ms_local_cpu")
            ax.set_title(f"Spearman {r[key]:.3f}", fontsize=9)


def report_train(name: str) -> None:
    """Print the training-signal figures and draw them from results/NAME.json alone: digits
    against cifar10 accuracy per cell where the file holds them, else the two spreads."""
    r = common.saved(name)
    seed_std = r["seed_spread_std"]
    print(
        f"{r['cells']} cells x {len(r['seeds'])} seeds, {r['seconds_per_cell']:.1f} s per cell "
        f"and seed; Spearman with cifar10 {r['spearman_vs_cifar10']:.3f}; std across seeds "
        f"{'-' if seed_std is None else f'{seed_std:.2f}'}, across cells "
        f"{r['cell_spread_std']:.2f}"
    )
    title = (
        f"{r['cells']} NB201 cells trained on digits, seeds {r['seeds']}: Spearman with "
        f"cifar10 {r['spearman_vs_cifar10']:.3f}"
    )
    with common.figure(name, title=title) as (ax,):
        if "digits" not in r:  # older files hold the summary figures only
            spreads = {"across seeds\n(std per cell)": seed_std or 0.0}
            spreads["across cells\n(std of the seed mean)"] = r["cell_spread_std"]
            ax.bar(list(spreads), list(spreads.values()), color=["tab:gray", "tab:blue"])
            ax.set_ylabel("digits accuracy spread, points")
            ax.margins(y=0.1)
            for i, v in enumerate(spreads.values()):
                ax.annotate(f"{v:.2f}", (i, v), ha="center", va="bottom")
            return
        acc = np.array([[np.nan if v is None else v for v in row] for row in r["digits"]])
        for seed, row in zip(r["seeds"], acc):
            ax.scatter(r["cifar10"], row, s=8, alpha=0.5, label=f"seed {seed}")
        ax.plot(r["cifar10"], np.nanmean(acc, axis=0), color="black", lw=1, label="mean")
        ax.set_xlabel("benchmark acc_cifar10_test, %")
        ax.set_ylabel("verifier acc_digits_test, %")
        ax.legend(fontsize=8)


def main() -> None:
    """Measure the part unless --report, then print and draw it from its results file."""
    parser = common.arguments(__doc__, seeds=(0, 1), out="verifier_signal")
    parser.add_argument(
        "part", choices=["latency", "train"], help="results go to results/OUT_PART.{json,png}"
    )
    parser.add_argument("--cells", type=int, default=None, help="default: latency 200, train 50")
    args = parser.parse_args()
    name = f"{args.out}_{args.part}"
    if not args.report:
        if args.part == "latency":
            payload = latency(args.cells or 200)
        else:
            payload = train(args.cells or 50, args.seeds)
        print(f"saved {common.save(name, payload)}")
    (report_latency if args.part == "latency" else report_train)(name)


if __name__ == "__main__":
    main()
