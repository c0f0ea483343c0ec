"""Pretraining on bundled benchmarks: many spaces, many targets, held-out rows and columns.

Each training row gives ``joint_per_row`` examples per epoch: each with 1..``max_objectives``
random columns in table order (accuracies before latencies), so the model learns every target
alone and conditioned on the ones before it. Random columns alone would drown a benchmark's
few accuracy columns in its many correlated latencies (NB201: 2 of 25, each accuracy label
seen about once in four epochs), so a task's ``solo_columns`` also give one example each, for
every row, every epoch. The model card lists, per space, the keys and columns trained on, the
keys and columns held out, and each column's Kendall tau and Spearman rho on the test rows.

Example (the real run is ``searchlab pretrain``; this only builds the rows):
    >>> from searchlab.rlm.pretrain import PretrainTask
    >>> PretrainTask(space="nb201", exclude_columns=["acc_cifar10_test"]).test_fraction
    0.1
"""

from __future__ import annotations

import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy.stats import kendalltau, spearmanr

from searchlab.core.registry import load_space
from searchlab.core.space import Space
from searchlab.rlm.checkpoint import checkpoint_id
from searchlab.rlm.data import DataError, Row, split, table_rows
from searchlab.rlm.regressor import RegressionLanguageModel
from searchlab.rlm.train import Example, TrainConfig


@dataclass
class PretrainTask:
    """One bundled benchmark to pretrain on, minus held-out columns and a test split."""

    space: str
    space_args: dict[str, Any] = field(default_factory=dict)
    exclude_columns: list[str] = field(default_factory=list)
    test_fraction: float = 0.1
    val_rows: int = 100
    #: columns that every training row also gives alone, every epoch (see the module doc)
    solo_columns: list[str] = field(default_factory=list)


#: the built-in spaces: the corpus a tokenizer learns from when no space is named, so the
#: vocabulary is the same on every machine whatever plugins are installed there
BUILTIN_SPACES = ("fbnet", "nb201")


def tokenizer_corpus(
    spaces: Sequence[str | Space] = BUILTIN_SPACES, per_space: int = 1000, seed: int = 0
) -> list[str]:
    """Texts of random candidates from the spaces named (for learning the vocabulary)."""
    rng = np.random.default_rng(seed)
    texts = []
    for space in spaces:
        space = load_space(space) if isinstance(space, str) else space
        texts += [space.sample(rng).text for _ in range(per_space)]
    return texts


def joint_examples(
    rows: Sequence[Row],
    columns: Sequence[str],
    max_objectives: int,
    rng: np.random.Generator,
    per_row: int | None = None,
    solo: Sequence[str] = (),
) -> list[Example]:
    """Per row: ``per_row`` examples of 1..max_objectives random columns in table order
    (default: one of each size), then one example per ``solo`` column alone."""
    out = []
    sizes = list(range(1, min(max_objectives, len(columns)) + 1))
    for row in rows:
        picked = sizes if per_row is None else rng.choice(sizes, size=per_row).tolist()
        for m in picked:
            pick = np.sort(rng.choice(len(columns), size=m, replace=False))
            out.append(
                Example(
                    row.text, tuple(columns[i] for i in pick), tuple(row.values[i] for i in pick)
                )
            )
        out += [Example(row.text, (c,), (row.values[columns.index(c)],)) for c in solo]
    return out


def held_out_scores(
    rlm: RegressionLanguageModel, rows: Sequence[Row], columns: Sequence[str]
) -> dict[str, dict[str, float]]:
    """Per column, Kendall tau and Spearman rho of the greedy digits on held-out rows."""
    texts = [r.text for r in rows]
    out = {}
    for j, column in enumerate(columns):
        pred = rlm.predict(texts, [column], k=1, temperature=0.0).samples[:, 0, 0]
        truth = np.array([r.values[j] for r in rows])
        out[column] = {
            "kendall": round(float(kendalltau(pred, truth).statistic), 4),
            "spearman": round(float(spearmanr(pred, truth).statistic), 4),
            "n": len(rows),
        }
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
    joint_per_row: int | None = None,
    init: str | None = None,
    device: str = "auto",
    state_path: str | Path | None = None,
) -> RegressionLanguageModel:
    """Train the default-style model on bundled benchmarks and save it with its model card.

    ``init``: a checkpoint folder to continue from (its tokenizer kept) instead of a fresh
    model. ``state_path`` (default ``<out>.state.pt``): the run's state after each epoch; a
    killed run started again with the same settings continues from its last epoch.
    """
    cfg = cfg or TrainConfig()
    started = time.perf_counter()
    rng = np.random.default_rng(split_seed)
    train_set, val_set, groups, held_out, tests = [], [], [], {}, []
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
        missing = sorted(set(task.solo_columns) - set(columns))
        if missing:
            raise DataError(f"space {task.space!r}: solo column(s) {missing} not trained on")
        test, val, train_rows = split(
            len(table), [task.test_fraction, task.val_rows / len(table)], split_seed
        )
        log(
            f"{task.space}: {len(train_rows)} train rows, {len(val)} validation, {len(test)} test; "
            f"{len(columns)} columns"
        )
        rows = table_rows(space, columns, train_rows)
        train_set += joint_examples(
            rows, columns, max_objectives, rng, joint_per_row, task.solo_columns
        )
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
        tests.append((task.space, table_rows(space, columns, test), columns))
    if init is None:
        named = sorted({task.space for task in tasks})
        corpus = tokenizer_corpus(named) + [ex.text for ex in train_set[::max_objectives]]
        rlm = RegressionLanguageModel.create(
            corpus, vocab_size=vocab_size, seed=cfg.seed, device=device, **(net_sizes or {})
        )
        earlier: list[dict[str, Any]] = []
    else:
        init_id = checkpoint_id(init)  # name@weights: which model this one continued
        rlm = RegressionLanguageModel.load(init, device=device)
        earlier = rlm.card.get("trained_on", [])
        overlap = rlm.seen_keys() & {k for keys in held_out.values() for k in keys["test_keys"]}
        if overlap:
            raise DataError(f"init checkpoint {init} trained on {len(overlap)} held-out test rows")
    log(
        f"vocabulary {rlm.text_tok.vocab_size} tokens, {rlm.net.num_parameters():,} parameters, "
        f"{len(train_set)} training examples on {rlm.device}"
    )
    state_path = Path(state_path or f"{Path(out)}.state.pt")
    rlm.fit(train_set, val_set, cfg, log=log, extend_tokenizer=False, state_path=state_path)
    rlm.card["trained_on"] = earlier + groups
    rlm.card["held_out"] = held_out
    rlm.card["held_out_scores"] = {
        space_name: held_out_scores(rlm, rows, columns) for space_name, rows, columns in tests
    }
    for space_name, scores in rlm.card["held_out_scores"].items():
        for column, s in scores.items():
            log(f"test {space_name} {column:28} tau {s['kendall']:.4f}  rho {s['spearman']:.4f}")
    rlm.card["pretrain"] = {
        "max_objectives": max_objectives,
        "joint_per_row": joint_per_row,
        "solo_columns": {t.space: t.solo_columns for t in tasks},
        "split_seed": split_seed,
        "init": None if init is None else init_id,
        "command": " ".join(["searchlab", *sys.argv[1:]]) if sys.argv else "",
        "hardware": f"{platform.machine()} {platform.processor() or ''}, "
        f"{torch.get_num_threads()} threads, {rlm.device}",
        "wall_seconds_this_run": round(time.perf_counter() - started, 1),
    }
    rlm.save(out)
    state_path.unlink(missing_ok=True)
    log(f"saved {out}")
    return rlm
