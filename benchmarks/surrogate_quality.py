"""Surrogate quality on NB201: the RLM from scratch against classical baselines, same splits.

    python -m benchmarks.surrogate_quality [--sizes 100 1000] [--seeds 0 1 2] [--test-cells N]
        [--methods rlm gbdt rf mlp gcn] [--epochs 60] [--out surrogate_quality] [--report]

Targets: cifar10 test accuracy and the four HW-NAS-Bench latencies. Split per seed s:
``default_rng(s).permutation(15625)``; the first n cells train, the rest test (or the next N
with --test-cells). Baselines (GBDT, RF, MLP on one-hot, GCN on the cell graph) fit one model
per target. The RLM is one joint model over all five targets, trained from scratch (its
tokenizer is learned on unlabeled texts), holding out 20 % of its training cells for early
stopping, with at least 1,500 optimizer steps. Its point prediction (``rlm``) is the median of
the decoder's digit distribution (``predict_point``), what ``evaluate`` and a campaign use; the
same model's greedy decode (the most likely digits) and the median of 8 samples at temperature
1 are their own rows, ``rlm_greedy`` and ``rlm_median8``.

Each (seed, size, method) is added to results/OUT.json as it finishes, Kendall tau and
Spearman per target; a rerun measures only what is missing. The table (cifar10 Kendall tau,
latencies Spearman: mean over seeds, then seed by seed) and results/OUT.png (one panel per
target: each method and size, a dot per seed) come from that file alone; ``--report`` only
prints and draws them. A measuring run also draws results/OUT_parity.png, predicted against
true cifar10 accuracy on its first seed and largest size (the predictions are not kept).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from benchmarks.baselines import BASELINES, fit_predict
from benchmarks.common import (
    add_record,
    arguments,
    candidates,
    figure,
    machine,
    nb201_split,
    rank_scores,
    resume,
    saved,
    train_from_scratch,
)
from searchlab import load_space
from searchlab.rlm.train import TrainConfig

TARGETS = [
    "acc_cifar10_test",
    "lat_ms_hwnb_pixel3",
    "lat_ms_hwnb_eyeriss",
    "lat_ms_hwnb_fpga",
    "lat_ms_hwnb_raspi4",
]
ESTIMATORS = ("rlm_greedy", "rlm_median8")  # rows of their own, read off the `rlm` model
IDENT = ("method", "n_train", "seed", "target", "n_test")
NOTE = "RLM trained from scratch; no pretrained checkpoint"


def rlm_fit_predict(
    texts: Sequence[str], table: Any, train: np.ndarray, test: np.ndarray, seed: int, epochs: int
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Train a joint RLM from scratch on the train cells; its three estimators on the test cells."""
    cols = np.stack([table.column(t) for t in TARGETS], axis=1)
    cfg = TrainConfig(epochs=epochs, patience=10, seed=seed, min_steps=1500)
    rlm, result = train_from_scratch(texts, cols, TARGETS, train, seed, cfg, lambda s: None)
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
    """Measure what results/OUT.json lacks (unless --report), then print and draw it."""
    parser = arguments(__doc__, seeds=(0, 1, 2), out="surrogate_quality", epochs=60)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--test-cells", type=int, default=None)
    parser.add_argument("--methods", nargs="+", default=["rlm", *BASELINES])
    args = parser.parse_args()
    if not args.report:
        measure(args.out, args.seeds, args.sizes, args.test_cells, args.methods, args.epochs)
    report(args.out)


def measure(
    out: str,
    seeds: list[int],
    sizes: list[int],
    test_cells: int | None,
    methods: list[str],
    epochs: int,
) -> None:
    """Fit every method missing from results/OUT.json; draw the parity plot of what was fit."""
    space = load_space("nb201")
    table = space.benchmark()
    print(f"building texts of {len(table)} cells; {machine()}")
    texts = [c.text for c in candidates("nb201")]
    genotypes = [table.genotype(r) for r in range(len(table))]
    records, parity = resume(out), {}
    for seed in seeds:
        for n in sizes:
            train, test = nb201_split(seed, n, test_cells)
            truth = {t: table.column(t)[test] for t in TARGETS}
            have = {(r["method"], r["target"]) for r in records
                    if (r["n_train"], r["seed"], r["n_test"]) == (n, seed, len(test))}  # fmt: skip
            for method in methods:
                names = [method, *ESTIMATORS] if method == "rlm" else [method]
                if all((m, t) in have for m in names for t in TARGETS):
                    continue
                start = time.perf_counter()
                extra = {}
                if method == "rlm":
                    both, extra = rlm_fit_predict(texts, table, train, test, seed, epochs)
                    preds = {name: {t: both[name][:, j] for j, t in enumerate(TARGETS)}
                             for name in names}  # fmt: skip
                else:
                    preds = {method: {t: fit_predict(
                        method, space, [genotypes[r] for r in train], table.column(t)[train],
                        [genotypes[r] for r in test], seed=seed) for t in TARGETS}}  # fmt: skip
                seconds = time.perf_counter() - start
                scored = {name: {t: rank_scores(pred[t], truth[t]) for t in TARGETS}
                          for name, pred in preds.items()}  # fmt: skip
                for name, per_target in scored.items():
                    # the timings belong to the fit, which is the point estimator's row
                    info = {"seconds": seconds, **extra} if name == method else {}
                    for t, score in per_target.items():
                        record = {"method": name, "n_train": n, "seed": seed, "target": t,
                                  **score, "n_test": len(test), **info,
                                  "machine": machine()}  # fmt: skip
                        records = add_record(out, record, IDENT, replace=True, note=NOTE)
                if seed == seeds[0] and n == max(sizes):
                    parity[method] = (truth["acc_cifar10_test"], preds[method]["acc_cifar10_test"])
                row = "  ".join(
                    f"{t.split('_')[-2] if 'lat' in t else 'cifar10'} {s['kendall']:.3f}/"
                    f"{s['spearman']:.3f}"
                    for t, s in scored[method].items()
                )
                print(
                    f"seed {seed} n {n:5d} {method:5s} ({seconds:6.1f}s)  tau/rho: {row}",
                    flush=True,
                )
    if parity:
        plot_parity(parity, f"{out}_parity")


