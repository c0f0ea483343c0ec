"""Which RLM design choices move its quality: variants trained from scratch on the same split.

    python -m benchmarks.rlm_ablation [--variants base split=nodes digit_sigma=0.5 ...]
        [--seeds 0] [--n-train 1000] [--test-cells 3000] [--targets acc_cifar10_test]
        [--out rlm_ablation] [--report]

A variant is ``base`` or comma-separated ``key=value`` settings: ``split`` (the input
tokenizer's pre-split: lines / args / nodes), ``vocab`` (its size), ``digits`` (mantissa digits
decoded per number), ``digit_sigma`` (ordinal soft targets for mantissa digits), ``ema`` (decay
of the averaged weights that are validated and kept), ``dropout``, ``lr``, ``epochs``,
``d_model``, ``enc_layers``, ``members`` (an ensemble: that many models of seeds s, s+1000, ...,
each with its own early-stopping cells, predictions averaged). Everything else is the
``surrogate_quality`` RLM recipe (``benchmarks.common.train_from_scratch``): split
``default_rng(seed).permutation(15625)``, 20 % of the training cells held out for early
stopping, at least 1,500 optimizer steps. Measures Kendall tau per target on the test cells, of
the greedy digits and of the mean of 32 samples at temperature 1. Each (variant, seed, n,
targets, test cells) is added to results/OUT.json as it finishes; a rerun skips those already
there. The table (per group of training cells, targets and test cells: mean tau per variant,
and for several targets the epoch each one's validation tau peaked) and results/OUT.png (tau
per variant, a dot per seed) come from that file alone; ``--report`` only prints and draws
them. No pretrained checkpoint is involved.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

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
from searchlab.rlm.train import TrainConfig, TrainResult

NAME = "rlm_ablation"
CHECKPOINT = "none: each variant is trained from scratch"
IDENT = ("variant", "seed", "n_train", "targets", "test_cells")
TRAIN_KEYS = {"digit_sigma": float, "lr": float, "epochs": int, "ema": float}
NET_KEYS = {"dropout": float, "d_model": int, "enc_layers": int}
ENSEMBLE_KEYS = {"members": int}
TOKENIZER_KEYS = {"split": str, "vocab": int, "digits": int}


def parse_variant(variant: str) -> dict[str, object]:
    """``base`` -> {}; ``split=nodes,digit_sigma=0.5`` -> typed settings."""
    if variant == "base":
        return {}
    kinds = {**TRAIN_KEYS, **NET_KEYS, **TOKENIZER_KEYS, **ENSEMBLE_KEYS}
    out: dict[str, object] = {}
    for part in variant.split(","):
        key, _, value = part.partition("=")
        if key not in kinds or not value:
            raise SystemExit(f"bad variant setting {part!r}; keys: {sorted(kinds)}")
        out[key] = kinds[key](value)
    return out


def fit_variant(
    texts: Sequence[str],
    cols: np.ndarray,
    targets: list[str],
    train: np.ndarray,
    test: np.ndarray,
    seed: int,
    settings: dict[str, Any],
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Train one variant (``members`` models, predictions averaged); its test predictions."""
    test_texts = [texts[r] for r in test]
    create = {k: v for k, v in settings.items() if k in NET_KEYS}
    create |= {"vocab_size": int(settings.get("vocab", 2048)),
               "split": str(settings.get("split", "lines")),
               "digits": int(settings.get("digits", 4))}  # fmt: skip
    trained = {k: v for k, v in settings.items() if k in TRAIN_KEYS}
    preds: dict[str, list[np.ndarray]] = {"greedy": [], "mean32": []}
    results = []
    for member in range(int(settings.get("members", 1))):
        member_seed = seed + 1000 * member  # member 0 is the single model of the same seed
        base = {"epochs": 60, "patience": 10, "seed": member_seed, "min_steps": 1500}
        cfg = TrainConfig(**{**base, **trained})
        rlm, result = train_from_scratch(
            texts, cols, targets, train, member_seed, cfg, lambda s: None, **create
        )
        preds["greedy"].append(rlm.predict(test_texts, targets, k=1, temperature=0.0).median())
        # the mean of 32 samples at temperature 1: a continuous score where greedy digits tie
        preds["mean32"].append(rlm.predict(test_texts, targets, k=32, seed=seed).mean())
        results.append(result)
    tokens = [len(rlm.text_tok.encode(texts[r])) for r in test[:300]]

    def per_member(values: list) -> object:
        return values[0] if len(values) == 1 else values

    figures = {
        "train_seconds": float(sum(r.seconds for r in results)),
        "best_epoch": per_member([r.best_epoch for r in results]),
        "median_tokens": float(np.median(tokens)),
    }
    if len(targets) > 1:
        figures["val_peaks"] = per_member([validation_peaks(r, targets) for r in results])
    return {name: np.mean(p, axis=0) for name, p in preds.items()}, figures


