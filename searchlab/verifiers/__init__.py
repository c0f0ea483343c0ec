"""Verifiers: the ground truth of a campaign (tabular lookups, real training, latency).

``make_verifier`` builds one by name; ``train+latency`` style names combine parts (each
objective goes to the part that provides it); ``workers`` / ``time_limit`` /
``memory_limit_gb`` run candidates in separate processes (:mod:`searchlab.verifiers.pool`).

Example:
    >>> from searchlab import load_space
    >>> from searchlab.verifiers import make_verifier
    >>> make_verifier("tabular", load_space("nb201")).source
    'benchmark'
    >>> make_verifier("tabular+latency", load_space("nb201"), latency={"runs": 5}).name
    'tabular+latency'
"""

from __future__ import annotations

from typing import Any

from searchlab.core.space import Space
from searchlab.verifiers.base import Verifier, VerifierError
from searchlab.verifiers.combined import CombinedVerifier
from searchlab.verifiers.lookup import TabularVerifier


def _registry() -> dict[str, type[Verifier]]:
    # training and latency import torch / onnxruntime machinery: load them when asked for
    from searchlab.verifiers.function import CommandVerifier, FunctionVerifier
    from searchlab.verifiers.halving import HalvingVerifier
    from searchlab.verifiers.latency import LatencyVerifier
    from searchlab.verifiers.training import TrainVerifier

    return {
        "tabular": TabularVerifier,
        "function": FunctionVerifier,
        "command": CommandVerifier,
        "train": TrainVerifier,
        "train_halving": HalvingVerifier,
        "latency": LatencyVerifier,
    }


def _one(name: str, space: Space, options: dict[str, Any]) -> Verifier:
    known = _registry()
    if name not in known:
        raise VerifierError(f"unknown verifier {name!r}; known: {', '.join(sorted(known))}")
    try:
        return known[name](space, **options)
    except TypeError as exc:
        raise VerifierError(f"verifier {name!r}: bad options {sorted(options)}: {exc}") from None


def make_verifier(
    name: str,
    space: Space,
    workers: int = 0,
    time_limit: float | None = None,
    memory_limit_gb: float | None = None,
    **options: Any,
) -> Verifier:
    """A verifier by name (``a+b`` combines; options of part ``a`` under key ``a``)."""
    parts = name.split("+")
    if len(parts) == 1:
        verifier = _one(name, space, options)
    else:
        unknown = set(options) - set(parts)
        if unknown:
            raise VerifierError(
                f"verifier {name!r}: options must be grouped by part {parts}, got {sorted(unknown)}"
            )
        verifier = CombinedVerifier(
            space, [_one(p, space, dict(options.get(p) or {})) for p in parts]
        )
    if workers > 1 or time_limit is not None or memory_limit_gb is not None:
        from searchlab.verifiers.pool import PoolVerifier

        verifier = PoolVerifier(verifier, max(1, workers), time_limit, memory_limit_gb)
    return verifier


__all__ = ["CombinedVerifier", "TabularVerifier", "Verifier", "VerifierError", "make_verifier"]
