"""ONNX text or YAML text: which form of the same NB201 cell does the RLM rank better?

    python -m benchmarks.text_form [--cells 1000] [--seeds 0 1 2] [--epochs 30]
        [--forms onnx yaml] [--inits scratch checkpoint] [--threads 1]

The seed paper regresses a system from its YAML configuration; searchlab writes a network as
its ONNX graph. NB201 is both: a cell is six categorical choices (``nb201_yaml`` in
:mod:`benchmarks.config_search`) and a graph. Here each seed draws the same ``--cells``
labelled cells (cifar10 test accuracy, a column the bundled checkpoint never saw) outside the
checkpoint's held-out NB201 test cells, and the RLM learns them written either way:

- ``scratch``: a fresh network of the checkpoint's shape, its tokenizer learned from texts of
  that form (the named spaces' corpus plus the cells for ONNX; the cells for YAML);
- ``checkpoint``: the bundled checkpoint fine-tuned, its tokenizer extended by the texts.

Rules as ``benchmarks.few_shot`` (what ``searchlab fit`` does): 20 % of the cells steer early
stopping on validation tau; scratch at lr 1e-3 for at least 1,500 steps, fine-tuning at 5e-4.
Scored by Kendall tau of the point prediction on the checkpoint's 1,562 held-out test cells,
next to gradient-boosted trees on the same cells (their one-hot encoding, the peers' way).
It first prints each form's token counts under the checkpoint's tokenizer (a text longer than
the input would be cut off). Each fit is saved to results/{out}.json as it ends; a rerun
measures only what is missing.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from scipy.stats import kendalltau

from benchmarks import common
from benchmarks.baselines import fit_predict
from benchmarks.common import machine
from searchlab import load_space
from searchlab.core.config_space import ConfigSpace
from searchlab.rlm.checkpoint import checkpoint_id, checkpoint_path
from searchlab.rlm.pretrain import tokenizer_corpus
from searchlab.rlm.regressor import RegressionLanguageModel
from searchlab.rlm.train import Example, TrainConfig

COLUMN = "acc_cifar10_test"


def yaml_texts(genotypes: list[tuple[str, ...]]) -> list[str]:
    """The canonical YAML text of each cell: one categorical parameter per edge."""
    from spaces.nb201 import EDGES, OPS

    names = [f"edge_{i}_{j}" for i, j in EDGES]
    config = ConfigSpace(
        {n: {"type": "categorical", "choices": list(OPS)} for n in names}, name="nb201_yaml"
    )
    return [config.candidate(dict(zip(names, g, strict=True))).text for g in genotypes]


def fit_rlm(base, folder, texts, values, init, seed, epochs):  # noqa: ANN001, ANN201
    """Train a fresh model (``scratch``) or fine-tune the checkpoint on texts and values."""
    order = np.random.default_rng(seed).permutation(len(texts))
    n_val = int(round(0.2 * len(texts)))
    rows = [Example(texts[i], (COLUMN,), (float(values[i]),)) for i in order]
    scratch = init == "scratch"
    if scratch:
        corpus = list(texts) + (tokenizer_corpus(seed=seed) if texts[0].startswith("<") else [])
        shape = base.net.cfg.to_dict()
        rlm = RegressionLanguageModel.create(
            corpus,
            seed=seed,
            device="cpu",
            **{k: v for k, v in shape.items() if k not in ("vocab_size", "num_vocab")},
        )
    else:
        rlm = RegressionLanguageModel.load(folder, device="cpu")
    cfg = TrainConfig(
        epochs=epochs,
        patience=8,
        seed=seed,
        warmup_steps=10,
        lr=1e-3 if scratch else 5e-4,
        min_steps=1500 if scratch else 0,
    )
    rlm.fit(rows[n_val:], rows[:n_val], cfg, log=lambda s: None, extend_tokenizer=not scratch)
    return rlm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=1000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--forms", nargs="+", default=["onnx", "yaml"], choices=["onnx", "yaml"])
    parser.add_argument(
        "--inits", nargs="+", default=["scratch", "checkpoint"], choices=["scratch", "checkpoint"]
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--out", default="text_form", help="name of the results file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    folder = checkpoint_path("default")
    ident = checkpoint_id(folder)
    base = RegressionLanguageModel.load(folder, device="cpu")
    held = base.card.get("held_out", {}).get("nb201", {})
    if base.seen_keys(COLUMN) or not held.get("test_keys"):
        raise SystemExit(f"{ident} saw {COLUMN} or lists no NB201 test split: not a fair test")
    space = load_space("nb201")
    table = space.benchmark()
    cands = table.candidates()
    genotypes = [table.genotype(r) for r in range(len(cands))]
    test_keys = set(held["test_keys"])
    test = np.array([r for r, c in enumerate(cands) if c.key in test_keys])
    pool = np.array([r for r, c in enumerate(cands) if c.key not in test_keys])
    values = table.column(COLUMN)
    texts = {
        "onnx": lambda rows: [cands[r].text for r in rows],
        "yaml": lambda rows: yaml_texts([genotypes[r] for r in rows]),
    }
    print(f"checkpoint {ident}; {len(test)} test cells; {machine()}", flush=True)
    for form, render in texts.items():  # a text longer than the input would be cut off
        lengths = [len(base.text_tok.encode(t)) for t in render(test)]
        print(
            f"{form} text tokens (checkpoint tokenizer, test cells): min {min(lengths)}, "
            f"median {int(np.median(lengths))}, max {max(lengths)}; input holds "
            f"{base.net.cfg.max_input}",
            flush=True,
        )
    old = common.load(args.out)
    records = list(old.get("records", [])) if old.get("checkpoint") == ident else []
    done = {(r["seed"], r["method"]) for r in records}
    methods = [f"{f}/{i}" for f in args.forms for i in args.inits] + ["gbdt"]
    for seed in args.seeds:
        cells = np.random.default_rng(seed).permutation(pool)[: args.cells]
        for method in methods:
            if (seed, method) in done:
                continue
            start = time.perf_counter()
            if method == "gbdt":
                test_genotypes = [genotypes[r] for r in test]
                train_genotypes = [genotypes[r] for r in cells]
                pred = fit_predict(
                    method, space, train_genotypes, values[cells], test_genotypes, seed
                )
            else:
                form, init = method.split("/")
                rlm = fit_rlm(
                    base, folder, texts[form](cells), values[cells], init, seed, args.epochs
                )
                pred = rlm.predict_point(texts[form](test), [COLUMN])[:, 0]
            tau = float(kendalltau(pred, values[test]).statistic)
            record = {
                "seed": seed,
                "method": method,
                "cells": args.cells,
                "epochs": args.epochs,
                "kendall": tau,
                "seconds": time.perf_counter() - start,
                "machine": machine(),
            }
            common.add_record(
                args.out, record, ("seed", "method"), checkpoint=ident, test_cells=len(test)
            )
            records.append(record)
            print(f"seed {seed} {method:17} tau {tau:.3f} ({record['seconds']:.0f} s)", flush=True)
    summarize(records)


def summarize(records: list[dict]) -> None:
    """Mean and spread of tau per method over the seeds measured."""
    print(f"\n{COLUMN}: Kendall tau on the held-out test cells")
    for method in dict.fromkeys(r["method"] for r in records):
        taus = [r["kendall"] for r in records if r["method"] == method]
        print(f"{method:20} seeds {len(taus)}  tau {np.mean(taus):.3f} +- {np.std(taus):.3f}")


if __name__ == "__main__":
    main()
