"""The campaign loop on the bundled NB201 benchmark: budget, durability, resume, failures."""

from __future__ import annotations

import json
import logging
import re
import time
from collections import Counter
from dataclasses import replace

import numpy as np
import pytest

from searchlab import load_space
from searchlab.campaign.loop import Campaign, CampaignSettings
from searchlab.cli import main
from searchlab.cli.launch import records
from searchlab.core.evaluation import Evaluation
from searchlab.core.objectives import Objectives
from searchlab.report.summary import summary
from searchlab.store.study import CampaignStore, StoreError
from searchlab.strategies import make_strategy
from searchlab.verifiers import TabularVerifier

OBJS = ["acc_cifar10_test", "lat_ms_hwnb_pixel3"]
OPTIONS = {"rea": {"population": 10}, "nsga2": {"population": 10}}
REF = {"acc_cifar10_test": 90.745, "lat_ms_hwnb_pixel3": 10.676}


@pytest.fixture(scope="module")
def space():
    return load_space("nb201")


class Interrupted(BaseException):
    """Stands for the process being killed (not an Exception: nothing may catch it)."""


class KilledAfter(TabularVerifier):
    """Verifies ``n`` candidates, then dies in the middle of a round."""

    def __init__(self, space, n: int) -> None:
        super().__init__(space)
        self.left = n

    def _verify_one(self, candidate, objectives):
        if self.left == 0:
            raise Interrupted
        self.left -= 1
        return super()._verify_one(candidate, objectives)


class FailsSome(TabularVerifier):
    """Fails every candidate whose first edge is ``none`` (stands for a crashing training)."""

    def _verify_one(self, candidate, objectives):
        if candidate.genotype[0] == "none":
            raise RuntimeError("loss became NaN")
        return super()._verify_one(candidate, objectives)


class PrunesSome(FailsSome):
    """Also stops early (a multi-fidelity verifier's verdict) cells whose first edge pools."""

    def evaluate(self, candidate, objectives):
        if candidate.genotype[0] == "avg_pool_3x3":
            stopped = Evaluation.failure(candidate.key, "measured", "stopped early at 1 epochs")
            return replace(stopped, pruned=True)
        return super().evaluate(candidate, objectives)


class OracleSurrogate:
    """Stands for the RLM, fast: the benchmark's own values with seeded relative noise."""

    name = "oracle"

    def __init__(self, space, noise: float = 0.02) -> None:
        self.space, self.noise, self.updates = space, noise, 0

    def check(self, objectives):
        pass

    def predict(self, cands, objectives, k, seed):
        table = self.space.benchmark()
        truth = np.array([[table.lookup(c, objectives)[o] for o in objectives] for c in cands])
        noise = np.random.default_rng(seed).standard_normal((len(cands), k, len(objectives)))
        return truth.reshape(len(cands), 1, -1) * (1 + self.noise * noise)

    def update(self, cands, values, objectives, source):
        time.sleep(0.05)  # fine-tuning takes time, and the round log reports it
        self.updates += 1

    def settings(self):
        return {"name": self.name}


def campaign(space, url, strategy="rea", verifier=None, batch=5, seed=0, owner="main", grace=60):
    objs = Objectives.parse(OBJS, reference=REF)
    identity = {"seed": seed, "strategy": strategy}
    store = CampaignStore.open(url, "c", identity, objs, owner=owner, grace=grace)
    return Campaign(
        space,
        make_strategy(strategy, space, objs, seed=seed, **OPTIONS.get(strategy, {})),
        None,
        verifier or TabularVerifier(space),
        objs,
        store,
        CampaignSettings(batch=batch, pool=50, seed=seed, heartbeat=0.1),
    )


def keys(c: Campaign) -> list[str]:
    return [r.key for r in c.store.verified()]


@pytest.mark.parametrize("strategy", ["rea", "nsga2", "local"])
def test_budget_reached_without_duplicates(space, tmp_path, strategy):
    c = campaign(space, f"sqlite:///{tmp_path}/s.db", strategy)
    result = c.run(budget=23)
    assert result.verified == 23 and result.failed == 0
    assert len(set(keys(c))) == 23
    assert c.store.integrity() == []
    table = space.benchmark()
    for rec in c.store.verified():  # numbers are the benchmark's, tagged as such
        assert rec.source == "benchmark"
        assert rec.values == table.lookup(rec.candidate(), OBJS)


