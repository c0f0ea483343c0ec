"""Typed configuration schemas for the CLI, registered with hydra's ConfigStore.

YAML files in ``conf/`` extend these schemas, so a wrong type or a missing field fails
with OmegaConf's message naming the key, before any work starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

from searchlab.rlm.settings import NetSizes, TrainConfig


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


@dataclass
class PretrainTaskSchema:
    """One bundled benchmark to pretrain on."""

    space: str = MISSING
    space_args: dict[str, Any] = field(default_factory=dict)
    exclude_columns: list[str] = field(default_factory=list)
    test_fraction: float = 0.1
    val_rows: int = 100
    solo_columns: list[str] = field(default_factory=list)


@dataclass
class PretrainConfig:
    """``searchlab pretrain``: train the default RLM on the bundled benchmarks."""

    tasks: list[PretrainTaskSchema] = field(default_factory=list)
    out: str = MISSING
    vocab_size: int = 4096
    max_objectives: int = 3
    joint_per_row: Optional[int] = None  # noqa: UP045
    init: Optional[str] = None  # noqa: UP045
    state: Optional[str] = None  # noqa: UP045
    split_seed: int = 0
    device: str = "auto"
    model: NetSizes = field(default_factory=NetSizes)
    train: TrainConfig = field(default_factory=TrainConfig)


@dataclass
class CsvData:
    """Rows of a CSV: the columns to predict and where each row's text comes from."""

    data: str = MISSING
    targets: list[str] = MISSING
    text_column: str = "arch_str"
    space: Optional[SpaceConfig] = None  # noqa: UP045  (space=null: the column holds raw text)
    seed: int = 0
    device: str = "auto"


@dataclass
class FitConfig(CsvData):
    """``searchlab fit``: train or fine-tune an RLM on a CSV."""

    n_train: Optional[int] = None  # noqa: UP045
    init: str = "default"
    out: str = MISSING
    val_fraction: float = 0.2
    link: bool = True  # read a target through pretrained columns that rank it
    vocab_size: int = 4096
    model: NetSizes = field(default_factory=NetSizes)
    train: TrainConfig = field(default_factory=TrainConfig)


@dataclass
class EvaluateConfig(CsvData):
    """``searchlab evaluate``: score an RLM on the CSV rows it never trained on."""

    model: str = "default"
    k: int = 8


@dataclass
class StrategyConfig:
    """An optimizer by name (``searchlab.strategies.STRATEGIES``) and its options."""

    name: str = MISSING
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class SurrogateConfig:
    """``rlm`` (a checkpoint and its fine-tuning settings) or ``none`` (verify proposals)."""

    name: str = "rlm"
    checkpoint: str = "default"
    device: str = "auto"
    temperature: float = 1.0
    finetune_steps: int = 150
    finetune_lr: float = 5e-4
    finetune_batch: int = 16
    bound_samples: bool = True  #: no sample beyond a power of ten above 10x the largest verified
    link: bool = True  #: read objectives through pretrained columns that rank them
    link_proxies: int = 2  #: the most pretrained columns a link blends (a decoding pass each)


@dataclass
class VerifierConfig:
    """A verifier by name and its options."""

    name: str = MISSING
    #: verifier=function: the objective's ``module:function``; verifier=command: the command
    target: Optional[str] = None  # noqa: UP045
    options: dict[str, Any] = field(default_factory=dict)
    workers: int = 0  #: > 1: candidates verified in parallel worker processes
    time_limit: Optional[float] = None  # noqa: UP045  (seconds per candidate, in a worker)
    memory_limit_gb: Optional[float] = None  # noqa: UP045  (address space per worker)


@dataclass
class ObjectivesConfig:
    """Objective names (or ``{name, direction}``), constraints, hypervolume reference point."""

    name: str = MISSING
    names: list[Any] = MISSING
    constraints: list[str] = field(default_factory=list)
    reference: Optional[dict[str, float]] = None  # noqa: UP045


@dataclass
class RoundConfig:
    """How each round runs (see ``searchlab.campaign.loop.CampaignSettings``)."""

    pool: int = 250
    batch: int = 10
    k: int = 8
    initial: int = 5
    finetune_every: int = 20
    acquisition: Optional[str] = None  # noqa: UP045
    trust: str = (
        "measured"  #: "measured" (searchlab.campaign.trust) or "always" (screen every pick)
    )
    cheap_rankers: bool = True  #: params / FLOPs rank where they rank better than the model


