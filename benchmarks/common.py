"""The benchmark harness: arguments, checkpoints and splits, fitting, rank scores, figures and
resumable results, shared by every script in ``benchmarks/``.

A script builds its parser with :func:`arguments` (``--seeds``, ``--out``, ``--threads``,
``--report``, and ``--checkpoint`` / ``--epochs`` where it takes them), measures what its
results file lacks (:func:`resume`, :func:`add_record`), and ends by printing its table and
drawing its figure from that file alone, so ``--report`` redraws both without measuring.
Each README table has one results file, ``results/NAME.json``, and one figure,
``results/NAME.png``.

    >>> rank_scores(np.array([1.0, 2.0, 3.0]), np.array([10.0, 30.0, 20.0]))
    {'kendall': 0.3333, 'spearman': 0.5}
"""

from __future__ import annotations

import argparse
import fcntl
import json
import platform
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy.stats import kendalltau, spearmanr

RESULTS = Path(__file__).parent / "results"
NB201_CELLS = 15625


def arguments(
    doc: str | None,
    *,
    seeds: Sequence[int] = (0,),
    out: str,
    checkpoint: bool = False,
    epochs: int | None = None,
    threads: int | None = None,
) -> argparse.ArgumentParser:
    """The parser every benchmark starts from: its docstring as help, and the shared flags."""
    parser = argparse.ArgumentParser(
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=list(seeds))
    parser.add_argument(
        "--out", default=out, help="name of the results files (default: %(default)s)"
    )
    parser.add_argument(
        "--report",
        action="store_true",
        help="print the table and draw the figure from the saved results; measure nothing",
    )
    if checkpoint:
        parser.add_argument("--checkpoint", default="default", help="name or folder")
    if epochs is not None:
        parser.add_argument("--epochs", type=int, default=epochs)
    if threads is not None:
        parser.add_argument("--threads", type=int, default=threads, help="torch threads")
    return parser


def machine() -> str:
    """One line naming the machine a figure was measured on."""
    return f"{platform.processor() or platform.machine()}, torch threads {torch.get_num_threads()}"


@dataclass
class HeldOut:
    """A checkpoint that never saw the benchmark's columns, and the rows it never trained on."""

    folder: Path
    ident: str
    rlm: Any  # the loaded RegressionLanguageModel
    test: np.ndarray  # rows of the space's table in the checkpoint's held-out test split
    pool: np.ndarray  # every other row: where a benchmark draws its training cells


def held_out(name: str, columns: Sequence[str], space: str = "nb201") -> HeldOut:
    """Load checkpoint ``name``; exit when it saw any of ``columns`` or lists no test split of
    ``space`` (a figure on either would be leaked, not measured)."""
    from searchlab.rlm.checkpoint import checkpoint_id, checkpoint_path
    from searchlab.rlm.regressor import RegressionLanguageModel

    folder = checkpoint_path(name)
    ident = checkpoint_id(folder)
    rlm = RegressionLanguageModel.load(folder, device="cpu")
    test_keys = set(rlm.card.get("held_out", {}).get(space, {}).get("test_keys", []))
    leaked = [c for c in columns if rlm.seen_keys(c)]
    if leaked or not test_keys:
        raise SystemExit(f"{ident} saw {leaked} or lists no {space} test split: not a fair test")
    keys = [c.key for c in candidates(space)]
    test = np.array([r for r, k in enumerate(keys) if k in test_keys])
    pool = np.array([r for r, k in enumerate(keys) if k not in test_keys])
    return HeldOut(folder, ident, rlm, test, pool)


@cache
def candidates(space: str = "nb201") -> tuple[Any, ...]:
    """Every row of a space's benchmark table as a candidate (text built once per process)."""
    from searchlab import load_space

    return tuple(load_space(space).benchmark().candidates())


