"""The surrogate's upkeep during a campaign: when to fine-tune it, and how well it predicts.

Fine-tuning runs whenever ``finetune_every`` new verified values have arrived (and once the
first ``initial`` exist); when, at an update, params or FLOPs out-ranked the model on every
objective in the last round (:mod:`searchlab.campaign.screening`), the wait for the next one doubles
(it resets once the model ranks again), so a model that buys nothing costs little. The
latest fine-tuned checkpoint is kept in the run folder so a
resumed campaign starts from it. Health compares what the current model predicted before it
saw a value with the value verified: Kendall tau and the share inside the 80 % interval.
Each worker fine-tunes its own copy of the model, so its state keys carry its owner name.

Example:
    >>> from types import SimpleNamespace
    >>> from searchlab.campaign.upkeep import state_key
    >>> worker = SimpleNamespace(store=SimpleNamespace(claims=SimpleNamespace(owner="w1")))
    >>> state_key(worker, "checkpoint")
    'checkpoint@w1'
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import kendalltau


def state_key(c: Any, name: str) -> str:
    """The store state key of this campaign's owner (the main process keeps the bare name)."""
    owner = c.store.claims.owner
    return name if owner == "main" else f"{name}@{owner}"


def maybe_finetune(c: Any) -> float:
    """Fine-tune campaign ``c``'s surrogate when ``finetune_every`` new values are verified.

    Returns the seconds it took (0 when not due), for the round's log.
    """
    if c.surrogate is None:
        return 0.0
    verified = c.store.verified()
    last = c.store.state(state_key(c, "finetuned_on"), 0)
    backoff = c.store.state(state_key(c, "update_backoff"), 0)
    every = c.settings.finetune_every * 2**backoff
    due = len(verified) >= c.settings.initial and (last == 0 or len(verified) - last >= every)
    due, c.force_finetune = due or c.force_finetune, False
    if not due:
        return 0.0
    start = time.perf_counter()
    cands = [r.candidate() for r in verified]
    c.surrogate.update(
        cands,
        [r.values for r in verified],
        c.objectives.expensive,
        {"campaign": c.store.study.study_name, "verified": len(verified)},
    )
    if c.run_dir is not None:
        folder = c.run_dir / "surrogate" / f"updated-{len(verified):05d}"
        previous = c.store.state(state_key(c, "checkpoint"))
        c.surrogate.save(folder)
        c.store.set_state(state_key(c, "checkpoint"), str(folder))
        if previous and Path(previous) != folder:  # only the latest is needed to resume
            shutil.rmtree(previous, ignore_errors=True)
    c.store.set_state(state_key(c, "finetuned_on"), len(verified))
    # an update buys nothing while free features out-rank the model: wait twice as long
    c.store.set_state(state_key(c, "update_backoff"), backoff + 1 if outranked(c) else 0)
    return time.perf_counter() - start


def outranked(c: Any) -> bool:
    """Whether the last screened round ranked every objective by a cheap feature instead."""
    for r in reversed(c.store.rounds()):
        trust = r.get("trust")
        if trust is not None:
            ranked = trust.get("ranked_by") or {}
            return bool(ranked) and all(v[0] != "surrogate" for v in ranked.values())
    return False


def predicted_since_finetune(c: Any) -> list[Any]:
    """Verified records, since the last fine-tune, whose values the model predicted before."""
    since = c.store.state(state_key(c, "finetuned_on"), 0)
    return [r for r in c.store.verified()[since:] if r.predicted]


def health(c: Any, rows: list[Any] | None = None) -> tuple[dict[str, float], dict[str, float]]:
    """Tau and 80 % coverage of predictions vs values verified since the last fine-tune.

    These are values the current model predicted before it saw them: an honest check.
    ``rows``: :func:`predicted_since_finetune`, when the caller has read them already.
    """
    rows = predicted_since_finetune(c) if rows is None else rows
    tau, cover = {}, {}
    for name in c.objectives.expensive:
        pred = np.array([r.predicted[name] for r in rows])
        true = np.array([r.values[name] for r in rows])
        if len(rows) >= 3 and np.ptp(true) > 0:
            tau[name] = float(kendalltau(pred, true).statistic)
        if rows:
            inside = [lo <= r.values[name] <= hi for r in rows for lo, hi in [r.interval[name]]]
            cover[name] = float(np.mean(inside))
    return tau, cover
