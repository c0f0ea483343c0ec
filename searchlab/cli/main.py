"""The ``searchlab`` command: ``searchlab COMMAND [key=value ...]`` with hydra overrides.

Each command has a config in ``conf/`` (``conf/COMMAND.yaml``) checked against a schema in
:mod:`searchlab.cli.config`. User errors print one line naming the problem and exit with 2.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from searchlab.cli.errors import UsageError, error_line, user_errors
from searchlab.cli.overrides import space_overrides

USAGE = """usage: searchlab COMMAND [key=value ...]

commands:
  spaces    list the registered search spaces and their benchmark metrics
  sample    draw seeded candidates: searchlab sample space=nb201 n=5 seed=0 [out=DIR]
  pretrain  train the default RLM on the bundled benchmarks (conf/pretrain.yaml)
  fit       train or fine-tune an RLM on a CSV:
              searchlab fit data=PATH.csv targets=[COL] text_column=arch_str space=nb201
                            n_train=64 seed=0 init=default out=DIR
  evaluate  score an RLM on the CSV rows it never trained on:
              searchlab evaluate model=DIR data=PATH.csv targets=[COL] space=nb201
  run       run a search campaign (conf/run.yaml); -m sweeps, e.g.
              searchlab run -m strategy=rea,nsga2 seed=0,1,2
  worker    join a campaign stored in a shared database (many workers, many machines):
              searchlab worker storage=postgresql+psycopg://HOST/DB campaign=NAME
              searchlab worker -m storage=URL campaign=NAME index=0,1,2,3
  resume    continue a campaign: searchlab resume RUN_DIR [budget=N]
  front     print and export a campaign's fronts: searchlab front RUN_DIR
  export    every verified and predicted candidate as CSV (a file searchlab fit reads):
              searchlab export RUN_DIR [out=FILE] [overwrite=true] [verified_only=true]

searchlab COMMAND --help: a command's settings and how to quote lists and comparisons
"""


def compose(command: str, overrides: Sequence[str]) -> DictConfig:
    """The composed, schema-checked config of a command."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module

    from searchlab.cli.config import register

    register()
    with initialize_config_module(config_module="searchlab.conf", version_base=None):
        cfg = hydra_compose(config_name=command, overrides=space_overrides(overrides))
    OmegaConf.resolve(cfg)
    return cfg


def _load_space(cfg: DictConfig):  # noqa: ANN202
    """The configured space, or None where ``space=null`` (raw text)."""
    from searchlab.core.registry import load_space

    if cfg.get("space") is None:
        return None
    return load_space(cfg.space.name, **OmegaConf.to_container(cfg.space.args))


def _train_config(cfg: DictConfig):  # noqa: ANN202
    from searchlab.rlm.train import TrainConfig

    return TrainConfig(**OmegaConf.to_container(cfg.train))


def cmd_pretrain(cfg: DictConfig) -> int:
    """Pretrain the RLM on bundled benchmarks and save the checkpoint with its model card."""
    from searchlab.rlm.checkpoint import checkpoint_path
    from searchlab.rlm.pretrain import PretrainTask, pretrain

    tasks = [PretrainTask(**t) for t in OmegaConf.to_container(cfg.tasks)]
    if not tasks:
        raise UsageError("pretrain needs at least one task (tasks=[...])")
    pretrain(
        tasks,
        cfg.out,
        init=None if cfg.init is None else checkpoint_path(cfg.init),
        joint_per_row=cfg.joint_per_row,
        device=cfg.device,
        state_path=cfg.state,
        vocab_size=cfg.vocab_size,
        net_sizes=OmegaConf.to_container(cfg.model),
        cfg=_train_config(cfg),
        max_objectives=cfg.max_objectives,
        split_seed=cfg.split_seed,
    )
    return 0


def cmd_fit(cfg: DictConfig) -> int:
    """Fit or fine-tune an RLM on a CSV and write the checkpoint folder."""
    from searchlab.rlm.jobs import fit_csv

    fit_csv(
        cfg.data,
        list(cfg.targets),
        cfg.text_column,
        _load_space(cfg),
        cfg.out,
        n_train=cfg.n_train,
        seed=cfg.seed,
        init=cfg.init,
        val_fraction=cfg.val_fraction,
        link=cfg.link,
        cfg=_train_config(cfg),
        vocab_size=cfg.vocab_size,
        net_sizes=OmegaConf.to_container(cfg.model),
        device=cfg.device,
    )
    return 0


