"""Claim 3 (seed papers): objectives decoded jointly in one sequence against independently.

    python -m benchmarks.claim_joint [--train 500] [--test 2000] [--epochs 25] [--seeds 0]
        [--top 10 50] [--out claim_joint] [--report]

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
the test cells (reference point: the test cells' median of each objective). Each
(method, seed) is added to results/OUT.json as it finishes, with its test predictions; a rerun
with the same cells and epochs measures only what is missing. The table and results/OUT.png
come from that file alone; ``--report`` only prints and draws them.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from benchmarks.claims import SIZES, resume_claim, settings
from benchmarks.common import (
    add_record,
    arguments,
    examples,
    figure,
    fresh_rlm,
    machine,
    rank_scores,
    saved,
)
from searchlab import load_space
from searchlab.core.pareto import fitness_order, front_mask, hypervolume
from searchlab.rlm.pretrain import tokenizer_corpus
from searchlab.rlm.train import TrainConfig

OBJECTIVES = ("acc_cifar10_test", "lat_ms_hwnb_pixel3", "lat_ms_hwnb_eyeriss")
SIGNS = np.array([-1.0, 1.0, 1.0])  # to minimization form: accuracy up, latencies down
METHODS = ("joint", "independent", "parallel")


def short(objective: str) -> str:
    """cifar10, pixel3, eyeriss."""
    return objective.removeprefix("lat_ms_hwnb_").removeprefix("acc_").removesuffix("_test")


def train_predict(
    method: str,
    corpus: list[str],
    train: tuple[list[str], np.ndarray],
    val: tuple[list[str], np.ndarray],
    test_texts: list[str],
    epochs: int,
    seed: int,
    log: Callable[[str], None],
) -> np.ndarray:
    """Test predictions [N, 3] of one method."""
    cfg = TrainConfig(epochs=epochs, seed=seed)

    def rows(part: tuple[list[str], np.ndarray], objectives: Sequence[str]) -> list:
        cols = [OBJECTIVES.index(o) for o in objectives]
        return examples(part[0], objectives, part[1][:, cols])

    def greedy(rlm: Any, objectives: Sequence[str]) -> np.ndarray:
        return rlm.predict(test_texts, objectives, k=1, temperature=0.0).median()

    if method == "joint":
        rlm = fresh_rlm(corpus, seed, **SIZES)
        rlm.fit(rows(train, OBJECTIVES), rows(val, OBJECTIVES), cfg, log, None, False)
        return greedy(rlm, OBJECTIVES)
    if method == "independent":
        out = []
        for o in OBJECTIVES:
            rlm = fresh_rlm(corpus, seed, **SIZES)
            rlm.fit(rows(train, (o,)), rows(val, (o,)), cfg, log, None, False)
            out.append(greedy(rlm, (o,))[:, 0])
        return np.stack(out, axis=1)
    rlm = fresh_rlm(corpus, seed, **SIZES)
    shared = [ex for o in OBJECTIVES for ex in rows(train, (o,))]
    shared_val = [ex for o in OBJECTIVES for ex in rows(val, (o,))]
    rlm.fit(shared, shared_val, cfg, log, None, False)
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
    """Train the methods results/OUT.json lacks (unless --report), then print and draw it."""
    parser = arguments(__doc__, seeds=(0,), out="claim_joint", epochs=25)
    parser.add_argument("--train", type=int, default=500, help="cells (20 %% validation)")
    parser.add_argument("--test", type=int, default=2000)
    parser.add_argument("--top", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    if not args.report:
        measure(args)
    report(args.out)


def measure(args: argparse.Namespace) -> None:
    """Train each (method, seed) missing from results/OUT.json and add its record."""
    log = print if args.verbose else (lambda s: None)
    table = load_space("nb201").benchmark()
    values = np.stack([table.column(o) for o in OBJECTIVES], axis=1)
    print(f"{args.train} training cells, {args.test} test cells; {machine()}")
    records = resume_claim(args.out, args)
    top = {"machine": machine(), "objectives": OBJECTIVES, **settings(args)}
    for seed in args.seeds:
        methods = [m for m in METHODS if not any((r["method"], r["seed"]) == (m, seed)
                                                 for r in records)]  # fmt: skip
        if not methods:
            continue
        rows = np.random.default_rng(seed).permutation(len(table))
        n_val = args.train // 5
        part = {"train": rows[: args.train - n_val], "val": rows[args.train - n_val : args.train],
                "test": rows[args.train : args.train + args.test]}  # fmt: skip
        texts = {k: [c.text for c in table.candidates(r)] for k, r in part.items()}
        corpus = tokenizer_corpus(seed=seed) + texts["train"]
        truth = values[part["test"]]
        for method in methods:
            start = time.perf_counter()
            pred = train_predict(
                method, corpus, (texts["train"], values[part["train"]]),
                (texts["val"], values[part["val"]]), texts["test"], args.epochs, seed, log,
            )  # fmt: skip
            rhos = {o: rank_scores(pred[:, j], truth[:, j])["spearman"]
                    for j, o in enumerate(OBJECTIVES)}  # fmt: skip
            fronts = {str(k): front_ratio(pred, truth, k) for k in args.top}
            seconds = time.perf_counter() - start
            record = {"method": method, "seed": seed, "spearman": rhos, "hv_ratio": fronts,
                      "seconds": seconds, "test_rows": part["test"].tolist(),
                      "predictions": pred.round(4).tolist()}  # fmt: skip
            records = add_record(args.out, record, ("method", "seed"), **top)
            detail = " ".join(f"{short(o)} {v:.3f}" for o, v in rhos.items())
            hv = " ".join(f"HV@top{k} {v:.3f}" for k, v in fronts.items())
            print(f"seed {seed} {method:12} {detail}  {hv} ({seconds:.0f}s)", flush=True)


def tops_of(records: list[dict]) -> list[str]:
    """The top-k sizes every record has a hypervolume ratio for."""
    common = set.intersection(*(set(r["hv_ratio"]) for r in records))
    return sorted(common, key=int)


def report(out: str) -> None:
    """Print the table and draw results/OUT.png from results/OUT.json alone."""
    records = saved(out)["records"]
    tops = tops_of(records)
    seeds = sorted({r["seed"] for r in records})
    print(f"\ntest Spearman and hypervolume ratio (mean over seeds {seeds})")
    labels = [short(o) for o in OBJECTIVES] + [f"HV top{k}" for k in tops] + ["minutes"]
    print(f"{'method':12}" + "".join(f"{x:>10}" for x in labels))
    for method in METHODS:
        rows = [r for r in records if r["method"] == method]
        if not rows:
            continue
        vals = [np.mean([r["spearman"][o] for r in rows]) for o in OBJECTIVES]
        vals += [np.mean([r["hv_ratio"][k] for r in rows]) for k in tops]
        minutes = np.mean([r["seconds"] for r in rows]) / 60
        print(f"{method:12}" + "".join(f"{v:10.3f}" for v in vals) + f"{minutes:10.0f}")
    plot(records, out)


def plot(records: list[dict], out: str) -> None:
    """Per-objective Spearman and top-k hypervolume ratio, one bar group per method."""
    tops = tops_of(records)
    labels = [short(o) for o in OBJECTIVES] + [f"HV top{k}" for k in tops]
    with figure(out, size=(6.5, 3.2)) as (ax,):
        for j, method in enumerate(METHODS):
            rows = [r for r in records if r["method"] == method]
            if not rows:
                continue
            vals = [np.mean([r["spearman"][o] for r in rows]) for o in OBJECTIVES]
            vals += [np.mean([r["hv_ratio"][k] for r in rows]) for k in tops]
            ax.bar(np.arange(len(labels)) + 0.27 * (j - 1), vals, width=0.27, label=method)
        ax.set_xticks(range(len(labels)), labels, fontsize=8)
        ax.set_ylabel("test Spearman / hypervolume ratio")
        ax.set_ylim(0, 1.05)
        ax.legend(fontsize=7)


if __name__ == "__main__":
    main()
