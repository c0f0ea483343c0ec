"""The RLM's command-line jobs: fit on a CSV, evaluate on unseen rows, find checkpoints.

Example:
    >>> from searchlab.rlm.jobs import checkpoint_path
    >>> checkpoint_path("/tmp").name  # a folder; a bare name such as "default" means bundled
    'tmp'
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import kendalltau, spearmanr

from searchlab.rlm.checkpoint import CheckpointError
from searchlab.rlm.data import DataError, read_rows
from searchlab.rlm.pretrain import tokenizer_corpus
from searchlab.rlm.surrogate import RegressionLanguageModel
from searchlab.rlm.train import TrainConfig
from searchlab.space import Space

BUNDLED = Path(__file__).resolve().parent.parent / "checkpoints"


def checkpoint_path(name: str) -> Path:
    """A bundled checkpoint's folder by name (``default``), or the path as given."""
    bundled = BUNDLED / name
    if "/" not in name and bundled.is_dir():
        return bundled
    path = Path(name)
    if not path.exists():
        raise CheckpointError(
            f"checkpoint {name!r} not found (neither a folder nor one of the "
            f"bundled {sorted(p.name for p in BUNDLED.glob('*') if p.is_dir())})"
        )
    return path


def fit_csv(
    data: str,
    targets: Sequence[str],
    text_column: str,
    space: Space | None,
    out: str,
    n_train: int | None = None,
    seed: int = 0,
    init: str = "default",
    val_fraction: float = 0.2,
    cfg: TrainConfig | None = None,
    vocab_size: int = 4096,
    net_sizes: dict[str, Any] | None = None,
    device: str = "auto",
    log: Callable[[str], None] = print,
) -> RegressionLanguageModel:
    """Train (init=scratch) or fine-tune (init=default|PATH) on CSV rows; save to ``out``."""
    targets = list(targets)
    chosen = read_rows(data, targets, text_column, space, n=n_train, seed=seed)
    chosen = [chosen[i] for i in np.random.default_rng(seed).permutation(len(chosen))]
    n_val = int(round(val_fraction * len(chosen)))
    n_val = n_val if n_val >= 4 and len(chosen) - n_val >= 4 else 0  # too few: fixed epochs
    val, train = chosen[:n_val], chosen[n_val:]
    cfg = cfg or TrainConfig()
    if init == "scratch":
        if cfg.min_steps == 0:  # a fresh model needs many updates, however few the rows
            cfg = replace(cfg, min_steps=1500)
        corpus = tokenizer_corpus() + [r.text for r in chosen]
        rlm = RegressionLanguageModel.create(
            corpus, vocab_size=vocab_size, device=device, seed=seed, **(net_sizes or {})
        )
    else:
        rlm = RegressionLanguageModel.load(checkpoint_path(init), device=device)
    log(
        f"fitting {rlm.name} on {len(train)} rows ({len(val)} for early stopping) of {data}, "
        f"targets {targets}"
    )
    rlm.fit(
        [r.example(targets) for r in train],
        [r.example(targets) for r in val],
        cfg,
        log=log,
        source={"data": str(data), "init": init, "seed": seed},
    )
    # validation rows steered model selection: list them as seen too, so evaluate skips them
    rlm.card["trained_on"][-1]["keys"] = sorted({r.key for r in chosen})
    rlm.save(out)
    log(f"saved checkpoint {out}")
    return rlm


def score(pred: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Kendall tau, Spearman rho, mean absolute error and n of one target."""
    if len(truth) < 2:
        return {
            "kendall": float("nan"),
            "spearman": float("nan"),
            "mae": float("nan"),
            "n": len(truth),
        }
    return {
        "kendall": float(kendalltau(pred, truth).statistic),
        "spearman": float(spearmanr(pred, truth).statistic),
        "mae": float(np.mean(np.abs(pred - truth))),
        "n": int(len(truth)),
    }


def evaluate_csv(
    model: str,
    data: str,
    targets: Sequence[str],
    text_column: str,
    space: Space | None,
    k: int = 8,
    seed: int = 0,
    device: str = "auto",
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Score a checkpoint on every CSV row it did not train on; print a table and one JSON line."""
    targets = list(targets)
    rlm = RegressionLanguageModel.load(checkpoint_path(model), device=device)
    rows = read_rows(data, targets, text_column, space)
    seen = rlm.seen_keys()
    keep = [r for r in rows if r.key not in seen]
    log(
        f"model {rlm.name}: {len(keep)} rows to predict, {len(rows) - len(keep)} skipped "
        "(trained on)"
    )
    if not keep:
        raise DataError(f"{data}: every row was trained on by {rlm.name}; nothing to evaluate")
    median = rlm.predict([r.text for r in keep], targets, k=k, seed=seed).median()
    truth = np.array([r.values for r in keep])
    result = {t: score(median[:, j], truth[:, j]) for j, t in enumerate(targets)}
    log(f"{'target':28} {'kendall':>8} {'spearman':>9} {'mae':>10} {'n':>6}")
    for t, s in result.items():
        log(f"{t:28} {s['kendall']:8.4f} {s['spearman']:9.4f} {s['mae']:10.4f} {s['n']:6d}")
    summary = {"targets": result, "model": rlm.name, "skipped": len(rows) - len(keep)}
    log(json.dumps(summary))
    return summary
