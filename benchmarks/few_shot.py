"""Few-shot transfer: the pretrained checkpoint on a handful of cells of a new column.

    python -m benchmarks.few_shot [--checkpoint default] [--shots 8 16 32 64 128] [--seeds 0 1 2]
        [--methods linked finetuned scratch gbdt rf mlp gcn] [--columns ...] [--epochs 40]
        [--out few_shot] [--report]

For each held-out column (cifar10 accuracy, pixel3 latency; the checkpoint never saw either)
and each shot count, the checkpoint learns the column from that many NB201 cells: "linked"
reads it through a blend of the pretrained columns of its kind that rank those cells (what
``searchlab fit`` does, :mod:`searchlab.rlm.transfer`; fine-tuned instead when no column ranks
them), "finetuned" fine-tunes the weights on them; next to the same network trained from
scratch and the classical baselines on the same cells. RLM rows are scored with the point
prediction (``predict_point``). All are scored (Spearman and Kendall) on the checkpoint's
held-out test cells, whose rows it never trained on. With 18 or more cells, 20 % of them steer
early stopping (:func:`benchmarks.common.fit_rlm`); with fewer, training runs a fixed number of
epochs. Each fit is saved to
results/{out}.json as it ends; a later run with the same --out and checkpoint keeps those
records and measures only what is missing (a new method, shot count, column or seed is added
to the same table and plot). Every run ends by printing the mean Spearman (and, where
recorded, Kendall) per column, method and shot count, and drawing results/{out}.png, from the
results file alone; ``--report`` does only that.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from benchmarks import common
from benchmarks.baselines import BASELINES, fit_predict

COLUMNS = ["lat_ms_hwnb_pixel3", "acc_cifar10_test"]
IDENT = ("column", "seed", "shots", "method")


def main() -> None:
    """Measure what results/{out}.json lacks (unless --report), then print and draw it."""
    parser = common.arguments(__doc__, seeds=(0, 1, 2), out="few_shot", checkpoint=True, epochs=40)
    parser.add_argument("--shots", type=int, nargs="+", default=[8, 16, 32, 64, 128])
    parser.add_argument(
        "--methods", nargs="+", default=["linked", "finetuned", "scratch", *BASELINES]
    )
    parser.add_argument("--columns", nargs="+", default=COLUMNS, choices=COLUMNS)
    args = parser.parse_args()
    if not args.report:
        measure(args)
    report(args.out)


def measure(args: argparse.Namespace) -> None:
    """Fit and score every (column, seed, shots, method) the results file lacks."""
    from searchlab import load_space

    held = common.held_out(args.checkpoint, COLUMNS)
    space = load_space("nb201")
    table = space.benchmark()
    print(f"checkpoint {held.ident}; building texts; {common.machine()}")
    cands = common.candidates("nb201")
    test_texts = [cands[r].text for r in held.test]
    records = common.resume(args.out, checkpoint=held.ident)
    done = {tuple(r[k] for k in IDENT) for r in records}
    for column in args.columns:
        values = table.column(column)
        for seed in args.seeds:
            draw = np.random.default_rng(seed).permutation(held.pool)
            for shots in args.shots:
                cells = draw[:shots]
                texts = [cands[r].text for r in cells]
                for method in args.methods:
                    if (column, seed, shots, method) in done:
                        continue
                    start = time.perf_counter()
                    if method in BASELINES:
                        train_genotypes = [table.genotype(r) for r in cells]
                        test_genotypes = [table.genotype(r) for r in held.test]
                        pred = fit_predict(
                            method, space, train_genotypes, values[cells], test_genotypes, seed
                        )
                        proxy = None
                    else:
                        rlm, proxy = rlm_fit(
                            held, method, texts, column, values[cells], seed, args.epochs
                        )
                        pred = rlm.predict_point(test_texts, [column])[:, 0]
                    scores = common.rank_scores(pred, values[held.test])
                    record = {
                        "column": column,
                        "seed": seed,
                        "shots": shots,
                        "method": method,
                        **scores,
                        "proxy": proxy,
                        "seconds": time.perf_counter() - start,
                        "machine": common.machine(),
                    }
                    print(
                        f"{column:20} seed {seed} shots {shots:4d} {method:9} "
                        f"rho {scores['spearman']:.3f} tau {scores['kendall']:.3f}",
                        flush=True,
                    )
                    # "machine" at the top, where present, is the first run's; each record
                    # has its own
                    records = common.add_record(
                        args.out, record, IDENT, checkpoint=held.ident, test_cells=len(held.test)
                    )


def rlm_fit(
    held: common.HeldOut,
    method: str,
    texts: list[str],
    column: str,
    values: np.ndarray,
    seed: int,
    epochs: int,
) -> tuple[Any, list[str] | None]:
    """The RLM of ``method`` (linked, finetuned, scratch) fitted on the cells; and the columns
    a linked model reads the new one through (None when not linked)."""
    from searchlab.rlm.pretrain import tokenizer_corpus
    from searchlab.rlm.regressor import RegressionLanguageModel
    from searchlab.rlm.transfer import choose_links, proxy_columns

    if method == "scratch":
        rlm = common.fresh_rlm(tokenizer_corpus(seed=seed) + texts, seed, like=held.rlm)
    else:
        rlm = RegressionLanguageModel.load(held.folder, device="cpu")
    if method == "linked":
        proxies = proxy_columns(rlm.card, "nb201")
        linked = choose_links(rlm, texts, [column], values[:, None], proxies)
        rlm.card["links"] = {t: ln.to_dict() for t, ln in linked.items()}
        if linked:
            return rlm, list(linked[column].proxies)
        # no pretrained column ranks the cells: linked falls back to fine-tuning
    common.fit_rlm(rlm, texts, [column], values, seed, epochs, scratch=method == "scratch")
    return rlm, None


def axes_of(records: list[dict]) -> tuple[list[str], list[str], list[int]]:
    """Columns, methods and shot counts present in the records, in first-seen order."""
    columns = [c for c in COLUMNS if any(r["column"] == c for r in records)]
    methods = list(dict.fromkeys(r["method"] for r in records))
    return columns, methods, sorted({r["shots"] for r in records})


def mean_score(
    records: list[dict], column: str, method: str, shots: int, metric: str = "spearman"
) -> float:
    """Mean of ``metric`` over seeds of one column, method and shot count (nan when none)."""
    values = [
        r[metric]
        for r in records
        if r["column"] == column and r["method"] == method and r["shots"] == shots and metric in r
    ]
    return float(np.mean(values)) if values else float("nan")


def summarize(records: list[dict]) -> None:
    """Mean Spearman, then mean Kendall where recorded, over seeds per column, method, shots."""
    columns, methods, shots = axes_of(records)
    for metric in ("spearman", "kendall"):
        if not any(metric in r for r in records):
            continue  # the earliest tables kept Spearman only
        for column in columns:
            seeds = sorted({r["seed"] for r in records if r["column"] == column})
            print(f"\n{column}: mean {metric.capitalize()} over seeds {seeds}")
            print(f"{'method':10}" + "".join(f"{s:>8}" for s in shots))
            for method in methods:
                cells = [mean_score(records, column, method, s, metric) for s in shots]
                print(f"{method:10}" + "".join(f"{c:8.3f}" for c in cells))


def report(out: str) -> None:
    """Print the tables and draw results/{out}.png from results/{out}.json alone."""
    saved = common.saved(out)
    records = saved["records"]
    summarize(records)
    columns, methods, shots = axes_of(records)
    title = f"few-shot transfer, checkpoint {saved.get('checkpoint')}"
    with common.figure(out, panels=len(columns), size=(5, 3.5), title=title) as axes:
        for ax, column in zip(axes, columns):
            for method in methods:
                ys = [mean_score(records, column, method, s) for s in shots]
                ax.plot(shots, ys, marker="o", label=method)
            ax.set_xscale("log", base=2)
            ax.set_xlabel("training cells")
            ax.set_ylabel("Spearman on held-out cells")
            ax.set_title(column, fontsize=9)
        axes[0].legend(fontsize=7)


if __name__ == "__main__":
    main()
