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

from searchlab.rlm.decode import sample_numbers
from searchlab.rlm.loss import number_loss, soft_targets
from searchlab.rlm.model import RegressionLM, flushed_subnormals
from searchlab.rlm.numbers import NumberTokenizer
from searchlab.rlm.settings import TrainConfig
from searchlab.rlm.train_state import load_state, save_state

#: padded input tokens per row that a scoring batch may hold (see :func:`padded_chunks`)
TOKENS_PER_ROW = 128


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


@dataclass
class TrainResult:
    """What training did: per-epoch history, the best epoch and its validation tau."""

    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = -1
    best_tau: float = float("nan")
    seconds: float = 0.0
    examples_seen: int = 0


class Encoder:
    """Turns examples into padded token tensors; caches each distinct text's ids."""

    def __init__(self, text_tok: object, num_tok: NumberTokenizer, max_input: int) -> None:
        self.text_tok, self.num_tok, self.max_input = text_tok, num_tok, max_input
        self._texts: dict[str, list[int]] = {}
        self._prefixes: dict[tuple[str, ...], list[int]] = {}

    def input_ids(self, text: str, objectives: tuple[str, ...]) -> list[int]:
        """[BOS] objective names [SEP] text, truncated to the model's input length."""
        if objectives not in self._prefixes:
            names = self.text_tok.encode(" ".join(objectives))
            self._prefixes[objectives] = [self.text_tok.bos_id, *names, self.text_tok.sep_id]
        if text not in self._texts:
            self._texts[text] = self.text_tok.encode(text)
        ids = self._prefixes[objectives] + self._texts[text]
        return ids[: self.max_input]

    def warm(self, texts: Sequence[str]) -> None:
        """Tokenize many texts at once (the batch encoder is much faster)."""
        todo = sorted({t for t in texts if t not in self._texts})
        for text, ids in zip(todo, self.text_tok.encode_batch(todo)):
            self._texts[text] = ids

    def batch(
        self, rows: Sequence[tuple[str, tuple[str, ...]]]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Padded ids [B, S] and pad mask [B, S] (True = padding)."""
        seqs = [self.input_ids(text, objs) for text, objs in rows]
        width = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), width), self.text_tok.pad_id, dtype=torch.long)
        for i, s in enumerate(seqs):
            ids[i, : len(s)] = torch.tensor(s)
        return ids, ids == self.text_tok.pad_id

    def targets(self, examples: Sequence[Example]) -> torch.Tensor:
        """Number token ids [B, T], -100 past an example's last objective."""
        seqs = [[i for v in ex.values for i in self.num_tok.encode(v)] for ex in examples]
        width = max(len(s) for s in seqs)
        out = torch.full((len(seqs), width), -100, dtype=torch.long)
        for i, s in enumerate(seqs):
            out[i, : len(s)] = torch.tensor(s)
        return out


def length_batches(
    lengths: Sequence[int], batch_size: int, rng: np.random.Generator
) -> list[list[int]]:
    """Shuffled batches of similar lengths (less padding), in random order."""
    order = rng.permutation(len(lengths))
    chunk = batch_size * 50
    batches = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start : start + chunk], key=lambda i: lengths[i])
        batches += [part[j : j + batch_size] for j in range(0, len(part), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def padded_chunks(sorted_lengths: Sequence[int], batch: int) -> list[tuple[int, int]]:
    """(start, stop) chunks of ascending lengths: at most ``batch`` rows and, past the first
    row, at most ``batch * TOKENS_PER_ROW`` padded tokens.

    A few long texts (NB201: median 84 tokens, longest 327) would otherwise pad a whole
    batch of 256 to their length: a third of the encoder's work went on padding.
    """
    chunks, start = [], 0
    while start < len(sorted_lengths):
        stop = start + 1
        while (
            stop < len(sorted_lengths)
            and stop - start < batch
            and (stop - start + 1) * sorted_lengths[stop] <= batch * TOKENS_PER_ROW
        ):
            stop += 1
        chunks.append((start, stop))
        start = stop
    return chunks


@torch.no_grad()
def sample_values(
    net: RegressionLM,
    enc: Encoder,
    texts: Sequence[str],
    objectives: tuple[str, ...],
    k: int = 1,
    temperature: float = 0.0,
    seed: int = 0,
    batch: int = 256,
    use_cache: bool = True,
    bounds: Sequence[float | None] | None = None,
) -> np.ndarray:
    """Sampled values [N, k, n_objectives], in batches of similar input length.

    ``bounds``: per objective, None (any valid number) or a positive magnitude: samples are
    then non-negative and below the power of ten above it (``NumberTokenizer.exponent_cap``).
    """
    options: dict = {}
    if bounds is not None:
        options["nonnegative"] = [b is not None for b in bounds]
        options["max_exps"] = [None if b is None else enc.num_tok.exponent_cap(b) for b in bounds]
    net.eval()
    device = next(net.parameters()).device
    lengths = [len(enc.input_ids(text, objectives)) for text in texts]
    order = sorted(range(len(texts)), key=lambda i: lengths[i])
    out = np.zeros((len(texts), k, len(objectives)))
    for start, stop in padded_chunks([lengths[i] for i in order], batch):
        idx = order[start:stop]
        ids, pad = enc.batch([(texts[i], objectives) for i in idx])
        out[idx] = sample_numbers(
            net,
            ids.to(device),
            pad.to(device),
            enc.num_tok,
            len(objectives),
            k=k,
            temperature=temperature,
            seed=seed + start,
            use_cache=use_cache,
            **options,
        )
    return out


def predict_greedy(
    net: RegressionLM, enc: Encoder, examples: Sequence[Example], batch: int
) -> np.ndarray:
    """Most likely digits per objective, [N, n_objectives]; examples must share objectives."""
    texts = [ex.text for ex in examples]
    return sample_values(net, enc, texts, examples[0].objectives, batch=batch)[:, 0, :]


def validation_taus(
    net: RegressionLM, enc: Encoder, examples: Sequence[Example], batch: int
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
    net: RegressionLM,
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
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
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
        result, best_state, step, stale = saved["result"], saved["best"], saved["step"], saved["stale"]
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
            torch.nn.utils.clip_grad_norm_(net.parameters(), cfg.grad_clip)
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
        log(f"epoch {epoch:3d}  loss {mean_loss:.4f}  val tau {tau:.4f}{each}  {elapsed:6.1f}s")
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
    net.eval()
    result.seconds = offset + time.perf_counter() - start
    return result
