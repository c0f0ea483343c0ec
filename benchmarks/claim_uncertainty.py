"""Claim 5 (seed papers): does the spread of the RLM's samples rank its errors, and are its
intervals calibrated?

    python -m benchmarks.claim_uncertainty [--checkpoint default] [--cells 1000] [--k 32]
                                           [--shots 64] [--seeds 0]

On NB201 cells the checkpoint never trained on (its model card's held-out test split):
- columns it was pretrained on (cifar100 accuracy, eyeriss latency), as it is;
- columns it never saw (cifar10 accuracy, pixel3 latency), after fine-tuning on ``--shots``
  other cells with the rules of ``benchmarks.few_shot``.
For each, k samples per cell at temperature 1: Spearman between the samples' standard
deviation and the absolute error of their median (the paper reports 0.685), and the share of
true values inside the central 50 / 80 / 90 % intervals. Saves
results/claim_uncertainty.{json,png}.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.stats import spearmanr

from benchmarks.common import RESULTS, machine, save
from benchmarks.few_shot import tune
from searchlab import load_space
from searchlab.rlm.checkpoint import checkpoint_id, checkpoint_path
from searchlab.rlm.regressor import RegressionLanguageModel

PRETRAINED = ["acc_cifar100_test", "lat_ms_hwnb_eyeriss"]
NEW = ["acc_cifar10_test", "lat_ms_hwnb_pixel3"]
LEVELS = (0.5, 0.8, 0.9)
PAPER = 0.685


def scores(samples: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Spread-vs-error Spearman and interval coverage of samples [cells, k] against truth."""
    median = np.median(samples, axis=1)
    spread = samples.std(axis=1)
    out = {
        "spearman_spread_error": float(spearmanr(spread, np.abs(median - truth)).statistic),
        "spearman_prediction": float(spearmanr(median, truth).statistic),
    }
    for level in (0.1, 0.2, 0.3, 0.4, *LEVELS, 0.6, 0.7):
        lo, hi = np.quantile(samples, [(1 - level) / 2, (1 + level) / 2], axis=1)
        out[f"coverage_{round(level * 100)}"] = float(np.mean((lo <= truth) & (truth <= hi)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default="default")
    parser.add_argument("--cells", type=int, default=1000)
    parser.add_argument("--k", type=int, default=32)
    parser.add_argument("--shots", type=int, default=64)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--epochs", type=int, default=40)
    args = parser.parse_args()
    folder = checkpoint_path(args.checkpoint)
    ident = checkpoint_id(folder)
    base = RegressionLanguageModel.load(folder, device="cpu")
    test_keys = set(base.card.get("held_out", {}).get("nb201", {}).get("test_keys", []))
    leaked = [c for c in NEW if base.seen_keys(c)]
    if leaked or not test_keys:
        raise SystemExit(f"{ident} saw {leaked} or lists no NB201 test split: not a fair test")
    table = load_space("nb201").benchmark()
    cands = table.candidates()
    print(f"checkpoint {ident}, k={args.k}; {machine()}")
    test = np.array([r for r, c in enumerate(cands) if c.key in test_keys])
    pool = np.array([r for r, c in enumerate(cands) if c.key not in test_keys])
    test = np.random.default_rng(0).permutation(test)[: args.cells]
    test_texts = [cands[r].text for r in test]
    records, plotted = [], {}
    for seed in args.seeds:
        for column in PRETRAINED + NEW:
            start = time.perf_counter()
            rlm = RegressionLanguageModel.load(folder, device="cpu")
            setting = "pretrained"
            if column in NEW:
                cells = np.random.default_rng(seed).permutation(pool)[: args.shots]
                values = table.column(column)[cells]
                tune(rlm, [cands[r].text for r in cells], values, column, seed, args.epochs, False)
                setting = f"fine-tuned on {args.shots}"
            density = rlm.predict(test_texts, [column], k=args.k, seed=seed)
            truth = table.column(column)[test]
            rec = {"column": column, "setting": setting, "seed": seed, "n_test": len(test)}
            rec.update(scores(density.samples[:, :, 0], truth))
            rec["seconds"] = time.perf_counter() - start
            records.append(rec)
            plotted.setdefault(column, (density.samples[:, :, 0], truth))
            print(
                f"seed {seed} {column:20} {setting:16} spread~error rho "
                f"{rec['spearman_spread_error']:.3f}  coverage 50/80/90 "
                + "/".join(f"{rec[f'coverage_{round(q * 100)}']:.2f}" for q in LEVELS)
                + f"  (prediction rho {rec['spearman_prediction']:.3f}, {rec['seconds']:.0f}s)",
                flush=True,
            )
    save("claim_uncertainty", {"checkpoint": ident, "machine": machine(), "k": args.k,
                               "paper_spearman": PAPER, "records": records})  # fmt: skip
    plot(records, plotted, ident)


def plot(records: list[dict], plotted: dict, ident: str) -> None:
    """Reliability curves (nominal vs observed coverage) and spread vs error per column."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = [10, 20, 30, 40, 50, 60, 70, 80, 90]
    fig, axes = plt.subplots(1, 1 + len(plotted), figsize=(3.2 * (1 + len(plotted)), 3.2))
    axes[0].plot([0, 1], [0, 1], "k:", lw=1)
    for column in plotted:
        rows = [r for r in records if r["column"] == column]
        observed = [np.mean([r[f"coverage_{q}"] for r in rows]) for q in levels]
        axes[0].plot([q / 100 for q in levels], observed, marker="o", ms=3, label=column)
    axes[0].set_xlabel("nominal coverage")
    axes[0].set_ylabel("observed coverage")
    axes[0].legend(fontsize=6)
    for ax, (column, (samples, truth)) in zip(axes[1:], plotted.items()):
        err = np.abs(np.median(samples, axis=1) - truth)
        ax.scatter(samples.std(axis=1), err, s=2, alpha=0.3)
        rho = spearmanr(samples.std(axis=1), err).statistic
        ax.set_title(f"{column}: rho {rho:.2f}", fontsize=8)
        ax.set_xlabel("sample std")
        ax.set_ylabel("|median - true|")
    fig.suptitle(f"RLM uncertainty ({ident})", fontsize=8)
    fig.tight_layout()
    fig.savefig(RESULTS / "claim_uncertainty.png", dpi=110)


if __name__ == "__main__":
    main()
