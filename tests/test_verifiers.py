"""Verifiers by name: registry, combinations with per-number sources, pool wrapping."""

from __future__ import annotations

import numpy as np
import pytest

from searchlab import load_space
from searchlab.core.evaluation import Evaluation
from searchlab.core.objectives import Objectives
from searchlab.store.study import CampaignStore
from searchlab.verifiers import VerifierError, make_verifier
from searchlab.verifiers.pool import PoolVerifier


@pytest.fixture(scope="module")
def space():
    return load_space("nb201")


def test_names_build_the_right_verifiers(space):
    assert make_verifier("tabular", space).source == "benchmark"
    assert make_verifier("latency", space, runs=3).provides("lat_ms_local_cpu")
    assert make_verifier("train", space, epochs=1).provides("acc_digits_val")
    pooled = make_verifier("tabular", space, workers=2, time_limit=30)
    assert isinstance(pooled, PoolVerifier) and pooled.settings()["workers"] == 2


@pytest.mark.parametrize(
    ("name", "options", "needle"),
    [
        ("oracle", {}, "unknown verifier 'oracle'"),
        ("latency", {"runz": 3}, "bad options"),
        ("tabular+latency", {"runs": 3}, "grouped by part"),
        ("tabular+nowhere", {}, "unknown verifier 'nowhere'"),
    ],
)
def test_bad_names_and_options_are_named(space, name, options, needle):
    with pytest.raises(VerifierError, match=needle):
        make_verifier(name, space, **options)


def test_combined_numbers_keep_their_own_source_in_the_store(space):
    verifier = make_verifier("tabular+latency", space, latency={"runs": 3, "warmup": 1})
    objs = Objectives.parse(["acc_cifar10_test", "lat_ms_local_cpu"])
    cand = space.sample(np.random.default_rng(1))
    [ev] = verifier.verify([cand], objs.names)
    assert ev.ok and ev.source == "benchmark"  # not every number was measured here
    assert ev.extra["sources"] == {"acc_cifar10_test": "benchmark", "lat_ms_local_cpu": "measured"}
    assert (
        ev.values["acc_cifar10_test"]
        == space.benchmark().lookup(cand, ["acc_cifar10_test"])["acc_cifar10_test"]
    )
    store = CampaignStore.open("sqlite:///:memory:", "s", {}, objs)
    number = store.claim(cand, 0, "g")
    store.complete(number, ev)
    attrs = store.study.trials[0].user_attrs
    assert attrs["sources"] == ev.extra["sources"]


def test_a_failing_part_fails_the_candidate_with_its_name(space):
    verifier = make_verifier("tabular+latency", space, latency={"runs": 3})
    other = load_space("fbnet")
    cand = other.sample(np.random.default_rng(0))  # not an NB201 candidate: no benchmark row
    [ev] = verifier.verify([cand], ["acc_cifar10_test", "lat_ms_local_cpu"])
    assert not ev.ok and "tabular" in ev.error


def test_tabular_evaluations_are_benchmark_tagged(space):
    cand = space.sample(np.random.default_rng(2))
    [ev] = make_verifier("tabular", space).verify([cand], ["acc_cifar10_test"])
    assert isinstance(ev, Evaluation) and ev.source == "benchmark" and ev.model == "tabular"