@cache
def nb201_yaml_space() -> tuple[Any, list[str]]:
    """NB201 written as a configuration: a space of one categorical parameter per cell edge
    (``edge_i_j``, the six operations), and the parameters' names in the genotype's order."""
    from searchlab.core.config_space import ConfigSpace
    from spaces.nb201 import EDGES, OPS

    names = [f"edge_{i}_{j}" for i, j in EDGES]
    params = {n: {"type": "categorical", "choices": list(OPS)} for n in names}
    return ConfigSpace(params, name="nb201_yaml"), names


def nb201_split(
    seed: int, n_train: int, n_test: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """ANCHORS split: cells permuted by default_rng(seed); the first n_train train, then test."""
    perm = np.random.default_rng(seed).permutation(NB201_CELLS)
    test = perm[n_train:] if n_test is None else perm[n_train : n_train + n_test]
    return perm[:n_train], test


def fresh_rlm(corpus: Sequence[str], seed: int, like: Any = None, **settings: Any) -> Any:
    """A new RLM whose tokenizer is learned on ``corpus``: the network shape of checkpoint
    ``like`` when given, else the defaults (inputs of 512 tokens); ``settings`` override."""
    from searchlab.rlm.regressor import RegressionLanguageModel

    shape = {"max_input": 512}
    if like is not None:
        shape = {
            k: v for k, v in like.net.cfg.to_dict().items() if k not in ("vocab_size", "num_vocab")
        }
    return RegressionLanguageModel.create(corpus, seed=seed, device="cpu", **{**shape, **settings})


def examples(texts: Sequence[str], targets: Sequence[str], values: np.ndarray) -> list[Any]:
    """One training example per text; ``values[i]`` holds text i's values of ``targets``."""
    from searchlab.rlm.train import Example

    rows = np.asarray(values, dtype=float).reshape(len(texts), len(targets))
    return [Example(t, tuple(targets), tuple(float(v) for v in r)) for t, r in zip(texts, rows)]


def fit_rlm(
    rlm: Any,
    texts: Sequence[str],
    targets: Sequence[str],
    values: np.ndarray,
    seed: int,
    epochs: int,
    *,
    scratch: bool,
    patience: int = 10,
    extend_tokenizer: bool = False,
    log: Any = None,
) -> Any:
    """Train ``rlm`` on the texts with the rules of ``searchlab fit`` and return its TrainResult.

    A seeded 20 % of the texts steer early stopping when that leaves 4 on each side (else it
    trains the fixed epochs). A fresh network (``scratch``) trains at lr 1e-3 for at least
    1,500 steps; fine-tuning a checkpoint uses lr 5e-4.
    """
    from searchlab.rlm.train import TrainConfig

    order = np.random.default_rng(seed).permutation(len(texts))
    n_val = int(round(0.2 * len(texts)))
    n_val = n_val if n_val >= 4 and len(texts) - n_val >= 4 else 0
    rows = examples([texts[i] for i in order], targets, np.asarray(values, dtype=float)[order])
    cfg = TrainConfig(
        epochs=epochs,
        patience=patience,
        seed=seed,
        warmup_steps=10,
        lr=1e-3 if scratch else 5e-4,
        min_steps=1500 if scratch else 0,
    )
    quiet = log or (lambda line: None)
    return rlm.fit(rows[n_val:], rows[:n_val], cfg, log=quiet, extend_tokenizer=extend_tokenizer)


def train_from_scratch(
    texts: Sequence[str],
    cols: np.ndarray,
    targets: Sequence[str],
    train: np.ndarray,
    seed: int,
    cfg: Any,
    log: Any,
    **create: Any,
) -> tuple[Any, Any]:
    """The from-scratch recipe of the surrogate-quality table and its ablation: a fresh RLM
    (tokenizer learned on unlabeled texts and the training texts) trained on rows ``train``
    with a seeded 20 % (at least 4) validating, under the caller's TrainConfig ``cfg``;
    ``cols[r]`` holds row r's values of ``targets``. Returns the model and its TrainResult."""
    from searchlab.rlm.pretrain import tokenizer_corpus

    order = np.random.default_rng(seed).permutation(len(train))
    n_val = max(4, int(round(0.2 * len(train))))
    val_rows, train_rows = train[order[:n_val]], train[order[n_val:]]
    rlm = fresh_rlm(tokenizer_corpus(seed=seed) + [texts[r] for r in train], seed, **create)

    def rows(part: np.ndarray) -> list[Any]:
        return examples([texts[r] for r in part], targets, cols[part])

    return rlm, rlm.fit(rows(train_rows), rows(val_rows), cfg, log=log)


def rank_scores(pred: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Kendall tau and Spearman rho of predictions against the truth, to four places."""
    return {
        "kendall": round(float(kendalltau(pred, truth).statistic), 4),
        "spearman": round(float(spearmanr(pred, truth).statistic), 4),
    }


@contextmanager
def figure(
    name: str, panels: int = 1, size: tuple[float, float] = (5.0, 3.5), title: str | None = None
) -> Iterator[list[Any]]:
    """Axes for ``panels`` side-by-side panels; on leaving, the figure goes to results/NAME.png."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, panels, figsize=(size[0] * panels, size[1]), squeeze=False)
    yield list(axes[0])
    if title:
        fig.suptitle(title, fontsize=8)
    fig.tight_layout()
    RESULTS.mkdir(exist_ok=True)
    fig.savefig(RESULTS / f"{name}.png", dpi=110)
    plt.close(fig)
    print(f"figure: {RESULTS / name}.png")


def save(name: str, payload: dict[str, Any]) -> Path:
    """Write a benchmark's figures as JSON under benchmarks/results/."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=1, sort_keys=True, default=float) + "\n")
    return path


def load(name: str) -> dict[str, Any]:
    """A benchmark's saved figures, results/NAME.json ({} when it has not run)."""
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def saved(name: str) -> dict[str, Any]:
    """results/NAME.json; exits when nothing was measured into it yet (no file, or a file of
    records with none)."""
    payload = load(name)
    if not payload or ("records" in payload and not payload["records"]):
        raise SystemExit(f"nothing measured in results/{name}.json: run without --report first")
    return payload


def resume(name: str, **same: Any) -> list[dict]:
    """Records already in results/NAME.json, made under the same top-level settings ``same``
    (such as the checkpoint); exits when the file was made under others."""
    old = load(name)
    for field, value in same.items():
        if old and old.get(field) != value:
            raise SystemExit(
                f"{name}.json was made with {field}={old.get(field)}, not {value}: use --out"
            )
    records = list(old.get("records", []))
    if records:
        print(f"resuming: {len(records)} records read back from {name}.json", flush=True)
    return records


def add_record(
    name: str, record: dict, ident: tuple[str, ...], replace: bool = False, **top: Any
) -> list[dict]:
    """Add one record to results/NAME.json under a lock unless a record with the same
    ``ident`` fields is there (``replace``: it is dropped first), keeping what other runs wrote
    meanwhile (two runs may fill one table); ``top`` fields are written at the top level.
    Returns all records now in it."""
    RESULTS.mkdir(exist_ok=True)
    with open(RESULTS / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        payload = load(name)
        records = payload.get("records", [])
        key = tuple(record[k] for k in ident)
        if replace:
            records = [r for r in records if tuple(r.get(k) for k in ident) != key]
        if all(tuple(r.get(k) for k in ident) != key for r in records):
            records.append(record)
        save(name, {**payload, **top, "records": records})
    return records


def campaign_record(store: Any, names: list[str], seconds: float, surrogate: Any) -> dict:
    """What a benchmark keeps of one campaign: verified keys and values in order, the
    surrogate's picks, trust and update seconds per round, and the wall time."""
    rounds = [r.get("log", {}) for r in store.rounds()]
    return {
        "seconds": seconds,
        "surrogate": None if surrogate is None else surrogate.name,
        "keys": [r.key for r in store.verified()],
        "values": [[r.values[n] for n in names] for r in store.verified()],
        "picked_by_surrogate": [r.get("picked_by_surrogate", 0) for r in rounds],
        "trust": [r.get("trust") for r in rounds],
        "update_seconds": sum(r.get("finetune_seconds", 0.0) for r in rounds),
    }
