"""Training verifier, datasets and successive halving (small budgets on the digits data)."""

from __future__ import annotations

import itertools
import pickle

import numpy as np
import pytest
import torch
from plugin_space import MlpSpace

from searchlab import load_space
from searchlab.core.pareto import fitness_order
from searchlab.verifiers.base import VerifierError
from searchlab.verifiers.datasets import load_dataset
from searchlab.verifiers.halving import HalvingVerifier, SuccessiveHalving, rung_epochs
from searchlab.verifiers.training import TrainVerifier

torch.set_num_threads(1)

NONE, SKIP = "none", "skip_connect"
IDENTITY = (NONE, NONE, NONE, SKIP, NONE, NONE)  # the cell passes its input through
CONV = ("nor_conv_1x1", NONE, NONE, SKIP, SKIP, NONE)  # x + conv1x1(x): cheap but learns
# node 3 has no input edge, so every cell outputs zeros: the logits ignore the image
DEAD = [(a, b, c, NONE, NONE, NONE) for a, b, c in itertools.product((NONE, SKIP), repeat=3)][:7]
NINE = [DEAD[0], DEAD[1], IDENTITY, DEAD[2], DEAD[3], CONV, DEAD[4], DEAD[5], DEAD[6]]
# 24 steps of 32 images per epoch: about half the default budget's compute, similar accuracy
BUDGET = {"epochs": 3, "batch_size": 32, "limit": 768}
DIGITS = ["acc_digits_val", "acc_digits_test", "train_seconds"]


class DigitsMlp(MlpSpace):
    """The test MLP on the 64 digit pixels with 10 logits (its ONNX rendering is not used)."""

    name = "digits_mlp"
    input_shape = (64,)

    def _torch(self, genotype):
        widths = [64] + [int(w) for w in genotype]
        layers = []
        for a, b in zip(widths, widths[1:]):
            layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
        return torch.nn.Sequential(*layers, torch.nn.Linear(widths[-1], 10))


class Boom(torch.nn.Module):
    def __init__(self, inner, what):
        super().__init__()
        self.inner, self.what = inner, what

    def forward(self, x):
        if self.what == "raise":
            raise RuntimeError("forward exploded")
        return self.inner(x) * float("inf")


class FaultyMlp(DigitsMlp):
    """First width 8 raises in forward, first width 16 gives infinite logits."""

    name = "faulty_mlp"

    def _torch(self, genotype):
        net = super()._torch(genotype)
        return {"8": Boom(net, "raise"), "16": Boom(net, "inf")}.get(genotype[0], net)


@pytest.fixture(scope="module")
def nb201():
    return load_space("nb201", num_classes=10)


@pytest.fixture(scope="module")
def straight(nb201):
    """The nine NB201 cells and their evaluations, trained straight through 3 epochs."""
    cands = [nb201.candidate(g) for g in NINE]
    evals = TrainVerifier(nb201, **BUDGET).verify(cands, DIGITS)
    return cands, evals


def test_dead_cell_at_chance_conv_cell_learns(straight):
    cands, evals = straight
    assert all(e.ok for e in evals), [e.error for e in evals]
    acc = {c.genotype: e.values["acc_digits_test"] for c, e in zip(cands, evals)}
    assert all(acc[g] <= 20 for g in DEAD), acc
    assert acc[CONV] >= 50 and acc[IDENTITY] >= 50, acc
    assert all(e.source == "measured" and e.extra["epochs"] == 3 for e in evals)
    print({c.genotype: (round(e.seconds, 2), acc[c.genotype]) for c, e in zip(cands, evals)})


