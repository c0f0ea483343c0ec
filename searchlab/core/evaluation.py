"""Evaluation: the numbers known about one candidate, each with where it came from.

A value is *predicted* (by a surrogate checkpoint, with a spread), *benchmark* (looked up in
a tabular benchmark), *measured* (trained or timed here) or *computed* (params, flops read
off the graph). Stores and reports keep the source next to every number so predictions
never pass for measurements.

Example:
    >>> from searchlab.core.evaluation import Evaluation
    >>> e = Evaluation("0123456789abcdef", {"acc": 91.5}, source="benchmark")
    >>> e.ok, e.values["acc"]
    (True, 91.5)
    >>> Evaluation.failure("0123456789abcdef", "measured", "NaN loss").ok
    False
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

Source = Literal["predicted", "benchmark", "measured", "computed"]
SOURCES = ("predicted", "benchmark", "measured", "computed")


@dataclass(frozen=True)
class Evaluation:
    """Values per objective for one candidate key, from one source (failed: ``error`` set)."""

    key: str
    values: dict[str, float]
    source: Source
    spread: dict[str, float] = field(default_factory=dict)
    #: the surrogate checkpoint (predicted) or verifier settings that made the numbers
    model: str | None = None
    seconds: float = 0.0
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: stopped early by a multi-fidelity verifier: a failure that says "not good enough"
    pruned: bool = False

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"evaluation source must be one of {SOURCES}, got {self.source!r}")
        values = {str(k): float(v) for k, v in self.values.items()}
        if self.error is None:
            bad = {k: v for k, v in values.items() if not math.isfinite(v)}
            if bad:
                raise ValueError(f"candidate {self.key}: non-finite values {bad}")
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "spread", {str(k): float(v) for k, v in self.spread.items()})

    @property
    def ok(self) -> bool:
        """True unless the evaluation failed."""
        return self.error is None

    @classmethod
    def failure(cls, key: str, source: Source, reason: str, seconds: float = 0.0) -> Evaluation:
        """A failed evaluation with its reason (the campaign records it and goes on)."""
        return cls(key, {}, source, seconds=seconds, error=str(reason) or "unknown failure")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record."""
        return {
            "key": self.key,
            "values": self.values,
            "source": self.source,
            "spread": self.spread,
            "model": self.model,
            "seconds": self.seconds,
            "error": self.error,
            "extra": self.extra,
            "pruned": self.pruned,
        }

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> Evaluation:
        """Inverse of :meth:`to_dict`."""
        return cls(
            key=record["key"],
            values=record.get("values", {}),
            source=record["source"],
            spread=record.get("spread", {}),
            model=record.get("model"),
            seconds=record.get("seconds", 0.0),
            error=record.get("error"),
            extra=record.get("extra", {}),
            pruned=bool(record.get("pruned", False)),
        )
