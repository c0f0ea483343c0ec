"""Constrained, KV-cached sampling of several objectives, and the predictive density it gives.

Objectives are decoded in the order asked, one fixed-length number each; every token is
drawn under the precomputed mask of its position, so each sequence decodes to a valid number.
Sampling is Gumbel-max with noise drawn up front from one generator, so the cached and the
uncached decoder draw identical samples for the same seed.

Example:
    >>> import torch
    >>> from searchlab.rlm.model import RlmConfig, RlmNetwork
    >>> from searchlab.rlm.numbers import NumberTokenizer
    >>> from searchlab.rlm.decode import sample_numbers
    >>> tok = NumberTokenizer(digits=3)
    >>> net = RlmNetwork(RlmConfig(vocab_size=40, num_vocab=len(tok.vocab))).eval()
    >>> ids = torch.randint(5, 40, (2, 9)); pad = torch.zeros(2, 9, dtype=torch.bool)
    >>> values = sample_numbers(net, ids, pad, tok, n_objectives=2, k=4, seed=0)
    >>> values.shape
    (2, 4, 2)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import torch

from searchlab.rlm.batching import Encoder, bound_options, scoring_chunks
from searchlab.rlm.model import Encoded, RlmNetwork, flushed_subnormals
from searchlab.rlm.numbers import NumberTokenizer


@lru_cache(maxsize=64)
def _allowed(masks_key: bytes, shape: tuple[int, int]) -> torch.Tensor:
    return torch.from_numpy(np.frombuffer(masks_key, dtype=bool).reshape(shape).copy())


def allowed_tokens(
    tok: NumberTokenizer,
    n_objectives: int,
    nonnegative: bool | Sequence[bool] = False,
    max_exps: Sequence[int | None] | None = None,
) -> torch.Tensor:
    """[n_objectives * length, vocab] mask of the tokens allowed at each decoder step.

    Per objective, ``nonnegative`` forbids the minus sign and ``max_exps`` the exponent
    tokens above it (a magnitude bound: no sample of an accuracy at 1e12 %).
    """
    signs = [nonnegative] * n_objectives if isinstance(nonnegative, bool) else list(nonnegative)
    caps = list(max_exps) if max_exps is not None else [None] * n_objectives
    if len(signs) != n_objectives or len(caps) != n_objectives:
        raise ValueError(f"need one sign and exponent bound per objective ({n_objectives})")
    blocks = []
    for positive, cap in zip(signs, caps):
        masks = tok.masks.copy()
        if positive:
            masks[0, tok.ids["<->"]] = False
        if cap is not None:
            cap = min(max(int(cap), tok.min_exp), tok.max_exp)  # keep at least one exponent
            for e in range(cap + 1, tok.max_exp + 1):
                masks[-1, tok.ids[f"<E{e}>"]] = False
        blocks.append(masks)
    stacked = np.concatenate(blocks)
    return _allowed(stacked.tobytes(), stacked.shape)


@torch.no_grad()
@flushed_subnormals()
def sample_tokens(
    net: RlmNetwork,
    ids: torch.Tensor,
    pad: torch.Tensor,
    tok: NumberTokenizer,
    n_objectives: int,
    k: int = 8,
    temperature: float = 1.0,
    seed: int = 0,
    use_cache: bool = True,
    nonnegative: bool | Sequence[bool] = False,
    max_exps: Sequence[int | None] | None = None,
    encoded: Encoded | None = None,
) -> torch.Tensor:
    """Token ids [B, k, n_objectives * length] of k constrained samples per input.

    ``encoded``: ``(net.cross_kv(memory), mem_mask)`` of these inputs, when the caller has
    encoded them already (the encoder is most of a scoring pass's time)."""
    batch, device = ids.shape[0], ids.device
    steps = n_objectives * tok.length
    if steps + 1 > net.cfg.max_output:
        raise ValueError(
            f"{n_objectives} objectives need {steps + 1} decoder positions, "
            f"the model has {net.cfg.max_output}"
        )
    allowed = allowed_tokens(tok, n_objectives, nonnegative, max_exps).to(device)
    # cross-attention keys/values once per candidate, shared by its k samples
    cross, mem_mask = encoded if encoded is not None else net.encoded(ids, pad)
    n = batch * k
    gen = torch.Generator(device="cpu").manual_seed(seed)
    uniform = torch.rand((steps, n, allowed.shape[1]), generator=gen).to(device)
    gumbel = -torch.log(-torch.log(uniform.clamp_min(1e-20)))
    out = torch.empty((n, steps), dtype=torch.long, device=device)
    bos = torch.full((n, 1), net.bos, dtype=torch.long, device=device)
    cache = net.new_cache(n, device, steps) if use_cache else None
    step_in = bos
    for t in range(steps):
        if use_cache:
            logits = net.decode(step_in, cross, mem_mask, samples=k, start=t, cache=cache)[:, -1]
        else:  # re-run the decoder over the whole prefix: the reference the cache must match
            prefix = torch.cat([bos, out[:, :t]], dim=1)
            logits = net.decode(prefix, cross, mem_mask, samples=k)[:, -1]
        logits = logits.float().masked_fill(~allowed[t], float("-inf"))
        if temperature > 0:
            choice = torch.argmax(logits / temperature + gumbel[t], dim=-1)
        else:
            choice = torch.argmax(logits, dim=-1)
        out[:, t] = choice
        step_in = choice[:, None]
    return out.view(batch, k, steps)


def sample_numbers(
    net: RlmNetwork,
    ids: torch.Tensor,
    pad: torch.Tensor,
    tok: NumberTokenizer,
    n_objectives: int,
    k: int = 8,
    **options: Any,
) -> np.ndarray:
    """Sampled values [B, k, n_objectives]; ``options`` as for :func:`sample_tokens`."""
    tokens = sample_tokens(net, ids, pad, tok, n_objectives, k=k, **options)
    shaped = tokens.cpu().numpy().reshape(ids.shape[0], k, n_objectives, tok.length)
    return tok.decode_many(shaped)


@dataclass
class Density:
    """k samples per candidate and objective; summaries are computed over the samples."""

    objectives: list[str]
    samples: np.ndarray  # [N, k, n_objectives]

    def median(self) -> np.ndarray:
        """[N, n_objectives] sample medians."""
        return np.median(self.samples, axis=1)

    def mean(self) -> np.ndarray:
        """[N, n_objectives] sample means."""
        return self.samples.mean(axis=1)

    def quantile(self, q: float) -> np.ndarray:
        """[N, n_objectives] sample quantile q in [0, 1]."""
        return np.quantile(self.samples, q, axis=1)

    def spread(self) -> np.ndarray:
        """[N, n_objectives] sample standard deviations."""
        return self.samples.std(axis=1)

    def interval(self, coverage: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
        """Central interval holding ``coverage`` of the samples: (low, high)."""
        tail = (1.0 - coverage) / 2
        return self.quantile(tail), self.quantile(1.0 - tail)

    def column(self, objective: str) -> np.ndarray:
        """[N, k] samples of one objective."""
        return self.samples[:, :, self.objectives.index(objective)]


@torch.no_grad()
def sample_values(
    net: RlmNetwork,
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
    options = bound_options(enc, bounds)
    net.eval()
    device = next(net.parameters()).device
    out = np.zeros((len(texts), k, len(objectives)))
    for start, idx, ids, pad in scoring_chunks(enc, texts, objectives, batch, device):
        out[idx] = sample_numbers(
            net,
            ids,
            pad,
            enc.num_tok,
            len(objectives),
            k=k,
            temperature=temperature,
            seed=seed + start,
            use_cache=use_cache,
            **options,
        )
    return out
