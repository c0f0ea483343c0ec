"""Claim 3 (seed papers): objectives decoded jointly in one sequence against independently.

    python -m benchmarks.claim_joint [--train 500] [--test 2000] [--epochs 25] [--seeds 0]

NB201 cells, objectives cifar10 accuracy, then pixel3 and eyeriss latency. Three ways to
predict all three, each trained from scratch on the same cells with the RLM's training loop:
- ``joint``: one model decodes accuracy, then pixel3, then eyeriss in one sequence, each
  number conditioned on the ones before (the RLM's way);
- ``independent``: one model per objective;
- ``parallel``: one shared model, asked for each objective on its own (its name is the
  prompt), so the objectives share all weights but no number is conditioned on another.
Greedy decoding. Per objective: Spearman on the test cells. Front quality: the k cells
ranked best by the predicted values (non-dominated sorting, then crowding) are looked up in
the table, and the hypervolume of their true values is divided by that of the true front of
the test cells (reference point: the test cells' median of each objective).
Saves results/claim_joint.{json,png}.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.stats import spearmanr

from benchmarks.claim_heads import SIZES
from benchmarks.common import RESULTS, machine, save
from searchlab import load_space
from searchlab.core.pareto import fitness_order, front_mask, hypervolume
from searchlab.rlm.pretrain import tokenizer_corpus
from searchlab.rlm.regressor import RegressionLanguageModel
from searchlab.rlm.train import Example, TrainConfig

OBJECTIVES = ("acc_cifar10_test", "lat_ms_hwnb_pixel3", "lat_ms_hwnb_eyeriss")
SIGNS = np.array([-1.0, 1.0, 1.0])  # to minimization form: accuracy up, latencies down
METHODS = ("joint", "independent", "parallel")


def short(objective: str) -> str:
    """cifar10, pixel3, eyeriss."""
    return objective.removeprefix("lat_ms_hwnb_").removeprefix("acc_").removesuffix("_test")


def examples(texts: list[str], values: np.ndarray, objectives: tuple[str, ...]) -> list[Example]:
    """One example per text, decoding ``objectives`` (columns of ``values``) in order."""
    cols = [OBJECTIVES.index(o) for o in objectives]
    return [Example(t, objectives, tuple(float(v) for v in row[cols]))
            for t, row in zip(texts, values)]  # fmt: skip


def train_predict(method: str, corpus, train, val, test_texts, epochs, seed, log) -> np.ndarray:  # noqa: ANN001
    """Test predictions [N, 3] of one method."""
    cfg = TrainConfig(epochs=epochs, seed=seed)

    def fresh() -> RegressionLanguageModel:
        return RegressionLanguageModel.create(corpus, seed=seed, device="cpu", **SIZES)

    def greedy(rlm: RegressionLanguageModel, objectives: tuple[str, ...]) -> np.ndarray:
        return rlm.predict(test_texts, objectives, k=1, temperature=0.0).median()

    if method == "joint":
        rlm = fresh()
        rlm.fit(examples(*train, OBJECTIVES), examples(*val, OBJECTIVES), cfg, log, None, False)
        return greedy(rlm, OBJECTIVES)
    if method == "independent":
        out = []
        for o in OBJECTIVES:
            rlm = fresh()
            rlm.fit(examples(*train, (o,)), examples(*val, (o,)), cfg, log, None, False)
            out.append(greedy(rlm, (o,))[:, 0])
        return np.stack(out, axis=1)
    rlm = fresh()
    rows = [ex for o in OBJECTIVES for ex in examples(*train, (o,))]
    vals = [ex for o in OBJECTIVES for ex in examples(*val, (o,))]
    rlm.fit(rows, vals, cfg, log, None, False)
    return np.stack([greedy(rlm, (o,))[:, 0] for o in OBJECTIVES], axis=1)


def front_ratio(pred: np.ndarray, truth: np.ndarray, k: int) -> float:
    """True hypervolume of the k best-predicted cells over that of the true front.

    The k are taken among the cells predicted to beat the reference point in every
    objective (the others add no hypervolume even if predicted right), by non-dominated
    rank, then crowding.
    """
    reference = np.median(truth * SIGNS, axis=0)
    inside = np.flatnonzero((pred * SIGNS < reference).all(axis=1))
    rest = np.setdiff1d(np.arange(len(pred)), inside)
    picked = np.concatenate([inside[fitness_order(pred[inside] * SIGNS)],
                             rest[fitness_order(pred[rest] * SIGNS)]])[:k]  # fmt: skip
    best = hypervolume((truth * SIGNS)[front_mask(truth * SIGNS)], reference)
    return hypervolume((truth * SIGNS)[picked], reference) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=500, help="cells (20 %% validation)")
    parser.add_argument("--test", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--top", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    log = print if args.verbose else (lambda s: None)
    table = load_space("nb201").benchmark()
    values = np.stack([table.column(o) for o in OBJECTIVES], axis=1)
    print(f"{args.train} training cells, {args.test} test cells; {machine()}")
    records = []
    for seed in args.seeds:
        rows = np.random.default_rng(seed).permutation(len(table))
        n_val = args.train // 5
        part = {"train": rows[: args.train - n_val], "val": rows[args.train - n_val : args.train],
                "test": rows[args.train : args.train + args.test]}  # fmt: skip
        texts = {k: [c.text for c in table.candidates(r)] for k, r in part.items()}
        corpus = tokenizer_corpus(seed=seed) + texts["train"]
        truth = values[part["test"]]
        for method in METHODS:
            start = time.perf_counter()
            pred = train_predict(
                method, corpus, (texts["train"], values[part["train"]]),
                (texts["val"], values[part["val"]]), texts["test"], args.epochs, seed, log,
            )  # fmt: skip
            rhos = {o: float(spearmanr(pred[:, j], truth[:, j]).statistic)
                    for j, o in enumerate(OBJECTIVES)}  # fmt: skip
            fronts = {str(k): front_ratio(pred, truth, k) for k in args.top}
            seconds = time.perf_counter() - start
            records.append({"method": method, "seed": seed, "spearman": rhos, "hv_ratio": fronts,
                            "seconds": seconds, "test_rows": part["test"].tolist(),
                            "predictions": pred.round(4).tolist()})  # fmt: skip
            detail = " ".join(f"{short(o)} {v:.3f}" for o, v in rhos.items())
            hv = " ".join(f"HV@top{k} {v:.3f}" for k, v in fronts.items())
            print(f"seed {seed} {method:12} {detail}  {hv} ({seconds:.0f}s)", flush=True)
    save("claim_joint", {"machine": machine(), "records": records, "objectives": OBJECTIVES,
                         "train_cells": args.train, "test_cells": args.test,
                         "epochs": args.epochs})  # fmt: skip
    plot(records, args.top)


def plot(records: list[dict], tops: list[int]) -> None:
    """Per-objective Spearman and top-k hypervolume ratio, one bar group per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [short(o) for o in OBJECTIVES] + [f"HV top{k}" for k in tops]
    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    for j, method in enumerate(METHODS):
        rows = [r for r in records if r["method"] == method]
        vals = [np.mean([r["spearman"][o] for r in rows]) for o in OBJECTIVES]
        vals += [np.mean([r["hv_ratio"][str(k)] for r in rows]) for k in tops]
        ax.bar(np.arange(len(labels)) + 0.27 * (j - 1), vals, width=0.27, label=method)
    ax.set_xticks(range(len(labels)), labels, fontsize=8)
    ax.set_ylabel("test Spearman / hypervolume ratio")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(RESULTS / "claim_joint.png", dpi=110)


if __name__ == "__main__":
    main()
