"""Training: cross-entropy on number tokens, AdamW, early stopping on validation Kendall tau.

An example is one candidate text with one or more objectives and their values. Examples of
different spaces and targets share batches; values are never normalized: the P10 tokens
carry each target's scale in its exponent.

Example:
    >>> from searchlab.rlm.train import Example
    >>> Example("g (float[N] x) => (float[N] y) {...}", ("acc",), (91.2,)).objectives
    ('acc',)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from scipy.stats import kendalltau

from searchlab.rlm.batching import Encoder, length_batches
from searchlab.rlm.decode import sample_values
from searchlab.rlm.loss import number_loss, soft_targets
from searchlab.rlm.model import RlmNetwork, flushed_subnormals
from searchlab.rlm.settings import TrainConfig
from searchlab.rlm.train_state import load_state, save_state


@dataclass(frozen=True)
class Example:
    """One training row: a text and values of objectives decoded in this order."""

    text: str
    objectives: tuple[str, ...]
    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.objectives) != len(self.values) or not self.objectives:
            raise ValueError(
                f"example needs one value per objective, got {self.objectives} and {self.values}"
            )
        for name, value in zip(self.objectives, self.values):
            if not math.isfinite(value):
                raise ValueError(f"objective {name!r} has non-finite value {value!r}")

    def only(self, objectives: Sequence[str]) -> Example:
        """The same text with only ``objectives`` (a subset, in the order given)."""
        return Example(
            self.text,
            tuple(objectives),
            tuple(self.values[self.objectives.index(o)] for o in objectives),
        )


@dataclass
class TrainResult:
    """What training did: per-epoch history, the best epoch and its validation tau."""

    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = -1
    best_tau: float = float("nan")
    seconds: float = 0.0
    examples_seen: int = 0


def predict_greedy(
    net: RlmNetwork, enc: Encoder, examples: Sequence[Example], batch: int
) -> np.ndarray:
    """Most likely digits per objective, [N, n_objectives]; examples must share objectives."""
    texts = [ex.text for ex in examples]
    return sample_values(net, enc, texts, examples[0].objectives, batch=batch)[:, 0, :]


def validation_taus(
    net: RlmNetwork, enc: Encoder, examples: Sequence[Example], batch: int
) -> dict[str, float]:
    """Kendall tau of the greedy digits per objective over the validation examples.

    Examples are grouped by objective tuple; an objective in several groups gets their mean.
    """
    groups: dict[tuple[str, ...], list[Example]] = {}
    for ex in examples:
        groups.setdefault(ex.objectives, []).append(ex)
    taus: dict[str, list[float]] = {}
    for objs, group in groups.items():
        if len(group) < 3:
            continue
        pred = predict_greedy(net, enc, group, batch)
        truth = np.array([ex.values for ex in group])
        for j, name in enumerate(objs):
            tau = kendalltau(pred[:, j], truth[:, j]).statistic
            taus.setdefault(name, []).append(0.0 if np.isnan(tau) else float(tau))
    return {name: float(np.mean(v)) for name, v in taus.items()}


@flushed_subnormals()
def train(
    net: RlmNetwork,
    enc: Encoder,
    train_set: Sequence[Example],
    val_set: Sequence[Example],
    cfg: TrainConfig,
    log: Callable[[str], None] = print,
    state_path: str | Path | None = None,
) -> TrainResult:
    """Train in place; restore the weights of the best validation epoch; return the history.

    With ``state_path`` the run saves its state after every epoch there and, if a state is
    already there, continues from it (same examples and settings: a killed run resumes).
    """
    if not train_set:
        raise ValueError("no training examples")
    device = next(net.parameters()).device
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    enc.warm([ex.text for ex in train_set] + [ex.text for ex in val_set])
    lengths = [len(enc.input_ids(ex.text, ex.objectives)) for ex in train_set]
    frozen = ("embed.", "enc_pos.", "encoder.", "enc_ln.") if cfg.train_only == "decoder" else ()
    for name, param in net.named_parameters():
        param.requires_grad_(not name.startswith(frozen))
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = math.ceil(len(train_set) / cfg.batch_size)
    # small data sets get more epochs, so that a from-scratch model sees min_steps updates
    epochs = max(cfg.epochs, math.ceil(cfg.min_steps / steps_per_epoch))
    total = max(1, epochs * steps_per_epoch)
    table = soft_targets(enc.num_tok, cfg.digit_sigma).to(device)
    warmup = max(1, min(cfg.warmup_steps, total // 10))

    def lr_at(step: int) -> float:
        if step < warmup:
            return cfg.lr * (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))

    averaged = None
    if cfg.ema > 0:
        ema_fn = torch.optim.swa_utils.get_ema_multi_avg_fn(cfg.ema)
        averaged = torch.optim.swa_utils.AveragedModel(net, multi_avg_fn=ema_fn)
    judged = net if averaged is None else averaged.module  # the weights validated and kept
    result, best_state, step, start = TrainResult(), None, 0, time.perf_counter()
    stale, first_epoch, offset = 0, 0, 0.0
    saved = load_state(state_path)
    if saved is not None:
        net.load_state_dict(saved["net"])
        opt.load_state_dict(saved["opt"])
        if averaged is not None:
            averaged.load_state_dict(saved["averaged"])
        rng.bit_generator.state = saved["rng"]
        torch.set_rng_state(saved["torch_rng"])
        result, best_state = saved["result"], saved["best"]
        step, stale = saved["step"], saved["stale"]
        first_epoch, offset = saved["epoch"] + 1, result.seconds
        log(f"resuming from {state_path} after epoch {saved['epoch']}")
        if saved.get("done"):
            first_epoch = epochs
    for epoch in range(first_epoch, epochs):
        net.train()
        losses = []
        for idx in length_batches(lengths, cfg.batch_size, rng):
            batch = [train_set[i] for i in idx]
            ids, pad = enc.batch([(ex.text, ex.objectives) for ex in batch])
            targets = enc.targets(batch).to(device)
            logits = net(ids.to(device), pad.to(device), targets)
            loss = number_loss(logits, targets, table)
            for group in opt.param_groups:
                group["lr"] = lr_at(step)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
            opt.step()
            if averaged is not None:
                averaged.update_parameters(net)
            losses.append(loss.item())
            step += 1
            result.examples_seen += len(batch)
        per_objective = validation_taus(judged, enc, val_set, cfg.eval_batch) if val_set else {}
        tau = float(np.mean(list(per_objective.values()))) if per_objective else float("nan")
        elapsed, mean_loss = offset + time.perf_counter() - start, float(np.mean(losses))
        result.history.append(
            {"epoch": epoch, "loss": mean_loss, "val_tau": tau, "seconds": elapsed}
            | {f"val_tau:{name}": value for name, value in per_objective.items()}
        )
        each = "  ".join(f"{n} {v:.3f}" for n, v in per_objective.items())
        each = f"  ({each})" if len(per_objective) > 1 else ""
        shown = f"  val tau {tau:.4f}{each}" if val_set else ""  # no rows held out: no tau
        log(f"epoch {epoch:3d}  loss {mean_loss:.4f}{shown}  {elapsed:6.1f}s")
        if not val_set or np.isnan(result.best_tau) or tau >= result.best_tau:  # ties: later
            result.best_tau, result.best_epoch, stale = tau, epoch, 0
            best_state = {k: v.detach().clone() for k, v in judged.state_dict().items()}
        else:
            stale += 1 if step >= cfg.min_steps else 0  # patience starts after min_steps
        done = stale >= cfg.patience or bool(cfg.max_minutes and elapsed > 60 * cfg.max_minutes)
        if state_path is not None:
            result.seconds = elapsed
            save_state(state_path, {
                "net": net.state_dict(), "opt": opt.state_dict(), "rng": rng.bit_generator.state,
                "averaged": None if averaged is None else averaged.state_dict(),
                "torch_rng": torch.get_rng_state(), "result": result, "best": best_state,
                "step": step, "stale": stale, "epoch": epoch, "done": done,
            })  # fmt: skip
        if done:
            break
    if best_state is not None:
        net.load_state_dict(best_state)
    for param in net.parameters():  # frozen for this run only
        param.requires_grad_(True)
    net.eval()
    result.seconds = offset + time.perf_counter() - start
    return result
