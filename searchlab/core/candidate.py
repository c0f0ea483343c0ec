"""Candidate: an immutable record of one architecture, identified by the hash of its text.

Example:
    >>> from searchlab.core.candidate import Candidate, text_key
    >>> c = Candidate(space="toy", genotype=["a", "b"], text="toy () => () {}")
    >>> c.key == text_key("toy () => () {}")
    True
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

KEY_LENGTH = 16


def text_key(text: str) -> str:
    """Stable key of a canonical text: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:KEY_LENGTH]


def freeze_genotype(genotype: Any) -> Any:
    """Return a deep, JSON-compatible copy of a genotype (lists become tuples, dicts are copied)."""
    if isinstance(genotype, (list, tuple)):
        return tuple(freeze_genotype(g) for g in genotype)
    if isinstance(genotype, dict):
        return {str(k): freeze_genotype(v) for k, v in sorted(genotype.items())}
    if genotype is None or isinstance(genotype, (str, int, float, bool)):
        return genotype
    raise TypeError(
        f"genotype element {genotype!r} of type {type(genotype).__name__} is not JSON-serializable"
    )


@dataclass(frozen=True)
class Candidate:
    """One architecture: its space, space-native genotype, canonical ONNX text and key."""

    space: str
    genotype: Any
    text: str = field(repr=False)
    key: str = field(default="")

    def __post_init__(self) -> None:
        object.__setattr__(self, "genotype", freeze_genotype(self.genotype))
        expected = text_key(self.text)
        if self.key and self.key != expected:
            raise ValueError(
                f"candidate key {self.key!r} does not match its text (expected {expected!r})"
            )
        object.__setattr__(self, "key", expected)

    def genotype_json(self) -> str:
        """The genotype as compact JSON (tuples written as lists)."""
        return json.dumps(self.genotype, separators=(",", ":"), sort_keys=True)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record of the candidate."""
        return {
            "space": self.space,
            "key": self.key,
            "genotype": json.loads(self.genotype_json()),
            "text": self.text,
        }

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> Candidate:
        """Rebuild a candidate from :meth:`to_dict`'s record, checking its key."""
        missing = {"space", "genotype", "text"} - set(record)
        if missing:
            raise ValueError(f"candidate record lacks field(s) {sorted(missing)}")
        return cls(
            space=record["space"],
            genotype=record["genotype"],
            text=record["text"],
            key=record.get("key", ""),
        )

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Candidate) and other.key == self.key
