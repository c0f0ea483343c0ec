"""Few-shot transfer: the pretrained checkpoint on a handful of cells of a new column.

    python -m benchmarks.few_shot [--checkpoint default] [--shots 8 16 32 64 128] [--seeds 0 1 2]

For each held-out column (cifar10 accuracy, pixel3 latency; the checkpoint never saw either)
and each shot count, the checkpoint learns the column from that many NB201 cells: "linked"
reads it through a blend of the pretrained columns of its kind that rank those cells (what
``searchlab fit`` does, :mod:`searchlab.rlm.transfer`; fine-tuned instead when no column ranks
them), "finetuned" fine-tunes the weights on them; next to the same network trained from
scratch and the classical baselines on the same cells. RLM rows are scored with the point
prediction (``predict_point``). All are scored
(Spearman) on the checkpoint's held-out test cells, whose rows it never trained on. With 20 or
more cells, 20 % of them steer early stopping; with fewer, training runs a fixed number of
epochs. Saves results/{out}.{json,png} after every fit; a later run with the same --out and
checkpoint keeps those records and measures only what is missing (a new method, shot count,
column or seed is added to the same table and plot).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.stats import kendalltau, spearmanr

from benchmarks import common
from benchmarks.baselines import BASELINES, fit_predict
from benchmarks.common import RESULTS, machine
from searchlab import load_space
from searchlab.rlm.checkpoint import checkpoint_id, checkpoint_path
from searchlab.rlm.pretrain import tokenizer_corpus
from searchlab.rlm.regressor import RegressionLanguageModel
from searchlab.rlm.train import Example, TrainConfig
from searchlab.rlm.transfer import choose_links, proxy_columns

COLUMNS = ["lat_ms_hwnb_pixel3", "acc_cifar10_test"]


def tune(rlm, texts, values, column, seed, epochs, scratch):  # noqa: ANN001, ANN201
    """Fine-tune (or train from scratch) with the rules of `searchlab fit`.

    Validation: 20 % of the cells when that leaves 4 on each side. A fresh model trains at
    least 1,500 steps at lr 1e-3 (as `fit init=scratch`); fine-tuning uses lr 5e-4.
    """
    order = np.random.default_rng(seed).permutation(len(texts))
    n_val = int(round(0.2 * len(texts)))
    n_val = n_val if n_val >= 4 and len(texts) - n_val >= 4 else 0
    rows = [Example(texts[i], (column,), (float(values[i]),)) for i in order]
    cfg = TrainConfig(
        epochs=epochs,
        patience=10,
        seed=seed,
        warmup_steps=10,
        lr=1e-3 if scratch else 5e-4,
        min_steps=1500 if scratch else 0,
    )
    rlm.fit(rows[n_val:], rows[:n_val], cfg, log=lambda s: None, extend_tokenizer=False)
    return rlm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default="default")
    parser.add_argument("--shots", type=int, nargs="+", default=[8, 16, 32, 64, 128])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument(
        "--methods", nargs="+", default=["linked", "finetuned", "scratch", *BASELINES]
    )
    parser.add_argument("--columns", nargs="+", default=COLUMNS, choices=COLUMNS)
    parser.add_argument("--out", default="few_shot", help="name of the results files")
    args = parser.parse_args()
    folder = checkpoint_path(args.checkpoint)
    ident = checkpoint_id(folder)
    base = RegressionLanguageModel.load(folder, device="cpu")
    held = base.card.get("held_out", {}).get("nb201", {})
    leaked = [c for c in COLUMNS if base.seen_keys(c)]
    if leaked or not held.get("test_keys"):
        raise SystemExit(f"{ident} saw {leaked} or lists no NB201 test split: not a fair test")
    space = load_space("nb201")
    table = space.benchmark()
    print(f"checkpoint {ident}; building texts; {machine()}")
    cands = table.candidates()
    test_keys = set(held["test_keys"])
    test = np.array([r for r, c in enumerate(cands) if c.key in test_keys])
    pool = np.array([r for r, c in enumerate(cands) if c.key not in test_keys])
    test_texts = [cands[r].text for r in test]
    records = measured(args.out, ident)
    done = {(r["column"], r["seed"], r["shots"], r["method"]) for r in records}
    for column in args.columns:
        values = table.column(column)
        for seed in args.seeds:
            draw = np.random.default_rng(seed).permutation(pool)
            for shots in args.shots:
                cells = draw[:shots]
                texts = [cands[r].text for r in cells]
                for method in args.methods:
                    if (column, seed, shots, method) in done:
                        continue
                    start = time.perf_counter()
                    linked = {}
                    if method == "linked":
                        rlm = RegressionLanguageModel.load(folder, device="cpu")
                        linked = choose_links(
                            rlm,
                            texts,
                            [column],
                            values[cells][:, None],
                            proxy_columns(rlm.card, "nb201"),
                        )
                        rlm.card["links"] = {t: ln.to_dict() for t, ln in linked.items()}
                    if method == "linked" and not linked:
                        tune(rlm, texts, values[cells], column, seed, args.epochs, False)
                    if method == "linked":
                        pred = rlm.predict_point(test_texts, [column])[:, 0]
                    elif method in ("finetuned", "scratch"):
                        if method == "finetuned":
                            rlm = RegressionLanguageModel.load(folder, device="cpu")
                        else:
                            rlm = RegressionLanguageModel.create(
                                tokenizer_corpus(seed=seed) + texts,
                                seed=seed,
                                device="cpu",
                                **{
                                    k: v
                                    for k, v in base.net.cfg.to_dict().items()
                                    if k not in ("vocab_size", "num_vocab")
                                },
                            )
                        tune(
                            rlm,
                            texts,
                            values[cells],
                            column,
                            seed,
                            args.epochs,
                            scratch=method == "scratch",
                        )
                        pred = rlm.predict_point(test_texts, [column])[:, 0]
                    else:
                        pred = fit_predict(
                            method,
                            space,
                            [table.genotype(r) for r in cells],
                            values[cells],
                            [table.genotype(r) for r in test],
                            seed,
                        )
                    rho = float(spearmanr(pred, values[test]).statistic)
                    tau = float(kendalltau(pred, values[test]).statistic)
                    records.append(
                        {
                            "column": column,
                            "seed": seed,
                            "shots": shots,
                            "method": method,
                            "spearman": rho,
                            "kendall": tau,
                            "proxy": list(linked[column].proxies) if column in linked else None,
                            "seconds": time.perf_counter() - start,
                            "machine": machine(),
                        }
                    )
                    print(
                        f"{column:20} seed {seed} shots {shots:4d} {method:9} "
                        f"rho {rho:.3f} tau {tau:.3f}",
                        flush=True,
                    )
                    records = add_record(args.out, ident, records[-1], len(test))
    summarize(records)
    plot(records, ident, args.out)


def measured(out: str, ident: str) -> list[dict]:
    """Records of an earlier run into the same results file with the same checkpoint."""
    old = common.load(out)
    if not old:
        return []
    if old.get("checkpoint") != ident:
        made = old.get("checkpoint")
        raise SystemExit(f"{out}.json was made with {made}, not {ident}: use --out")
    print(f"resuming: {len(old['records'])} fits read back from {out}.json")
    return list(old["records"])


def add_record(out: str, ident: str, record: dict, test_cells: int) -> list[dict]:
    """Add one fit's record to the results file (see :func:`benchmarks.common.add_record`)."""
    # "machine" at the top, where present, is the first run's; each new record has its own
    keys = ("column", "seed", "shots", "method")
    return common.add_record(out, record, keys, checkpoint=ident, test_cells=test_cells)


