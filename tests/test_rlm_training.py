"""RLM training: the point estimator, resuming a killed run, balanced pretraining examples."""

import numpy as np
import pytest
import torch

from searchlab.rlm.data import Row
from searchlab.rlm.numbers import NumberTokenizer
from searchlab.rlm.pretrain import joint_examples
from searchlab.rlm.regressor import RegressionLanguageModel
from searchlab.rlm.train import Example, TrainConfig

TINY = dict(d_model=32, n_heads=2, enc_layers=1, dec_layers=2, d_ff=64, max_input=128)


def _texts(n):
    return [f"g (x) => (y) {{\nc = Conv <k={i}> (x)\ny = Relu (c)\n}}" for i in range(n)]


def _model(texts, seed=0):
    return RegressionLanguageModel.create(
        texts, vocab_size=400, device="cpu", seed=seed, digits=3, min_exp=-4, max_exp=4, **TINY
    )


@pytest.fixture(scope="module")
def two_levels():
    """A tiny model taught that even texts score near 20 and odd ones near 70."""
    texts = _texts(16)
    rlm = _model(texts)
    rows = [Example(t, ("acc",), (20.0 + i % 3 if i % 2 == 0 else 70.0 + i % 3,))
            for i, t in enumerate(texts)]  # fmt: skip
    rlm.fit(rows, (), TrainConfig(epochs=40, lr=3e-3, warmup_steps=10), log=lambda s: None)
    return rlm, texts


def test_point_prediction_is_deterministic_and_orders_the_two_levels(two_levels):
    rlm, texts = two_levels
    first = rlm.predict_point(texts, ["acc"])
    assert np.array_equal(first, rlm.predict_point(texts, ["acc"]))
    # other batches change float rounding in the encoder, not the value beyond it
    assert np.allclose(first, rlm.predict_point(texts, ["acc"], batch_size=3), rtol=1e-6)
    low, high = first[0::2, 0], first[1::2, 0]
    assert low.max() < high.min(), (low, high)
    assert 10 < np.median(low) < 35 and 55 < np.median(high) < 85


def test_point_quantiles_are_ordered(two_levels):
    rlm, texts = two_levels
    q = [rlm.predict_point(texts, ["acc"], q=level)[:, 0] for level in (0.1, 0.5, 0.9)]
    assert np.all(q[0] <= q[1] + 1e-9) and np.all(q[1] <= q[2] + 1e-9)
    with pytest.raises(ValueError, match="quantile"):
        rlm.predict_point(texts, ["acc"], q=1.0)


def test_point_prediction_is_finer_than_greedy_digits(two_levels):
    rlm, texts = two_levels
    point = rlm.predict_point(texts, ["acc"])[:, 0]
    tok = NumberTokenizer(digits=3, min_exp=-4, max_exp=4)
    # greedy digits are multiples of the last digit's unit; the quantile falls inside the bin
    unit = 10.0 ** (np.floor(np.log10(np.abs(point))) - (tok.digits - 1))
    assert np.any(np.abs(point / unit - np.round(point / unit)) > 1e-6)


class Killed(Exception):
    pass


def _train(rlm, rows, state, kill_after=None):
    def log(line):
        if kill_after is not None and line.startswith(f"epoch {kill_after:3d}"):
            raise Killed(line)

    cfg = TrainConfig(epochs=4, lr=3e-3, warmup_steps=5, patience=100, seed=3)
    return rlm.fit(rows, rows[:6], cfg, log=log, state_path=state)


def test_a_killed_training_resumes_from_its_last_epoch_and_ends_as_an_unbroken_one(tmp_path):
    texts = _texts(12)
    rows = [Example(t, ("acc",), (30.0 + 3 * i,)) for i, t in enumerate(texts)]
    whole = _model(texts)
    done = _train(whole, rows, tmp_path / "whole.pt")
    broken = _model(texts)
    with pytest.raises(Killed):
        _train(broken, rows, tmp_path / "broken.pt", kill_after=1)
    assert (tmp_path / "broken.pt").exists()
    resumed = _model(texts)  # a fresh process: new weights, the state file on disk
    again = _train(resumed, rows, tmp_path / "broken.pt")
    assert [h["epoch"] for h in again.history] == [0, 1, 2, 3]
    assert again.best_epoch == done.best_epoch
    for name, value in whole.net.state_dict().items():
        assert torch.allclose(value, resumed.net.state_dict()[name]), name


def test_balanced_pretraining_gives_every_solo_column_one_example_per_row():
    rows = [Row(f"t{i}", f"k{i}", (1.0 + i, 2.0, 3.0, 4.0)) for i in range(50)]
    columns = ["acc_a", "lat_1", "lat_2", "lat_3"]
    rng = np.random.default_rng(0)
    out = joint_examples(rows, columns, 3, rng, per_row=1, solo=["acc_a"])
    assert len(out) == 100
    alone = [ex for ex in out if ex.objectives == ("acc_a",)]
    assert len(alone) >= 50 and {ex.text for ex in alone} == {r.text for r in rows}
    for ex in out:  # table order is kept: later objectives condition on earlier ones
        assert list(ex.objectives) == sorted(ex.objectives, key=columns.index)


def test_decoder_only_training_leaves_the_encoder_as_it_was():
    texts = _texts(8)
    rlm = _model(texts)
    before = {k: v.clone() for k, v in rlm.net.state_dict().items()}
    rows = [Example(t, ("acc",), (30.0 + i,)) for i, t in enumerate(texts)]
    rlm.fit(rows, (), TrainConfig(epochs=2, train_only="decoder"), log=lambda s: None)
    after = rlm.net.state_dict()
    encoder = [k for k in before if k.startswith(("embed.", "enc_pos.", "encoder.", "enc_ln."))]
    assert encoder and all(torch.equal(before[k], after[k]) for k in encoder)
    assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith("decoder."))
    assert all(p.requires_grad for p in rlm.net.parameters())  # frozen for that fit only
    with pytest.raises(ValueError, match="train_only"):
        TrainConfig(train_only="encoder")
