"""Claim 5 (seed papers): does the spread of the RLM's samples rank its errors, and are its
intervals calibrated?

    python -m benchmarks.claim_uncertainty [--checkpoint default] [--cells 1000] [--k 32]
                                           [--shots 64] [--seeds 0] [--epochs 40] [--report]

On NB201 cells the checkpoint never trained on (its model card's held-out test split):
- columns it was pretrained on (cifar100 accuracy, eyeriss latency), as it is;
- columns it never saw (cifar10 accuracy, pixel3 latency), after fine-tuning on ``--shots``
  other cells with the rules of ``searchlab fit`` (:func:`benchmarks.common.fit_rlm`).
For each, k samples per cell at temperature 1: Spearman between the samples' standard
deviation and the absolute error of their median (the paper reports 0.685), and the share of
true values inside the central 50 / 80 / 90 % intervals. Each (seed, column) is saved to
results/{out}.json as it ends (the first seed's records also keep each cell's spread and error,
for the scatter panels); a rerun with the same checkpoint and k measures only what is missing.
Every run ends by printing the means over seeds per column and drawing results/{out}.png
(reliability curves, spread-vs-error Spearman per seed against the paper's, and the scatter
of spread against error where saved) from the results file alone; ``--report`` does only that.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from benchmarks import common

PRETRAINED = ["acc_cifar100_test", "lat_ms_hwnb_eyeriss"]
NEW = ["acc_cifar10_test", "lat_ms_hwnb_pixel3"]
LEVELS = (0.5, 0.8, 0.9)
PAPER = 0.685
IDENT = ("seed", "column", "setting", "n_test")


def scores(samples: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Spread-vs-error Spearman and interval coverage of samples [cells, k] against truth."""
    median = np.median(samples, axis=1)
    spread = samples.std(axis=1)
    out = {
        "spearman_spread_error": common.rank_scores(spread, np.abs(median - truth))["spearman"],
        "spearman_prediction": common.rank_scores(median, truth)["spearman"],
    }
    for level in (0.1, 0.2, 0.3, 0.4, *LEVELS, 0.6, 0.7):
        lo, hi = np.quantile(samples, [(1 - level) / 2, (1 + level) / 2], axis=1)
        out[f"coverage_{round(level * 100)}"] = float(np.mean((lo <= truth) & (truth <= hi)))
    return out


def main() -> None:
    """Measure what results/{out}.json lacks (unless --report), then print and draw it."""
    parser = common.arguments(__doc__, out="claim_uncertainty", checkpoint=True, epochs=40)
    parser.add_argument("--cells", type=int, default=1000)
    parser.add_argument("--k", type=int, default=32)
    parser.add_argument("--shots", type=int, default=64)
    args = parser.parse_args()
    if not args.report:
        measure(args)
    report(args.out)


def measure(args: argparse.Namespace) -> None:
    """Sample and score every (seed, column) the results file lacks."""
    from searchlab import load_space
    from searchlab.rlm.regressor import RegressionLanguageModel

    held = common.held_out(args.checkpoint, NEW)
    table = load_space("nb201").benchmark()
    cands = common.candidates("nb201")
    print(f"checkpoint {held.ident}, k={args.k}; {common.machine()}")
    test = np.random.default_rng(0).permutation(held.test)[: args.cells]
    test_texts = [cands[r].text for r in test]
    records = common.resume(args.out, checkpoint=held.ident, k=args.k)
    done = {tuple(r[k] for k in IDENT) for r in records}
    for seed in args.seeds:
        for column in PRETRAINED + NEW:
            setting = "pretrained" if column in PRETRAINED else f"fine-tuned on {args.shots}"
            if (seed, column, setting, len(test)) in done:
                continue
            start = time.perf_counter()
            rlm = RegressionLanguageModel.load(held.folder, device="cpu")
            if column in NEW:
                cells = np.random.default_rng(seed).permutation(held.pool)[: args.shots]
                values = table.column(column)[cells]
                texts = [cands[r].text for r in cells]
                common.fit_rlm(rlm, texts, [column], values, seed, args.epochs, scratch=False)
            samples = rlm.predict(test_texts, [column], k=args.k, seed=seed).samples[:, :, 0]
            truth = table.column(column)[test]
            rec = {"column": column, "setting": setting, "seed": seed, "n_test": len(test)}
            rec.update(scores(samples, truth))
            rec["seconds"] = time.perf_counter() - start
            if seed == args.seeds[0]:  # the scatter panels show the first seed, as before
                rec["spread"] = [float(f"{v:.4g}") for v in samples.std(axis=1)]
                error = np.abs(np.median(samples, axis=1) - truth)
                rec["abs_error"] = [float(f"{v:.4g}") for v in error]
            common.add_record(args.out, rec, IDENT, checkpoint=held.ident,
                              machine=common.machine(), k=args.k, paper_spearman=PAPER)  # fmt: skip
            print(
                f"seed {seed} {column:20} {setting:16} spread~error rho "
                f"{rec['spearman_spread_error']:.3f}  coverage 50/80/90 "
                + "/".join(f"{rec[f'coverage_{round(q * 100)}']:.2f}" for q in LEVELS)
                + f"  (prediction rho {rec['spearman_prediction']:.3f}, {rec['seconds']:.0f}s)",
                flush=True,
            )


