"""RegressionLanguageModel: create or load an RLM, fit or fine-tune it, predict densities.

Example:
    >>> from searchlab.rlm.regressor import RegressionLanguageModel
    >>> from searchlab.rlm.train import Example, TrainConfig
    >>> texts = [f"g{i} (x) => (y) {{ y = Relu (x) }}" for i in range(6)]
    >>> rlm = RegressionLanguageModel.create(texts, vocab_size=300, d_model=32, enc_layers=1,
    ...                                      dec_layers=1, d_ff=64, n_heads=2, device="cpu")
    >>> _ = rlm.fit([Example(t, ("y",), (float(i),)) for i, t in enumerate(texts)],
    ...             cfg=TrainConfig(epochs=1), log=lambda s: None)
    >>> rlm.predict(texts[:2], ["y"], k=3).samples.shape
    (2, 3, 1)
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from searchlab.core.candidate import text_key
from searchlab.rlm.checkpoint import CheckpointError, check_state, read_folder, write_folder
from searchlab.rlm.decode import Density, sample_values
from searchlab.rlm.model import RlmConfig, RlmNetwork, pick_device
from searchlab.rlm.numbers import NumberTokenizer
from searchlab.rlm.point import point_values, point_values_each, samples_and_points
from searchlab.rlm.text import TextTokenizer, TokenizerError
from searchlab.rlm.train import (
    Encoder,
    Example,
    TrainConfig,
    TrainResult,
    train,
)
from searchlab.rlm.transfer import decoded_names, map_decoded

#: decoded rows kept for reuse while the weights stay the same (a few MB at most)
REUSE_ROWS = 200_000


class RegressionLanguageModel:
    """Tokenizers + network + model card: the surrogate searchlab scores candidates with."""

    def __init__(
        self,
        net: RlmNetwork,
        text_tok: TextTokenizer,
        num_tok: NumberTokenizer,
        card: dict[str, Any] | None = None,
        device: str = "auto",
    ) -> None:
        self.device = pick_device(device)
        self.net = net.to(self.device).eval()
        self.text_tok, self.num_tok = text_tok, num_tok
        self.card: dict[str, Any] = card or {"trained_on": [], "fits": []}
        self.batcher = Encoder(text_tok, num_tok, net.cfg.max_input)
        self.name = self.card.get("name", "unsaved")
        #: (text, decoding settings) -> its decoded [k + 1, names] row, for ``reuse``; emptied
        #: whenever the weights change
        self._decoded: OrderedDict[tuple[str, tuple], np.ndarray] = OrderedDict()

    @classmethod
    def create(
        cls,
        corpus: Sequence[str],
        vocab_size: int = 2048,
        digits: int = 4,
        min_exp: int = -10,
        max_exp: int = 10,
        device: str = "auto",
        seed: int = 0,
        split: str = "lines",
        **net_sizes: Any,
    ) -> RegressionLanguageModel:
        """A fresh model whose input tokenizer is learned on ``corpus`` (candidate texts)."""
        text_tok = TextTokenizer.train(corpus, vocab_size=vocab_size, split=split)
        num_tok = NumberTokenizer(digits=digits, min_exp=min_exp, max_exp=max_exp)
        torch.manual_seed(seed)
        cfg = RlmConfig(vocab_size=text_tok.vocab_size, num_vocab=len(num_tok.vocab), **net_sizes)
        return cls(RlmNetwork(cfg), text_tok, num_tok, device=device)

    # ----- persistence -------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """Write the checkpoint folder (weights, config, tokenizer, model card)."""
        directory = Path(directory)
        self.card["name"] = self.name = directory.name
        config = {"model": self.net.cfg.to_dict(), "numbers": self.num_tok.config()}
        return write_folder(directory, self.net.state_dict(), config, self.card, self.text_tok.save)

    @classmethod
    def load(cls, directory: str | Path, device: str = "auto") -> RegressionLanguageModel:
        """Read a checkpoint folder; CheckpointError names whatever is wrong with it."""
        directory = Path(directory)
        config, state, card = read_folder(directory)
        try:
            cfg = RlmConfig(**config["model"])
            num_tok = NumberTokenizer(**config["numbers"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"{directory / 'config.json'}: bad model config: {exc}") from None
        try:
            text_tok = TextTokenizer.load(directory)
        except TokenizerError as exc:
            raise CheckpointError(str(exc)) from None
        if text_tok.vocab_size != cfg.vocab_size:
            raise CheckpointError(
                f"{directory}: tokenizer has {text_tok.vocab_size} tokens, "
                f"the model {cfg.vocab_size}"
            )
        net = RlmNetwork(cfg)
        check_state(state, net.state_dict(), directory / "model.safetensors")
        net.load_state_dict(state)
        card.setdefault("name", directory.name)
        return cls(net, text_tok, num_tok, card, device)

    # ----- training ----------------------------------------------------------------------
    def fit(
        self,
        train_set: Sequence[Example],
        val_set: Sequence[Example] = (),
        cfg: TrainConfig | None = None,
        log: Callable[[str], None] = print,
        source: dict[str, Any] | None = None,
        extend_tokenizer: bool = True,
        state_path: str | Path | None = None,
    ) -> TrainResult:
        """Train (or fine-tune) on examples; record what was seen in the model card.

        ``state_path``: where the run keeps its state after each epoch, to resume a killed run.
        """
        cfg = cfg or TrainConfig()
        self._decoded.clear()  # new weights: nothing decoded before still holds
        if extend_tokenizer:
            self._extend([ex.text for ex in train_set])
        result = train(self.net, self.batcher, train_set, val_set, cfg, log, state_path)
        self.card.setdefault("trained_on", []).append(
            {
                **(source or {}),
                "columns": sorted({o for ex in train_set for o in ex.objectives}),
                "keys": sorted({text_key(ex.text) for ex in train_set}),
            }
        )
        self.card.setdefault("fits", []).append(
            {
                "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
                "examples": len(train_set),
                "validation_examples": len(val_set),
                "best_epoch": result.best_epoch,
                "best_val_tau": result.best_tau,
                "seconds": round(result.seconds, 1),
                "train_config": cfg.to_dict(),
            }
        )
        return result

    def _extend(self, texts: Sequence[str]) -> None:
        bigger = self.text_tok.extend(texts)
        if bigger.vocab_size > self.text_tok.vocab_size:
            self.net.grow_vocab(bigger.vocab_size)
            self.net.to(self.device)
            self.text_tok = bigger
            self.batcher = Encoder(bigger, self.num_tok, self.net.cfg.max_input)

    # ----- prediction --------------------------------------------------------------------
    def predict(
        self,
        texts: Sequence[str],
        objectives: Sequence[str],
        k: int = 8,
        temperature: float = 1.0,
        seed: int = 0,
        batch_size: int = 256,
        use_cache: bool = True,
        bounds: Mapping[str, float] | None = None,
    ) -> Density:
        """k samples per text of each objective, decoded jointly in the order given.

        ``bounds`` maps objectives to a positive magnitude: their samples are non-negative
        and below the power of ten above it (rare wild exponents cannot appear). An objective
        linked to a proxy (model card ``links``, :mod:`searchlab.rlm.transfer`) is decoded
        as its proxy, alone, and mapped to its own units.
        """
        if not objectives:
            raise ValueError("predict needs at least one objective")

        def draw(names: tuple[str, ...], limits: list[float | None] | None) -> np.ndarray:
            return sample_values(
                self.net, self.batcher, texts, names, k, temperature, seed, batch_size,
                use_cache, limits,
            )  # fmt: skip

        samples, index, links = self._decode(texts, objectives, bounds, draw)
        rng = np.random.default_rng([seed, 1])  # the links' errors, seeded like the digits
        return Density(list(objectives), map_decoded(samples, objectives, index, links, rng))

    def predict_point(
        self,
        texts: Sequence[str],
        objectives: Sequence[str],
        q: float = 0.5,
        batch_size: int = 256,
        bounds: Mapping[str, float] | None = None,
    ) -> np.ndarray:
        """[N, n_objectives] deterministic q-quantiles of the decoder's digit distribution
        (see :mod:`searchlab.rlm.point`): the point value that ranks."""
        if not objectives:
            raise ValueError("predict_point needs at least one objective")

        def read(names: tuple[str, ...], limits: list[float | None] | None) -> np.ndarray:
            return point_values(self.net, self.batcher, texts, names, q, batch_size, limits)

        points, index, links = self._decode(texts, objectives, bounds, read)
        return map_decoded(points, objectives, index, links)

    def predict_with_point(
        self,
        texts: Sequence[str],
        objectives: Sequence[str],
        k: int = 8,
        temperature: float = 1.0,
        seed: int = 0,
        q: float = 0.5,
        batch_size: int = 256,
        bounds: Mapping[str, float] | None = None,
        reuse: bool = False,
    ) -> tuple[Density, np.ndarray]:
        """:meth:`predict` and :meth:`predict_point` at once, the same values as each gives
        alone, from one encoder pass per decoded name instead of two.

        ``reuse``: a text decoded before under the same weights and settings keeps the
        samples and point it was given then (one draw per text, as common random numbers),
        and only new texts are decoded, with ``seed``. A campaign's pools repeat a third of
        their candidates from round to round; this is the time that saves.
        """
        if not objectives:
            raise ValueError("predict_with_point needs at least one objective")

        def fresh(
            some: Sequence[str], names: tuple[str, ...], limits: list[float | None] | None
        ) -> np.ndarray:
            return samples_and_points(
                self.net, self.batcher, some, names, k, temperature, seed, q, batch_size, limits
            )

        def both(names: tuple[str, ...], limits: list[float | None] | None) -> np.ndarray:
            if not reuse:
                return fresh(texts, names, limits)
            spec = (names, None if limits is None else tuple(limits), k, temperature, q)
            out = np.empty((len(texts), k + 1, len(names)))
            todo = [i for i, t in enumerate(texts) if (t, spec) not in self._decoded]
            new = fresh([texts[i] for i in todo], names, limits) if todo else out[:0]
            for i, row in zip(todo, new):
                self._decoded[(texts[i], spec)] = row
            for i, t in enumerate(texts):
                out[i] = self._decoded[(t, spec)]
                self._decoded.move_to_end((t, spec))
            while len(self._decoded) > REUSE_ROWS:
                self._decoded.popitem(last=False)
            return out

        decoded, index, links = self._decode(texts, objectives, bounds, both)
        rng = np.random.default_rng([seed, 1])  # the links' errors, as predict draws them
        samples = map_decoded(decoded[:, :k], objectives, index, links, rng)
        return Density(list(objectives), samples), map_decoded(
            decoded[:, k], objectives, index, links
        )

    def _decode(
        self,
        texts: Sequence[str],
        objectives: Sequence[str],
        bounds: Mapping[str, float] | None,
        decode: Callable[[tuple[str, ...], list[float | None] | None], np.ndarray],
    ) -> tuple[np.ndarray, list[int], dict[str, Any]]:
        """Run ``decode(names, bounds)`` on what ``objectives`` need (a linked one as its
        proxy; see :func:`_decoding_groups`); return the decoded values [..., n_decoded], each
        objective's index among them and the links that map them."""
        self.batcher.warm(texts)
        links = self.card.get("links", {})
        names, index = decoded_names(tuple(objectives), links)
        groups = _decoding_groups(names, objectives, links)
        parts = [
            decode(
                tuple(names[i] for i in group),
                None if not bounds else [bounds.get(names[i]) for i in group],
            )
            for group in groups
        ]
        order = np.argsort(np.concatenate(groups))  # back to the order of ``names``
        return np.concatenate(parts, axis=-1)[..., order], index, links

    def predict_point_each(
        self, texts: Sequence[str], objectives: Sequence[str], q: float = 0.5
    ) -> np.ndarray:
        """[N, n_objectives] q-quantiles of each objective asked alone, in one batched pass
        (the objectives' own columns, never links: what choosing a proxy compares)."""
        self.batcher.warm(texts)
        return point_values_each(self.net, self.batcher, texts, list(objectives), q)

    def seen_keys(self, column: str | None = None) -> set[str]:
        """Candidate keys the model trained on (for one column, or any)."""
        out: set[str] = set()
        for group in self.card.get("trained_on", []):
            if column is None or column in group.get("columns", []):
                out.update(group.get("keys", []))
        return out


def _decoding_groups(
    names: Sequence[str], objectives: Sequence[str], links: Mapping[str, Any]
) -> list[list[int]]:
    """Indices into ``names`` decoded together: all of them jointly, unless an objective is
    linked; then each alone. Pretraining taught each column alone (its solo examples) far
    better than after other names: cifar100 decoded first of two ranked held-out cifar10 in a
    campaign at tau 0.60, alone at 0.77."""
    if any(o in links for o in objectives):
        return [[i] for i in range(len(names))]
    return [list(range(len(names)))]