def cmd_evaluate(cfg: DictConfig) -> int:
    """Print Kendall tau, Spearman, MAE and n per target, then one JSON line."""
    from searchlab.rlm.jobs import evaluate_csv

    evaluate_csv(
        cfg.model,
        cfg.data,
        list(cfg.targets),
        cfg.text_column,
        _load_space(cfg),
        k=cfg.k,
        seed=cfg.seed,
        device=cfg.device,
    )
    return 0


def cmd_spaces(cfg: DictConfig) -> int:
    """List registered spaces: genotypes, distinct networks and bundled benchmark metrics."""
    from searchlab.core.registry import available_spaces, count_networks, load_space
    from searchlab.core.space import SpaceError

    for name, target in sorted(available_spaces().items()):
        try:
            space = load_space(name)
        except SpaceError as exc:  # one broken plugin must not hide the others
            print(f"{name}  ({target})\n  unavailable: {exc}")
            continue
        size = getattr(space, "size", None)
        print(f"{name}  ({target})")
        print(f"  input {tuple(space.input_shape)}")
        print(f"  genotypes: {f'{size:,}' if size else 'unbounded'}")
        try:  # several genotypes may render one network: count distinct keys where cheap
            networks = count_networks(space)
        except (SpaceError, NotImplementedError) as exc:
            networks = str(exc) or type(exc).__name__
        shown = f"{networks:,}" if isinstance(networks, int) else f"not counted ({networks})"
        print(f"  distinct networks (keys): {shown}")
        table = space.benchmark()
        if table is None:
            print("  benchmark: none")
            continue
        print(f"  benchmark: {len(table)} rows, metrics:")
        for column in table.columns:
            print(f"    {column}")
    return 0


def cmd_sample(cfg: DictConfig) -> int:
    """Print seeded candidates (key, params, flops, text size); write texts to ``out``."""
    import json

    import numpy as np

    if cfg.n < 1:
        raise UsageError(f"n must be at least 1, got {cfg.n}")
    if cfg.out and Path(cfg.out).exists() and not Path(cfg.out).is_dir():
        raise UsageError(f"out={cfg.out} is not a folder (a file is there); name a folder")
    space = _load_space(cfg)
    rng = np.random.default_rng(cfg.seed)
    cands = [space.sample(rng) for _ in range(cfg.n)]
    network = space.renders_network  # a configuration has no graph to count
    print(f"{'key':16}  {'params':>9}  {'flops':>11}  {'chars':>6}  {'words':>5}  genotype")
    for c in cands:
        params, flops = (space.params(c), space.flops(c)) if network else ("-", "-")
        print(
            f"{c.key:16}  {params:>9}  {flops:>11}  {len(c.text):6d}  "
            f"{len(c.text.split()):5d}  {space.genotype_to_str(c.genotype)}"
        )
    if cfg.out:
        out = Path(cfg.out)
        out.mkdir(parents=True, exist_ok=True)
        with open(out / "candidates.jsonl", "w") as fh:
            for c in cands:
                suffix = ".onnx.txt" if network else ".yaml"
                (out / f"{c.key}{suffix}").write_text(
                    c.text if c.text.endswith("\n") else c.text + "\n"
                )
                record = c.to_dict()
                if network:
                    record.update(params=space.params(c), flops=space.flops(c))
                record.pop("text")
                fh.write(json.dumps(record) + "\n")
        print(f"wrote {len(cands)} texts and candidates.jsonl to {out}")
    return 0


COMMANDS: dict[str, Callable[[DictConfig], int]] = {
    "spaces": cmd_spaces,
    "sample": cmd_sample,
    "pretrain": cmd_pretrain,
    "fit": cmd_fit,
    "evaluate": cmd_evaluate,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``searchlab`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help") or args == ["help"]:
        print(USAGE, end="")
        return 0
    from searchlab.cli.campaign import RAW_COMMANDS  # campaign commands: hydra.main, multirun

    helping = args[0] == "help" or bool({"-h", "--help"} & set(args[1:]))
    command, overrides = args[1] if args[0] == "help" else args[0], args[1:]
    if command not in RAW_COMMANDS and command not in COMMANDS:
        print(f"searchlab: unknown command {command!r}\n{USAGE}", file=sys.stderr, end="")
        return 2
    if helping:
        from searchlab.cli.help import command_help

        print(command_help(command, USAGE), end="")
        return 0
    try:
        if command in RAW_COMMANDS:
            return RAW_COMMANDS[command](overrides)
        return COMMANDS[command](compose(command, overrides))
    except user_errors() as exc:
        print(f"searchlab {command}: error: {error_line(exc, command)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:  # Ctrl-C: one line (what is kept), the shell's 128+SIGINT
        print(str(exc) or f"searchlab {command}: interrupted", file=sys.stderr)
        return 130