def report(out: str) -> None:
    """Print the table and draw results/OUT.png from results/OUT.json alone."""
    records = saved(out)["records"]
    summarize(records)
    plot(records, out)


def methods_of(records: list[dict]) -> list[str]:
    """The methods in the records: the RLM, the baselines, the RLM's other estimators."""
    order = ["rlm", *BASELINES, *ESTIMATORS]
    seen = list(dict.fromkeys(r["method"] for r in records))
    return [m for m in order if m in seen] + [m for m in seen if m not in order]


def scores(records: list[dict], method: str, n: int, target: str) -> list[float]:
    """The target's score (cifar10 Kendall tau, latencies Spearman) seed by seed."""
    metric = "kendall" if target.startswith("acc") else "spearman"
    rows = [r for r in records if (r["method"], r["n_train"], r["target"]) == (method, n, target)]
    return [r[metric] for r in sorted(rows, key=lambda r: r["seed"]) if r[metric] is not None]


def summarize(records: list[dict]) -> None:
    """Mean over seeds, then the seeds one by one: Kendall tau for cifar10, Spearman else."""
    sizes, methods = sorted({r["n_train"] for r in records}), methods_of(records)
    seeds = sorted({r["seed"] for r in records})
    print("\nmean over seeds (cifar10: Kendall tau; latencies: Spearman)")
    names = [t.replace("lat_ms_hwnb_", "") for t in TARGETS]
    print(f"{'method':11} {'n':>5} " + " ".join(f"{h:>16}" for h in names))
    for n in sizes:
        for method in methods:
            vals = [scores(records, method, n, t) for t in TARGETS]
            cells = [f"{np.mean(v):8.3f} ±{np.std(v):5.3f}" if v else " " * 16 for v in vals]
            print(f"{method:11} {n:5d} " + " ".join(cells))
    print(f"\nseed by seed ({' / '.join(map(str, seeds))}; - where a seed has no value)")
    print(f"{'method':11} {'n':>5} " + " ".join(f"{h:>24}" for h in names))
    for n in sizes:
        for method in methods:
            cells = [" / ".join(by_seed(records, method, n, t, seeds)) for t in TARGETS]
            if any(c.strip(" /-") for c in cells):
                print(f"{method:11} {n:5d} " + " ".join(f"{c:>24}" for c in cells))


def by_seed(records: list[dict], method: str, n: int, target: str, seeds: list[int]) -> list[str]:
    """The target's score on each seed, "-" where that seed has none."""
    metric = "kendall" if target.startswith("acc") else "spearman"
    found = {
        r["seed"]: r[metric]
        for r in records
        if (r["method"], r["n_train"], r["target"]) == (method, n, target) and r[metric] is not None
    }
    return [f"{found[s]:.3f}" if s in found else "-" for s in seeds]


def plot(records: list[dict], out: str) -> None:
    """One panel per target: each method's score per size, a dot per seed, a bar at the mean."""
    sizes, methods = sorted({r["n_train"] for r in records}), methods_of(records)
    offsets = np.linspace(-0.2, 0.2, len(sizes)) if len(sizes) > 1 else [0.0]
    title = f"surrogate quality on NB201 test cells (dot: a seed; bar: their mean). {NOTE}"
    with figure(out, panels=len(TARGETS), size=(3.2, 3.4), title=title) as axes:
        for ax, target in zip(axes, TARGETS):
            for k, (size, dx) in enumerate(zip(sizes, offsets)):
                for i, method in enumerate(methods):
                    vals = scores(records, method, size, target)
                    if not vals:
                        continue
                    ax.scatter(np.full(len(vals), i + dx), vals, s=10, color=f"C{k}",
                               label=f"{size} cells" if i == 0 else None)  # fmt: skip
                    ax.hlines(np.mean(vals), i + dx - 0.12, i + dx + 0.12, color=f"C{k}")
            ax.set_xticks(range(len(methods)), methods, rotation=60, fontsize=7)
            metric = "Kendall tau" if target.startswith("acc") else "Spearman"
            ax.set_title(f"{target.removeprefix('lat_ms_hwnb_')}: {metric}", fontsize=8)
        axes[0].legend(fontsize=7)


def plot_parity(parity: dict[str, tuple[np.ndarray, np.ndarray]], name: str) -> None:
    """Predicted vs true cifar10 accuracy for every method fit (first seed, largest size)."""
    with figure(name, panels=len(parity), size=(3.0, 3.0)) as axes:
        for ax, (method, (truth, pred)) in zip(axes, parity.items()):
            ax.scatter(truth, pred, s=2, alpha=0.3)
            ax.set_title(f"{method}: tau {rank_scores(pred, truth)['kendall']:.3f}", fontsize=9)
            ax.set_xlabel("true cifar10 accuracy (%)")
            ax.set_xlim(40, 96)
            ax.set_ylim(40, 96)
        axes[0].set_ylabel("predicted")


if __name__ == "__main__":
    main()
