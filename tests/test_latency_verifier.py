"""The latency verifier: real onnxruntime timings that repeat, follow flops, and fail cleanly."""

import numpy as np
import pytest
from onnx import TensorProto, helper
from scipy.stats import spearmanr

from searchlab import load_space
from searchlab.verifiers.base import VerifierError
from searchlab.verifiers.latency import DEFAULT_TARGET, LatencyVerifier

TARGET = DEFAULT_TARGET


@pytest.fixture(scope="module")
def nb201():
    return load_space("nb201")


def _cell(space, n3x3, n1x1=0, filler="skip_connect"):
    ops = ["nor_conv_3x3"] * n3x3 + ["nor_conv_1x1"] * n1x1
    return space.candidate(tuple(ops + [filler] * (6 - len(ops))))


def test_repeated_measurements_agree_within_ten_percent(nb201):
    # the heaviest cell (~220 MFLOPs); separate verify calls, each with its own session. Of
    # three, two neighbours must agree: on a shared host one call can meet another process's
    # burst of load (once in three CI runs, 1.15x), which no statistic of its own runs undoes;
    # a method that drifts (a warm-up or a session build inside the timing) fails every pair
    cell = _cell(nb201, 6)
    verifier = LatencyVerifier(nb201, warmup=10, runs=100)
    medians = sorted(verifier.verify([cell], [TARGET])[0].values[TARGET] for _ in range(3))
    assert medians[0] > 0
    assert min(medians[1] / medians[0], medians[2] / medians[1]) < 1.10, medians


def test_latency_follows_flops_over_a_family_of_cells(nb201):
    mixes = [(0, 1), (0, 3), (0, 6), (1, 0), (1, 3), (2, 0), (3, 0), (4, 0), (5, 0), (6, 0)]
    cells = [_cell(nb201, 0, 0, "none"), _cell(nb201, 0)] + [_cell(nb201, *m) for m in mixes]
    evaluations = LatencyVerifier(nb201, warmup=5, runs=30).verify(cells, [TARGET])
    assert all(e.ok for e in evaluations), [e.error for e in evaluations]
    latency = [e.values[TARGET] for e in evaluations]
    flops = [nb201.flops(c) for c in cells]
    rho = spearmanr(latency, flops).statistic
    assert rho > 0.8, (rho, latency, flops)
    # the spread of the timed runs comes with every value (wide on a busy machine)
    assert all(e.extra["iqr_ms"] >= 0 for e in evaluations)
    assert all(0 < e.extra["min_ms"] <= e.values[TARGET] for e in evaluations)


def test_provides_only_its_target(nb201):
    verifier = LatencyVerifier(nb201)
    assert verifier.provides(TARGET)
    assert not verifier.provides("lat_ms_gold_6226")
    assert not verifier.provides("acc_cifar10_test")
    mine = LatencyVerifier(nb201, target="lat_ms_my_laptop")
    assert mine.provides("lat_ms_my_laptop") and not mine.provides(TARGET)
    with pytest.raises(VerifierError, match="lat_ms_my_laptop"):
        mine.check([TARGET])
    with pytest.raises(VerifierError, match="runs"):
        LatencyVerifier(nb201, runs=0)


def _unknown_op_model():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])
    graph = helper.make_graph([helper.make_node("FrobnicateTensor", ["x"], ["y"])], "bad", [x], [y])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def test_broken_model_is_a_failed_record_and_the_next_candidate_runs(nb201, monkeypatch):
    broken, good = _cell(nb201, 1), _cell(nb201, 2)
    real = nb201.to_onnx
    monkeypatch.setattr(
        nb201, "to_onnx", lambda c: _unknown_op_model() if c.key == broken.key else real(c)
    )
    first, second = LatencyVerifier(nb201, warmup=1, runs=5).verify([broken, good], [TARGET])
    assert not first.ok and first.key == broken.key
    assert "FrobnicateTensor" in first.error
    assert second.ok and second.values[TARGET] > 0


def test_settings_describe_the_machine(nb201):
    verifier = LatencyVerifier(nb201, batch_size=2, threads=1, warmup=1, runs=3)
    settings = verifier.settings()
    assert settings["target"] == TARGET
    assert settings["batch_size"] == 2 and settings["threads"] == 1
    assert settings["warmup"] == 1 and settings["runs"] == 3
    assert settings["onnxruntime"] and settings["cpu"] and settings["cpu_count"] >= 1
    [e] = verifier.verify([_cell(nb201, 1)], [TARGET])
    assert e.ok and e.source == "measured" and e.extra["cpu"] == settings["cpu"]
    assert np.isfinite(e.values[TARGET])