def test_seed_decides_the_numbers():
    space = DigitsMlp()
    cand = space.candidate(("32", "16", "16"))

    def run(seeds):
        [e] = TrainVerifier(space, epochs=6, seeds=seeds).verify([cand], DIGITS[:2])
        return e.values

    first, again, other = run((0,)), run((0,)), run((1,))
    assert first == again and first["acc_digits_test"] > 50
    assert first != other
    both = run((0, 1))
    assert both["acc_digits_val"] == pytest.approx(
        (first["acc_digits_val"] + other["acc_digits_val"]) / 2
    )
    assert torch.get_num_threads() == 1 and not torch.are_deterministic_algorithms_enabled()
    # a pickled verifier (for worker processes) reloads its data and gives the same numbers
    verifier = TrainVerifier(space, epochs=6)
    clone = pickle.loads(pickle.dumps(verifier))
    assert clone.verify([cand], DIGITS[:2])[0].values == first


def test_failures_become_records_and_the_rest_verify():
    space = FaultyMlp()
    good, raising, infinite = (space.candidate((w, "16", "16")) for w in ("32", "8", "16"))
    verifier = TrainVerifier(space, epochs=1, limit=200)
    evals = verifier.verify([raising, good, infinite], DIGITS)
    assert [e.ok for e in evals] == [False, True, False]
    assert "forward exploded" in evals[0].error
    assert "loss at epoch 1 step 1" in evals[2].error

    plain = DigitsMlp()
    [blown] = TrainVerifier(plain, epochs=1, limit=300, lr=1e10).verify(
        [plain.candidate(good.genotype)], DIGITS
    )
    assert blown.error.startswith("FloatingPointError: NaN loss at epoch 1 step ")

    [late] = TrainVerifier(space, epochs=1, time_limit=0.001).verify([good], DIGITS)
    assert late.error.startswith("TimeoutError: time limit 0.001s exceeded after ")

    # the test MLP has 3 outputs: the digits need 10
    mlp = MlpSpace()
    cand = mlp.sample(np.random.default_rng(0))
    [short] = TrainVerifier(mlp, epochs=1, limit=64).verify([cand], DIGITS)
    assert not short.ok and "not 10 logits" in short.error


def test_configuration_errors(nb201):
    with pytest.raises(VerifierError, match="built for 100 classes.*'digits' has 10"):
        TrainVerifier(load_space("nb201", num_classes=100))
    with pytest.raises(VerifierError, match="cannot provide.*acc_cifar10_test"):
        TrainVerifier(nb201, limit=64).check(["acc_cifar10_test"])
    with pytest.raises(VerifierError, match="known: digits, cifar10, cifar100"):
        load_dataset("mnist")
    with pytest.raises(VerifierError, match="unknown optimizer"):
        TrainVerifier(DigitsMlp(), optimizer="lbfgs")


def test_cifar_missing_folder_names_expected_files(tmp_path):
    with pytest.raises(VerifierError, match="data_batch_1.*data_batch_5.*test_batch"):
        load_dataset("cifar10", root=tmp_path / "nowhere")
    with pytest.raises(VerifierError, match="never downloaded"):
        TrainVerifier(load_space("nb201", num_classes=100), dataset="cifar100")


def _write_batch(path, n, rng, key=b"labels", classes=10):
    data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    labels = rng.integers(0, classes, n).tolist()
    with open(path, "wb") as fh:
        pickle.dump({b"data": data, key: labels}, fh)