def test_resume_after_a_kill_matches_an_uninterrupted_run(space, tmp_path):
    whole = campaign(space, f"sqlite:///{tmp_path}/whole.db")
    whole.run(budget=30)
    url = f"sqlite:///{tmp_path}/killed.db"
    first = campaign(space, url, verifier=KilledAfter(space, 12))
    with pytest.raises(Interrupted):
        first.run(budget=30)
    assert len(first.store.verified()) == 12  # each result was stored as it came
    assert len(first.store.pending()) == 3  # a round of 5: 2 verified, 3 claims in flight
    again = campaign(space, url)
    result = again.run(budget=30)
    assert result.verified == 30
    assert keys(again) == keys(whole)  # same seed: same candidates, nothing lost or redone
    assert again.store.integrity() == []
    assert again.run(budget=30).rounds == []  # finished: a rerun verifies nothing


def test_recovered_claims_are_finished_in_trial_order(space, tmp_path):
    """A claim cut off before its trial number was attached is found again by its key, and
    finished before the later claims: a kill in between then leaves no hole in the order."""
    import sqlite3

    from searchlab.store.claims import TABLE

    url = f"sqlite:///{tmp_path}/cut.db"
    first = campaign(space, url, verifier=KilledAfter(space, 12))
    with pytest.raises(Interrupted):
        first.run(budget=30)
    pending = sorted(first.store.pending(), key=lambda r: r.number)
    assert len(pending) == 3
    before = keys(first)
    with sqlite3.connect(tmp_path / "cut.db") as conn:  # as if killed before attach()
        conn.execute(f"update {TABLE} set trial = NULL where key = ?", (pending[0].key,))
    # the resumed run verifies one more and dies: that one must be the lowest pending trial
    again = campaign(space, url, verifier=KilledAfter(space, 1))
    with pytest.raises(Interrupted):
        again.run(budget=30)
    assert keys(again) == before + [pending[0].key]


def test_a_peer_at_the_budget_finishes_a_dead_workers_claims_before_exiting(space, tmp_path):
    url = f"sqlite:///{tmp_path}/peers.db"
    dead = campaign(space, url, verifier=KilledAfter(space, 12), owner="dead", grace=0.5)
    with pytest.raises(Interrupted):
        dead.run(budget=30)
    in_flight = {r.key for r in dead.store.pending()}
    assert len(dead.store.verified()) == 12 and len(in_flight) == 3
    peer = campaign(space, url, owner="peer", grace=0.5)
    result = peer.run(budget=12)  # already reached: the peer still may not leave claims open
    assert result.stopped == "budget" and peer.store.pending() == []
    assert {r.key for r in peer.store.verified()} >= in_flight
    assert all(peer.store.claims.get(k).owner == "peer" for k in in_flight)
    assert peer.store.integrity() == []


def test_extending_the_budget_continues_the_same_sequence(space, tmp_path):
    whole = campaign(space, f"sqlite:///{tmp_path}/a.db")
    whole.run(budget=20)
    url = f"sqlite:///{tmp_path}/b.db"
    campaign(space, url).run(budget=10)
    resumed = campaign(space, url)
    resumed.run(budget=20)
    assert keys(resumed) == keys(whole)


def test_failed_candidates_are_recorded_and_the_campaign_goes_on(space, tmp_path):
    c = campaign(space, f"sqlite:///{tmp_path}/f.db", strategy="random", verifier=FailsSome(space))
    result = c.run(budget=40)
    failed = [t for t in c.store.trials() if t.state == "FAIL"]
    assert result.failed == len(failed) > 0
    assert result.verified + result.failed == 40
    assert all("loss became NaN" in t.error for t in failed)
    told = {cand.key: v for cand, v in c.strategy.history}
    assert all(told[t.key] is None for t in failed)


def test_pruned_candidates_are_kept_apart_from_failures(space, tmp_path):
    c = campaign(space, f"sqlite:///{tmp_path}/p.db", strategy="random", verifier=PrunesSome(space))
    result = c.run(budget=40)
    states = Counter(t.state for t in c.store.trials())
    assert result.pruned == states["PRUNED"] > 0 and result.failed == states["FAIL"] > 0
    assert result.verified + result.failed + result.pruned == 40
    assert sum(log.pruned for log in result.rounds) == result.pruned
    assert c.store.integrity() == []
    info = summary(records(c), c.objectives)
    assert (info["pruned"], info["failed"]) == (result.pruned, result.failed)
    told = {cand.key: v for cand, v in c.strategy.history}
    assert all(told[t.key] is None for t in c.store.trials() if t.state == "PRUNED")


