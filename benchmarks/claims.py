"""The claims' kit: what the claim scripts share (their tasks, network sizes and splits, the
digit head's training, the settings their results depend on).

Claims 1-4 train the same network sizes on the same seven tasks, so their rows compare; the
scripts are ``claim_heads``, ``claim_decoder_only``, ``claim_joint`` and ``claim_breadth``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.common import examples, load, rank_scores, resume
from searchlab import load_space
from searchlab.rlm.pretrain import tokenizer_corpus
from searchlab.rlm.train import TrainConfig

TASKS = [
    ("nb201", "acc_cifar10_test"),
    ("nb201", "acc_cifar100_test"),
    ("nb201", "lat_ms_hwnb_pixel3"),
    ("nb201", "lat_ms_hwnb_eyeriss"),
    ("nb201", "lat_ms_hwnb_fpga"),
    ("fbnet", "lat_ms_pixel3"),
    ("fbnet", "lat_ms_gold_6226"),
]
SIZES = {"d_model": 128, "n_heads": 4, "enc_layers": 3, "dec_layers": 2, "max_input": 512}
TEST_CELLS = 1000  # claim 1's first run used this and did not write it into its results file
Data = dict[tuple[str, str], dict]  # what `splits` returns


def splits(n_train: int, n_test: int, seed: int) -> Data:
    """Per task: train / validation / test texts and values (disjoint cells)."""
    out, spaces = {}, {}
    for space_name, column in TASKS:
        if space_name not in spaces:
            spaces[space_name] = load_space(space_name).benchmark()
        table = spaces[space_name]
        rows = np.random.default_rng([seed, len(out)]).permutation(len(table))
        n_val = n_train // 5
        parts = {"train": rows[: n_train - n_val], "val": rows[n_train - n_val : n_train]}
        parts["test"] = rows[n_train : n_train + n_test]
        values = table.column(column)
        out[(space_name, column)] = {
            name: ([c.text for c in table.candidates(r)], values[r]) for name, r in parts.items()
        }
    return out


def corpus_of(data: Data, seed: int) -> list[str]:
    """What the tokenizer is learned on: unlabeled texts and every task's training texts."""
    return tokenizer_corpus(seed=seed) + [x for d in data.values() for x in d["train"][0]]


def fit_digits(rlm: Any, data: Data, epochs: int, seed: int, log: Callable[[str], None]) -> dict:
    """Train the RLM (digit decoder) jointly on every task; greedy test predictions."""

    def rows(part: str) -> list:
        return [ex for t, d in data.items() for ex in examples(d[part][0], [t[1]], d[part][1])]

    cfg = TrainConfig(epochs=epochs, seed=seed)
    rlm.fit(rows("train"), rows("val"), cfg, log=log, extend_tokenizer=False)
    return {
        t: rlm.predict(d["test"][0], [t[1]], k=1, temperature=0.0).median()[:, 0]
        for t, d in data.items()
    }


def spearman(preds: dict, data: Data) -> dict[str, float]:
    """Test Spearman per task, keyed 'space:column'."""
    return {f"{s}:{c}": rank_scores(preds[(s, c)], data[(s, c)]["test"][1])["spearman"]
            for s, c in TASKS}  # fmt: skip


def settings(args: argparse.Namespace) -> dict[str, int]:
    """The settings a claim's records depend on, kept at the top of its results file."""
    return {"train_cells": args.train, "test_cells": args.test, "epochs": args.epochs}


def same_settings(old: dict, args: argparse.Namespace) -> bool:
    """Whether a saved claim run used this run's cells, test cells and epochs."""
    made = {k: old.get(k) for k in settings(args)}
    made["test_cells"] = old.get("test_cells", TEST_CELLS)
    return made == settings(args)


def resume_claim(out: str, args: argparse.Namespace) -> list[dict]:
    """Records an earlier run left in results/OUT.json; exits when it used other settings."""
    old = load(out)
    if old and not same_settings(old, args):
        raise SystemExit(f"{out}.json was made with other cells or epochs: use --out")
    return resume(out)
