"""The pool verifier: same results as in-process, and timeouts and crashes stay contained."""

import time

import numpy as np
import pytest
from pool_helpers import ScriptedVerifier, tiny_candidates

from searchlab import load_space
from searchlab.verifiers.base import VerifierError
from searchlab.verifiers.latency import LatencyVerifier
from searchlab.verifiers.lookup import TabularVerifier
from searchlab.verifiers.pool import PoolVerifier


@pytest.fixture(scope="module")
def nb201():
    return load_space("nb201")


def test_results_equal_the_in_process_verifier(nb201):
    cands = [nb201.sample(np.random.default_rng(seed)) for seed in range(6)]
    objectives = ["acc_cifar10_test", "lat_ms_gold_6226"]
    inner = TabularVerifier(nb201)
    pool = PoolVerifier(inner, workers=2, time_limit=120, tasks_per_worker=3)
    pairs = list(pool.iter_verify(cands, objectives))
    assert sorted(i for i, _ in pairs) == list(range(6))
    pooled = [e for _, e in sorted(pairs, key=lambda pair: pair[0])]
    direct = inner.verify(cands, objectives)
    assert [e.key for e in pooled] == [c.key for c in cands]
    assert [e.values for e in pooled] == [e.values for e in direct]
    assert all(e.ok and e.source == "benchmark" for e in pooled)


def test_the_latency_verifier_measures_in_a_worker(nb201):
    cell = nb201.candidate(("nor_conv_3x3",) * 6)
    inner = LatencyVerifier(nb201, warmup=2, runs=10)
    [e] = PoolVerifier(inner, workers=1, time_limit=120).verify([cell], ["lat_ms_local_cpu"])
    assert e.ok and e.source == "measured", e.error
    assert e.values["lat_ms_local_cpu"] > 0 and "iqr_ms" in e.extra and e.extra["cpu"]


def test_delegates_to_the_wrapped_verifier(nb201):
    inner = TabularVerifier(nb201)
    pool = PoolVerifier(inner, workers=3, time_limit=5.0, memory_limit_gb=4)
    assert (pool.name, pool.source) == ("tabular", "benchmark")
    assert pool.provides("acc_cifar10_test") and not pool.provides("lat_ms_local_cpu")
    with pytest.raises(VerifierError, match="lat_ms_local_cpu"):
        pool.check(["lat_ms_local_cpu"])
    settings = pool.settings()
    assert settings["table"] == inner.settings()["table"]
    assert (settings["workers"], settings["time_limit"], settings["memory_limit_gb"]) == (3, 5.0, 4)
    unpicklable = ScriptedVerifier(nb201)
    unpicklable.hook = lambda: None
    with pytest.raises(VerifierError, match="pickled"):
        PoolVerifier(unpicklable)


def test_a_candidate_past_the_time_limit_is_killed_and_the_others_succeed():
    space, cands = tiny_candidates(4)
    verifier = ScriptedVerifier(space, {cands[1].key: ("sleep", 60)})
    start = time.monotonic()
    results = PoolVerifier(verifier, workers=2, time_limit=2).verify(cands, ["score"])
    assert time.monotonic() - start < 30
    assert results[1].error == "timeout after 2 s"
    assert 2 <= results[1].seconds < 10
    assert [e.ok for e in results] == [True, False, True, True]
    assert results[3].values == {"score": 5.0}


def test_a_worker_that_dies_is_a_failure_and_the_others_succeed():
    space, cands = tiny_candidates(3)
    verifier = ScriptedVerifier(space, {cands[0].key: ("exit", 3)})
    # one worker with a time limit: still a separate process, reused after a death
    results = PoolVerifier(verifier, workers=1, time_limit=60).verify(cands, ["score"])
    assert results[0].error == "worker died (exit code 3)"
    assert [e.ok for e in results] == [False, True, True]


def test_a_worker_past_its_memory_limit_fails_only_its_candidate():
    space, cands = tiny_candidates(3)
    verifier = ScriptedVerifier(space, {cands[2].key: ("alloc_gib", 2)})
    results = PoolVerifier(verifier, workers=2, memory_limit_gb=1).verify(cands, ["score"])
    assert [e.ok for e in results] == [True, True, False]
    assert "MemoryError" in results[2].error


def test_a_slow_candidate_does_not_hold_back_faster_ones():
    space, cands = tiny_candidates(4)
    verifier = ScriptedVerifier(space, {cands[0].key: ("sleep", 5)})
    order = [i for i, e in PoolVerifier(verifier, workers=2).iter_verify(cands, ["score"])]
    assert sorted(order) == [0, 1, 2, 3]
    assert order[-1] == 0, order
