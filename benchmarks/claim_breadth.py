"""Claim 4 (seed papers): broader pretraining transfers better to a device never seen.

    python -m benchmarks.claim_breadth [--breadths 1 4 23] [--shots 8 16 32 64 128] [--seeds 0]

NB201 cells. The new device is pixel3 (``lat_ms_hwnb_pixel3``); the pretraining devices are
drawn (nested, by the seed) from the other 23 NB201 latency columns. Each breadth pretrains
the same network (d_model 128, 3 + 2 layers) from scratch on the same pretraining cells with
the same number of optimizer steps (``--steps``), so a broader model sees more distinct
(cell, device) rows, not more updates. Each pretrained model and a randomly initialized twin
(same tokenizer, same sizes) are then fine-tuned on 8..128 pixel3 cells with the rules of
``benchmarks.few_shot`` and scored by Spearman on test cells. Pretraining, fine-tuning and
test cells are disjoint. Saves results/claim_breadth.{json,png}.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from benchmarks.claim_heads import SIZES
from benchmarks.common import RESULTS, load, machine, save
from benchmarks.few_shot import tune
from searchlab import load_space
from searchlab.rlm.pretrain import tokenizer_corpus
from searchlab.rlm.regressor import RegressionLanguageModel
from searchlab.rlm.train import Example, TrainConfig

TARGET = "lat_ms_hwnb_pixel3"


def pretrain_on(corpus, texts, table, rows, val_rows, devices, steps, seed, log):  # noqa: ANN001, ANN201
    """A fresh model trained ``steps`` optimizer steps on (cell, device) latency rows."""
    rlm = RegressionLanguageModel.create(corpus, seed=seed, device="cpu", **SIZES)
    train = [Example(texts[r], (d,), (float(table.column(d)[r]),)) for d in devices for r in rows]
    val = [Example(texts[r], (d,), (float(table.column(d)[r]),)) for d in devices[:4]
           for r in val_rows]  # fmt: skip
    cfg = TrainConfig(epochs=1, min_steps=steps, patience=10**6, seed=seed)
    rlm.fit(train, val, cfg, log=log, extend_tokenizer=False)
    return rlm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--breadths", type=int, nargs="+", default=[1, 4, 23])
    parser.add_argument("--shots", type=int, nargs="+", default=[8, 16, 32, 64, 128])
    parser.add_argument("--pretrain-cells", type=int, default=600)
    parser.add_argument("--steps", type=int, default=1500, help="pretraining optimizer steps")
    parser.add_argument("--test", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=40, help="fine-tuning epochs")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    log = print if args.verbose else (lambda s: None)
    table = load_space("nb201").benchmark()
    sources = [c for c in table.columns if c.startswith("lat_ms_") and c != TARGET]
    if max(args.breadths) > len(sources):
        raise SystemExit(f"at most {len(sources)} pretraining devices, asked {args.breadths}")
    print(f"target {TARGET}; {len(sources)} candidate pretraining devices; {machine()}")
    records = measured(args)
    if records:
        print(f"resuming: {len(records)} fine-tunings read back from claim_breadth.json")
    for seed in args.seeds:
        rng = np.random.default_rng(seed)
        order = [sources[i] for i in rng.permutation(len(sources))]
        cells = rng.permutation(len(table))
        n_pre, n_shot = args.pretrain_cells, max(args.shots)
        pre, val = cells[:n_pre], cells[n_pre : n_pre + 50]  # validation: early stopping
        shot_pool = cells[n_pre + 50 : n_pre + 50 + n_shot]
        test = cells[n_pre + 50 + n_shot : n_pre + 50 + n_shot + args.test]
        used = np.concatenate([pre, val, shot_pool, test])
        cands = table.candidates(used)
        texts = dict(zip(used.tolist(), (c.text for c in cands)))
        corpus = tokenizer_corpus(seed=seed) + [texts[r] for r in pre]
        truth = table.column(TARGET)[test]
        test_texts = [texts[r] for r in test]
        for breadth in [*args.breadths, 0]:  # 0: random initialization
            done = {r["shots"] for r in records if r["seed"] == seed and r["breadth"] == breadth}
            if done >= set(args.shots):
                continue
            devices = order[:breadth]
            start = time.perf_counter()
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp) / f"breadth{breadth}"
                if breadth:
                    pretrain_on(corpus, texts, table, pre, val, devices, args.steps, seed,
                                log).save(folder)  # fmt: skip
                pretrain_s = time.perf_counter() - start
                for shots in args.shots:
                    if shots in done:
                        continue
                    tick = time.perf_counter()
                    if breadth:
                        rlm = RegressionLanguageModel.load(folder, device="cpu")
                    else:
                        rlm = RegressionLanguageModel.create(corpus, seed=seed, device="cpu",
                                                             **SIZES)  # fmt: skip
                    chosen = shot_pool[:shots]
                    tune(rlm, [texts[r] for r in chosen], table.column(TARGET)[chosen], TARGET,
                         seed, args.epochs, scratch=not breadth)  # fmt: skip
                    pred = rlm.predict(test_texts, [TARGET], k=1, temperature=0.0).median()
                    rho = float(spearmanr(pred[:, 0], truth).statistic)
                    records.append({"seed": seed, "breadth": breadth, "devices": devices,
                                    "shots": shots, "spearman": rho, "pretrain_s": pretrain_s,
                                    "tune_s": time.perf_counter() - tick})  # fmt: skip
                    print(f"seed {seed} breadth {breadth:2d} shots {shots:4d} rho {rho:.3f} "
                          f"({time.perf_counter() - tick:.0f}s; pretraining {pretrain_s:.0f}s)",
                          flush=True)  # fmt: skip
                    keep(records, args)
    summarize(records, args)
    plot(records, args)


SETTINGS = ("pretrain_cells", "steps", "test_cells", "epochs")


def measured(args: argparse.Namespace) -> list[dict]:
    """Records of an earlier run with the same settings (empty when there is none)."""
    old = load("claim_breadth")
    now = {"pretrain_cells": args.pretrain_cells, "steps": args.steps, "test_cells": args.test,
           "epochs": args.epochs}  # fmt: skip
    if old.get("target") != TARGET or any(old.get(k) != now[k] for k in SETTINGS):
        return []
    return list(old["records"])


def keep(records: list[dict], args: argparse.Namespace) -> None:
    """Save the records so far (a long run stopped midway keeps what it measured)."""
    save("claim_breadth", {"machine": machine(), "records": records, "target": TARGET,
                           "pretrain_cells": args.pretrain_cells, "steps": args.steps,
                           "test_cells": args.test, "epochs": args.epochs})  # fmt: skip


def curve(records: list[dict], breadth: int, shots: list[int]) -> list[float]:
    """Mean Spearman over seeds per shot count for one breadth."""
    return [float(np.mean([r["spearman"] for r in records
                           if r["breadth"] == breadth and r["shots"] == s]))
            for s in shots]  # fmt: skip


def label(breadth: int) -> str:
    """Legend text of a breadth."""
    return "random init" if breadth == 0 else f"pretrained on {breadth} device(s)"


def summarize(records: list[dict], args: argparse.Namespace) -> None:
    """Mean Spearman over seeds, one row per breadth."""
    print(f"\n{TARGET}: mean Spearman over seeds {args.seeds}")
    print(f"{'':28}" + "".join(f"{s:>8}" for s in args.shots))
    for breadth in [0, *args.breadths]:
        print(f"{label(breadth):28}" + "".join(f"{v:8.3f}" for v in curve(records, breadth,
                                                                          args.shots)))  # fmt: skip


def plot(records: list[dict], args: argparse.Namespace) -> None:
    """Spearman against fine-tuning cells, one curve per pretraining breadth."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    for breadth in [0, *args.breadths]:
        ax.plot(args.shots, curve(records, breadth, args.shots), marker="o", label=label(breadth))
    ax.set_xscale("log", base=2)
    ax.set_xlabel(f"fine-tuning cells of {TARGET}")
    ax.set_ylabel("Spearman on test cells")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(RESULTS / "claim_breadth.png", dpi=110)


if __name__ == "__main__":
    main()
