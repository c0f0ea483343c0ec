"""Launch: build a campaign's parts from a ``searchlab run`` config, run it, write results.

This is the glue between hydra configs and :class:`~searchlab.campaign.loop.Campaign`; from
Python, build the parts directly (see the README) or call :func:`run_campaign` with a dict.

Example:
    >>> from searchlab.cli.launch import campaign_name
    >>> campaign_name({"name": "nb201-acc-rea-seed0"})
    'nb201-acc-rea-seed0'
"""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from searchlab.campaign.loop import Campaign, RoundLog
from searchlab.campaign.parts import Parts, assemble
from searchlab.campaign.settings import CampaignSettings
from searchlab.core.objectives import Objectives
from searchlab.store.study import CampaignStore

#: config keys that must match when a run folder is reused (the rest may change on resume)
IDENTITY = ("space", "objectives", "strategy", "surrogate", "verifier", "rounds", "seed")


def campaign_name(cfg: Mapping[str, Any]) -> str:
    """The campaign's study name (the config's ``name``)."""
    return str(cfg["name"])


def parts(cfg: Mapping[str, Any], load_surrogate: bool = True) -> Parts:
    """Space, objectives, strategy, verifier, surrogate and settings; refuses a misfit.

    Everything that can refuse a config happens here, before a store exists, so a refused
    run leaves no campaign behind to be refused as "started with another config" later.
    """
    from searchlab.cli.config import ConfigError, check_run_values
    from searchlab.core.registry import load_space
    from searchlab.verifiers import make_verifier

    check_run_values(cfg, devices=load_surrogate)
    space = load_space(cfg["space"]["name"], **dict(cfg["space"].get("args") or {}))
    o = cfg["objectives"]
    objectives = Objectives.parse(o["names"], o.get("constraints") or [], o.get("reference"))
    if objectives.cheap and not space.renders_network:
        raise ConfigError(
            f"objectives.names: {list(objectives.cheap)} are counted on a network's graph; "
            f"space {space.name!r} renders no network"
        )
    seed = int(cfg.get("seed", 0))
    ver = cfg["verifier"]
    target = {} if ver.get("target") is None else {"target": ver["target"]}
    verifier = make_verifier(
        ver["name"],
        space,
        workers=int(ver.get("workers") or 0),
        time_limit=ver.get("time_limit"),
        memory_limit_gb=ver.get("memory_limit_gb"),
        **target,
        **dict(ver.get("options") or {}),
    )
    heartbeat = float(cfg.get("heartbeat") or 10.0)
    settings = CampaignSettings(**dict(cfg["rounds"]), seed=seed, heartbeat=heartbeat)
    sur = dict(cfg["surrogate"])
    checkpoint = sur.pop("checkpoint", "default") if sur.pop("name") != "none" else None
    return assemble(
        space, objectives, cfg["strategy"]["name"], cfg["strategy"]["options"], verifier,
        checkpoint if load_surrogate else None, sur, settings,
    )  # fmt: skip


def build(cfg: Mapping[str, Any], run_dir: Path, load_surrogate: bool = True) -> Campaign:
    """Space, strategy, surrogate, verifier, objectives and store from a plain config dict.

    ``load_surrogate=False`` skips loading the model (reading a finished campaign's results).
    """
    from searchlab.cli.run_folder import storage_url

    p = parts(cfg, load_surrogate)
    run_dir.mkdir(parents=True, exist_ok=True)
    identity = {k: cfg.get(k) for k in IDENTITY}
    owner, grace = str(cfg.get("owner") or "main"), float(cfg.get("grace") or 60.0)
    store = CampaignStore.open(
        storage_url(cfg, run_dir), campaign_name(cfg), identity, p.objectives,
        compare=IDENTITY, owner=owner, grace=grace,
    )  # fmt: skip
    return p.campaign(store, run_dir)


def yaml_text(cfg: Mapping[str, Any]) -> str:
    """A plain config as YAML (what ``searchlab resume`` reads back)."""
    from omegaconf import OmegaConf

    return OmegaConf.to_yaml(OmegaConf.create(dict(cfg)))


