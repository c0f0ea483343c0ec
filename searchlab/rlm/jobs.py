"""The RLM's command-line jobs: fit on a CSV, evaluate on unseen rows.

Example:
    >>> from searchlab.rlm.checkpoint import checkpoint_path
    >>> checkpoint_path("/tmp").name  # a folder; a bare name such as "default" means bundled
    'tmp'
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import kendalltau, spearmanr

from searchlab.core.space import Space
from searchlab.rlm.checkpoint import CheckpointError, checkpoint_path
from searchlab.rlm.data import DataError, Row, read_rows, warn_stderr
from searchlab.rlm.pretrain import BUILTIN_SPACES, tokenizer_corpus
from searchlab.rlm.regressor import RegressionLanguageModel
from searchlab.rlm.train import TrainConfig
from searchlab.rlm.transfer import choose_links, proxy_columns, store_links

#: fewer validation rows than this give no usable Kendall tau to stop on
MIN_VAL_ROWS = 4


def check_out(out: str | Path) -> Path:
    """The folder a fit will write its checkpoint to, checked before any training."""
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise CheckpointError(f"out={out} is a file: give a folder to write the checkpoint to")
    parent = path
    while not parent.exists():  # the folder and its missing parents are made at save
        parent = parent.parent
    if not parent.is_dir():
        raise CheckpointError(f"out={out}: {parent} is a file, so no folder can be made there")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise CheckpointError(f"out={out}: cannot write in {parent}")
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
    warn: Callable[[str], None] = warn_stderr,
    link: bool = True,
) -> RegressionLanguageModel:
    """Train (init=scratch) or fine-tune (init=default|PATH) on CSV rows; save to ``out``.

    With ``link`` a pretrained checkpoint reads each target it can through a blend of the
    pretrained columns that rank the rows (:mod:`searchlab.rlm.transfer`) and fine-tunes only
    on the targets left.
    """
    targets = list(targets)
    check_out(out)  # a bad out found after training would lose the model
    chosen = read_rows(data, targets, text_column, space, n=n_train, seed=seed, warn=warn)
    chosen = [chosen[i] for i in np.random.default_rng(seed).permutation(len(chosen))]
    cfg = cfg or TrainConfig()
    if init == "scratch":
        if cfg.min_steps == 0:  # a fresh model needs many updates, however few the rows
            cfg = replace(cfg, min_steps=1500)
        named = [space] if space is not None else BUILTIN_SPACES
        corpus = tokenizer_corpus(named) + [r.text for r in chosen]
        rlm = RegressionLanguageModel.create(
            corpus, vocab_size=vocab_size, device=device, seed=seed, **(net_sizes or {})
        )
    else:
        rlm = RegressionLanguageModel.load(checkpoint_path(init), device=device)
    source = {"data": str(data), "init": init, "seed": seed}
    left = targets
    if link and init != "scratch":
        left = _link_targets(rlm, chosen, targets, space, log)
        source["linked"] = sorted(set(targets) - set(left))
    if not left:  # every target read through a proxy: the weights stay as they were
        rlm.card.setdefault("trained_on", []).append({**source, "columns": sorted(targets)})
    else:
        n_val = _validation_rows(len(chosen), val_fraction, data, warn)
        val, train = chosen[:n_val], chosen[n_val:]
        log(
            f"fitting {rlm.name} on {len(train)} rows ({len(val)} for early stopping) of "
            f"{data}, targets {left}"
        )
        rlm.fit(
            [r.example(targets).only(left) for r in train],
            [r.example(targets).only(left) for r in val],
            cfg,
            log=log,
            source=source,
        )
    # validation rows steered model selection: list them as seen too, so evaluate skips them
    rlm.card["trained_on"][-1]["keys"] = sorted({r.key for r in chosen})
    rlm.save(out)
    log(f"saved checkpoint {out}")
    return rlm


def _validation_rows(n: int, val_fraction: float, data: str, warn: Callable[[str], None]) -> int:
    """Rows held out for early stopping; 0 (with one warning) when too few for it."""
    n_val = int(round(val_fraction * n))
    if val_fraction > 0 and (n_val < MIN_VAL_ROWS or n - n_val < MIN_VAL_ROWS):
        warn(
            f"{data}: only {n} rows, too few rows for early stopping (it needs "
            f"{MIN_VAL_ROWS} validation rows, val_fraction={val_fraction} gives {n_val}, and "
            f"{MIN_VAL_ROWS} to train on): all of them train for a fixed number of epochs"
        )
        return 0
    return n_val


def _link_targets(
    rlm: RegressionLanguageModel,
    rows: Sequence[Row],
    targets: list[str],
    space: Space | None,
    log: Callable[[str], None],
) -> list[str]:
    """Link the targets a pretrained column ranks well; return the targets left to fit."""
    proxies = proxy_columns(rlm.card, None if space is None else space.name)
    values = np.array([r.values for r in rows])
    links = choose_links(rlm, [r.text for r in rows], targets, values, proxies)
    store_links(rlm.card, targets, links)
    for ln in links.values():
        log(
            f"{ln.target}: read through pretrained {', '.join(ln.proxies)} (Kendall tau "
            f"{ln.tau:.3f} on {ln.n} rows), as {ln.describe()}"
        )
    return [t for t in targets if t not in links]


def score(pred: np.ndarray, truth: np.ndarray) -> dict[str, float | int | None]:
    """Kendall tau, Spearman rho, mean absolute error and n of one target; None if undefined."""
    n = int(len(truth))
    # a rank correlation needs two rows and values that are not all equal on either side
    ranked = n >= 2 and np.ptp(pred) > 0 and np.ptp(truth) > 0
    return {
        "kendall": _defined(kendalltau(pred, truth).statistic) if ranked else None,
        "spearman": _defined(spearmanr(pred, truth).statistic) if ranked else None,
        "mae": float(np.mean(np.abs(pred - truth))) if n else None,
        "n": n,
    }


def _defined(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def _cell(value: float | None, width: int) -> str:
    return f"{'n/a':>{width}}" if value is None else f"{value:{width}.4f}"


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
    warn: Callable[[str], None] = warn_stderr,
) -> dict[str, Any]:
    """Score a checkpoint on every CSV row it did not train on; print a table and one JSON line.

    Figures that are undefined (rank correlations of one row, or of values all equal) are
    ``None``: null in the JSON line, which is always valid JSON.
    """
    targets = list(targets)
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}: the samples drawn per candidate")
    rlm = RegressionLanguageModel.load(checkpoint_path(model), device=device)
    rows = read_rows(data, targets, text_column, space, warn=warn)
    seen = rlm.seen_keys()
    keep = [r for r in rows if r.key not in seen]
    log(
        f"model {rlm.name}: {len(keep)} rows to predict, {len(rows) - len(keep)} skipped "
        "(trained on)"
    )
    if not keep:
        raise DataError(f"{data}: every row was trained on by {rlm.name}; nothing to evaluate")
    texts = [r.text for r in keep]
    point = rlm.predict_point(texts, targets)  # deterministic: the median digit by digit
    low, high = rlm.predict(texts, targets, k=k, seed=seed).interval(0.8)
    truth = np.array([r.values for r in keep])
    result = {t: score(point[:, j], truth[:, j]) for j, t in enumerate(targets)}
    for j, t in enumerate(targets):  # share of true values inside the k samples' 80 % interval
        inside = (low[:, j] <= truth[:, j]) & (truth[:, j] <= high[:, j])
        result[t]["coverage80"] = round(float(np.mean(inside)), 4)
    log(f"{'target':28} {'kendall':>8} {'spearman':>9} {'mae':>10} {'cover80':>8} {'n':>6}")
    for t, s in result.items():
        row = f"{_cell(s['kendall'], 8)} {_cell(s['spearman'], 9)} {_cell(s['mae'], 10)}"
        log(f"{t:28} {row} {s['coverage80']:8.3f} {s['n']:6d}")
    summary = {"targets": result, "model": rlm.name, "skipped": len(rows) - len(keep)}
    log(json.dumps(summary, allow_nan=False))  # NaN is not JSON: undefined figures are null
    return summary
