"""Many workers on one PostgreSQL campaign: exclusive claims, stale-claim recovery.

These tests need a PostgreSQL server (the ``postgres_url`` fixture starts one from Debian's
package, which ``.ci/run`` installs); without one they fail naming what to install.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter

import optuna
from omegaconf import OmegaConf

from searchlab.cli.launch import build
from searchlab.cli.main import compose, main
from searchlab.store.claims import Claims

WORKER_ARGS = ["heartbeat=0.5", "grace=4", "report=false"]


def test_concurrent_claims_give_each_key_to_one_owner(postgres_url):
    keys = [f"k{i}" for i in range(40)]
    won: dict[str, list[str]] = {}
    first = Claims(postgres_url, "race", owner="w0")

    def worker(name: str) -> None:
        mine = Claims(first, owner=name)
        won[name] = [k for k in keys if mine.acquire(k)]

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    counts = Counter(k for got in won.values() for k in got)
    assert set(counts) == set(keys) and set(counts.values()) == {1}


def _create(postgres_url: str, name: str, budget: int, run_dir) -> None:
    """Create the campaign in PostgreSQL the way ``searchlab run storage=URL`` does."""
    cfg = compose(
        "run",
        [
            f"name={name}", f"storage={postgres_url}", "surrogate=none", "strategy=random",
            "objectives=local_latency", "verifier=tabular_latency",
            "verifier.options.latency.runs=150", "rounds.batch=3",
        ],
    )  # fmt: skip
    campaign = build(OmegaConf.to_container(cfg, resolve=True), run_dir, load_surrogate=False)
    campaign.store.set_state("budget", budget)


def _worker(postgres_url: str, name: str, index: int, tmp_path) -> subprocess.Popen:
    args = [sys.executable, "-m", "searchlab.cli", "worker", f"storage={postgres_url}",
            f"campaign={name}", f"index={index}", f"run_dir={tmp_path / f'w{index}'}",
            *WORKER_ARGS]  # fmt: skip
    # cwd: hydra writes its own output folder there, which must not land in the checkout
    return subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path
    )


def test_four_workers_share_a_campaign_and_finish_a_killed_ones_claims(postgres_url, tmp_path):
    name, budget = "four-workers", 36
    _create(postgres_url, name, budget, tmp_path / "create")
    procs = [_worker(postgres_url, name, i, tmp_path) for i in range(4)]
    victim = procs[0]
    owner = f"{socket.gethostname()}-{victim.pid}-0"
    study = optuna.load_study(study_name=name, storage=postgres_url)
    in_flight: list[str] = []
    deadline = time.time() + 180
    while not in_flight and time.time() < deadline and victim.poll() is None:
        running = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
        in_flight = [t.user_attrs["key"] for t in running
                     if t.user_attrs.get("owner") == owner and "key" in t.user_attrs]  # fmt: skip
        time.sleep(0.02)
    assert in_flight, f"the victim never held a claim mid-verification: {victim.communicate()[0]}"
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    for proc in procs[1:]:
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, out
    cfg = OmegaConf.to_container(OmegaConf.load(tmp_path / "w1" / "config.yaml"), resolve=True)
    store = build(cfg, tmp_path / "check", load_surrogate=False).store
    verified = [r.key for r in store.verified()]
    assert len(verified) >= budget  # workers may overshoot by less than a batch each
    assert len(verified) == len(set(verified)), "a candidate was verified twice"
    assert store.integrity() == []
    assert store.pending() == []
    done = {r.key: r for r in store.trials()}
    for key in in_flight:  # the killed worker's claims were taken over and finished
        assert done[key].state == "COMPLETE", key
        assert store.claims.get(key).owner != owner
    owners = {r.get("owner") for r in store.rounds()} - {owner}
    assert len(owners) >= 2  # the survivors shared the work
    by_owner = Counter(store.claims.get(k).owner.rsplit("-", 1)[-1] for k in verified)
    print(
        f"\n4 workers, budget {budget}: {len(verified)} verified, 0 duplicates, victim's "
        f"{len(in_flight)} in-flight claim(s) finished by others; per worker {dict(by_owner)}"
    )
    assert all("model" in r or r.get("abandoned") for r in store.rounds())


def test_worker_reports_a_missing_campaign_and_an_unreachable_store(
    postgres_url, capsys, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # hydra's output folder goes to the cwd
    assert main(["worker", f"storage={postgres_url}", "campaign=nowhere"]) == 2
    assert "no campaign 'nowhere'" in capsys.readouterr().err
    url = "postgresql+psycopg://nobody@127.0.0.1:9/none"
    assert main(["worker", f"storage={url}", "campaign=x"]) == 2
    assert "cannot open storage" in capsys.readouterr().err