def report(out: str) -> None:
    """Print the means over seeds and draw results/{out}.png from results/{out}.json alone."""
    saved = common.saved(out)
    records = saved["records"]
    groups = list(dict.fromkeys((r["column"], r["setting"]) for r in records))
    print(f"\n{saved.get('checkpoint')}, k={saved.get('k')}: means over seeds")
    print(f"{'column':20} {'model':16} seeds  spread~error rho  coverage 50/80/90  prediction rho")
    for column, setting in groups:
        rows = [r for r in records if (r["column"], r["setting"]) == (column, setting)]
        mean = {k: np.mean([r[k] for r in rows]) for k in rows[0] if k.startswith(("cov", "sp"))}
        cover = "/".join(f"{mean[f'coverage_{round(q * 100)}']:.2f}" for q in LEVELS)
        print(
            f"{column:20} {setting:16} {len(rows):5}  {mean['spearman_spread_error']:16.3f}  "
            f"{cover:>17}  {mean['spearman_prediction']:14.3f}"
        )
    columns = list(dict.fromkeys(c for c, _ in groups))
    # each cell's spread and error are kept for the first seed only (older files lack them)
    scatter = {}
    for r in (r for r in records if "spread" in r):
        scatter.setdefault(r["column"], r)
    levels = [10, 20, 30, 40, 50, 60, 70, 80, 90]
    title = f"RLM uncertainty ({saved.get('checkpoint')})"
    with common.figure(out, panels=2 + len(scatter), size=(3.2, 3.2), title=title) as axes:
        axes[0].plot([0, 1], [0, 1], "k:", lw=1)
        for column in columns:
            rows = [r for r in records if r["column"] == column]
            observed = [np.mean([r[f"coverage_{q}"] for r in rows]) for q in levels]
            axes[0].plot([q / 100 for q in levels], observed, marker="o", ms=3, label=column)
        axes[0].set_xlabel("nominal coverage")
        axes[0].set_ylabel("observed coverage")
        axes[0].legend(fontsize=6)
        for x, column in enumerate(columns):
            rhos = [r["spearman_spread_error"] for r in records if r["column"] == column]
            axes[1].scatter([x] * len(rhos), rhos, s=12, alpha=0.6)
            axes[1].scatter([x], [np.mean(rhos)], marker="_", s=300, color="black")
        axes[1].axhline(saved.get("paper_spearman", PAPER), color="k", ls=":", lw=1)
        axes[1].set_xticks(range(len(columns)), columns, rotation=25, fontsize=6)
        axes[1].set_ylabel("Spearman(spread, |error|)")
        axes[1].set_title("per seed; bar: mean; dotted: paper", fontsize=8)
        for ax, (column, r) in zip(axes[2:], scatter.items()):
            ax.scatter(r["spread"], r["abs_error"], s=2, alpha=0.3)
            ax.set_title(f"{column}: rho {r['spearman_spread_error']:.2f}", fontsize=8)
            ax.set_xlabel("sample std")
            ax.set_ylabel("|median - true|")


if __name__ == "__main__":
    main()