def worker_config(worker: Mapping[str, Any]) -> dict[str, Any]:
    """The run config of a worker joining a stored campaign (its parts come from the store)."""
    import os
    import socket

    url, name = str(worker["storage"]), str(worker["campaign"])
    stored = CampaignStore.stored_config(url, name)
    budget = worker.get("budget") or stored.pop("searchlab:budget", None)
    if budget is None:
        raise ValueError(f"campaign {name!r} in {url} has no budget stored: give budget=N")
    owner = f"{socket.gethostname()}-{os.getpid()}-{worker.get('index', 0)}"
    cfg = {k: stored[k] for k in IDENTITY if k in stored}
    cfg.update(
        name=name, storage=url, budget=int(budget), owner=owner,
        max_minutes=worker.get("max_minutes"), heartbeat=worker.get("heartbeat", 10.0),
        grace=worker.get("grace", 60.0), report=worker.get("report", True),
        progress=worker.get("progress", False), run_dir=worker.get("run_dir"),
    )  # fmt: skip
    return cfg


def records(campaign: Campaign) -> list[dict[str, Any]]:
    """Every scored or verified candidate in the report's record format."""
    space, store = campaign.space, campaign.store
    out: dict[str, dict[str, Any]] = {}
    for rnd in store.rounds():
        for entry in rnd.get("scored", []):
            out[entry["key"]] = {
                "key": entry["key"],
                "space": space.name,
                "genotype": space.genotype_to_str(space.validate(json.loads(entry["genotype"]))),
                "round": rnd["index"],
                "predicted": entry["predicted"],
                "spread": entry["spread"],
                "interval": entry["interval"],
                "model": rnd.get("model"),
                "verified": None,
                "source": None,
                "verified_order": None,
                "computed": {},
                "error": None,
                "pruned": False,
            }
    done = 0
    for t in store.trials():
        rec = out.setdefault(t.key, {"key": t.key, "space": t.space, "computed": {}})
        rec.update(
            genotype=space.genotype_to_str(space.validate(json.loads(t.genotype))),
            round=t.round,
            predicted=t.predicted or rec.get("predicted"),
            spread=t.spread or rec.get("spread"),
            interval=t.interval or rec.get("interval"),
            model=t.model or rec.get("model"),
            verified=t.values or None,
            source=t.source,
            error=t.error,
            pruned=t.state == "PRUNED",
            verified_order=None,
        )
        if t.state == "COMPLETE":
            rec["verified_order"] = done
            done += 1
    return list(out.values())


def true_front(campaign: Campaign) -> list[dict[str, float]] | None:
    """The benchmark's own Pareto front for the objectives, where the benchmark has them all."""
    import numpy as np

    from searchlab.core.pareto import front_mask

    table = campaign.space.benchmark()
    names = campaign.objectives.names
    if table is None or any(n not in table.columns for n in names):
        return None
    cols = {n: table.column(n) for n in names}
    rows = [{n: float(cols[n][i]) for n in names} for i in range(len(table))]
    feasible = campaign.objectives.violation(rows) == 0
    rows = [r for r, ok in zip(rows, feasible) if ok]
    mask = front_mask(campaign.objectives.to_min(rows))
    return [r for r, m in zip(rows, np.asarray(mask)) if m]


