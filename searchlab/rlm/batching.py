"""Batching for the RLM: token ids of examples, length-sorted training batches, and scoring
chunks bounded by padded tokens.

Example:
    >>> from searchlab.rlm.batching import padded_chunks
    >>> padded_chunks([10, 10, 12, 300], batch=4)  # the long text gets a chunk of its own
    [(0, 3), (3, 4)]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch

from searchlab.rlm.numbers import NO_TARGET, NumberTokenizer

if TYPE_CHECKING:
    from searchlab.rlm.train import Example

#: padded input tokens per row that a scoring batch may hold (see :func:`padded_chunks`)
TOKENS_PER_ROW = 128


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
        """Number token ids [B, T], ``NO_TARGET`` past an example's last objective."""
        seqs = [[i for v in ex.values for i in self.num_tok.encode(v)] for ex in examples]
        width = max(len(s) for s in seqs)
        out = torch.full((len(seqs), width), NO_TARGET, dtype=torch.long)
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


def bound_options(enc: Encoder, bounds: Sequence[float | None] | None) -> dict:
    """Decoding options for per-objective magnitude bounds (None: any valid number)."""
    if bounds is None:
        return {}
    return {
        "nonnegative": [b is not None for b in bounds],
        "max_exps": [None if b is None else enc.num_tok.exponent_cap(b) for b in bounds],
    }


def scoring_chunks(
    enc: Encoder,
    texts: Sequence[str],
    objectives: tuple[str, ...],
    batch: int,
    device: torch.device,
) -> Iterator[tuple[int, list[int], torch.Tensor, torch.Tensor]]:
    """(start, row indices, ids, pad) of each scoring chunk, shortest inputs first."""
    return pair_chunks(enc, [(text, objectives) for text in texts], batch, device)


def pair_chunks(
    enc: Encoder,
    pairs: Sequence[tuple[str, tuple[str, ...]]],
    batch: int,
    device: torch.device,
) -> Iterator[tuple[int, list[int], torch.Tensor, torch.Tensor]]:
    """:func:`scoring_chunks` of (text, objectives) pairs, each with its own objectives."""
    lengths = [len(enc.input_ids(text, names)) for text, names in pairs]
    order = sorted(range(len(pairs)), key=lambda i: lengths[i])
    for start, stop in padded_chunks([lengths[i] for i in order], batch):
        idx = order[start:stop]
        ids, pad = enc.batch([pairs[i] for i in idx])
        yield start, idx, ids.to(device), pad.to(device)
