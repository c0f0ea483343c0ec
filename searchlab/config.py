"""Typed configuration schemas for the CLI, registered with hydra's ConfigStore.

YAML files in ``conf/`` extend these schemas, so a wrong type or a missing field fails
with OmegaConf's message naming the key, before any work starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING


@dataclass
class SpaceConfig:
    """Which space to load and the keyword arguments of its constructor."""

    name: str = MISSING
    args: dict[str, Any] = field(default_factory=dict)


@dataclass
class SpacesConfig:
    """``searchlab spaces``: no options."""


@dataclass
class SampleConfig:
    """``searchlab sample``: draw ``n`` seeded candidates, optionally write their texts."""

    space: SpaceConfig = field(default_factory=SpaceConfig)
    n: int = 5
    seed: int = 0
    out: Optional[str] = None  # noqa: UP045  (OmegaConf needs typing.Optional on 3.10)


def register() -> None:
    """Register every schema (idempotent)."""
    store = ConfigStore.instance()
    store.store(name="spaces_schema", node=SpacesConfig)
    store.store(name="sample_schema", node=SampleConfig)
    store.store(group="space", name="schema", node=SpaceConfig)