def test_fake_cifar_folders_load_with_the_right_shapes(tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for i in range(1, 6):
        _write_batch(folder / f"data_batch_{i}", 20, rng)
    _write_batch(folder / "test_batch", 7, rng)
    s = load_dataset("cifar10", root=tmp_path)
    shapes = [tuple(t.shape) for t in (s.train_x, s.val_x, s.test_x)]
    assert shapes == [(90, 3, 32, 32), (10, 3, 32, 32), (7, 3, 32, 32)]
    assert s.train_x.dtype == torch.float32 and s.train_y.dtype == torch.int64
    assert s.num_classes == 10 and abs(float(s.train_x.mean())) < 1e-3
    assert len(load_dataset("cifar10", root=folder, limit=30).train_x) == 30
    grey = load_dataset("cifar10", root=folder, input_shape=(1, 8, 8))
    assert grey.val_x.shape == (10, 1, 8, 8)

    c100 = tmp_path / "c100"
    c100.mkdir()
    _write_batch(c100 / "train", 50, rng, b"fine_labels", 100)
    _write_batch(c100 / "test", 5, rng, b"fine_labels", 100)
    s = load_dataset("cifar100", root=c100, input_shape=(48,))
    assert (s.train_x.shape, s.val_x.shape, s.num_classes) == ((45, 48), (5, 48), 100)


def test_resumed_training_equals_straight_training(nb201):
    verifier = TrainVerifier(nb201, epochs=3, batch_size=32, limit=96)
    cand, other = nb201.candidate(CONV), nb201.candidate(IDENTITY)
    _, straight = verifier.train_epochs(cand, 3)
    _, paused = verifier.train_epochs(cand, 1)
    verifier.train_epochs(other, 2)  # other work in between must not disturb the paused run
    torch.manual_seed(123)
    _, resumed = verifier.train_epochs(cand, 3, paused)
    a, b = straight.runs[0].model.state_dict(), resumed.runs[0].model.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    one, two = verifier.results(straight), verifier.results(resumed)
    assert (one["acc_digits_val"], one["acc_digits_test"]) == (
        two["acc_digits_val"],
        two["acc_digits_test"],
    )
    with pytest.raises(VerifierError, match="cannot train from 3 to 1"):
        verifier.train_epochs(cand, 1, resumed)


def test_successive_halving_keeps_the_best_and_stops_the_rest(nb201, straight):
    cands, full = straight
    halving = HalvingVerifier(nb201, min_epochs=1, eta=3, **BUDGET)
    evals = halving.verify(cands, DIGITS)
    assert halving.halving.epochs_trained == 9 * 1 + 3 * 2 < 9 * 3
    finished = [i for i, e in enumerate(evals) if e.ok]
    assert len(finished) == 3
    best = max(range(9), key=lambda i: full[i].values["acc_digits_val"])
    # after one epoch CONV is still near chance, so only the identity cell is sure to survive
    assert best == NINE.index(IDENTITY) and best in finished
    for i, e in enumerate(evals):
        if e.ok:  # resumed at each rung, yet equal to training straight through
            assert e.values["acc_digits_test"] == full[i].values["acc_digits_test"]
            assert e.extra["epochs_trained"] == 3 and e.model == "train_halving"
        else:
            assert e.error == f"stopped early at 1 epochs (val acc {e.extra['val_acc']:.2f})"
            assert e.values == {} and e.extra["val_acc"] <= 20
            assert e.pruned  # stored as a PRUNED trial, apart from failures


def test_halving_with_a_custom_rank_and_failures():
    space = FaultyMlp()
    widths = [("32", "32", "32"), ("8", "8", "8"), ("32", "16", "8"), ("16", "32", "32")]
    widths += [("32", "8", "16"), ("32", "32", "8"), ("32", "8", "8")]
    cands = [space.candidate(w) for w in widths]
    verifier = TrainVerifier(space, epochs=4, limit=512)

    def rank(parts):  # non-dominated sorting on (error, size), every column minimized
        F = np.array([[-p.val_acc, space.params(p.candidate)] for p in parts], dtype=float)
        return fitness_order(F)

    sh = SuccessiveHalving(verifier, min_epochs=1, eta=2, rank=rank)
    assert rung_epochs(1, 2, verifier.epochs) == [1, 2, 4]
    evals = sh.run(cands, DIGITS[:2])
    assert "forward exploded" in evals[1].error and "loss at epoch 1" in evals[3].error
    assert not evals[1].pruned and not evals[3].pruned  # real failures are not "stopped early"
    reasons = [e.error.split(" (")[0] for e in evals if not e.ok and "stopped" in e.error]
    assert sorted(reasons) == ["stopped early at 1 epochs"] * 3 + ["stopped early at 2 epochs"]
    [winner] = [e for e in evals if e.ok]
    assert winner.extra["epochs_trained"] == 4 and winner.extra["rank"] == "rank"
    # 5 trainable candidates for 1 epoch, 2 of them to 2 epochs, the last one to 4
    assert sh.epochs_trained == 5 + 2 * 1 + 1 * 2
