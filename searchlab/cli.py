"""The ``searchlab`` command: ``searchlab COMMAND [key=value ...]`` with hydra overrides.

Each command has a config in ``conf/`` (``conf/COMMAND.yaml``) checked against a schema in
:mod:`searchlab.config`. User errors print one line naming the problem and exit with 2.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

USAGE = """usage: searchlab COMMAND [key=value ...]

commands:
  spaces    list the registered search spaces and their benchmark metrics
  sample    draw seeded candidates: searchlab sample space=nb201 n=5 seed=0 [out=DIR]
"""


class UsageError(Exception):
    """A user mistake on the command line or in a config."""


def _space_overrides(overrides: Sequence[str]) -> list[str]:
    """Turn ``space=NAME`` for a space without a YAML into the plugin option with that name."""
    conf_dir = Path(__file__).parent / "conf" / "space"
    packaged = Path(__file__).resolve().parent.parent / "conf" / "space"
    known = {p.stem for d in (conf_dir, packaged) if d.is_dir() for p in d.glob("*.yaml")}
    out = []
    for item in overrides:
        key, sep, value = item.partition("=")
        if sep and key == "space" and value and value not in known:
            out += ["space=plugin", f"space.name={value}"]
        else:
            out.append(item)
    return out


def compose(command: str, overrides: Sequence[str]) -> DictConfig:
    """The composed, schema-checked config of a command."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module

    from searchlab.config import register

    register()
    with initialize_config_module(config_module="searchlab.conf", version_base=None):
        cfg = hydra_compose(config_name=command, overrides=_space_overrides(overrides))
    OmegaConf.resolve(cfg)
    return cfg


def _load_space(cfg: DictConfig):  # noqa: ANN202
    from searchlab.registry import load_space

    return load_space(cfg.space.name, **OmegaConf.to_container(cfg.space.args))


def cmd_spaces(cfg: DictConfig) -> int:
    """List registered spaces with their size and bundled benchmark metrics."""
    from searchlab.registry import available_spaces, load_space
    from searchlab.space import SpaceError

    for name, target in sorted(available_spaces().items()):
        try:
            space = load_space(name)
        except SpaceError as exc:  # one broken plugin must not hide the others
            print(f"{name}  ({target})\n  unavailable: {exc}")
            continue
        size = getattr(space, "size", None)
        print(f"{name}  ({target})")
        print(f"  input {tuple(space.input_shape)}, genotypes: {size if size else 'unbounded'}")
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
    space = _load_space(cfg)
    rng = np.random.default_rng(cfg.seed)
    cands = [space.sample(rng) for _ in range(cfg.n)]
    print(f"{'key':16}  {'params':>9}  {'flops':>11}  {'chars':>6}  {'words':>5}  genotype")
    for c in cands:
        print(
            f"{c.key:16}  {space.params(c):9d}  {space.flops(c):11d}  {len(c.text):6d}  "
            f"{len(c.text.split()):5d}  {space.genotype_to_str(c.genotype)}"
        )
    if cfg.out:
        out = Path(cfg.out)
        out.mkdir(parents=True, exist_ok=True)
        with open(out / "candidates.jsonl", "w") as fh:
            for c in cands:
                (out / f"{c.key}.onnx.txt").write_text(c.text + "\n")
                record = {**c.to_dict(), "params": space.params(c), "flops": space.flops(c)}
                record.pop("text")
                fh.write(json.dumps(record) + "\n")
        print(f"wrote {len(cands)} texts and candidates.jsonl to {out}")
    return 0


COMMANDS: dict[str, Callable[[DictConfig], int]] = {
    "spaces": cmd_spaces,
    "sample": cmd_sample,
}


def _user_errors() -> tuple[type[BaseException], ...]:
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from searchlab.onnx_text import OnnxTextError
    from searchlab.space import SpaceError
    from searchlab.tabular import BenchmarkMissError

    return (
        UsageError,
        HydraException,
        OmegaConfBaseException,
        SpaceError,
        OnnxTextError,
        BenchmarkMissError,
        FileNotFoundError,
        ValueError,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``searchlab`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(USAGE, end="")
        return 0
    command, overrides = args[0], args[1:]
    if command not in COMMANDS:
        print(f"searchlab: unknown command {command!r}\n{USAGE}", file=sys.stderr, end="")
        return 2
    try:
        return COMMANDS[command](compose(command, overrides))
    except _user_errors() as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        cause = exc.__cause__
        if cause is not None and str(cause) and str(cause) not in message:
            message += ": " + str(cause).strip().splitlines()[0]
        print(f"searchlab {command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
