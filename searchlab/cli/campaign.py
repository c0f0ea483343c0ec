"""The campaign commands of ``searchlab``: run, worker, resume, front.

``run`` and ``worker`` go through ``hydra.main`` so multirun (``-m``), launchers and sweep
folders work; ``resume`` and ``front`` read a run folder's ``config.yaml`` and never create a
store. Like every command, a user error prints one line naming the problem and exits with 2,
and everything that can be checked is checked before a folder, store or config is written;
Ctrl-C prints one line saying what is kept and exits with 130.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from searchlab.cli.errors import UsageError, one_line, user_errors
from searchlab.cli.export import cmd_export
from searchlab.cli.overrides import space_overrides

RESUME_USAGE = "usage: searchlab resume RUN_DIR [budget=N] [max_minutes=M] [key=value ...]"
FRONT_USAGE = "usage: searchlab front RUN_DIR"
WORKER_USAGE = (
    "usage: searchlab worker storage=URL campaign=NAME [budget=N] [index=I] [heartbeat=S] [grace=S]"
)


def _compose_with_hydra(config_name: str, overrides: Sequence[str]) -> tuple[DictConfig, str]:
    """The checked config of a single run and the output folder hydra would give it."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module
    from omegaconf import open_dict

    with initialize_config_module(config_module="searchlab.conf", version_base=None):
        cfg = hydra_compose(
            config_name=config_name,
            overrides=space_overrides(overrides),
            return_hydra_config=True,
        )
        output_dir = str(cfg.hydra.run.dir)
        with open_dict(cfg):
            del cfg["hydra"]
    OmegaConf.resolve(cfg)
    return cfg, output_dir


def _hydra_command(
    config_name: str,
    overrides: Sequence[str],
    job: Callable[[DictConfig, Path], int],
    precheck: Callable[[DictConfig, Path], object],
) -> int:
    """Run ``job(cfg, run_dir)`` under hydra.main (multirun, launchers, sweep folders).

    A single run is composed and given to ``precheck`` first: a bad override or value is
    refused in one line before hydra creates its output folder.
    """
    import hydra
    from hydra.core.hydra_config import HydraConfig

    from searchlab.cli.config import register

    register()
    if not {"-m", "--multirun"} & set(overrides):
        cfg, output_dir = _compose_with_hydra(config_name, overrides)
        precheck(cfg, Path(cfg.run_dir or output_dir))
    status = {"code": 0}

    @hydra.main(config_path="pkg://searchlab.conf", config_name=config_name, version_base=None)
    def app(cfg: DictConfig) -> None:
        run_dir = cfg.run_dir or HydraConfig.get().runtime.output_dir
        status["code"] = max(status["code"], job(cfg, Path(run_dir)))

    saved = sys.argv
    sys.argv = [f"searchlab {config_name}", *space_overrides(overrides)]
    try:
        app()
    except SystemExit as exc:  # hydra reports a bad override or config itself, then exits 1
        code = int(exc.code or 0) if isinstance(exc.code, int) else 2
        return 2 if code == 1 else code  # a user error, like every other command's
    finally:
        sys.argv = saved
    return status["code"]


def _checked_run(cfg: DictConfig, run_dir: Path) -> dict:
    """A run's plain config, checked as far as it can be before anything is written."""
    from searchlab.cli.config import check_run_values
    from searchlab.cli.launch import IDENTITY, parts
    from searchlab.cli.run_folder import absolute_storage, check_new_run, check_same_campaign
    from searchlab.core.config_space import expand_space_file

    plain = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
    # stored absolute: resume from another directory must find the same database
    plain["storage"] = absolute_storage(plain.get("storage"))
    plain["space"] = expand_space_file(plain["space"])  # the space itself, not a path
    check_run_values(plain)
    check_new_run(run_dir, str(plain["name"]))
    check_same_campaign(plain, run_dir, IDENTITY)
    parts(plain, load_surrogate=False)  # the model loads once, in the job
    return plain


def _checked_worker(cfg: DictConfig, run_dir: Path) -> dict:
    """A worker's run config from the store; refuses a store that does not hold it."""
    from searchlab.cli.config import check_run_values
    from searchlab.cli.launch import worker_config
    from searchlab.cli.run_folder import absolute_storage, check_run_dir, require_campaign

    plain = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
    plain["storage"] = absolute_storage(plain["storage"])
    check_run_values({"budget": plain.get("budget")}, devices=False)
    check_run_dir(run_dir)
    require_campaign(plain["storage"], str(plain["campaign"]))
    run = worker_config(plain)
    check_run_values(run)
    return run


def _job(check: Callable[[DictConfig, Path], dict], command: str) -> Callable:
    """A hydra job: check the config (one line on a user error), then run the campaign."""

    def job(cfg: DictConfig, run_dir: Path) -> int:
        try:
            plain = check(cfg, run_dir)
        except user_errors() as exc:
            print(f"searchlab {command}: error: {one_line(exc)}", file=sys.stderr)
            return 2
        return _run_reporting(plain, run_dir, command)

    return job


def cmd_run(overrides: Sequence[str]) -> int:
    """Run one campaign, or a sweep with ``-m``, through hydra (launchers, sweep folders)."""
    return _hydra_command("run", overrides, _job(_checked_run, "run"), _checked_run)


