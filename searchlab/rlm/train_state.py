"""A training run's state after each epoch, so a killed run continues where it stopped.

The state holds what the next epoch needs and nothing else: the weights, the optimizer's
moments, the averaged weights (if any), the best epoch's weights, the step counter, the
early-stopping counters and both random generators. It is written to a temporary file and
renamed over the old one, so a kill mid-write leaves the previous epoch's state intact.

Example:
    >>> import tempfile, pathlib
    >>> from searchlab.rlm.train_state import load_state, save_state
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "state.pt"
    >>> save_state(path, {"epoch": 3})
    >>> load_state(path)["epoch"], load_state(path.with_name("missing.pt"))
    (3, None)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch


def save_state(path: str | Path, state: dict[str, Any]) -> None:
    """Write ``state`` atomically (temporary file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_state(path: str | Path | None) -> dict[str, Any] | None:
    """The saved state, or None when there is none yet."""
    if path is None or not Path(path).exists():
        return None
    return torch.load(path, map_location="cpu", weights_only=False)
