"""Export: every candidate of a campaign, verified or only predicted, as one CSV file.

``searchlab export RUN [out=FILE] [overwrite=true] [verified_only=true]`` reads the run
folder's ``config.yaml`` and the campaign's store (it never creates one) and writes one row
per candidate, by default to ``RUN/candidates.csv``; an existing file is kept unless
``overwrite=true``. Columns:

- ``key``, ``state`` (optuna's COMPLETE, FAIL, PRUNED or RUNNING; SCORED: predicted by the
  surrogate, never chosen), ``round`` (that chose or scored it), ``trial`` (optuna's number);
- ``space``, ``genotype`` (the space's genotype string), ``text`` (the ONNX text, for every
  claimed candidate);
- per objective NAME: ``NAME`` (the verified value), ``source_NAME``, ``predicted_NAME``
  (the median of the surrogate's samples), ``spread_NAME``, ``low_NAME`` and ``high_NAME``
  (its 80 % interval);
- ``model`` (the checkpoint that predicted), ``seconds`` (spent verifying), ``error``.

``searchlab fit data=FILE targets=[NAME] text_column=genotype space=SPACE`` (or
``text_column=text space=null``) reads the file as written: rows without a verified value
(predicted only, or failed) have an empty target cell, and ``fit`` skips them, saying so.

Example:
    >>> from searchlab.cli.export import columns
    >>> columns(["acc"])[:9]
    ['key', 'state', 'round', 'trial', 'space', 'genotype', 'text', 'acc', 'source_acc']
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from searchlab.cli.errors import UsageError

USAGE = "usage: searchlab export RUN_DIR [out=FILE] [overwrite=true] [verified_only=true]"
INFO = ["key", "state", "round", "trial", "space", "genotype", "text"]
PER_OBJECTIVE = ["source", "predicted", "spread", "low", "high"]
TAIL = ["model", "seconds", "error"]


def columns(names: Sequence[str]) -> list[str]:
    """The CSV header for a campaign with these objectives."""
    out = list(INFO)
    for name in names:
        out += [name, *(f"{field}_{name}" for field in PER_OBJECTIVE)]
    return out + TAIL


def _predicted(names: Sequence[str], entry: Mapping[str, Any]) -> dict[str, Any]:
    """The prediction cells of a trial or scored entry (empty where nothing was predicted)."""
    row: dict[str, Any] = {}
    for n in names:
        row[f"predicted_{n}"] = (entry.get("predicted") or {}).get(n)
        row[f"spread_{n}"] = (entry.get("spread") or {}).get(n)
        row[f"low_{n}"], row[f"high_{n}"] = (entry.get("interval") or {}).get(n) or (None, None)
    return row


def candidate_rows(store: Any, space: Any) -> list[dict[str, Any]]:
    """One row per claimed candidate (claim order), then per candidate only scored."""
    names = store.objectives.names
    rows, claimed = [], set()
    for t in store.trials():
        claimed.add(t.key)
        genotype = t.genotype_str or space.genotype_to_str(space.validate(json.loads(t.genotype)))
        row = {
            "key": t.key, "state": t.state, "round": t.round, "trial": t.number,
            "space": t.space, "genotype": genotype, "text": t.text, "model": t.model,
            "seconds": None if t.state == "RUNNING" else t.seconds, "error": t.error,
        }  # fmt: skip
        for n in names:
            row[n] = t.values.get(n)
            row[f"source_{n}"] = (t.sources or {}).get(n, t.source) if n in t.values else None
        rows.append(row | _predicted(names, {"predicted": t.predicted, "spread": t.spread,
                                             "interval": t.interval}))  # fmt: skip
    scored: dict[str, dict[str, Any]] = {}  # a candidate scored again keeps its latest scores
    for rnd in store.rounds():
        for entry in rnd.get("scored") or []:
            if entry["key"] in claimed:
                continue
            genotype = space.genotype_to_str(space.validate(json.loads(entry["genotype"])))
            scored[entry["key"]] = {
                "key": entry["key"], "state": "SCORED", "round": rnd["index"],
                "space": space.name, "genotype": genotype, "model": rnd.get("model"),
            } | _predicted(names, entry)  # fmt: skip
    return rows + list(scored.values())


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> None:
    """Write rows whole or not at all (a temporary file renamed over ``path``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, list(header), restval="")
            writer.writeheader()
            writer.writerows({k: "" if v is None else v for k, v in r.items()} for r in rows)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _options(args: Sequence[str]) -> dict[str, Any]:
    """``out``, ``overwrite`` and ``verified_only`` from ``key=value`` arguments."""
    options: dict[str, Any] = {"out": None, "overwrite": False, "verified_only": False}
    for arg in args:
        key, sep, value = arg.partition("=")
        if not sep or key not in options:
            raise UsageError(f"unknown argument {arg!r} (expected out=, overwrite=, "
                             f"verified_only=); {USAGE}")  # fmt: skip
        if key != "out":
            if value.lower() not in ("true", "false"):
                raise UsageError(f"{key}={value!r} is not true or false")
            value = value.lower() == "true"
        elif not value:
            raise UsageError("out= needs a file name")
        options[key] = value
    return options


def open_campaign(run: Path, cfg: Mapping[str, Any]) -> tuple[Any, Any]:
    """The stored campaign of a run folder and its space; refuses where no store exists."""
    from searchlab.cli.run_folder import require_campaign, storage_url
    from searchlab.core.objectives import Objectives
    from searchlab.core.registry import load_space
    from searchlab.store.study import CampaignStore

    url, name = storage_url(cfg, run), str(cfg["name"])
    require_campaign(url, name)  # opening a missing SQLite file would create it
    space = load_space(cfg["space"]["name"], **dict(cfg["space"].get("args") or {}))
    o = cfg["objectives"]
    objectives = Objectives.parse(o["names"], o.get("constraints") or [], o.get("reference"))
    store = CampaignStore.open(url, name, CampaignStore.stored_config(url, name), objectives)
    return store, space


def cmd_export(args: Sequence[str]) -> int:
    """Write every verified and predicted candidate of a run folder's campaign as CSV."""
    if not args or "=" in args[0]:
        raise UsageError(USAGE)
    from searchlab.cli.run_folder import checked_run_config, load_config

    run = Path(args[0])
    options = _options(args[1:])
    out = Path(options["out"] or run / "candidates.csv")
    cfg = checked_run_config(load_config(run), [], str(run / "config.yaml"))
    if out.exists() and not options["overwrite"]:
        raise UsageError(f"{out} exists; give overwrite=true to replace it")
    store, space = open_campaign(run, cfg)
    rows = candidate_rows(store, space)
    if options["verified_only"]:
        rows = [r for r in rows if r["state"] == "COMPLETE"]
    names = store.objectives.names
    write_csv(out, columns(names), rows)
    verified = sum(r["state"] == "COMPLETE" for r in rows)
    print(f"wrote {len(rows)} candidates ({verified} verified) of {cfg['name']} to {out}")
    # a network's text is rendered again from its genotype; a configuration's text is itself
    source = (
        f"text_column=genotype space={cfg['space']['name']}"
        if space.renders_network
        else "text_column=text"
    )
    print(
        f"  searchlab fit data={out} targets=[{','.join(names)}] {source} out=DIR  "
        f"fits an RLM on the {verified} verified"
    )
    return 0
