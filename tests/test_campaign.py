"""The campaign loop on the bundled NB201 benchmark: budget, durability, resume, failures."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np
import pytest

from searchlab import load_space
from searchlab.campaign import Campaign, CampaignSettings
from searchlab.evaluation import Evaluation
from searchlab.launch import records
from searchlab.objectives import Objectives
from searchlab.report import summary
from searchlab.store import CampaignStore, StoreError
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
    from searchlab.surrogate import RlmSurrogate

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
    assert rounds[0]["model"] is None and rounds[1]["model"].startswith("finetuned-00005@")
    predicted = [r for r in store.verified() if r.predicted]
    assert len(predicted) == 10  # the first 5 were chosen without the model
    for r in predicted:
        assert set(r.predicted) == set(OBJS) and r.model.startswith("finetuned-")
        lo, hi = r.interval["lat_ms_hwnb_pixel3"]
        assert lo <= r.predicted["lat_ms_hwnb_pixel3"] <= hi
    assert len(rounds[1]["scored"]) == 40
    assert store.state("finetuned_on") == 10
    assert sorted(p.name for p in (tmp_path / "run" / "surrogate").iterdir()) == ["finetuned-00010"]
    tau, cover = c.health()
    assert set(cover) == set(OBJS) and all(0 <= v <= 1 for v in cover.values())
    assert np.isfinite(list(tau.values())).all()
    # samples are bounded by what was verified, and the bound travels with the checkpoint
    top = {n: max(r.values[n] for r in store.verified()[:10]) for n in OBJS}
    assert surrogate.bounds == pytest.approx({n: 10 * v for n, v in top.items()})
    scored = np.array([[e["interval"][n][1] for n in OBJS] for e in rounds[-1]["scored"]])
    assert (scored < 10 ** np.ceil(np.log10([10 * top[n] for n in OBJS]))).all()
    again = RlmSurrogate("default", device="cpu")
    again.load(tmp_path / "run" / "surrogate" / "finetuned-00010")
    assert again.bounds == surrogate.bounds
