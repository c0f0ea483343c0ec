"""How often does unbounded sampling give a wild number? (why campaigns bound samples)

    python -m benchmarks.sample_outliers [--checkpoint default] [--cells 500] [--k 8]

k samples at temperature 1, without bounds, for NB201 cells of the checkpoint's held-out
test split, on columns it was pretrained on; a sample is wild when it is negative or above
10x the column's largest value in the benchmark. Prints the share of wild samples and of
cells with at least one.
"""

from __future__ import annotations

import argparse

import numpy as np

from benchmarks.common import machine
from searchlab import load_space
from searchlab.rlm.checkpoint import checkpoint_id, checkpoint_path
from searchlab.rlm.regressor import RegressionLanguageModel

COLUMNS = ["acc_cifar100_test", "lat_ms_hwnb_eyeriss"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default="default")
    parser.add_argument("--cells", type=int, default=500)
    parser.add_argument("--k", type=int, default=8)
    args = parser.parse_args()
    folder = checkpoint_path(args.checkpoint)
    rlm = RegressionLanguageModel.load(folder, device="cpu")
    test_keys = set(rlm.card.get("held_out", {}).get("nb201", {}).get("test_keys", []))
    table = load_space("nb201").benchmark()
    cands = table.candidates()
    rows = np.array([r for r, c in enumerate(cands) if c.key in test_keys])
    rows = np.random.default_rng(0).permutation(rows)[: args.cells]
    ident = checkpoint_id(folder)
    print(f"checkpoint {ident}, {len(rows)} held-out cells, k={args.k}; {machine()}")
    texts = [cands[r].text for r in rows]
    for column in COLUMNS:
        samples = rlm.predict(texts, [column], k=args.k, seed=0).samples[:, :, 0]
        wild = (samples < 0) | (samples > 10 * table.column(column).max())
        print(
            f"{column:20} wild samples {wild.mean():.5f} ({wild.sum()} of {wild.size}), "
            f"cells with one {wild.any(axis=1).mean():.4f}, largest sample {samples.max():.4g}"
        )


if __name__ == "__main__":
    main()
