"""The training loss: cross-entropy on number tokens, with optional ordinal digit targets.

With ``sigma`` 0 every target is one-hot and the loss is plain cross-entropy. With a
positive ``sigma`` a mantissa digit's target spreads over its neighbours (a Gaussian of
that width in digits), so predicting 6 for a 7 costs less than predicting 2, as it does to
the value; sign and exponent tokens stay one-hot.

Example:
    >>> import torch
    >>> from searchlab.rlm.numbers import NO_TARGET, NumberTokenizer
    >>> from searchlab.rlm.loss import number_loss, soft_targets
    >>> tok = NumberTokenizer(digits=2)
    >>> table = soft_targets(tok, 0.0)
    >>> targets = torch.tensor([tok.encode(4.5) + [NO_TARGET]])
    >>> logits = torch.zeros(1, 5, len(tok.vocab))
    >>> round(number_loss(logits, targets, table).item(), 3)  # uniform logits: log(vocab)
    3.497
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from searchlab.rlm.numbers import NO_TARGET, NumberTokenizer


def soft_targets(num_tok: NumberTokenizer, sigma: float) -> torch.Tensor:
    """[V, V] target distribution per true token: a Gaussian over neighbouring digits for
    mantissa digits (width ``sigma`` digits), one-hot for sign and exponent tokens."""
    if not math.isfinite(sigma) or sigma < 0:
        raise ValueError(f"digit_sigma must be a finite number >= 0, got {sigma!r}")
    table = torch.eye(len(num_tok.vocab))
    if sigma > 0:
        ids = torch.tensor([num_tok.ids[f"<{d}>"] for d in range(10)])
        d = torch.arange(10.0)
        kernel = torch.exp(-((d[:, None] - d[None, :]) ** 2) / (2 * sigma**2))
        table[ids[:, None], ids[None, :]] = kernel / kernel.sum(1, keepdim=True)
    return table


def number_loss(logits: torch.Tensor, targets: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the number tokens against their (soft) targets, skipping NO_TARGET."""
    keep = targets != NO_TARGET
    return F.cross_entropy(logits[keep], table[targets[keep]])  # class probabilities as targets
