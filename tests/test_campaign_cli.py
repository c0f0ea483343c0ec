"""`searchlab run / resume / front`, hydra multirun, and their user errors."""

from __future__ import annotations

import csv
import json

from searchlab.cli import main

FAST = ["surrogate=none", "progress=false", "rounds.batch=5"]


def test_run_writes_results_and_rerun_resumes(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["run", f"run_dir={run}", "budget=10", *FAST]) == 0
    out = capsys.readouterr().out
    assert "10 verified" in out and str(run) in out
    for name in ("campaign.db", "report.html", "pareto.png", "front_verified.csv", "config.yaml"):
        assert (run / name).is_file(), name
    first = json.loads((run / "summary.json").read_text())
    assert first["verified"] == 10 and first["integrity"] == []
    # the same command again: nothing new to do, nothing redone
    assert main(["run", f"run_dir={run}", "budget=10", *FAST]) == 0
    again = json.loads((run / "summary.json").read_text())
    assert again["resumed_from"] == 10 and again["verified"] == 10
    # resume with a larger budget continues the same campaign
    assert main(["resume", str(run), "budget=15"]) == 0
    assert json.loads((run / "summary.json").read_text())["verified"] == 15
    capsys.readouterr()
    assert main(["front", str(run)]) == 0
    out = capsys.readouterr().out
    front = json.loads((run / "front_verified.json").read_text())
    assert "verified front of" in out and all(rec["key"] in out for rec in front)


def test_run_refuses_a_folder_of_another_campaign(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["run", f"run_dir={run}", "budget=5", *FAST]) == 0
    capsys.readouterr()
    assert main(["run", f"run_dir={run}", "budget=5", "strategy=random", *FAST]) == 2
    err = capsys.readouterr().err
    assert "holds campaign" in err and "random" in err and len(err.strip().splitlines()) == 1
    # same name, other settings: the store compares the stored config
    assert main(["run", f"run_dir={run}", "budget=5", "rounds.pool=60", *FAST]) == 2
    err = capsys.readouterr().err
    assert "another config" in err and "pool" in err


def test_bad_run_configs_give_one_line_errors(tmp_path, capsys):
    cases = {
        "+strategy.options.popsize=3": "no option 'popsize'",
        "strategy.options.population=many": "population",
        "strategy=annealing": "annealing",
        "verifier=oracle": "oracle",
        "objectives.constraints=['lat_ms_nowhere <= 5']": "lat_ms_nowhere",
        "objectives.names=[acc_cifar10_test,acc_mars]": "acc_mars",
        "budget=many": "budget",
    }
    for i, (override, needle) in enumerate(cases.items()):
        code = main(["run", f"run_dir={tmp_path / str(i)}", "budget=5", *FAST, override])
        err = capsys.readouterr().err
        assert code != 0 and needle in err, (override, err)


def test_multirun_sweeps_and_summarizes(tmp_path, capsys):
    sweep = tmp_path / "sweep"
    code = main(["run", "-m", "seed=0,1", "budget=5", f"hydra.sweep.dir={sweep}", *FAST])
    assert code == 0
    runs = sorted(p.parent.name for p in sweep.glob("*/summary.json"))
    assert runs == [
        "nb201-acc_latency-rea-none-seed0",
        "nb201-acc_latency-rea-none-seed1",
    ]
    with open(sweep / "summary.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["verified"] for r in rows] == ["5", "5"]
    assert "sweep summary (2 runs)" in capsys.readouterr().out


def _completed(db) -> int:
    import sqlite3

    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as con:
            return con.execute("select count(*) from trials where state = 'COMPLETE'").fetchone()[0]
    except sqlite3.OperationalError:  # tables not created yet
        return 0


def test_sigkilled_run_resumes_without_loss_or_duplicates(tmp_path):
    import math
    import signal
    import subprocess
    import sys
    import time

    args = [sys.executable, "-m", "searchlab.cli", "run", "budget=5000", *FAST]
    killed = tmp_path / "killed"
    proc = subprocess.Popen([*args, f"run_dir={killed}"], stdout=subprocess.DEVNULL)
    deadline = time.time() + 120
    while _completed(killed / "campaign.db") < 30 and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    at_kill = _completed(killed / "campaign.db")
    assert 30 <= at_kill < 5000
    budget = 5 * math.ceil((at_kill + 20) / 5)
    assert main(["resume", str(killed), f"budget={budget}", "progress=false"]) == 0
    whole = tmp_path / "whole"
    assert main(["run", f"run_dir={whole}", f"budget={budget}", *FAST]) == 0
    a = json.loads((killed / "summary.json").read_text())
    assert a["verified"] == budget and a["integrity"] == [] and a["resumed_from"] >= at_kill
    from omegaconf import OmegaConf

    from searchlab.launch import build

    def verified_keys(run):
        cfg = OmegaConf.to_container(OmegaConf.load(run / "config.yaml"), resolve=True)
        return [r.key for r in build(cfg, run, load_surrogate=False).store.verified()]

    keys = verified_keys(killed)
    assert len(keys) == len(set(keys)) == budget
    assert keys == verified_keys(whole)  # the kill changed nothing


def test_constraints_hold_on_the_verified_front(tmp_path):
    run = tmp_path / "c"
    constraint = "objectives.constraints=['lat_ms_hwnb_pixel3 <= 5']"
    code = main(["run", f"run_dir={run}", "budget=40", constraint, *FAST])
    assert code == 0
    front = json.loads((run / "front_verified.json").read_text())
    assert front and all(rec["verified"]["lat_ms_hwnb_pixel3"] <= 5 for rec in front)
