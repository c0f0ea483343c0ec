"""Verifiers: the ground truth of a campaign (tabular lookups, real training, latency).

Example:
    >>> from searchlab import load_space
    >>> from searchlab.verifiers import make_verifier
    >>> make_verifier("tabular", load_space("nb201")).source
    'benchmark'
"""

from __future__ import annotations

from typing import Any

from searchlab.space import Space
from searchlab.verifiers.base import Verifier, VerifierError
from searchlab.verifiers.tabular import TabularVerifier

VERIFIERS: dict[str, type[Verifier]] = {"tabular": TabularVerifier}


def make_verifier(name: str, space: Space, **options: Any) -> Verifier:
    """A verifier by name; VerifierError names an unknown verifier or option."""
    if name not in VERIFIERS:
        raise VerifierError(f"unknown verifier {name!r}; known: {', '.join(sorted(VERIFIERS))}")
    try:
        return VERIFIERS[name](space, **options)
    except TypeError as exc:
        raise VerifierError(f"verifier {name!r}: bad options {sorted(options)}: {exc}") from None


__all__ = ["VERIFIERS", "TabularVerifier", "Verifier", "VerifierError", "make_verifier"]
