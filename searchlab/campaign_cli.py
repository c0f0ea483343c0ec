"""The campaign commands of ``searchlab``: run, worker, resume, front.

``run`` and ``worker`` go through ``hydra.main`` so multirun (``-m``), launchers and sweep
folders work; ``resume`` and ``front`` read a run folder's ``config.yaml``. Like every
command, a user error prints one line naming the problem and exits with 2.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from searchlab.cli import UsageError, _one_line, _space_overrides, _user_errors, compose


def _hydra_command(
    config_name: str, overrides: Sequence[str], job: Callable[[DictConfig, Path], int]
) -> int:
    """Run ``job(cfg, run_dir)`` under hydra.main (multirun, launchers, sweep folders)."""
    import hydra
    from hydra.core.hydra_config import HydraConfig

    from searchlab.config import register

    register()
    if not {"-m", "--multirun"} & set(overrides):
        compose(config_name, overrides)  # a bad override or value: one line, before any work
    status = {"code": 0}

    @hydra.main(config_path="pkg://searchlab.conf", config_name=config_name, version_base=None)
    def app(cfg: DictConfig) -> None:
        run_dir = cfg.run_dir or HydraConfig.get().runtime.output_dir
        status["code"] = max(status["code"], job(cfg, Path(run_dir)))

    saved = sys.argv
    sys.argv = [f"searchlab {config_name}", *_space_overrides(overrides)]
    try:
        app()
    except SystemExit as exc:  # hydra reports a bad override or config itself, then exits 1
        code = int(exc.code or 0) if isinstance(exc.code, int) else 2
        return 2 if code == 1 else code  # a user error, like every other command's
    finally:
        sys.argv = saved
    return status["code"]


def cmd_run(overrides: Sequence[str]) -> int:
    """Run one campaign, or a sweep with ``-m``, through hydra (launchers, sweep folders)."""
    return _hydra_command("run", overrides, _run_reporting)


def cmd_worker(overrides: Sequence[str]) -> int:
    """Join a stored campaign as one more worker (``-m index=0,1,2,3`` starts several)."""

    def job(cfg: DictConfig, run_dir: Path) -> int:
        from searchlab.launch import worker_config

        try:
            plain = worker_config(OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True))
        except _user_errors() as exc:
            print(f"searchlab worker: error: {_one_line(exc)}", file=sys.stderr)
            return 2
        return _run_reporting(OmegaConf.create(plain), run_dir)

    return _hydra_command("worker", overrides, job)


def _run_reporting(cfg: DictConfig, run_dir: Path) -> int:
    """Run a campaign; print where its results are, or one line naming a user error."""
    from searchlab.launch import run_campaign

    try:
        plain = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
        saved = run_dir / "config.yaml"
        if saved.is_file() and OmegaConf.load(saved).get("name") != plain["name"]:
            raise UsageError(
                f"run folder {run_dir} holds campaign {OmegaConf.load(saved).get('name')!r}, "
                f"not {plain['name']!r}: use another run_dir"
            )
        info = run_campaign(plain, run_dir, show_progress=bool(cfg.progress))
    except _user_errors() as exc:
        print(f"searchlab run: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    _print_summary(info)
    return 0


def _print_summary(info: dict) -> None:
    best = ", ".join(f"{k} {v:.4g}" for k, v in (info.get("best") or {}).items())
    hv = info.get("hypervolume")
    print(
        f"campaign {info['name']}: {info['verified']} verified, {info.get('failed', 0)} failed, "
        f"{info.get('pruned', 0)} stopped early "
        f"({info['stopped']}, {info['seconds']} s); best {best}"
        + (f"; hypervolume {hv:.4g}" if isinstance(hv, float) else "")
    )
    if info.get("integrity"):
        print(f"store problems: {info['integrity']}")
    print(f"results: {info['run_dir']}")
    for name, path in sorted((info.get("files") or {}).items()):
        print(f"  {name:18} {path}")


def _saved_config(run_dir: str, overrides: Sequence[str]) -> DictConfig:
    path = Path(run_dir) / "config.yaml"
    if not path.is_file():
        raise UsageError(f"{run_dir}: no config.yaml; is it a folder written by searchlab run?")
    cfg = OmegaConf.load(path)
    cfg.merge_with_dotlist(list(overrides))
    return cfg


def cmd_resume(args: Sequence[str]) -> int:
    """Continue the campaign of a run folder (optionally with a new budget)."""
    if not args:
        raise UsageError("usage: searchlab resume RUN_DIR [budget=N] [max_minutes=M]")
    cfg = _saved_config(args[0], args[1:])
    return _run_reporting(cfg, Path(args[0]))


def cmd_front(args: Sequence[str]) -> int:
    """Print a campaign's verified front and write front_verified/front_predicted files."""
    from searchlab.launch import build, records
    from searchlab.report import fronts, write_fronts

    if not args:
        raise UsageError("usage: searchlab front RUN_DIR")
    cfg = OmegaConf.to_container(_saved_config(args[0], []), resolve=True)
    campaign = build(cfg, Path(args[0]), load_surrogate=False)  # the store is enough
    recs = records(campaign)
    names = campaign.objectives.names
    front = fronts(recs, campaign.objectives)["verified"]
    print(f"verified front of {cfg['name']}: {len(front)} candidates")
    print("  ".join([f"{'key':16}", *[f"{n:>20}" for n in names], "genotype"]))
    for rec in front:
        vals = [f"{rec['verified'][n]:20.4f}" for n in names]
        print("  ".join([rec["key"], *vals, rec["genotype"]]))
    for path in write_fronts(Path(args[0]), recs, campaign.objectives).values():
        print(f"wrote {path}")
    return 0


RAW_COMMANDS: dict[str, Callable[[Sequence[str]], int]] = {
    "run": cmd_run,
    "worker": cmd_worker,
    "resume": cmd_resume,
    "front": cmd_front,
}