@dataclass
class RunConfig:
    """``searchlab run``: one campaign; its folder and store, budget and parts."""

    space: SpaceConfig = field(default_factory=SpaceConfig)
    strategy: StrategyConfig = field(default_factory=StrategyConfig)
    surrogate: SurrogateConfig = field(default_factory=SurrogateConfig)
    verifier: VerifierConfig = field(default_factory=VerifierConfig)
    objectives: ObjectivesConfig = field(default_factory=ObjectivesConfig)
    rounds: RoundConfig = field(default_factory=RoundConfig)
    name: str = MISSING
    seed: int = 0
    budget: int = 100
    max_minutes: Optional[float] = None  # noqa: UP045
    run_dir: Optional[str] = None  # noqa: UP045  (default: hydra's output folder)
    storage: Optional[str] = None  # noqa: UP045  (default: sqlite in the run folder)
    progress: bool = True
    report: bool = True
    owner: str = "main"  #: this process's name among the campaign's workers
    heartbeat: float = 10.0  #: seconds between heartbeats on claims being verified
    grace: float = 60.0  #: a worker silent this long loses its claims to another


@dataclass
class WorkerConfig:
    """``searchlab worker``: join a campaign stored in a shared database (PostgreSQL)."""

    storage: str = MISSING
    campaign: str = MISSING
    budget: Optional[int] = None  # noqa: UP045  (default: the campaign's own budget)
    index: int = 0  #: tells workers apart in a hydra sweep (index=0,1,2,3)
    max_minutes: Optional[float] = None  # noqa: UP045
    run_dir: Optional[str] = None  # noqa: UP045  (default: hydra's output folder)
    heartbeat: float = 10.0
    grace: float = 60.0
    progress: bool = False
    report: bool = True


def register() -> None:
    """Register every schema (idempotent)."""
    store = ConfigStore.instance()
    store.store(name="spaces_schema", node=SpacesConfig)
    store.store(name="sample_schema", node=SampleConfig)
    store.store(name="pretrain_schema", node=PretrainConfig)
    store.store(name="fit_schema", node=FitConfig)
    store.store(name="evaluate_schema", node=EvaluateConfig)
    store.store(name="run_schema", node=RunConfig)
    store.store(name="worker_schema", node=WorkerConfig)
    store.store(group="space", name="schema", node=SpaceConfig)


class ConfigError(ValueError):
    """A setting with a value the command cannot use (the message names the setting)."""


#: settings of a run that must be at least 1 (0 would verify or sample nothing)
_POSITIVE = ("budget", "rounds.pool", "rounds.batch", "rounds.k")
_NOT_NEGATIVE = ("rounds.initial", "rounds.finetune_every")
_ABOVE_ZERO = ("max_minutes", "heartbeat", "grace")  # seconds or minutes; None: no limit


def _get(cfg: Mapping[str, Any], dotted: str) -> Any:
    value: Any = cfg
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def check_run_values(cfg: Mapping[str, Any], devices: bool = True) -> None:
    """Refuse run settings out of range, naming the setting, before anything is written.

    ``devices=False`` skips the surrogate's device (a run folder read without its model).
    """
    for key in _POSITIVE:
        value = _get(cfg, key)
        if value is not None and value < 1:
            raise ConfigError(f"{key} must be at least 1, got {value}")
    for key in _NOT_NEGATIVE:
        value = _get(cfg, key)
        if value is not None and value < 0:
            raise ConfigError(f"{key} must be at least 0, got {value}")
    for key in _ABOVE_ZERO:
        value = _get(cfg, key)
        if value is not None and not value > 0:
            raise ConfigError(f"{key} must be above 0, got {value}")
    trust = _get(cfg, "rounds.trust")
    if trust is not None and trust not in ("measured", "always"):
        raise ConfigError(f"rounds.trust must be 'measured' or 'always', got {trust!r}")
    if devices and (_get(cfg, "surrogate.name") or "none") != "none":
        check_device(str(_get(cfg, "surrogate.device") or "auto"), "surrogate.device")


def check_device(device: str, key: str) -> None:
    """Refuse a torch device this machine does not have (``auto`` always works)."""
    if device == "auto":
        return
    import torch

    try:
        parsed = torch.device(device)
    except (RuntimeError, ValueError) as exc:
        raise ConfigError(f"{key}={device}: not a torch device ({exc})") from None
    if parsed.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ConfigError(f"{key}={device}: CUDA is not available here; use auto or cpu")
        if parsed.index is not None and parsed.index >= count:
            raise ConfigError(f"{key}={device}: this machine has {count} CUDA device(s)")
    elif parsed.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError(f"{key}={device}: MPS is not available here; use auto or cpu")
