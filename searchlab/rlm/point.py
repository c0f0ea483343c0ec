"""A deterministic point prediction from the decoder's own digit distribution.

Greedy digits snap every prediction to the most likely path, so a poorly separated model
puts hundreds of candidates on a few dozen values and ranks them by ties. Here each number
is read as a quantile of its distribution instead: mantissa digits come most significant
first, so for a fixed sign and exponent their lexicographic order is the numeric order, and
walking down the digit tree keeping the target quantile gives the distribution's q-quantile
in one pass (the cost of a greedy decode). At each mantissa step, with ``p`` the allowed
digits' probabilities and ``q`` the target quantile::

    digit d = first digit whose cumulative probability exceeds q
    q      <- (q - P(digit < d)) / p(d)          # the quantile left inside d's branch

After the last digit the remaining ``q`` places the value inside that digit's rounding bin,
so the prediction is continuous, not one of 10^digits steps. Sign and exponent are decoded
greedily (the exponent comes last: it cannot steer the mantissa's order). Later objectives
are conditioned on the tokens chosen for earlier ones, as in sampling.

Example:
    >>> import torch
    >>> from searchlab.rlm.model import RlmConfig, RlmNetwork
    >>> from searchlab.rlm.numbers import NumberTokenizer
    >>> from searchlab.rlm.point import quantile_numbers
    >>> tok = NumberTokenizer(digits=3)
    >>> net = RlmNetwork(RlmConfig(vocab_size=40, num_vocab=len(tok.vocab))).eval()
    >>> ids = torch.randint(5, 40, (2, 9)); pad = torch.zeros(2, 9, dtype=torch.bool)
    >>> quantile_numbers(net, ids, pad, tok, n_objectives=2).shape
    (2, 2)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from searchlab.rlm.batching import Encoder, bound_options, pair_chunks, scoring_chunks
from searchlab.rlm.decode import allowed_tokens, sample_numbers
from searchlab.rlm.model import Encoded, RlmNetwork, flushed_subnormals
from searchlab.rlm.numbers import NumberTokenizer


@torch.no_grad()
@flushed_subnormals()
def quantile_numbers(
    net: RlmNetwork,
    ids: torch.Tensor,
    pad: torch.Tensor,
    tok: NumberTokenizer,
    n_objectives: int,
    q: float = 0.5,
    nonnegative: bool | Sequence[bool] = False,
    max_exps: Sequence[int | None] | None = None,
    encoded: Encoded | None = None,
) -> np.ndarray:
    """Values [B, n_objectives]: each objective's q-quantile, decoded in order;
    ``encoded`` as for :func:`searchlab.rlm.decode.sample_tokens`."""
    if not 0.0 < q < 1.0:
        raise ValueError(f"quantile must be in (0, 1), got {q!r}")
    batch, device = ids.shape[0], ids.device
    steps = n_objectives * tok.length
    allowed = allowed_tokens(tok, n_objectives, nonnegative, max_exps).to(device)
    digit_ids = torch.tensor([tok.ids[f"<{d}>"] for d in range(10)], device=device)
    cross, mem_mask = encoded if encoded is not None else net.encoded(ids, pad)
    cache = net.new_cache(batch, device, steps)
    out = torch.empty((batch, steps), dtype=torch.long, device=device)
    inside = torch.zeros((batch, n_objectives), dtype=torch.float64)  # last digit's residual q
    step_in = torch.full((batch, 1), net.bos, dtype=torch.long, device=device)
    for t in range(steps):
        logits = net.decode(step_in, cross, mem_mask, start=t, cache=cache)[:, -1].float()
        logits = logits.masked_fill(~allowed[t], float("-inf"))
        pos = t % tok.length
        if pos == 0:  # a new number: its own target quantile
            left = torch.full((batch,), q, dtype=torch.float64, device=device)
        if 1 <= pos <= tok.digits:
            p = torch.softmax(logits, dim=-1)[:, digit_ids].double()
            cdf = torch.cumsum(p, dim=-1)
            digit = torch.searchsorted(cdf, left[:, None] * cdf[:, -1:]).clamp(max=9)[:, 0]
            below = torch.where(
                digit > 0, cdf.gather(1, (digit - 1).clamp(min=0)[:, None])[:, 0], 0
            )
            mass = p.gather(1, digit[:, None])[:, 0].clamp_min(1e-12)
            left = ((left * cdf[:, -1] - below) / mass).clamp(0.0, 1.0)
            choice = digit_ids[digit]
            if pos == tok.digits:
                inside[:, t // tok.length] = left.cpu()
        else:
            choice = torch.argmax(logits, dim=-1)
        out[:, t] = choice
        step_in = choice[:, None]
    tokens = out.cpu().numpy().reshape(batch, n_objectives, tok.length)
    values = tok.decode_many(tokens)
    # place the value inside its last digit's rounding bin: +-half a unit of that digit
    exps = tokens[..., -1] - tok.ids[f"<E{tok.min_exp}>"] + tok.min_exp
    signs = np.where(tokens[..., 0] == tok.ids["<->"], -1.0, 1.0)
    return values + signs * (inside.numpy() - 0.5) * np.power(10.0, exps)


def point_values(
    net: RlmNetwork,
    enc: Encoder,
    texts: Sequence[str],
    objectives: tuple[str, ...],
    q: float = 0.5,
    batch: int = 256,
    bounds: Sequence[float | None] | None = None,
) -> np.ndarray:
    """[N, n_objectives] q-quantiles, in batches of similar input length (as sampling)."""
    options = bound_options(enc, bounds)
    net.eval()
    device = next(net.parameters()).device
    out = np.zeros((len(texts), len(objectives)))
    for _, idx, ids, pad in scoring_chunks(enc, texts, objectives, batch, device):
        out[idx] = quantile_numbers(net, ids, pad, enc.num_tok, len(objectives), q, **options)
    return out


def point_values_each(
    net: RlmNetwork,
    enc: Encoder,
    texts: Sequence[str],
    objectives: Sequence[str],
    q: float = 0.5,
    batch: int = 256,
) -> np.ndarray:
    """[N, n_objectives] q-quantiles, each objective decoded alone (not conditioned on the
    others), all (text, objective) pairs in one pass of batches: many columns of a few
    texts cost a few large batches instead of one small batch per column."""
    net.eval()
    device = next(net.parameters()).device
    pairs = [(text, (name,)) for name in objectives for text in texts]
    flat = np.zeros(len(pairs))
    for _, idx, ids, pad in pair_chunks(enc, pairs, batch, device):
        flat[idx] = quantile_numbers(net, ids, pad, enc.num_tok, 1, q)[:, 0]
    return flat.reshape(len(objectives), len(texts)).T


@torch.no_grad()
@flushed_subnormals()
def samples_and_points(
    net: RlmNetwork,
    enc: Encoder,
    texts: Sequence[str],
    objectives: tuple[str, ...],
    k: int,
    temperature: float = 1.0,
    seed: int = 0,
    q: float = 0.5,
    batch: int = 256,
    bounds: Sequence[float | None] | None = None,
) -> np.ndarray:
    """[N, k + 1, n_objectives]: k samples (those ``sample_values`` draws with the same
    seed) and, last, the q-quantile point (that of :func:`point_values`), both decoded from
    one encoder pass per chunk instead of two."""
    options = bound_options(enc, bounds)
    net.eval()
    device = next(net.parameters()).device
    out = np.zeros((len(texts), k + 1, len(objectives)))
    for start, idx, ids, pad in scoring_chunks(enc, texts, objectives, batch, device):
        encoded = net.encoded(ids, pad)
        n = len(objectives)
        out[idx, :k] = sample_numbers(
            net, ids, pad, enc.num_tok, n, k=k, temperature=temperature, seed=seed + start,
            encoded=encoded, **options,
        )  # fmt: skip
        out[idx, k] = quantile_numbers(net, ids, pad, enc.num_tok, n, q, encoded=encoded, **options)
    return out
