"""How often does unbounded sampling give a wild number? (why campaigns bound samples)

    python -m benchmarks.sample_outliers [--checkpoint default] [--cells 500] [--k 8]
        [--seeds 0] [--out sample_outliers] [--report]

k samples at temperature 1, without bounds, for NB201 cells of the checkpoint's held-out
test split, on columns it was pretrained on; a sample is wild when it is negative or above
10x the column's largest value in the benchmark. Each seed samples the same cells (drawn
with seed 0). Each (seed, column) is saved to results/{out}.json; a rerun with the same
checkpoint measures only what is missing. Every run ends by printing, from that file alone,
the share of wild samples and of cells with at least one; ``--report`` does only that.
"""

from __future__ import annotations

import argparse

import numpy as np

from benchmarks import common

COLUMNS = ["acc_cifar100_test", "lat_ms_hwnb_eyeriss"]
IDENT = ("seed", "column", "cells", "k")


def main() -> None:
    """Measure what results/{out}.json lacks (unless --report), then print it."""
    parser = common.arguments(__doc__, out="sample_outliers", checkpoint=True)
    parser.add_argument("--cells", type=int, default=500)
    parser.add_argument("--k", type=int, default=8)
    args = parser.parse_args()
    if not args.report:
        measure(args)
    report(args.out)


def measure(args: argparse.Namespace) -> None:
    """Sample every (seed, column) the results file lacks and count the wild samples."""
    from searchlab import load_space

    # the columns are pretrained ones, so nothing to refuse but a missing test split
    held = common.held_out(args.checkpoint, [])
    table = load_space("nb201").benchmark()
    rows = np.random.default_rng(0).permutation(held.test)[: args.cells]
    print(f"checkpoint {held.ident}, {len(rows)} held-out cells, k={args.k}; {common.machine()}")
    texts = [common.candidates("nb201")[r].text for r in rows]
    records = common.resume(args.out, checkpoint=held.ident)
    done = {tuple(r[k] for k in IDENT) for r in records}
    for seed in args.seeds:
        for column in COLUMNS:
            if (seed, column, len(rows), args.k) in done:
                continue
            samples = held.rlm.predict(texts, [column], k=args.k, seed=seed).samples[:, :, 0]
            wild = (samples < 0) | (samples > 10 * table.column(column).max())
            record = {
                "seed": seed,
                "column": column,
                "cells": len(rows),
                "k": args.k,
                "wild": int(wild.sum()),
                "samples": int(wild.size),
                "cells_with_one": float(wild.any(axis=1).mean()),
                "largest": float(samples.max()),
                "machine": common.machine(),
            }
            common.add_record(args.out, record, IDENT, checkpoint=held.ident)


def report(out: str) -> None:
    """Print each (seed, column)'s wild samples from results/{out}.json alone."""
    saved = common.saved(out)
    records = saved["records"]
    print(f"checkpoint {saved.get('checkpoint')}")
    for r in records:
        print(
            f"seed {r['seed']} {r['cells']} cells k={r['k']} {r['column']:20} wild samples "
            f"{r['wild'] / r['samples']:.5f} ({r['wild']} of {r['samples']}), "
            f"cells with one {r['cells_with_one']:.4f}, largest sample {r['largest']:.4g}"
        )


if __name__ == "__main__":
    main()