def run_campaign(
    cfg: Mapping[str, Any], run_dir: str | Path, show_progress: bool = True
) -> dict[str, Any]:
    """Build, resume or start, run to the budget, write results; the summary dict."""
    from searchlab.report.results import write_results
    from searchlab.report.summary import summary

    run_dir = Path(run_dir)
    start = time.perf_counter()
    campaign = build(cfg, run_dir)
    # written once the parts were built and the store accepted them: a bad config or a
    # folder of another campaign leaves the folder as it was
    (run_dir / "config.yaml").write_text(yaml_text(cfg))
    if campaign.store.state("budget") is None:  # workers that join default to it
        campaign.store.set_state("budget", int(cfg["budget"]))
    (run_dir / "campaign.json").write_text(json.dumps(campaign.describe(), indent=1) + "\n")
    before = len(campaign.store.finished())
    with _progress(campaign, int(cfg["budget"]), show_progress) as on_round, _sigint() as seen:

        def after_round(log: RoundLog) -> None:
            if seen:  # a Ctrl-C that library code swallowed still stops the run here
                raise KeyboardInterrupt
            if on_round is not None:
                on_round(log)

        result = campaign.run(int(cfg["budget"]), cfg.get("max_minutes"), progress=after_round)
    recs = records(campaign)
    info = summary(recs, campaign.objectives)
    info.update(
        name=campaign_name(cfg),
        run_dir=str(run_dir),
        stopped=result.stopped,
        resumed_from=before,
        seconds=round(time.perf_counter() - start, 1),
        surrogate=None if campaign.surrogate is None else campaign.surrogate.name,
        integrity=campaign.store.integrity(),
        rounds=campaign.round_logs(),
    )
    info["screening"] = screening_totals(info["rounds"])
    if cfg.get("report", True):
        paths = write_results(
            run_dir, recs, campaign.objectives, true_front(campaign), info["name"], info["rounds"]
        )
        info["files"] = {k: str(v) for k, v in paths.items()}
    (run_dir / "summary.json").write_text(json.dumps(info, indent=1, default=str) + "\n")
    return info


def screening_totals(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Picks by the surrogate and by the strategy after the warm-up, and seconds, summed."""
    screened = [r for r in rounds if r.get("trust") is not None]
    return {
        "picked_by_surrogate": sum(r.get("picked_by_surrogate", 0) for r in screened),
        "picked_by_strategy": sum(r.get("picked_by_strategy", 0) for r in screened),
        "update_seconds": round(sum(r.get("finetune_seconds", 0.0) for r in rounds), 2),
        "round_seconds": round(sum(r.get("seconds", 0.0) for r in rounds), 2),
    }


@contextmanager
def _sigint() -> Iterator[list[int]]:
    """Record every SIGINT while raising KeyboardInterrupt as usual: some library code (a
    database pool returning a connection) catches and logs it, and the run must still stop."""
    seen: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield seen
        return

    def handler(signum: int, frame: Any) -> None:
        seen.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield seen
    finally:
        signal.signal(signal.SIGINT, previous)


class _progress:
    """A rich progress bar over verified evaluations (or nothing when disabled)."""

    def __init__(self, campaign: Campaign, budget: int, enabled: bool) -> None:
        self.campaign, self.budget, self.enabled = campaign, budget, enabled
        self.bar: Any = None

    def __enter__(self) -> Any:
        if not self.enabled:
            return None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.bar = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"), transient=False,
        )  # fmt: skip
        self.bar.start()
        done = len(self.campaign.store.finished())
        self.task = self.bar.add_task("verified", total=self.budget, completed=done, info="")
        return self.update

    def update(self, log: RoundLog) -> None:
        """Advance the bar after a round."""
        best = _best_text(self.campaign)
        tau = log.health_brief()
        info = f"round {log.round}  {best}  {tau}"
        self.bar.update(self.task, completed=len(self.campaign.store.finished()), info=info)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def _best_text(campaign: Campaign) -> str:
    from searchlab.core.pareto import hypervolume

    verified = [r.values for r in campaign.store.verified()]
    if not verified:
        return ""
    objs = campaign.objectives
    if len(objs) == 1:
        o = objs[0]
        best = (max if o.direction == "maximize" else min)(v[o.name] for v in verified)
        return f"best {best:.4g}"
    ref = objs.reference_min()
    if ref is None:
        return f"{len(verified)} verified"
    feasible = [v for v, bad in zip(verified, objs.violation(verified)) if bad == 0]
    return f"HV {hypervolume(objs.to_min(feasible), ref):.4g}" if feasible else "HV 0"
