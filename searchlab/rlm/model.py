"""The RLM network: a small pre-LayerNorm encoder-decoder transformer in plain torch.

The encoder reads the objective names and the candidate's ONNX text (one token sequence);
the decoder emits number tokens. Attention is ``scaled_dot_product_attention``. Decoding
keeps two caches: per-layer self-attention keys/values of every sample, and the
cross-attention keys/values of the encoder memory, computed once per candidate: the k
samples of one candidate are k queries against the same keys, so memory is never copied.

Example:
    >>> import torch
    >>> from searchlab.rlm.model import RlmConfig, RlmNetwork
    >>> net = RlmNetwork(RlmConfig(vocab_size=50, num_vocab=33))
    >>> ids = torch.randint(5, 50, (2, 7)); pad = torch.zeros(2, 7, dtype=torch.bool)
    >>> net(ids, pad, torch.zeros(2, 6, dtype=torch.long)).shape
    torch.Size([2, 6, 33])
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from searchlab.rlm.settings import NetSizes

#: each decoder layer's cross-attention (keys, values) of an input batch, and its mask
Encoded = tuple[list[tuple[torch.Tensor, torch.Tensor]], torch.Tensor]


@dataclass(kw_only=True)
class RlmConfig(NetSizes):
    """Network sizes plus vocabularies: ``num_vocab`` number tokens (+1 decoder start token)."""

    vocab_size: int
    num_vocab: int


class Attention(nn.Module):
    """Multi-head attention; keys/values may come from a cache or another sequence."""

    def __init__(self, cfg: RlmConfig) -> None:
        super().__init__()
        self.h, self.dh = cfg.n_heads, cfg.d_model // cfg.n_heads
        self.q = nn.Linear(cfg.d_model, cfg.d_model)
        self.kv = nn.Linear(cfg.d_model, 2 * cfg.d_model)
        self.out = nn.Linear(cfg.d_model, cfg.d_model)
        self.dropout = cfg.dropout

    def split(self, x: torch.Tensor) -> torch.Tensor:
        """[B, T, d] -> [B, H, T, dh]."""
        b, t, _ = x.shape
        return x.view(b, t, self.h, self.dh).transpose(1, 2)

    def keys_values(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Projected keys and values of a sequence, [B, H, T, dh] each."""
        k, v = self.kv(x).chunk(2, dim=-1)
        return self.split(k), self.split(v)

    def attend(
        self,
        x: torch.Tensor,
        k: torch.Tensor,
        v: torch.Tensor,
        mask: torch.Tensor | None = None,
        causal: bool = False,
    ) -> torch.Tensor:
        """Queries from x [B, Q, d] against keys/values [B, H, S, dh]."""
        q = self.split(self.q(x))
        drop = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, dropout_p=drop, is_causal=causal
        )
        b, _, t, _ = y.shape
        return self.out(y.transpose(1, 2).reshape(b, t, self.h * self.dh))


class FeedForward(nn.Sequential):
    """Position-wise MLP."""

    def __init__(self, cfg: RlmConfig) -> None:
        super().__init__(
            nn.Linear(cfg.d_model, cfg.d_ff),
            nn.GELU(),
            nn.Linear(cfg.d_ff, cfg.d_model),
            nn.Dropout(cfg.dropout),
        )


class EncoderLayer(nn.Module):
    """Bidirectional self-attention + MLP, pre-norm."""

    def __init__(self, cfg: RlmConfig) -> None:
        super().__init__()
        self.ln1, self.attn = nn.LayerNorm(cfg.d_model), Attention(cfg)
        self.ln2, self.mlp = nn.LayerNorm(cfg.d_model), FeedForward(cfg)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """x [B, S, d]; mask [B, 1, 1, S] True where attention is allowed."""
        h = self.ln1(x)
        k, v = self.attn.keys_values(h)
        x = x + self.attn.attend(h, k, v, mask)
        return x + self.mlp(self.ln2(x))


