"""Pretraining on bundled benchmarks: many spaces, many targets, held-out rows and columns.

Each training row gives ``max_objectives`` examples per epoch list: one with a single random
column, one with two, and so on, columns kept in table order (accuracies before latencies),
so the model learns every target alone and conditioned on the ones before it. The model card
lists, per space, the keys and columns trained on, and the keys and columns held out.

Example (the real run is ``searchlab pretrain``; this only builds the rows):
    >>> from searchlab.rlm.pretrain import PretrainTask
    >>> PretrainTask(space="nb201", exclude_columns=["acc_cifar10_test"]).test_fraction
    0.1
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from searchlab.registry import available_spaces, load_space
from searchlab.rlm.data import DataError, Row, split, table_rows
from searchlab.rlm.surrogate import RegressionLanguageModel
from searchlab.rlm.train import Example, TrainConfig


@dataclass
class PretrainTask:
    """One bundled benchmark to pretrain on, minus held-out columns and a test split."""

    space: str
    space_args: dict[str, Any] = field(default_factory=dict)
    exclude_columns: list[str] = field(default_factory=list)
    test_fraction: float = 0.1
    val_rows: int = 100


def tokenizer_corpus(per_space: int = 1000, seed: int = 0) -> list[str]:
    """Texts of random candidates from every installed space (for learning the vocabulary)."""
    rng = np.random.default_rng(seed)
    texts = []
    for name in sorted(available_spaces()):
        try:
            space = load_space(name)
        except ValueError:
            continue  # a broken plugin does not stop pretraining on the others
        texts += [space.sample(rng).text for _ in range(per_space)]
    return texts


def joint_examples(
    rows: Sequence[Row],
    columns: Sequence[str],
    max_objectives: int,
    rng: np.random.Generator,
) -> list[Example]:
    """For each row, examples with 1..max_objectives random columns in table order."""
    out = []
    for row in rows:
        for m in range(1, min(max_objectives, len(columns)) + 1):
            pick = np.sort(rng.choice(len(columns), size=m, replace=False))
            out.append(
                Example(
                    row.text, tuple(columns[i] for i in pick), tuple(row.values[i] for i in pick)
                )
            )
    return out


def pretrain(
    tasks: Sequence[PretrainTask],
    out: str | Path,
    vocab_size: int = 4096,
    net_sizes: dict[str, Any] | None = None,
    cfg: TrainConfig | None = None,
    max_objectives: int = 3,
    split_seed: int = 0,
    log: Callable[[str], None] = print,
) -> RegressionLanguageModel:
    """Train the default-style model on bundled benchmarks and save it with its model card."""
    cfg = cfg or TrainConfig()
    rng = np.random.default_rng(split_seed)
    train_set, val_set, groups, held_out = [], [], [], {}
    for task in tasks:
        space = load_space(task.space, **task.space_args)
        table = space.benchmark()
        if table is None:
            raise DataError(f"space {task.space!r} has no bundled benchmark to pretrain on")
        unknown = sorted(set(task.exclude_columns) - set(table.columns))
        if unknown:
            raise DataError(
                f"space {task.space!r}: excluded column(s) {unknown} not in its benchmark"
            )
        columns = [c for c in table.columns if c not in task.exclude_columns]
        columns = [c for c in columns if np.isfinite(table.column(c)).all()]
        test, val, train_rows = split(
            len(table), [task.test_fraction, task.val_rows / len(table)], split_seed
        )
        log(
            f"{task.space}: {len(train_rows)} train rows, {len(val)} validation, {len(test)} test; "
            f"{len(columns)} columns"
        )
        rows = table_rows(space, columns, train_rows)
        train_set += joint_examples(rows, columns, max_objectives, rng)
        val_rows = table_rows(space, columns, val)
        for row in val_rows:
            val_set += [Example(row.text, (c,), (v,)) for c, v in zip(columns, row.values)]
        groups.append(
            {"space": task.space, "columns": columns, "keys": sorted(r.key for r in rows)}
        )
        held_out[task.space] = {
            "columns": sorted(task.exclude_columns),
            "test_keys": sorted(table.candidate(int(r)).key for r in test),
            "validation_keys": sorted(r.key for r in val_rows),
        }
    corpus = tokenizer_corpus() + [ex.text for ex in train_set[::max_objectives]]
    rlm = RegressionLanguageModel.create(
        corpus, vocab_size=vocab_size, seed=cfg.seed, **(net_sizes or {})
    )
    log(
        f"vocabulary {rlm.text_tok.vocab_size} tokens, {rlm.net.num_parameters():,} parameters, "
        f"{len(train_set)} training examples"
    )
    rlm.fit(train_set, val_set, cfg, log=log, extend_tokenizer=False)
    rlm.card["trained_on"] = groups
    rlm.card["held_out"] = held_out
    rlm.card["pretrain"] = {"max_objectives": max_objectives, "split_seed": split_seed}
    rlm.save(out)
    log(f"saved {out}")
    return rlm
