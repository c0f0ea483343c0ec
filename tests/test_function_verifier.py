"""Any objective as the verifier: functions and commands, and how each way of failing is kept."""

from __future__ import annotations

import sys
import time

import numpy as np
import pytest

from searchlab.campaign.loop import Campaign, CampaignSettings
from searchlab.core.config_space import ConfigSpace
from searchlab.core.objectives import Objectives
from searchlab.store.study import CampaignStore
from searchlab.strategies import make_strategy
from searchlab.verifiers import VerifierError, make_verifier
from searchlab.verifiers.function import CommandVerifier, FunctionVerifier

SPACE = ConfigSpace({"x": {"type": "float", "low": -3, "high": 3}}, name="line")


def cand(x: float):
    return SPACE.candidate({"x": x})


def objective(config):
    """A module-level objective that fails in each of the ways a real one can."""
    x = config["x"]
    if x < -2:
        raise RuntimeError("diverged")
    if x < -1:
        return {"loss": float("nan")}
    if x < 0:
        return {"other": 1.0}
    return {"loss": (x - 1) ** 2}


def hangs(config):
    """An objective that never returns for x above 2.5."""
    if config["x"] > 2.5:
        time.sleep(60)
    return objective(config)


def test_function_failures_are_failed_evaluations_with_their_reason():
    ver = make_verifier("function", SPACE, target="tests.test_function_verifier:objective")
    out = ver.verify([cand(-2.5), cand(-1.5), cand(-0.5), cand(1.5)], ["loss"])
    assert [e.ok for e in out] == [False, False, False, True]
    assert out[0].error == "RuntimeError: diverged"
    assert "non-finite" in out[1].error and "nan" in out[1].error
    assert "no value for ['loss']" in out[2].error
    assert out[3].values == {"loss": 0.25} and ver.settings()["target"].endswith(":objective")


def test_a_hanging_function_is_killed_at_its_time_limit():
    ver = make_verifier("function", SPACE, time_limit=3, target=hangs)
    start = time.perf_counter()
    out = ver.verify([cand(2.9), cand(1.0)], ["loss"])
    assert time.perf_counter() - start < 40
    assert not out[0].ok and "timeout after 3" in out[0].error
    assert out[1].ok and out[1].values == {"loss": 0.0}


def test_a_lambda_reaches_a_worker_and_a_bare_number_serves_one_objective():
    ver = make_verifier("function", SPACE, time_limit=60, target=lambda c: c["x"] * 2)
    assert [e.values for e in ver.verify([cand(1.5)], ["y"])] == [{"y": 3.0}]


def test_bad_targets_are_refused_up_front():
    for target, message in [
        ("tests.test_function_verifier", "is not of the form 'module:name'"),
        ("tests.nowhere:fn", "importing module 'tests.nowhere' failed"),
        ("tests.test_function_verifier:nothing", "has no 'nothing'"),
        ("tests.test_function_verifier:SPACE", "not callable"),
    ]:
        with pytest.raises(VerifierError, match=message):
            FunctionVerifier(SPACE, target)


def test_commands_print_json_and_fail_with_reasons():
    py = f"{sys.executable} -c"
    good = CommandVerifier(
        SPACE,
        f'{py} \'import json,sys; c=json.load(sys.stdin); print("log"); '
        f'print(json.dumps({{"loss": c["x"] ** 2}}))\'',
    )
    assert good.verify([cand(2.0)], ["loss"])[0].values == {"loss": 4.0}
    cases = {
        f"{py} 'import sys; sys.exit(\"boom\")'": "exited with status 1: boom",
        f"{py} 'print(\"not json\")'": "not JSON",
        f"{py} 'print(1)'": "{'loss': 1.0}" if False else None,
        f'{py} \'print("{{\\"loss\\": NaN}}")\'': "non-finite",
        f"{py} 'import time; time.sleep(30)'": "timeout after 2",
        "true": "printed nothing",
    }
    for command, message in cases.items():
        ver = CommandVerifier(SPACE, command, timeout=2)
        (e,) = ver.verify([cand(2.0)], ["loss"])
        if message is None:  # one objective: a bare number is its value
            assert e.ok and e.values == {"loss": 1.0}
        else:
            assert not e.ok and message in e.error, (command, e.error)


def test_a_campaign_keeps_every_verified_value_and_every_failure_reason():
    objectives = Objectives.parse(["loss"])
    store = CampaignStore.open("sqlite:///:memory:", "fails", {}, objectives)
    verifier = make_verifier("function", SPACE, target="tests.test_function_verifier:objective")
    strategy = make_strategy("random", SPACE, objectives, seed=0)
    settings = CampaignSettings(batch=10, seed=0)
    Campaign(SPACE, strategy, None, verifier, objectives, store, settings).run(20)
    done = store.verified()
    failed = [r for r in store.finished() if r.state == "FAIL"]
    assert len(done) + len(failed) >= 20 and len(done) > 0
    xs = np.array([r.candidate().genotype["x"] for r in done])
    assert (xs >= 0).all() and len(done) == len({r.key for r in done})
    reasons = {f.error.split(":")[0] for f in failed}
    assert reasons <= {"RuntimeError", "ValueError"} and reasons