def test_same_seed_same_candidates_other_seed_others(space, tmp_path):
    a = campaign(space, f"sqlite:///{tmp_path}/1.db", seed=3)
    b = campaign(space, f"sqlite:///{tmp_path}/2.db", seed=3)
    c = campaign(space, f"sqlite:///{tmp_path}/3.db", seed=4)
    for run in (a, b, c):
        run.run(budget=15)
    assert keys(a) == keys(b) != keys(c)


def test_store_refuses_a_run_folder_of_another_campaign(space, tmp_path):
    url = f"sqlite:///{tmp_path}/x.db"
    campaign(space, url, seed=0).run(budget=5)
    with pytest.raises(StoreError, match="another config.*seed"):
        campaign(space, url, seed=1)


def test_rlm_surrogate_round_records_predictions_and_health(space, tmp_path):
    from searchlab.surrogates.rlm import RlmSurrogate

    objs = Objectives.parse(OBJS, reference=REF)
    store = CampaignStore.open(f"sqlite:///{tmp_path}/r.db", "r", {}, objs)
    surrogate = RlmSurrogate("default", device="cpu", finetune_steps=10)
    settings = CampaignSettings(pool=40, batch=5, k=4, initial=5, finetune_every=5)
    c = Campaign(
        space,
        make_strategy("random", space, objs, seed=0),
        surrogate,
        TabularVerifier(space),
        objs,
        store,
        settings,
        run_dir=tmp_path / "run",
    )
    result = c.run(budget=15)
    assert result.verified == 15
    rounds = store.rounds()
    assert rounds[0]["model"] is None and rounds[1]["model"].startswith("updated-00005@")
    predicted = [r for r in store.verified() if r.predicted]
    assert len(predicted) == 10  # the first 5 were chosen without the model
    for r in predicted:
        assert set(r.predicted) == set(OBJS) and r.model.startswith("updated-")
        lo, hi = r.interval["lat_ms_hwnb_pixel3"]
        # the stored prediction is the point prediction (deterministic), not a sample median:
        # with 4 samples it may fall outside their 10-90 % range, never outside the plausible
        assert lo <= hi and 0 < r.predicted["lat_ms_hwnb_pixel3"] < 10 * hi
    assert len(rounds[1]["scored"]) == 40
    assert store.state("finetuned_on") == 10
    assert sorted(p.name for p in (tmp_path / "run" / "surrogate").iterdir()) == ["updated-00010"]
    tau, cover = c.health()
    assert set(cover) == set(OBJS) and all(0 <= v <= 1 for v in cover.values())
    assert np.isfinite(list(tau.values())).all()
    # samples are bounded by what was verified, and the bound travels with the checkpoint
    top = {n: max(r.values[n] for r in store.verified()[:10]) for n in OBJS}
    assert surrogate.bounds == pytest.approx({n: 10 * v for n, v in top.items()})
    scored = np.array([[e["interval"][n][1] for n in OBJS] for e in rounds[-1]["scored"]])
    assert (scored < 10 ** np.ceil(np.log10([10 * top[n] for n in OBJS]))).all()
    again = RlmSurrogate("default", device="cpu")
    again.load(tmp_path / "run" / "surrogate" / "updated-00010")
    assert again.bounds == surrogate.bounds


def test_a_stored_config_reopens_its_own_campaign(space, tmp_path):
    url = f"sqlite:///{tmp_path}/own.db"
    c = campaign(space, url)
    c.run(budget=10)
    c.store.set_state("budget", 10)  # what `searchlab run` stores for joining workers
    stored = CampaignStore.stored_config(url, "c")
    again = CampaignStore.open(url, "c", stored, c.objectives)
    assert keys(campaign(space, url)) == [r.key for r in again.verified()]
    assert again.config == c.store.config and again.integrity() == []
    other = {**stored, "seed": 1}  # the identity is still compared
    with pytest.raises(StoreError, match="another config.*seed"):
        CampaignStore.open(url, "c", other, c.objectives)


def oracle_campaign(space, tmp_path, objectives=OBJS):
    objs = Objectives.parse(objectives, reference={n: REF[n] for n in objectives})
    store = CampaignStore.open(f"sqlite:///{tmp_path}/o.db", "o", {}, objs)
    settings = CampaignSettings(pool=30, batch=5, k=4, initial=5, finetune_every=5)
    strategy = make_strategy("random", space, objs, seed=0)
    verifier = TabularVerifier(space)
    return Campaign(space, strategy, OracleSurrogate(space), verifier, objs, store, settings)


ROUND_LINE = re.compile(
    r"round (\d+): (\d+)/15 verified; best acc_cifar10_test [\d.]+, lat_ms_hwnb_pixel3 [\d.]+; "
    r"hypervolume [\d.]+; (.*); surrogate update ([\d.]+) s, round [\d.]+ s$"
)