def validation_peaks(result: TrainResult, targets: list[str]) -> dict[str, list[float]]:
    """Per target: the epoch its validation tau peaked, that peak, and its tau at the epoch
    kept (the best mean) -- how far one early-stopping epoch is from each target's own."""
    out = {}
    for t in targets:
        curve = [h.get(f"val_tau:{t}", float("nan")) for h in result.history]
        peak = int(np.nanargmax(curve))
        out[t] = [peak, round(curve[peak], 4), round(curve[result.best_epoch], 4)]
    return out


def main() -> None:
    """Measure the variants results/OUT.json lacks (unless --report), then print and draw it."""
    parser = arguments(__doc__, seeds=(0,), out=NAME)
    parser.add_argument("--variants", nargs="+", default=["base"])
    parser.add_argument("--n-train", type=int, default=1000)
    parser.add_argument("--test-cells", type=int, default=3000)
    parser.add_argument("--targets", nargs="+", default=["acc_cifar10_test"])
    args = parser.parse_args()
    if not args.report:
        measure(args)
    report(args.out)


def measure(args: argparse.Namespace) -> None:
    """Fit each (variant, seed) missing from results/OUT.json and add its record."""
    table = load_space("nb201").benchmark()
    print(f"building texts of {len(table)} cells; {machine()}", flush=True)
    texts = [c.text for c in candidates("nb201")]
    cols = np.stack([table.column(t) for t in args.targets], axis=1)
    done = resume(args.out, checkpoint=CHECKPOINT)
    for seed in args.seeds:
        train, test = nb201_split(seed, args.n_train, args.test_cells)
        for variant in args.variants:
            settings = parse_variant(variant)
            key = (variant, seed, args.n_train, list(args.targets), args.test_cells)
            before = [r for r in done if tuple(r.get(k) for k in IDENT) == key]
            if before and "kendall_mean32" in before[0]:
                continue  # measured (records without the sampled mean are measured again)
            start = time.perf_counter()
            pred, info = fit_variant(texts, cols, args.targets, train, test, seed, settings)
            taus, taus32 = (
                {
                    t: rank_scores(pred[name][:, j], cols[test, j])["kendall"]
                    for j, t in enumerate(args.targets)
                }
                for name in ("greedy", "mean32")
            )
            record = dict(zip(IDENT, key)) | {"kendall": taus, "kendall_mean32": taus32}
            record |= {"machine": machine(), **info}
            record["seconds"] = time.perf_counter() - start
            done = add_record(args.out, record, IDENT, replace=True, checkpoint=CHECKPOINT)
            print(f"seed {seed} {variant:32s} tau {taus} mean32 {taus32}  {info}", flush=True)


def report(out: str) -> None:
    """Print the table and draw results/OUT.png from results/OUT.json alone."""
    records = saved(out)["records"]
    for group in groups(records):
        summarize(group)
    plot(records, out)


def groups(records: list[dict]) -> list[list[dict]]:
    """The records split by training cells, targets and test cells (first-seen order)."""

    def key(r: dict) -> tuple:
        return r["n_train"], tuple(r["targets"]), r["test_cells"]

    return [[r for r in records if key(r) == k] for k in dict.fromkeys(map(key, records))]


