"""Size of candidate texts and the time to build them, per built-in space.

    python -m benchmarks.text_size [--n 1000] [--seeds 0]
    python -m benchmarks.text_size --report  # reprint, redraw

Prints, per space: median/max whitespace tokens and characters over n samples drawn with
seed ``--seeds``, and the wall time to sample and render n candidates (one process,
``--threads`` 1). Then, for spaces with a bundled benchmark, how well the text's length alone
ranks each column (Spearman over every row): the floor any text model reaches before it reads
a single op.
Saves results/OUT.{json,png} (OUT: ``--out``, default text_size).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np
import torch

from benchmarks import common


def measure(n: int, seed: int) -> dict[str, Any]:
    """Text sizes and build times of n seeded samples per space, and the length's Spearman
    with every column of each bundled benchmark: the fields of results/OUT.json."""
    from searchlab import available_spaces, load_space

    spaces, length_spearman, rows = {}, {}, {}
    for name in sorted(available_spaces()):
        space = load_space(name)
        rng = np.random.default_rng(seed)
        start = time.perf_counter()
        cands = [space.sample(rng) for _ in range(n)]
        seconds = time.perf_counter() - start
        words = [len(c.text.split()) for c in cands]
        chars = [len(c.text) for c in cands]
        spaces[name] = {
            "words_median": statistics.median(words),
            "words_max": max(words),
            "chars_median": statistics.median(chars),
            "seconds": seconds,
        }
    for name in sorted(available_spaces()):
        table = load_space(name).benchmark()
        if table is None:
            continue
        lengths = np.array([len(c.text) for c in common.candidates(name)], dtype=float)
        rows[name] = len(lengths)
        length_spearman[name] = {
            column: common.rank_scores(lengths, table.column(column))["spearman"]
            for column in table.columns
        }
    return {
        "n": n,
        "seed": seed,
        "machine": common.machine(),
        "spaces": spaces,
        "rows": rows,
        "length_spearman": length_spearman,
    }


def report(name: str) -> None:
    """Print the text-size table and draw its figure from results/NAME.json alone."""
    r = common.saved(name)
    n, spaces = r["n"], r["spaces"]
    print(f"{n} samples per space, seed {r['seed']}; {r['machine']}")
    print(
        f"{'space':8} {'n':>5} {'words med':>9} {'words max':>9} {'chars med':>9} "
        f"{'build s':>8} {'ms/cand':>8}"
    )
    for space, s in spaces.items():
        print(
            f"{space:8} {n:5d} {s['words_median']:9.0f} {s['words_max']:9d} "
            f"{s['chars_median']:9.0f} {s['seconds']:8.2f} {1000 * s['seconds'] / n:8.2f}"
        )
    for space, columns in r["length_spearman"].items():
        for column, rho in columns.items():
            print(
                f"{space}: Spearman(text length, {column}) = {rho:.3f} over {r['rows'][space]} rows"
            )
    title = f"candidate texts, {n} seeded samples per space ({r['machine']})"
    with common.figure(name, panels=3, size=(4.0, 3.5), title=title) as (words, build, rank):
        names = list(spaces)
        x = np.arange(len(names))
        words.bar(x - 0.2, [spaces[s]["words_median"] for s in names], 0.4, label="median")
        words.bar(x + 0.2, [spaces[s]["words_max"] for s in names], 0.4, label="max")
        words.set_xticks(x, names)
        words.set_ylabel("whitespace tokens per text")
        words.legend(fontsize=8)
        build.bar(names, [1000 * spaces[s]["seconds"] / n for s in names], color="tab:gray")
        build.set_ylabel("ms to build one text")
        # one dot per benchmark column: how far length alone ranks it, either sign
        ranked = list(r["length_spearman"])
        for i, space in enumerate(ranked):
            rhos = list(r["length_spearman"][space].values())
            rank.scatter(np.full(len(rhos), i), rhos, s=12, alpha=0.6)
        rank.axhline(0.0, color="black", lw=0.5)
        rank.set_xticks(range(len(ranked)), ranked)
        rank.set_ylim(-1, 1)
        rank.set_ylabel("Spearman(text length, column)")


def main() -> None:
    """Measure unless --report, then print the table and draw the figure from the results."""
    parser = common.arguments(__doc__, out="text_size", threads=1)
    parser.add_argument("--n", type=int, default=1000, help="samples per space")
    args = parser.parse_args()
    if len(args.seeds) != 1:  # one table: sizes and times of one seeded sample
        parser.error("--seeds takes one sampling seed here")
    if not args.report:
        torch.set_num_threads(args.threads)
        print(f"saved {common.save(args.out, measure(args.n, args.seeds[0]))}")
    report(args.out)


if __name__ == "__main__":
    main()
