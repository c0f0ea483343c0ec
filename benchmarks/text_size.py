"""Size of candidate texts and the time to build them, per built-in space.

    python benchmarks/text_size.py [--n 1000] [--seed 0]

Prints, per space: median/max whitespace tokens and characters over n seeded samples,
and the wall time to sample and render n candidates (one process, 1 thread). Then, for
spaces with a bundled benchmark, how well the text's length alone ranks each column
(Spearman over every row): the floor any text model reaches before it reads a single op.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from scipy.stats import spearmanr

from searchlab import available_spaces, load_space


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(
        f"{'space':8} {'n':>5} {'words med':>9} {'words max':>9} {'chars med':>9} "
        f"{'build s':>8} {'ms/cand':>8}"
    )
    for name in sorted(available_spaces()):
        space = load_space(name)
        rng = np.random.default_rng(args.seed)
        start = time.perf_counter()
        cands = [space.sample(rng) for _ in range(args.n)]
        seconds = time.perf_counter() - start
        words = [len(c.text.split()) for c in cands]
        chars = [len(c.text) for c in cands]
        print(
            f"{name:8} {args.n:5d} {statistics.median(words):9.0f} {max(words):9d} "
            f"{statistics.median(chars):9.0f} {seconds:8.2f} {1000 * seconds / args.n:8.2f}"
        )
    for name in sorted(available_spaces()):
        table = load_space(name).benchmark()
        if table is None:
            continue
        lengths = [len(c.text) for c in table.candidates()]
        for column in table.columns:
            rho = spearmanr(lengths, table.column(column)).statistic
            print(f"{name}: Spearman(text length, {column}) = {rho:.3f} over {len(lengths)} rows")


if __name__ == "__main__":
    main()
