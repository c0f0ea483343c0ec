"""Which RLM design choices move its quality: variants trained from scratch on the same split.

    python -m benchmarks.rlm_ablation [--variants base split=nodes digit_sigma=0.5 ...]
        [--seeds 0] [--n-train 1000] [--test-cells 3000] [--targets acc_cifar10_test]

A variant is ``base`` or comma-separated ``key=value`` settings: ``split`` (the input
tokenizer's pre-split: lines / args / nodes), ``vocab`` (its size), ``digits`` (mantissa digits
decoded per number), ``digit_sigma`` (ordinal soft targets for mantissa digits), ``ema`` (decay
of the averaged weights that are validated and kept), ``dropout``, ``lr``, ``epochs``,
``d_model``, ``enc_layers``, ``members`` (an ensemble: that many models of seeds s, s+1000, ...,
each with its own early-stopping cells, predictions averaged). Everything else is the
``surrogate_quality`` RLM recipe: split ``default_rng(seed).permutation(15625)``, 20 % of the
training cells held out for early stopping, at least 1,500 optimizer steps. Reports Kendall tau
per target on the test cells, of the greedy digits and of the mean of 32 samples at
temperature 1. Each (variant, seed, n) is added to results/rlm_ablation.json as it finishes; a
rerun skips those already there. No pretrained checkpoint is involved.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.stats import kendalltau

from benchmarks.common import add_record, load, machine, nb201_split
from benchmarks.surrogate_quality import train_from_scratch
from searchlab import load_space
from searchlab.rlm.train import TrainConfig, TrainResult

NAME = "rlm_ablation"
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


def fit_variant(texts, cols, targets, train, test, seed, settings):  # noqa: ANN001, ANN201
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=["base"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--n-train", type=int, default=1000)
    parser.add_argument("--test-cells", type=int, default=3000)
    parser.add_argument("--targets", nargs="+", default=["acc_cifar10_test"])
    args = parser.parse_args()
    table = load_space("nb201").benchmark()
    print(f"building texts of {len(table)} cells; {machine()}", flush=True)
    texts = [c.text for c in table.candidates()]
    cols = np.stack([table.column(t) for t in args.targets], axis=1)
    done = load(NAME).get("records", [])
    ident = ("variant", "seed", "n_train", "targets", "test_cells")
    for seed in args.seeds:
        train, test = nb201_split(seed, args.n_train, args.test_cells)
        for variant in args.variants:
            settings = parse_variant(variant)
            key = (variant, seed, args.n_train, list(args.targets), args.test_cells)
            before = [r for r in done if tuple(r.get(k) for k in ident) == key]
            if before and "kendall_mean32" in before[0]:
                continue  # measured (records without the sampled mean are measured again)
            start = time.perf_counter()
            pred, info = fit_variant(texts, cols, args.targets, train, test, seed, settings)
            taus, taus32 = (
                {
                    t: float(kendalltau(pred[name][:, j], cols[test, j]).statistic)
                    for j, t in enumerate(args.targets)
                }
                for name in ("greedy", "mean32")
            )
            record = dict(zip(ident, key)) | {"kendall": taus, "kendall_mean32": taus32}
            record |= {"machine": machine(), **info}
            record["seconds"] = time.perf_counter() - start
            done = add_record(
                NAME, record, ident, replace=True,
                checkpoint="none: each variant is trained from scratch",
            )  # fmt: skip
            print(f"seed {seed} {variant:32s} tau {taus} mean32 {taus32}  {info}", flush=True)
    summarize(done, args)


def summarize(records: list[dict], args: argparse.Namespace) -> None:
    """Mean Kendall tau per variant over the seeds measured, for this n and these targets."""
    rows = [
        r for r in records if r["n_train"] == args.n_train and r["targets"] == list(args.targets)
    ]
    print(f"\nKendall tau, {args.n_train} training cells (mean over seeds)")
    for variant in dict.fromkeys(r["variant"] for r in rows):
        mine = [r for r in rows if r["variant"] == variant]
        taus = "  ".join(
            f"{t}: {np.mean([r['kendall'][t] for r in mine]):.3f}" for t in args.targets
        )
        with32 = [r for r in mine if "kendall_mean32" in r]
        if with32:
            taus += "  mean of 32 samples: " + "  ".join(
                f"{np.mean([r['kendall_mean32'][t] for r in with32]):.3f}" for t in args.targets
            )
        seeds = sorted(r["seed"] for r in mine)
        tokens = mine[0]["median_tokens"]
        print(f"{variant:32s} {taus}  seeds {seeds}  median tokens {tokens:.0f}")


if __name__ == "__main__":
    main()