class DecoderLayer(nn.Module):
    """Causal self-attention, cross-attention to the encoder memory, MLP; pre-norm."""

    def __init__(self, cfg: RlmConfig) -> None:
        super().__init__()
        self.ln1, self.self_attn = nn.LayerNorm(cfg.d_model), Attention(cfg)
        self.ln2, self.cross = nn.LayerNorm(cfg.d_model), Attention(cfg)
        self.ln3, self.mlp = nn.LayerNorm(cfg.d_model), FeedForward(cfg)

    def forward(
        self,
        x: torch.Tensor,
        cross_kv: tuple[torch.Tensor, torch.Tensor],
        mem_mask: torch.Tensor,
        samples: int = 1,
        cache: tuple[torch.Tensor, torch.Tensor] | None = None,
        start: int = 0,
    ) -> torch.Tensor:
        """x [B*samples, T, d] at positions start..start+T-1.

        With ``cache`` (preallocated keys, values [B*samples, H, max_output, dh]) the new
        keys/values are written at their positions; a single new token then attends over the
        cached prefix. Otherwise the T tokens attend causally among themselves.
        """
        h = self.ln1(x)
        k, v = self.self_attn.keys_values(h)
        end = start + x.shape[1]
        if cache is not None:
            cache[0][:, :, start:end] = k
            cache[1][:, :, start:end] = v
        if cache is not None and x.shape[1] == 1:
            x = x + self.self_attn.attend(h, cache[0][:, :, :end], cache[1][:, :, :end])
        else:
            x = x + self.self_attn.attend(h, k, v, causal=True)
        # the samples of one candidate become extra queries against its one memory
        n, t, d = x.shape
        hq = self.ln2(x).reshape(n // samples, samples * t, d)
        x = x + self.cross.attend(hq, *cross_kv, mem_mask).reshape(n, t, d)
        return x + self.mlp(self.ln3(x))


class RlmNetwork(nn.Module):
    """Encoder-decoder that maps a token sequence to number tokens."""

    def __init__(self, cfg: RlmConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.bos = cfg.num_vocab  # the decoder's start token follows the number tokens
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.enc_pos = nn.Embedding(cfg.max_input, cfg.d_model)
        self.encoder = nn.ModuleList(EncoderLayer(cfg) for _ in range(cfg.enc_layers))
        self.enc_ln = nn.LayerNorm(cfg.d_model)
        self.num_embed = nn.Embedding(cfg.num_vocab + 1, cfg.d_model)
        self.dec_pos = nn.Embedding(cfg.max_output, cfg.d_model)
        self.decoder = nn.ModuleList(DecoderLayer(cfg) for _ in range(cfg.dec_layers))
        self.dec_ln = nn.LayerNorm(cfg.d_model)
        self.head = nn.Linear(cfg.d_model, cfg.num_vocab)
        self.apply(self._init)

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def encode(self, ids: torch.Tensor, pad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Encoder memory [B, S, d] and its attention mask [B, 1, 1, S] (True = attend)."""
        if ids.shape[1] > self.cfg.max_input:
            raise ValueError(
                f"input of {ids.shape[1]} tokens exceeds max_input {self.cfg.max_input}"
            )
        pos = torch.arange(ids.shape[1], device=ids.device)
        x = self.embed(ids) + self.enc_pos(pos)
        mask = (~pad)[:, None, None, :]
        for layer in self.encoder:
            x = layer(x, mask)
        return self.enc_ln(x), mask

    def cross_kv(self, memory: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Each decoder layer's cross-attention keys/values of the memory, computed once."""
        return [layer.cross.keys_values(memory) for layer in self.decoder]

    def encoded(self, ids: torch.Tensor, pad: torch.Tensor) -> Encoded:
        """What decoding needs of the inputs: each decoder layer's cross-attention keys/values
        and the memory's mask. Computed once per input, shared by all its samples and by the
        point estimator: the encoder is most of a scoring pass's time."""
        memory, mask = self.encode(ids, pad)
        return self.cross_kv(memory), mask

    def decode(
        self,
        dec_ids: torch.Tensor,
        cross: list[tuple[torch.Tensor, torch.Tensor]],
        mem_mask: torch.Tensor,
        samples: int = 1,
        start: int = 0,
        cache: list[tuple[torch.Tensor, torch.Tensor]] | None = None,
    ) -> torch.Tensor:
        """Logits [B*samples, T, num_vocab] for decoder tokens at positions start..start+T-1.

        With ``cache`` (per layer, preallocated [B*samples, H, max_output, dh] keys and
        values), new keys/values are written at their positions and attention reads the
        prefix from the cache; without it, the whole sequence attends causally.
        """
        pos = torch.arange(start, start + dec_ids.shape[1], device=dec_ids.device)
        x = self.num_embed(dec_ids) + self.dec_pos(pos)
        for i, layer in enumerate(self.decoder):
            x = layer(x, cross[i], mem_mask, samples, None if cache is None else cache[i], start)
        return self.head(self.dec_ln(x))

    def new_cache(
        self, batch: int, device: torch.device, length: int | None = None
    ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Self-attention caches for ``batch`` sequences of up to ``length`` decoder tokens.

        Left uninitialized: a step writes its position before any step reads it, and
        allocating only the steps a decode needs (not ``max_output``) saved ~10 % of scoring.
        """
        length = self.cfg.max_output if length is None else length
        if not 0 < length <= self.cfg.max_output:
            raise ValueError(f"cache length must be in 1..{self.cfg.max_output}, got {length}")
        h, dh = self.cfg.n_heads, self.cfg.d_model // self.cfg.n_heads
        shape = (batch, h, length, dh)
        dtype = self.embed.weight.dtype
        return [
            (
                torch.empty(shape, device=device, dtype=dtype),
                torch.empty(shape, device=device, dtype=dtype),
            )
            for _ in self.decoder
        ]

    def forward(self, ids: torch.Tensor, pad: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits [B, T, num_vocab] predicting ``targets`` [B, T]."""
        memory, mask = self.encode(ids, pad)
        start = torch.full_like(targets[:, :1], self.bos)
        dec_in = torch.cat([start, targets[:, :-1].clamp(min=0)], dim=1)
        return self.decode(dec_in, self.cross_kv(memory), mask)

    def num_parameters(self) -> int:
        """Trainable parameter count."""
        return sum(p.numel() for p in self.parameters())

    def grow_vocab(self, vocab_size: int) -> None:
        """Append embedding rows for new input tokens (initialized to the mean row)."""
        old = self.embed.weight.data
        if vocab_size <= old.shape[0]:
            return
        extra = old.mean(0, keepdim=True).repeat(vocab_size - old.shape[0], 1)
        self.embed = nn.Embedding(vocab_size, old.shape[1]).to(old.device)
        self.embed.weight.data.copy_(torch.cat([old, extra + 0.02 * torch.randn_like(extra)]))
        self.cfg.vocab_size = vocab_size


@contextmanager
def flushed_subnormals() -> Iterator[None]:
    """Flush subnormal floats to zero inside the block, then restore the previous mode.

    Adam's moments of rarely used embedding rows decay into subnormal floats, which the CPU
    computes on ~10x slower: measured 21-31 against 175-250 training examples/s.
    """
    before = torch.tensor(1e-40).item() == 0.0  # already flushing?
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(before)


def pick_device(device: str = "auto") -> torch.device:
    """``auto`` picks CUDA when present, else the CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)
