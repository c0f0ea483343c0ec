"""Surrogate quality on NB201: the RLM from scratch against classical baselines, same splits.

    python benchmarks/surrogate_quality.py [--sizes 100 1000] [--seeds 0 1 2] [--test-cells N]

Targets: cifar10 test accuracy and the four HW-NAS-Bench latencies. Split per seed s:
``default_rng(s).permutation(15625)``; the first n cells train, the rest test (or the next N
with --test-cells). Baselines (GBDT, RF, MLP on one-hot, GCN on the cell graph) fit one model
per target. The RLM is one joint model over all five targets, trained from scratch (its
tokenizer is learned on unlabeled texts), holding out 20 % of its training cells for early
stopping, with at least 1,500 optimizer steps. Its point prediction (``rlm``) is the median of
the decoder's digit distribution (``predict_point``), what ``evaluate`` and a campaign use; the
same model's greedy decode (the most likely digits) and the median of 8 samples at temperature
1 are their own rows, ``rlm_greedy`` and ``rlm_median8``. Prints Kendall tau / Spearman per
target;
saves results/surrogate_quality.{json,png}.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.stats import kendalltau, spearmanr

from benchmarks.baselines import BASELINES, fit_predict
from benchmarks.common import RESULTS, machine, nb201_split, save
from searchlab import load_space
from searchlab.rlm.pretrain import tokenizer_corpus
from searchlab.rlm.regressor import RegressionLanguageModel
from searchlab.rlm.train import Example, TrainConfig

TARGETS = [
    "acc_cifar10_test",
    "lat_ms_hwnb_pixel3",
    "lat_ms_hwnb_eyeriss",
    "lat_ms_hwnb_fpga",
    "lat_ms_hwnb_raspi4",
]


def train_from_scratch(texts, cols, targets, train, seed, cfg, log, **create):  # noqa: ANN001, ANN201
    """The from-scratch recipe: a fresh RLM (tokenizer learned on unlabeled texts plus the
    training cells' texts), 20 % of the training cells held out for early stopping.
    ``cols[r]`` holds row r's values of ``targets``; ``create`` overrides model settings."""
    order = np.random.default_rng(seed).permutation(len(train))
    n_val = max(4, int(round(0.2 * len(train))))
    val_rows, train_rows = train[order[:n_val]], train[order[n_val:]]

    def examples(rows):  # noqa: ANN001, ANN202
        return [Example(texts[r], tuple(targets), tuple(float(v) for v in cols[r])) for r in rows]

    corpus = tokenizer_corpus(seed=seed) + [texts[r] for r in train]
    rlm = RegressionLanguageModel.create(
        corpus, seed=seed, device="cpu", **{"max_input": 512, **create}
    )
    result = rlm.fit(examples(train_rows), examples(val_rows), cfg, log=log)
    return rlm, result


def rlm_fit_predict(texts, table, train, test, seed, epochs, log):  # noqa: ANN001, ANN201
    """Train a joint RLM from scratch on the train cells; its three estimators on the test cells."""
    cols = np.stack([table.column(t) for t in TARGETS], axis=1)
    cfg = TrainConfig(epochs=epochs, patience=10, seed=seed, min_steps=1500)
    rlm, result = train_from_scratch(texts, cols, TARGETS, train, seed, cfg, log)
    start = time.perf_counter()
    test_texts = [texts[r] for r in test]
    median = rlm.predict(test_texts, TARGETS, k=8, seed=seed).median()
    per_s = len(test) / (time.perf_counter() - start)
    greedy = rlm.predict(test_texts, TARGETS, k=1, temperature=0.0).median()
    point = rlm.predict_point(test_texts, TARGETS)
    info = {"train_seconds": result.seconds, "best_epoch": result.best_epoch}
    info["predict_per_s"] = per_s
    return {"rlm": point, "rlm_greedy": greedy, "rlm_median8": median}, info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--test-cells", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--methods", nargs="+", default=["rlm", *BASELINES])
    args = parser.parse_args()
    space = load_space("nb201")
    table = space.benchmark()
    print(f"building texts of {len(table)} cells; {machine()}")
    texts = [c.text for c in table.candidates()]
    genotypes = [table.genotype(r) for r in range(len(table))]
    records, parity = [], {}
    for seed in args.seeds:
        for n in args.sizes:
            train, test = nb201_split(seed, n, args.test_cells)
            truth = {t: table.column(t)[test] for t in TARGETS}
            for method in args.methods:
                start = time.perf_counter()
                extra = {}
                if method == "rlm":
                    both, extra = rlm_fit_predict(
                        texts, table, train, test, seed, args.epochs, log=lambda s: None
                    )
                    # the greedy decode and the median of 8 samples are rows of their own
                    preds = {t: both["rlm"][:, j] for j, t in enumerate(TARGETS)}
                    others = {
                        name: {t: both[name][:, j] for j, t in enumerate(TARGETS)}
                        for name in ("rlm_greedy", "rlm_median8")
                    }
                else:
                    preds = {
                        t: fit_predict(
                            method,
                            space,
                            [genotypes[r] for r in train],
                            table.column(t)[train],
                            [genotypes[r] for r in test],
                            seed=seed,
                        )
                        for t in TARGETS
                    }
                seconds = time.perf_counter() - start
                runs = [(method, preds, {"seconds": seconds, **extra})]
                if method == "rlm":
                    runs = [(name, pred, {}) for name, pred in others.items()] + runs
                for name, pred, info in runs:
                    for t in TARGETS:
                        records.append(
                            {
                                "method": name,
                                "n_train": n,
                                "seed": seed,
                                "target": t,
                                "kendall": float(kendalltau(pred[t], truth[t]).statistic),
                                "spearman": float(spearmanr(pred[t], truth[t]).statistic),
                                "n_test": len(test),
                                **info,
                            }
                        )
                if seed == args.seeds[0] and n == max(args.sizes):
                    parity[method] = (truth["acc_cifar10_test"], preds["acc_cifar10_test"])
                row = "  ".join(
                    f"{t.split('_')[-2] if 'lat' in t else 'cifar10'} "
                    f"{r['kendall']:.3f}/{r['spearman']:.3f}"
                    for t, r in zip(TARGETS, records[-len(TARGETS) :])
                )
                print(
                    f"seed {seed} n {n:5d} {method:5s} ({seconds:6.1f}s)  tau/rho: {row}",
                    flush=True,
                )
    summarize(records, args)
    save(
        "surrogate_quality",
        {
            "records": records,
            "machine": machine(),
            "note": "RLM trained from scratch; no pretrained checkpoint",
        },
    )
    plot_parity(parity)


