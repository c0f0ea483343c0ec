"""Crash safety: a campaign SIGKILLed at seeded random moments, resumed each time.

Each kill must lose no verified result and duplicate none; the store must pass its integrity
check after every kill; the resumed campaign must reach its budget with exactly the
candidates an uninterrupted run verifies.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import numpy as np
from omegaconf import OmegaConf

from searchlab.cli import main
from searchlab.cli.launch import build

FAST = ["surrogate=none", "progress=false", "report=false", "rounds.batch=5"]
KILLS = 12
BUDGET = 400


def _store(run_dir):
    cfg = OmegaConf.to_container(OmegaConf.load(run_dir / "config.yaml"), resolve=True)
    return build(cfg, run_dir, load_surrogate=False).store


def _finished(run_dir) -> int:
    import sqlite3

    db = run_dir / "campaign.db"
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute(
                "select count(*) from trials where state in ('COMPLETE', 'FAIL')"
            ).fetchone()[0]
    except sqlite3.OperationalError:  # tables not created yet
        return 0


def test_random_sigkills_lose_and_duplicate_nothing(tmp_path):
    rng = np.random.default_rng(12)
    run_dir = tmp_path / "killed"
    args = [sys.executable, "-m", "searchlab.cli", "run", f"budget={BUDGET}", *FAST,
            f"run_dir={run_dir}"]  # fmt: skip
    before: list[str] = []
    kills = 0
    while kills < KILLS:
        start = _finished(run_dir)
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        # wait until this process is past its start-up and working, then kill it at random
        while _finished(run_dir) <= start and proc.poll() is None and time.time() < deadline:
            time.sleep(0.02)
        time.sleep(float(rng.uniform(0.0, 0.6)))
        if proc.poll() is not None:
            break  # it finished the budget before the kill
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
        store = _store(run_dir)
        keys = [r.key for r in store.verified()]
        assert keys[: len(before)] == before, f"kill {kills}: verified results lost or reordered"
        assert len(keys) == len(set(keys)), f"kill {kills}: a candidate verified twice"
        assert store.integrity() == [], f"kill {kills}: {store.integrity()}"
        before = keys
    assert kills >= 10, f"only {kills} kills landed before the campaign finished"
    assert main(["resume", str(run_dir), "progress=false"]) == 0
    keys = [r.key for r in _store(run_dir).verified()]
    assert keys[: len(before)] == before
    assert len(keys) == len(set(keys)) == BUDGET
    assert _store(run_dir).integrity() == []
    whole = tmp_path / "whole"
    assert main(["run", f"budget={BUDGET}", *FAST, f"run_dir={whole}"]) == 0
    assert keys == [r.key for r in _store(whole).verified()]  # the kills changed nothing


def test_ctrl_c_is_one_line_saying_what_is_kept_and_how_to_resume(tmp_path):
    run_dir = tmp_path / "interrupted"
    args = [sys.executable, "-m", "searchlab.cli", "run", f"budget={BUDGET}", *FAST,
            f"run_dir={run_dir}"]  # fmt: skip
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while _finished(run_dir) < 10 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "interrupted" in lines[0] and "kept" in lines[0]
    assert f"searchlab resume {run_dir}" in lines[0]
    kept = [r.key for r in _store(run_dir).verified()]
    assert len(kept) >= 10 and _store(run_dir).integrity() == []
    assert main(["resume", str(run_dir), f"budget={len(kept) + 5}", "progress=false"]) == 0
    keys = [r.key for r in _store(run_dir).verified()]
    assert keys[: len(kept)] == kept and len(keys) == len(set(keys)) == len(kept) + 5
