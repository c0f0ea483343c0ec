"""The RLM's settings as plain dataclasses (no torch import): network sizes and training.

The CLI's hydra schemas use these same classes, so a config key and its Python name
never drift apart.

Example:
    >>> from searchlab.rlm.settings import NetSizes, TrainConfig
    >>> NetSizes().d_model, TrainConfig().optimizer_name
    (128, 'AdamW')
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Optional


@dataclass
class NetSizes:
    """Sizes of the encoder-decoder (vocabulary sizes come from the tokenizers)."""

    d_model: int = 128
    n_heads: int = 4
    enc_layers: int = 3
    dec_layers: int = 2
    d_ff: int = 512
    dropout: float = 0.0
    max_input: int = 1024
    max_output: int = 64

    def to_dict(self) -> dict[str, int | float]:
        """Plain dict for JSON."""
        return asdict(self)


@dataclass
class TrainConfig:
    """Optimization settings: AdamW, warm-up then cosine decay, early stopping on val tau.

    The warm-up is capped at a tenth of all steps, so tiny fine-tuning sets still train.
    """

    epochs: int = 60
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.01
    warmup_steps: int = 100
    patience: int = 8
    grad_clip: float = 1.0
    seed: int = 0
    max_minutes: Optional[float] = None  # noqa: UP045  (OmegaConf needs typing.Optional)
    #: at least this many optimizer steps (more epochs on small data); patience counts after
    min_steps: int = 0
    eval_batch: int = 256
    #: width, in digits, of the ordinal soft target of each mantissa digit (0: one-hot). A
    #: neighbouring digit then costs less than a far one, as it does to the value
    digit_sigma: float = 0.0
    #: decay of an exponential moving average of the weights, updated every step, that is
    #: validated and kept instead of the raw weights (0: off). It smooths the noise of small
    #: batches on small data sets
    ema: float = 0.0
    #: which weights move: "all", or "decoder" (the encoder, embeddings included, frozen).
    #: Fine-tuning on a few rows then adjusts how numbers are read out of the pretrained
    #: representation instead of rewriting the representation itself
    train_only: str = "all"

    def __post_init__(self) -> None:
        if not 0.0 <= self.ema < 1.0:  # also refuses NaN
            raise ValueError(f"TrainConfig.ema must be in [0, 1), got {self.ema!r}")
        if self.train_only not in ("all", "decoder"):
            raise ValueError(
                f"TrainConfig.train_only must be 'all' or 'decoder', got {self.train_only!r}"
            )

    @property
    def optimizer_name(self) -> str:
        """The optimizer used (for model cards)."""
        return "AdamW"

    def to_dict(self) -> dict[str, object]:
        """Plain dict for JSON."""
        return asdict(self)