def cmd_worker(overrides: Sequence[str]) -> int:
    """Join a stored campaign as one more worker (``-m index=0,1,2,3`` starts several)."""
    given = {o.partition("=")[0].lstrip("+") for o in overrides if "=" in o}
    missing = [key for key in ("storage", "campaign") if key not in given]
    if missing:  # hydra would print its own noise for the missing values
        raise UsageError(f"Missing mandatory value: {', '.join(missing)}; {WORKER_USAGE}")
    return _hydra_command("worker", overrides, _job(_checked_worker, "worker"), _checked_worker)


def _run_reporting(plain: dict, run_dir: Path, command: str) -> int:
    """Run a checked campaign; print where its results are, or one line naming a user error."""
    from searchlab.cli.launch import run_campaign
    from searchlab.cli.run_folder import interrupted_message

    try:
        info = run_campaign(plain, run_dir, show_progress=bool(plain.get("progress", True)))
    except user_errors() as exc:
        print(f"searchlab {command}: error: {one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # the store keeps every result: say so instead of a traceback
        raise KeyboardInterrupt(interrupted_message(plain, run_dir, command)) from None
    _print_summary(info)
    return 0


def _print_summary(info: dict) -> None:
    best = ", ".join(
        f"{k} {v:.4g}" if isinstance(v, (int, float)) else f"{k} none"
        for k, v in (info.get("best") or {}).items()
    )  # none: nothing verified (every candidate failed)
    hv = info.get("hypervolume")
    print(
        f"campaign {info['name']}: {info['verified']} verified, {info.get('failed', 0)} failed, "
        f"{info.get('pruned', 0)} stopped early "
        f"({info['stopped']}, {info['seconds']} s); best {best}"
        + (f"; hypervolume {hv:.4g}" if isinstance(hv, float) else "")
    )
    scr = info.get("screening") or {}
    if info.get("surrogate") and scr:
        picked = scr["picked_by_surrogate"] + scr["picked_by_strategy"]
        print(
            f"surrogate {info['surrogate']}: picked {scr['picked_by_surrogate']} of the "
            f"{picked} candidates chosen after the warm-up, the strategy the rest; updating it "
            f"took {scr['update_seconds']:.1f} s of {scr['round_seconds']:.1f} s in rounds"
        )
    if info.get("integrity"):
        print(f"store problems: {info['integrity']}")
    print(f"results: {info['run_dir']}")
    for name, path in sorted((info.get("files") or {}).items()):
        print(f"  {name:18} {path}")


def _stored_run(run_dir: Path, overrides: Sequence[str]) -> dict:
    """A run folder's config with checked overrides; its campaign must already be stored."""
    from searchlab.cli.config import check_run_values
    from searchlab.cli.launch import parts
    from searchlab.cli.run_folder import (
        absolute_storage,
        checked_run_config,
        load_config,
        require_campaign,
        storage_url,
    )

    plain = checked_run_config(load_config(run_dir), overrides, str(run_dir / "config.yaml"))
    plain["storage"] = absolute_storage(plain.get("storage"))
    check_run_values(plain)
    parts(plain, load_surrogate=False)
    require_campaign(storage_url(plain, run_dir), str(plain["name"]))  # never start anew
    return plain


def cmd_resume(args: Sequence[str]) -> int:
    """Continue the campaign of a run folder (optionally with a new budget)."""
    if not args or ("=" in args[0] and not Path(args[0]).is_dir()):  # a setting, no folder
        raise UsageError(RESUME_USAGE)
    run_dir = Path(args[0])
    return _run_reporting(_stored_run(run_dir, args[1:]), run_dir, "resume")


def cmd_front(args: Sequence[str]) -> int:
    """Print a campaign's verified front and write front_verified/front_predicted files."""
    from searchlab.cli.launch import build, records
    from searchlab.cli.run_folder import (
        checked_run_config,
        load_config,
        require_campaign,
        storage_url,
    )
    from searchlab.report.summary import fronts, write_fronts

    if not args or ("=" in args[0] and not Path(args[0]).is_dir()):  # a setting, no folder
        raise UsageError(FRONT_USAGE)
    if len(args) > 1:
        raise UsageError(f"front takes only RUN_DIR; extra arguments: {' '.join(args[1:])}")
    run_dir = Path(args[0])
    cfg = checked_run_config(load_config(run_dir), [], str(run_dir / "config.yaml"))
    require_campaign(storage_url(cfg, run_dir), str(cfg["name"]))
    campaign = build(cfg, run_dir, load_surrogate=False)  # the store is enough
    recs = records(campaign)
    names = campaign.objectives.names
    front = fronts(recs, campaign.objectives)["verified"]
    print(f"verified front of {cfg['name']}: {len(front)} candidates")
    print("  ".join([f"{'key':16}", *[f"{n:>20}" for n in names], "genotype"]))
    for rec in front:
        vals = [f"{rec['verified'][n]:20.4f}" for n in names]
        print("  ".join([rec["key"], *vals, rec["genotype"]]))
    for path in write_fronts(run_dir, recs, campaign.objectives).values():
        print(f"wrote {path}")
    return 0


RAW_COMMANDS: dict[str, Callable[[Sequence[str]], int]] = {
    "run": cmd_run,
    "worker": cmd_worker,
    "resume": cmd_resume,
    "front": cmd_front,
    "export": cmd_export,
}