def mean_tau(rows: list[dict], target: str, field: str = "kendall") -> float:
    """Mean over the rows (seeds) of one target's tau."""
    return float(np.mean([r[field][target] for r in rows]))


def taus_text(rows: list[dict], target: str, field: str = "kendall") -> str:
    """The mean tau, and each seed's after it when there are several: '0.657 (0.657 / 0.658)'."""
    text = f"{mean_tau(rows, target, field):.3f}"
    if len(rows) > 1:
        text += " (" + " / ".join(f"{r[field][target]:.3f}" for r in rows) + ")"
    return text


def summarize(rows: list[dict]) -> None:
    """Kendall tau per variant (mean, then each seed); with several targets, each seed's peak
    epochs of validation tau (a group: one n, one target list, one test size)."""
    targets = rows[0]["targets"]
    print(f"\nKendall tau, {rows[0]['n_train']} training cells, {rows[0]['test_cells']} test"
          f" cells, targets {' '.join(targets)} (mean over seeds)")  # fmt: skip
    for variant in dict.fromkeys(r["variant"] for r in rows):
        mine = sorted((r for r in rows if r["variant"] == variant), key=lambda r: r["seed"])
        taus = "  ".join(f"{t}: {taus_text(mine, t)}" for t in targets)
        with32 = [r for r in mine if "kendall_mean32" in r]
        if with32:
            taus += "  mean of 32 samples: " + "  ".join(
                taus_text(with32, t, "kendall_mean32") for t in targets
            )
        seeds = sorted(r["seed"] for r in mine)
        tokens = mine[0]["median_tokens"]
        print(f"{variant:32s} {taus}  seeds {seeds}  median tokens {tokens:.0f}")
    peaks = [r for r in rows if "val_peaks" in r and isinstance(r["val_peaks"], dict)]
    if peaks:
        print("per seed: test tau; epoch of each target's peak validation tau, that peak, and "
              "its validation tau at the epoch kept")  # fmt: skip
    for r in peaks:
        detail = "  ".join(f"{t} {r['kendall'][t]:.3f}; {e} {p:.3f} {k:.3f}"
                           for t in targets for e, p, k in [r["val_peaks"][t]])  # fmt: skip
        print(f"{r['variant']:20s} seed {r['seed']} kept epoch {r['best_epoch']}:  {detail}")


def plot(records: list[dict], out: str) -> None:
    """One panel per group: Kendall tau of the greedy digits per variant, a dot per seed."""
    parts = groups(records)
    tall = max(len({r["variant"] for r in g}) for g in parts)
    title = "RLM variants trained from scratch on the same NB201 cells (a dot per seed)"
    with figure(out, panels=len(parts), size=(5.0, 1.2 + 0.35 * tall), title=title) as axes:
        for ax, rows in zip(axes, parts):
            targets = rows[0]["targets"]
            variants = list(dict.fromkeys(r["variant"] for r in rows))
            # best first, so the panel reads as a ranking
            variants.sort(key=lambda v: -mean_tau([r for r in rows if r["variant"] == v],
                                                  targets[0]))  # fmt: skip
            shift = np.linspace(-0.25, 0.25, len(targets)) if len(targets) > 1 else [0.0]
            for j, (t, dy) in enumerate(zip(targets, shift)):
                for i, variant in enumerate(variants):
                    taus = [r["kendall"][t] for r in rows if r["variant"] == variant]
                    label = t.removeprefix("lat_ms_hwnb_") if i == 0 else None
                    ax.scatter(taus, np.full(len(taus), i + dy), s=12, color=f"C{j}", label=label)
                    ax.vlines(np.mean(taus), i + dy - 0.15, i + dy + 0.15, color=f"C{j}")
            ax.set_yticks(range(len(variants)), variants, fontsize=7)
            ax.invert_yaxis()
            ax.set_xlabel("test Kendall tau, greedy digits (line: mean of seeds)")
            ax.set_title(f"{rows[0]['n_train']} training cells, {len(targets)} target(s)",
                         fontsize=8)  # fmt: skip
            if len(targets) > 1:
                ax.legend(fontsize=6)


if __name__ == "__main__":
    main()
