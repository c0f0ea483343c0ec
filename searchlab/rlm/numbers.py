"""P10 number tokens: a value becomes a sign, ``digits`` mantissa digits and an exponent.

``72.5`` with 3 digits is ``<+><7><2><5><E-1>`` (725 x 10^-1). Every number has the same
length, so constrained decoding is one fixed mask per position, computed once.

Example:
    >>> from searchlab.rlm.numbers import NumberTokenizer
    >>> tok = NumberTokenizer(digits=3)
    >>> tok.tokens(72.5)
    ['<+>', '<7>', '<2>', '<5>', '<E-1>']
    >>> tok.decode(tok.encode(-0.001234))
    -0.00123
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np

#: the target id of positions past an example's last number: the loss skips them
NO_TARGET = -100


class NumberRangeWarning(UserWarning):
    """A value lay outside the representable range and was clipped."""


class NumberTokenizer:
    """Fixed-length sign / mantissa / exponent tokenization of real numbers."""

    def __init__(self, digits: int = 4, min_exp: int = -10, max_exp: int = 10) -> None:
        if digits < 1 or min_exp > max_exp:
            raise ValueError(
                f"need digits >= 1 and min_exp <= max_exp, got {digits}, {min_exp}, {max_exp}"
            )
        self.digits, self.min_exp, self.max_exp = digits, min_exp, max_exp
        self.vocab = ["<+>", "<->"] + [f"<{d}>" for d in range(10)]
        self.vocab += [f"<E{e}>" for e in range(min_exp, max_exp + 1)]
        self.ids = {t: i for i, t in enumerate(self.vocab)}
        self.length = digits + 2
        self.masks = self._masks()

    @property
    def max_value(self) -> float:
        """Largest representable magnitude."""
        return float(f"{'9' * self.digits}e{self.max_exp}")

    @property
    def min_value(self) -> float:
        """Smallest non-zero representable magnitude."""
        return float(f"1e{self.min_exp}")

    def tokens(self, value: float) -> list[str]:
        """The token strings of a value."""
        return [self.vocab[i] for i in self.encode(value)]

    def encode(self, value: float) -> list[int]:
        """Token ids of a value; NaN/inf raise ValueError, out-of-range values clip, warning."""
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"cannot tokenize non-finite value {value!r}")
        sign = "<->" if value < 0 else "<+>"
        mantissa, exp = self._split(abs(value))
        digits = [f"<{d}>" for d in str(mantissa).zfill(self.digits)]
        return [self.ids[t] for t in [sign, *digits, f"<E{exp}>"]]

    def _split(self, a: float) -> tuple[int, int]:
        if a == 0.0:
            return 0, self.min_exp
        if a > self.max_value:
            warnings.warn(
                f"{a!r} exceeds the largest number ({self.max_value!r}); clipped",
                NumberRangeWarning,
                stacklevel=3,
            )
            return 10**self.digits - 1, self.max_exp
        # scientific formatting rounds correctly, including 9.9995 -> 1.000e+01
        head, _, exp = f"{a:.{self.digits - 1}e}".partition("e")
        mantissa, exp = int(head.replace(".", "")), int(exp) - (self.digits - 1)
        if exp > self.max_exp:  # rounding pushed it past the top
            return 10**self.digits - 1, self.max_exp
        if exp < self.min_exp:  # too small for a full mantissa: fewer significant digits
            mantissa = round(a / float(f"1e{self.min_exp}"))
            exp = self.min_exp
            if mantissa == 0 and a > 0:
                warnings.warn(
                    f"{a!r} is below the smallest number ({self.min_value!r}); rounded to 0",
                    NumberRangeWarning,
                    stacklevel=3,
                )
        return mantissa, exp

    def decode(self, ids: Sequence[int]) -> float:
        """The value of one number's token ids; ValueError if they do not form a number."""
        ids = [int(i) for i in ids]
        if len(ids) != self.length:
            raise ValueError(f"a number has {self.length} tokens, got {len(ids)}")
        for pos, i in enumerate(ids):
            if not (0 <= i < len(self.vocab)) or not self.masks[pos, i]:
                token = self.vocab[i] if 0 <= i < len(self.vocab) else i
                raise ValueError(f"token {token!r} is not allowed at position {pos} of a number")
        sign = -1.0 if ids[0] == self.ids["<->"] else 1.0
        mantissa = "".join(self.vocab[i][1] for i in ids[1:-1])
        exp = self.vocab[ids[-1]][2:-1]
        return sign * float(f"{mantissa}e{exp}")

    def decode_many(self, ids: np.ndarray) -> np.ndarray:
        """Vectorized decode of an array [..., length] of valid token ids."""
        ids = np.asarray(ids)
        digit0 = self.ids["<0>"]
        exp0 = self.ids[f"<E{self.min_exp}>"]
        mantissa = np.zeros(ids.shape[:-1], dtype=np.float64)
        for pos in range(1, self.digits + 1):
            mantissa = mantissa * 10 + (ids[..., pos] - digit0)
        exp = ids[..., -1] - exp0 + self.min_exp
        sign = np.where(ids[..., 0] == self.ids["<->"], -1.0, 1.0)
        return sign * mantissa * np.power(10.0, exp)

    def exponent_cap(self, bound: float) -> int:
        """The largest exponent token that keeps every number below the power of ten above
        ``bound``: with 4 digits, a bound of 940 gives exponent -1 (at most 999.9, never 1e12).
        """
        if not math.isfinite(bound) or bound <= 0:
            raise ValueError(f"a magnitude bound must be a positive number, got {bound!r}")
        cap = math.floor(math.log10(bound)) - (self.digits - 1)
        return min(max(cap, self.min_exp), self.max_exp)

    def relative_precision(self) -> float:
        """Worst-case relative rounding error of a value inside the range."""
        return 0.5 * 10.0 ** (1 - self.digits)

    def _masks(self) -> np.ndarray:
        """Allowed tokens per position: [length, vocab] booleans."""
        masks = np.zeros((self.length, len(self.vocab)), dtype=bool)
        masks[0, [self.ids["<+>"], self.ids["<->"]]] = True
        for pos in range(1, self.digits + 1):
            masks[pos, [self.ids[f"<{d}>"] for d in range(10)]] = True
        masks[-1, [self.ids[f"<E{e}>"] for e in range(self.min_exp, self.max_exp + 1)]] = True
        return masks

    def config(self) -> dict[str, int]:
        """Constructor arguments, for saving with a checkpoint."""
        return {"digits": self.digits, "min_exp": self.min_exp, "max_exp": self.max_exp}