def axes_of(records: list[dict]) -> tuple[list[str], list[str], list[int]]:
    """Columns, methods and shot counts present in the records, in first-seen order."""
    columns = [c for c in COLUMNS if any(r["column"] == c for r in records)]
    methods = list(dict.fromkeys(r["method"] for r in records))
    return columns, methods, sorted({r["shots"] for r in records})


def mean_rho(records: list[dict], column: str, method: str, shots: int) -> float:
    """Mean Spearman over seeds of one column, method and shot count."""
    rhos = [
        r["spearman"]
        for r in records
        if r["column"] == column and r["method"] == method and r["shots"] == shots
    ]
    return float(np.mean(rhos)) if rhos else float("nan")


def summarize(records: list[dict]) -> None:
    """Mean Spearman over seeds per column, method and shot count (every record kept)."""
    columns, methods, shots = axes_of(records)
    for column in columns:
        seeds = sorted({r["seed"] for r in records if r["column"] == column})
        print(f"\n{column}: mean Spearman over seeds {seeds}")
        print(f"{'method':10}" + "".join(f"{s:>8}" for s in shots))
        for method in methods:
            cells = [mean_rho(records, column, method, s) for s in shots]
            print(f"{method:10}" + "".join(f"{c:8.3f}" for c in cells))


def plot(records: list[dict], ident: str, out: str) -> None:
    """One panel per column: Spearman against shots, one line per method."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no plot")
        return
    columns, methods, shots = axes_of(records)
    fig, axes = plt.subplots(1, len(columns), figsize=(5 * len(columns), 3.5), squeeze=False)
    for ax, column in zip(axes[0], columns):
        for method in methods:
            ys = [mean_rho(records, column, method, s) for s in shots]
            ax.plot(shots, ys, marker="o", label=method)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("training cells")
        ax.set_ylabel("Spearman on held-out cells")
        ax.set_title(column, fontsize=9)
    axes[0][0].legend(fontsize=7)
    fig.suptitle(f"few-shot transfer, checkpoint {ident}", fontsize=8)
    fig.tight_layout()
    fig.savefig(RESULTS / f"{out}.png", dpi=110)


if __name__ == "__main__":
    main()
