"""Trust earned from measured health: a useless surrogate hands the batch back to the strategy,
a perfect one picks it all, a free feature stands in where it ranks better; every round's
record carries the health and the split."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest

from searchlab import load_space
from searchlab.campaign.loop import Campaign, CampaignSettings
from searchlab.campaign.trust import Health, TrustRule, kendall_se
from searchlab.core.objectives import Objectives
from searchlab.store.study import CampaignStore
from searchlab.strategies import make_strategy
from searchlab.verifiers import TabularVerifier

ACC = "acc_cifar10_test"


@pytest.fixture(scope="module")
def space():
    return load_space("nb201")


class NoiseSurrogate:
    """Predicts noise: its ranking says nothing of the candidates."""

    name = "noise"

    def check(self, objectives):
        pass

    def predict(self, cands, objectives, k, seed):
        rng = np.random.default_rng(seed)
        return 90.0 + rng.standard_normal((len(cands), 1, len(objectives))).repeat(k, axis=1)

    def update(self, cands, values, objectives, source):
        pass

    def settings(self):
        return {"name": self.name}


class TruthSurrogate(NoiseSurrogate):
    """Predicts the benchmark's own values: a perfect ranking."""

    name = "truth"

    def __init__(self, space) -> None:
        self.space = space

    def predict(self, cands, objectives, k, seed):
        table = self.space.benchmark()
        truth = np.array([[table.lookup(c, objectives)[o] for o in objectives] for c in cands])
        return np.repeat(truth[:, None, :], k, axis=1)


def run(space, tmp_path, surrogate, cheap=True, budget=60, strategy="local"):
    objs = Objectives.parse([ACC])
    store = CampaignStore.open(f"sqlite:///{tmp_path}/t.db", "t", {}, objs)
    settings = CampaignSettings(pool=60, batch=10, k=4, initial=10, cheap_rankers=cheap)
    c = Campaign(
        space,
        make_strategy(strategy, space, objs, seed=0),
        surrogate,
        TabularVerifier(space),
        objs,
        store,
        settings,
    )
    c.run(budget)
    return c


def picks(c):
    """Per round with a surrogate: (picked by it, filled by the strategy), from the store."""
    out = []
    for r in c.store.rounds():
        if r.get("trust") is not None:
            by = r["picked_by"]
            out.append((by.count("surrogate"), by.count("strategy")))
    return out


def test_a_surrogate_that_predicts_noise_hands_the_batch_to_the_strategy(space, tmp_path):
    c = run(space, tmp_path, NoiseSurrogate(), cheap=False)
    split = picks(c)
    # nothing measured before its first round: the prior half; then its tau is near 0
    assert split[0] == (5, 5)
    assert all(s == (0, 10) for s in split[2:]), split
    last = c.store.rounds()[-1]
    assert last["trust"]["share"] == 0.0 and last["trust"]["from"] == "verified"
    # a round left to the strategy still predicts its picks, so health is still measured
    assert all(e["predicted"] for e in last["scored"]) and len(last["scored"]) == 10


def test_a_surrogate_that_predicts_the_truth_picks_every_candidate(space, tmp_path):
    c = run(space, tmp_path, TruthSurrogate(space), cheap=False)
    split = picks(c)
    assert split[0] == (5, 5) and all(s == (10, 0) for s in split[1:]), split
    assert c.store.rounds()[-1]["trust"]["tau"] > 0.9
    best = max(r.values[ACC] for r in c.store.verified())
    table = space.benchmark()
    assert best >= np.quantile(table.column(ACC), 0.999)


def test_a_free_feature_ranks_where_the_surrogate_ranks_like_noise(space, tmp_path):
    c = run(space, tmp_path, NoiseSurrogate(), cheap=True)
    trusts = [r["trust"] for r in c.store.rounds() if r.get("trust")]
    ranked = [t["ranked_by"][ACC] for t in trusts]
    # once the noise is measured it loses to params or FLOPs on the same rows, and the
    # trust then rests on the feature's tau (so the screened share is not zero)
    assert ranked[1][0] in ("params", "flops") and ranked[1][1] > 0.3, ranked
    assert trusts[1]["tau"] == ranked[1][1] and picks(c)[1][0] > 0


def test_round_records_and_log_lines_carry_health_and_split(space, tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="searchlab.campaign.loop"):
        c = run(space, tmp_path, TruthSurrogate(space), budget=30)
    logs = [r["log"] for r in c.store.rounds()]
    assert logs[0]["trust"] is None and logs[0]["picked_by_strategy"] == 10  # warm-up
    for log in logs[1:]:
        assert log["picked_by_surrogate"] + log["picked_by_strategy"] == 10
        assert {"share", "tau", "on", "from", "ranked_by"} <= set(log["trust"])
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("round 2:")]
    assert len(lines) == 1 and "picks: surrogate 10, strategy 0 (trust 1.00: tau " in lines[0]


def test_the_rule_follows_the_lower_end_of_the_measured_tau():
    rule = TrustRule(full=0.3)
    assert rule.share(Health(float("nan"), 0, "none")) == rule.prior
    assert rule.share(Health(0.1, 10, "verified")) == 0.0  # 0.1 - 0.25 < 0
    assert rule.share(Health(0.5, 30, "verified")) == 1.0  # 0.5 - 0.13 >= 0.3
    mid = rule.share(Health(0.3, 40, "verified"))
    assert mid == pytest.approx((0.3 - kendall_se(40)) / 0.3)
    assert rule.split(10, mid) == (math.floor(mid * 10 + 0.5), 10 - math.floor(mid * 10 + 0.5))
    with pytest.raises(ValueError, match="trust.full"):
        TrustRule(full=0.0)