def test_each_round_logs_one_line_and_stores_the_same_figures(space, tmp_path, caplog):
    c = oracle_campaign(space, tmp_path)
    with caplog.at_level(logging.INFO, logger="searchlab"):
        result = c.run(budget=15)
    lines = [r.getMessage() for r in caplog.records if r.name == "searchlab.campaign.loop"]
    assert lines[0].startswith("campaign o starting: space nb201, strategy random, surrogate ")
    assert "budget 15, 0 evaluated" in lines[0] and f"{tmp_path}/o.db" in lines[0]
    matches = [ROUND_LINE.match(line) for line in lines[1:]]
    assert all(matches) and len(matches) == len(result.rounds) == 3, lines
    assert [(int(m[1]), int(m[2])) for m in matches] == [(0, 5), (1, 10), (2, 15)]
    # round 0 picks without the model; rounds 1 and 2 fine-tune first, then predict
    assert matches[0][3] == "surrogate oracle: nothing it predicted is verified yet"
    health = matches[1][3]
    assert health.startswith("surrogate oracle on 5 values predicted before verification: tau ")
    assert "80 % interval coverage acc_cifar10_test" in health
    assert [float(m[4]) >= 0.05 for m in matches] == [False, True, True]
    stored = [r["log"] for r in c.store.rounds()]
    assert [s["round"] for s in stored] == [0, 1, 2]
    last, final = stored[-1], summary(records(c), c.objectives)
    assert (last["done"], last["budget"], last["total_verified"]) == (15, 15, 15)
    assert last["best"] == final["best"] and last["hypervolume"] == pytest.approx(
        final["hypervolume"]
    )
    assert last["health_on"] == 5 and set(last["tau"]) == set(OBJS)
    assert last["tau"] == pytest.approx(c.health()[0]) and last["finetune_seconds"] >= 0.05
    assert [asdict_log["round"] for asdict_log in stored] == [log.round for log in result.rounds]


def test_one_objective_logs_no_hypervolume_and_no_surrogate_says_so(space, tmp_path, caplog):
    objs = Objectives.parse(["acc_cifar10_test"])
    store = CampaignStore.open(f"sqlite:///{tmp_path}/n.db", "n", {}, objs)
    strategy = make_strategy("rea", space, objs, seed=0, population=10)
    settings = CampaignSettings(pool=50, batch=5)
    c = Campaign(space, strategy, None, TabularVerifier(space), objs, store, settings)
    with caplog.at_level(logging.INFO, logger="searchlab.campaign.loop"):
        c.run(budget=10)
    lines = [r.getMessage() for r in caplog.records if r.name == "searchlab.campaign.loop"]
    best = max(r.values["acc_cifar10_test"] for r in store.verified())
    assert lines[-1].startswith(f"round 1: 10/10 verified; best acc_cifar10_test {best:.4g}; ")
    assert "hypervolume" not in lines[-1] and "; no surrogate; surrogate update 0.0 s" in lines[-1]
    assert store.rounds()[-1]["log"]["hypervolume"] is None


def test_run_logs_to_the_run_folder_and_summary_lists_the_rounds(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # hydra's output folder, and its log file, go to the cwd
    args = ["run", "name=logged", "budget=10", "surrogate=none", "progress=false", "report=false"]
    assert main([*args, "rounds.batch=5"]) == 0
    run = tmp_path / "runs" / "logged"
    log = (run / "campaign.log").read_text()
    assert "campaign logged starting: space nb201, strategy local, surrogate none" in log
    assert f"run folder {run}" in log
    assert "round 0: 5/10 verified;" in log and "round 1: 10/10 verified;" in log
    assert log.count("; no surrogate; surrogate update 0.0 s") == 2
    info = json.loads((run / "summary.json").read_text())
    assert [r["round"] for r in info["rounds"]] == [0, 1]
    assert info["rounds"][-1]["best"] == info["best"]
    assert info["rounds"][-1]["hypervolume"] == pytest.approx(info["hypervolume"])


def test_the_progress_bar_labels_the_surrogate_health(space, tmp_path):
    from searchlab.cli.launch import _progress

    c = oracle_campaign(space, tmp_path, objectives=["acc_cifar10_test"])
    result = c.run(budget=10)
    bar = _progress(c, 10, enabled=True)
    update = bar.__enter__()
    try:
        update(replace(result.rounds[-1], tau={"acc_cifar10_test": 0.41}))
        info = bar.bar.tasks[0].fields["info"]
    finally:
        bar.__exit__(None, None, None)
    assert "tau 0.41" in info and "cover80 " in info
