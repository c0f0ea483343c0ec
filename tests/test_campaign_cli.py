"""`searchlab run / resume / front`, hydra multirun, and their user errors."""

from __future__ import annotations

import csv
import json
import shutil

import pytest
from omegaconf import OmegaConf

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
        "nb201-acc_latency-local-none-seed0",
        "nb201-acc_latency-local-none-seed1",
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

    from searchlab.cli.launch import build

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


# --- the run folder, resume and front: never lose or invent data -----------------------------


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished 5-evaluation campaign; tests copy it before changing anything."""
    run = tmp_path_factory.mktemp("finished") / "run"
    assert main(["run", f"run_dir={run}", "budget=5", *FAST]) == 0
    return run


def _files(folder) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_relative_sqlite_storage_is_stored_absolute(tmp_path, monkeypatch, capsys):
    (tmp_path / "here").mkdir()
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    run = tmp_path / "run"
    assert main(["run", "storage=sqlite:///rel.db", f"run_dir={run}", "budget=5", *FAST]) == 0
    stored = OmegaConf.load(run / "config.yaml").storage
    assert stored == f"sqlite:///{tmp_path / 'here' / 'rel.db'}"
    monkeypatch.chdir(tmp_path / "elsewhere")
    capsys.readouterr()
    assert main(["resume", str(run)]) == 0
    assert json.loads((run / "summary.json").read_text())["resumed_from"] == 5
    assert list((tmp_path / "elsewhere").iterdir()) == []  # no new database here


def test_resume_of_a_relative_storage_url_never_creates_a_database(
    finished, tmp_path, monkeypatch, capsys
):
    run = tmp_path / "run"
    shutil.copytree(finished, run)
    config = OmegaConf.load(run / "config.yaml")
    config.storage = "sqlite:///rel.db"  # as written by earlier versions
    OmegaConf.save(config, run / "config.yaml")
    monkeypatch.chdir(tmp_path)
    before = _files(run)
    assert main(["resume", str(run)]) == 2
    err = capsys.readouterr().err
    assert "rel.db" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "rel.db").exists() and _files(run) == before


def test_resume_and_front_refuse_a_folder_without_its_database(finished, tmp_path, capsys):
    empty = tmp_path / "empty"
    shutil.copytree(finished, empty)
    (empty / "campaign.db").write_bytes(b"")  # a 0-byte database: nothing to resume
    missing = tmp_path / "missing"
    shutil.copytree(finished, missing)
    (missing / "campaign.db").unlink()
    for folder, needle in ((empty, "empty"), (missing, "no database")):
        before = _files(folder)
        for command in ("resume", "front"):
            assert main([command, str(folder)]) == 2, (command, folder)
            err = capsys.readouterr().err
            assert needle in err and "campaign.db" in err, err
            assert len(err.strip().splitlines()) == 1
            assert _files(folder) == before, (command, folder)  # no results, no database


def test_resume_overrides_are_checked_before_anything_is_written(finished, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(finished, run)
    before = _files(run)
    cases = {
        "budget=abc": ["budget", "abc"],
        "nosuch=1": ["nosuch"],
        "rounds.nosuch=1": ["rounds.nosuch"],
        "budget": ["budget", "key=value"],
        "budget=0": ["budget", "at least 1"],
    }
    for override, needles in cases.items():
        assert main(["resume", str(run), override]) == 2, override
        err = capsys.readouterr().err
        assert all(n in err for n in needles), (override, err)
        assert len(err.strip().splitlines()) == 1, err
        assert _files(run) == before, override
    assert main(["resume", str(run)]) == 0  # the folder still works


@pytest.mark.parametrize(
    "overrides, needles",
    [
        (["space=fbnet"], ["cannot provide", "acc_cifar10_test"]),
        (["rounds.batch=0"], ["rounds.batch", "at least 1"]),
        (["rounds.k=0", "surrogate=rlm"], ["rounds.k", "at least 1"]),
        (["rounds.pool=0"], ["rounds.pool", "at least 1"]),
        (["budget=0"], ["budget", "at least 1"]),
        (["budget=-1"], ["budget", "-1"]),
        (["rounds.acquisition=nosuch"], ["nosuch"]),
        (["surrogate=rlm", "surrogate.device=cuda:99"], ["surrogate.device", "cuda:99"]),
        (["max_minutes=0"], ["max_minutes"]),
    ],
)
def test_a_refused_run_leaves_no_trace(overrides, needles, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    run = tmp_path / "run"
    assert main(["run", f"run_dir={run}", "budget=5", *FAST, *overrides]) == 2
    err = capsys.readouterr().err
    assert all(n in err for n in needles), err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # no run folder, no database, no hydra folder


@pytest.mark.parametrize(
    "refused, fixed",
    [
        (["space=fbnet"], ["space=fbnet", "objectives.names=[lat_ms_pixel3]",
                           "objectives.reference=null"]),
        (["rounds.batch=0"], ["rounds.batch=5"]),
    ],
)  # fmt: skip
def test_the_corrected_command_runs_after_a_refused_one(refused, fixed, tmp_path, capsys):
    args = ["run", f"run_dir={tmp_path / 'run'}", "budget=5", *FAST]
    assert main([*args, *refused]) == 2
    capsys.readouterr()
    assert main([*args, *fixed]) == 0, capsys.readouterr().err
    assert "campaign " in capsys.readouterr().out


def test_run_dir_that_is_a_file_is_refused(tmp_path, capsys):
    target = tmp_path / "taken"
    target.write_text("keep me\n")
    assert main(["run", f"run_dir={target}", "budget=5", *FAST]) == 2
    err = capsys.readouterr().err
    assert "run_dir" in err and "not a folder" in err and "FileExistsError" not in err
    assert target.read_text() == "keep me\n"


def test_broken_config_yaml_is_one_line(finished, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(finished, run)
    (run / "config.yaml").write_text("name: [unclosed\nseed: {\n")
    before = _files(run)
    for args in (["resume", str(run)], ["front", str(run)], ["run", f"run_dir={run}", *FAST]):
        assert main(args) == 2, args
        err = capsys.readouterr().err
        assert "config.yaml" in err and len(err.strip().splitlines()) == 1, err
    assert _files(run) == before


def test_front_refuses_extra_arguments(finished, capsys):
    before = _files(finished)
    assert main(["front", str(finished), "foo=1", "bar"]) == 2
    err = capsys.readouterr().err
    assert "foo=1" in err and "bar" in err and len(err.strip().splitlines()) == 1
    assert _files(finished) == before


def test_unquoted_comparison_in_a_list_says_how_to_quote(tmp_path, capsys):
    override = "objectives.constraints=[lat_ms_hwnb_pixel3<=5]"
    assert main(["run", f"run_dir={tmp_path / 'r'}", override, *FAST]) == 2
    err = capsys.readouterr().err
    assert override in err and 'objectives.constraints=["' in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "r").exists()


def test_quoted_constraint_as_documented_runs(tmp_path, capsys):
    run = tmp_path / "q"
    constraint = 'objectives.constraints=["lat_ms_hwnb_pixel3<=5"]'
    assert main(["run", f"run_dir={run}", "budget=5", constraint, *FAST]) == 0
    assert OmegaConf.load(run / "config.yaml").objectives.constraints == ["lat_ms_hwnb_pixel3<=5"]


def test_a_run_refused_by_its_stored_config_leaves_its_folder_alone(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the default run folder: runs/NAME, with hydra's files
    assert main(["run", "budget=5", *FAST]) == 0
    (run,) = (tmp_path / "runs").iterdir()
    before = _files(run)
    capsys.readouterr()
    assert main(["run", "budget=5", *FAST, "rounds.pool=60"]) == 2
    err = capsys.readouterr().err
    assert "another config" in err and "pool" in err and len(err.strip().splitlines()) == 1
    assert _files(run) == before  # .hydra/ and the log included


def test_an_rlm_run_shows_health_and_split_in_log_summary_and_report(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # hydra's output folder, and its log file, go to the cwd
    run = tmp_path / "runs" / "screened"
    args = ["run", "name=screened", "budget=30", "progress=false", "surrogate.device=cpu"]
    assert main([*args, "rounds.pool=40", "rounds.k=4"]) == 0
    out = capsys.readouterr().out
    info = json.loads((run / "summary.json").read_text())
    screened = [r for r in info["rounds"] if r["trust"] is not None]
    # the warm-up round verifies rounds.initial (5), then 10, 10 and the last 5 are screened
    assert len(screened) == 3 and info["rounds"][0]["trust"] is None
    for r, size in zip(screened, (10, 10, 5)):
        assert r["picked_by_surrogate"] + r["picked_by_strategy"] == size
        assert 0.0 <= r["trust"]["share"] <= 1.0
        assert r["trust"]["from"] in ("self-check", "verified")
    totals = info["screening"]
    assert totals["picked_by_surrogate"] == sum(r["picked_by_surrogate"] for r in screened)
    assert totals["picked_by_surrogate"] + totals["picked_by_strategy"] == 25
    assert f"picked {totals['picked_by_surrogate']} of the 25 candidates chosen" in out
    log = (run / "campaign.log").read_text()
    assert log.count("; picks: surrogate ") == 3 and "round 3: 30/30 verified" in log
    page = (run / "report.html").read_text()
    assert "Surrogate health and trust by round" in page and "warm-up" in page