def summarize(records: list[dict], args: argparse.Namespace) -> None:
    """Mean over seeds: Kendall tau for cifar10, Spearman for the latencies."""
    print("\nmean over seeds (cifar10: Kendall tau; latencies: Spearman)")
    print(
        f"{'method':11} {'n':>5} "
        + " ".join(f"{t.replace('lat_ms_hwnb_', ''):>16}" for t in TARGETS)
    )
    extra = ["rlm_greedy", "rlm_median8"] if "rlm" in args.methods else []
    methods = list(args.methods) + extra
    for n in args.sizes:
        for method in methods:
            cells = []
            for t in TARGETS:
                metric = "kendall" if t.startswith("acc") else "spearman"
                vals = [
                    r[metric]
                    for r in records
                    if r["method"] == method and r["n_train"] == n and r["target"] == t
                ]
                cells.append(f"{np.mean(vals):8.3f} ±{np.std(vals):5.3f}" if vals else " " * 16)
            print(f"{method:11} {n:5d} " + " ".join(cells))


def plot_parity(parity: dict) -> None:
    """Predicted vs true cifar10 accuracy for every method (first seed, largest size)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no plot")
        return
    fig, axes = plt.subplots(1, len(parity), figsize=(3 * len(parity), 3), squeeze=False)
    for ax, (method, (truth, pred)) in zip(axes[0], parity.items()):
        ax.scatter(truth, pred, s=2, alpha=0.3)
        ax.set_title(f"{method}: tau {kendalltau(pred, truth).statistic:.3f}", fontsize=9)
        ax.set_xlabel("true cifar10 accuracy (%)")
        ax.set_xlim(40, 96)
        ax.set_ylim(40, 96)
    axes[0][0].set_ylabel("predicted")
    fig.tight_layout()
    fig.savefig(RESULTS / "surrogate_quality_parity.png", dpi=110)


if __name__ == "__main__":
    main()
