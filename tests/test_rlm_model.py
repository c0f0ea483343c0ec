"""The RLM: constrained decoding, KV cache, objective order, checkpoints, fitting."""

import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from searchlab.rlm.batching import TOKENS_PER_ROW, padded_chunks
from searchlab.rlm.checkpoint import CheckpointError
from searchlab.rlm.decode import sample_tokens
from searchlab.rlm.loss import number_loss, soft_targets
from searchlab.rlm.model import RlmConfig, RlmNetwork
from searchlab.rlm.numbers import NumberTokenizer
from searchlab.rlm.regressor import RegressionLanguageModel
from searchlab.rlm.train import Example, TrainConfig

TOK = NumberTokenizer(digits=3, min_exp=-4, max_exp=4)
TINY = dict(d_model=32, n_heads=2, enc_layers=1, dec_layers=2, d_ff=64, max_input=128)


def _net(seed):
    torch.manual_seed(seed)
    return RlmNetwork(RlmConfig(vocab_size=60, num_vocab=len(TOK.vocab), **TINY)).eval()


def _inputs(seed, batch=3, length=11):
    gen = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, 60, (batch, length), generator=gen)
    pad = torch.zeros(batch, length, dtype=torch.bool)
    pad[0, length // 2 :] = True
    return ids, pad


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 3), st.sampled_from([0.0, 0.5, 1.0, 3.0]))
def test_every_sample_is_a_valid_number(seed, n_obj, temperature):
    ids, pad = _inputs(seed)
    tokens = sample_tokens(
        _net(seed % 7), ids, pad, TOK, n_obj, k=4, temperature=temperature, seed=seed
    )
    for seq in tokens.reshape(-1, n_obj, TOK.length).tolist():
        for number in seq:
            TOK.decode(number)  # raises on any invalid token


def test_nonnegative_objectives_never_sample_a_minus_sign():
    ids, pad = _inputs(1)
    tokens = sample_tokens(_net(1), ids, pad, TOK, 2, k=16, temperature=5.0, nonnegative=True)
    assert not (tokens[..., :: TOK.length] == TOK.ids["<->"]).any()


@pytest.mark.parametrize("n_obj", [1, 3])
def test_kv_cache_gives_identical_samples(n_obj):
    net = _net(2)
    ids, pad = _inputs(2, batch=5)
    cached = sample_tokens(net, ids, pad, TOK, n_obj, k=6, seed=9, use_cache=True)
    plain = sample_tokens(net, ids, pad, TOK, n_obj, k=6, seed=9, use_cache=False)
    assert torch.equal(cached, plain)
    other = sample_tokens(net, ids, pad, TOK, n_obj, k=6, seed=10, use_cache=True)
    assert not torch.equal(cached, other)


def test_samples_of_one_candidate_do_not_depend_on_the_batch():
    net = _net(3)
    ids, pad = _inputs(3, batch=4)
    alone = sample_tokens(net, ids[1:2], pad[1:2], TOK, 1, k=1, temperature=0.0)
    batched = sample_tokens(net, ids, pad, TOK, 1, k=1, temperature=0.0)
    assert torch.equal(alone[0], batched[1])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 600), min_size=1, max_size=400), st.integers(1, 300))
def test_scoring_chunks_cover_every_row_once_within_the_padding_budget(lengths, batch):
    lengths = sorted(lengths)
    chunks = padded_chunks(lengths, batch)
    assert [i for a, b in chunks for i in range(a, b)] == list(range(len(lengths)))
    for a, b in chunks:
        assert 0 < b - a <= batch
        # one long row may exceed the budget alone, never with others
        assert b - a == 1 or (b - a) * lengths[b - 1] <= batch * TOKENS_PER_ROW


def test_a_long_text_does_not_pad_the_short_ones():
    lengths = [80] * 255 + [320]
    assert padded_chunks(lengths, 256) == [(0, 255), (255, 256)]


def _texts(n):
    return [f"g (x) => (y) {{\nc = Conv <k={i}> (x)\ny = Relu (c)\n}}" for i in range(n)]


@pytest.fixture(scope="module")
def fitted():
    """A tiny model fitted on two objectives of very different scales."""
    texts = _texts(24)
    rlm = RegressionLanguageModel.create(texts, vocab_size=400, device="cpu", seed=0, **TINY)
    rows = [Example(t, ("acc", "lat"), (50.0 + i, 1000.0 + 10 * i)) for i, t in enumerate(texts)]
    cfg = TrainConfig(epochs=40, lr=3e-3, warmup_steps=10)
    rlm.fit(rows, (), cfg, log=lambda s: None)
    return rlm, texts


def test_greedy_predictions_do_not_depend_on_the_chunking(fitted):
    rlm, texts = fitted
    mixed = texts[:6] + [texts[0] + "\n" + "z = Relu (y)\n" * 60]  # one long text
    whole = rlm.predict(mixed, ["acc", "lat"], k=1, temperature=0.0).median()
    small = rlm.predict(mixed, ["acc", "lat"], k=1, temperature=0.0, batch_size=2).median()
    assert np.array_equal(whole, small)


def test_samples_and_points_from_one_encoder_pass_equal_each_alone(fitted):
    rlm, texts = fitted
    mixed = texts[:9] + [texts[0] + "\n" + "z = Relu (y)\n" * 40]  # chunks of two lengths
    for bounds in (None, {"acc": 100.0, "lat": 2000.0}):
        density, points = rlm.predict_with_point(
            mixed, ["acc", "lat"], k=4, seed=3, batch_size=4, bounds=bounds
        )
        alone = rlm.predict(mixed, ["acc", "lat"], k=4, seed=3, batch_size=4, bounds=bounds)
        assert np.array_equal(density.samples, alone.samples)
        point = rlm.predict_point(mixed, ["acc", "lat"], batch_size=4, bounds=bounds)
        assert np.array_equal(points, point)


def test_objectives_decode_in_the_order_asked(fitted):
    rlm, texts = fitted
    forward = rlm.predict(texts[:5], ["acc", "lat"], k=4, temperature=0.0).median()
    assert np.all(forward[:, 0] < 100) and np.all(forward[:, 1] > 500)


def test_fit_records_rows_and_columns_in_the_card(fitted):
    rlm, texts = fitted
    from searchlab.core.candidate import text_key

    assert rlm.seen_keys("acc") == {text_key(t) for t in texts}
    assert rlm.seen_keys("other") == set()


def test_checkpoint_round_trip(fitted, tmp_path):
    rlm, texts = fitted
    rlm.save(tmp_path / "ck")
    again = RegressionLanguageModel.load(tmp_path / "ck", device="cpu")
    a = rlm.predict(texts, ["acc", "lat"], k=3, seed=1).samples
    b = again.predict(texts, ["acc", "lat"], k=3, seed=1).samples
    np.testing.assert_array_equal(a, b)
    assert again.seen_keys() == rlm.seen_keys()


def _corrupt(path, name, payload):
    (path / name).write_bytes(payload)


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda p: _corrupt(p, "model.safetensors", b"\x00" * 20), "model.safetensors is corrupt"),
        (
            lambda p: _corrupt(
                p, "model.safetensors", (p / "model.safetensors").read_bytes()[:500]
            ),
            "model.safetensors is corrupt",
        ),
        (lambda p: _corrupt(p, "config.json", b"{not json"), "config.json is corrupt"),
        (lambda p: (p / "tokenizer.json").unlink(), "tokenizer.json"),
        (lambda p: (p / "model_card.json").unlink(), "model_card.json is missing"),
        (
            lambda p: _corrupt(
                p,
                "config.json",
                json.dumps({**json.loads((p / "config.json").read_text()), "version": 99}).encode(),
            ),
            "checkpoint version 99",
        ),
        (
            lambda p: _corrupt(
                p,
                "config.json",
                json.dumps(
                    {
                        **json.loads((p / "config.json").read_text()),
                        "model": {
                            **json.loads((p / "config.json").read_text())["model"],
                            "d_model": 64,
                        },
                    }
                ).encode(),
            ),
            "weights do not fit|has shape",
        ),
    ],
)
def test_damaged_checkpoints_are_named(fitted, tmp_path, damage, message):
    rlm, _ = fitted
    folder = rlm.save(tmp_path / "ck")
    damage(folder)
    with pytest.raises(CheckpointError, match=message):
        RegressionLanguageModel.load(folder, device="cpu")


def test_missing_folder_is_named(tmp_path):
    with pytest.raises(CheckpointError, match="not a folder"):
        RegressionLanguageModel.load(tmp_path / "nope")


def test_examples_reject_bad_values():
    with pytest.raises(ValueError, match="non-finite"):
        Example("t", ("lat",), (float("nan"),))
    with pytest.raises(ValueError, match="one value per objective"):
        Example("t", ("a", "b"), (1.0,))


def test_subnormal_mode_is_restored_after_training(fitted):
    import torch

    rlm, texts = fitted
    rlm.predict(texts[:2], ["acc"], k=1)
    assert torch.tensor(1e-40).item() != 0.0  # the process is left as it was


def test_bounded_objectives_stay_below_the_power_of_ten_above_their_bound():
    assert TOK.exponent_cap(50.0) == -1 and NumberTokenizer(digits=4).exponent_cap(940.0) == -1
    ids, pad = _inputs(2)
    cap = TOK.exponent_cap(50.0)  # 3 digits: at most 99.9
    tokens = sample_tokens(
        _net(2), ids, pad, TOK, 2, k=64, temperature=5.0,
        nonnegative=[True, False], max_exps=[cap, None],
    )  # fmt: skip
    values = TOK.decode_many(tokens.numpy().reshape(3, 64, 2, TOK.length))
    assert (values[..., 0] >= 0).all() and (values[..., 0] < 100).all()
    assert (np.abs(values[..., 1]) >= 100).any()  # the unbounded objective is not held back
    with pytest.raises(ValueError, match="positive"):
        TOK.exponent_cap(0.0)


def test_ordinal_digit_targets_charge_near_digits_less_than_far_ones():
    tok = NumberTokenizer(digits=3)
    plain, soft = soft_targets(tok, 0.0), soft_targets(tok, 0.7)
    assert torch.equal(plain, torch.eye(len(tok.vocab)))
    seven = tok.ids["<7>"]
    assert torch.allclose(soft.sum(1), torch.ones(len(tok.vocab)))
    assert soft[seven, tok.ids["<6>"]] > soft[seven, tok.ids["<3>"]] > 0
    assert soft[seven, seven] == soft[seven].max()
    # sign and exponent tokens keep one-hot targets
    assert torch.equal(soft[tok.ids["<+>"]], plain[tok.ids["<+>"]])
    # a digit one off costs less than one four off; with one-hot targets both cost the same
    target = torch.tensor([[tok.ids["<+>"], seven, -100]])
    logits = torch.full((2, 3, len(tok.vocab)), -5.0)
    logits[:, 0, tok.ids["<+>"]] = 5.0
    logits[0, 1, tok.ids["<6>"]] = 5.0
    logits[1, 1, tok.ids["<3>"]] = 5.0
    near, far = (number_loss(logits[i : i + 1], target, soft) for i in range(2))
    assert near < far
    a, b = (number_loss(logits[i : i + 1], target, plain) for i in range(2))
    assert torch.isclose(a, b)
    expected = torch.nn.functional.cross_entropy(logits[0], target[0], ignore_index=-100)
    assert torch.isclose(a, expected)
    for bad in (-0.5, float("nan")):
        with pytest.raises(ValueError, match="digit_sigma"):
            soft_targets(tok, bad)


def test_weight_averaging_is_what_training_keeps():
    texts = _texts(24)
    rows = [Example(t, ("acc",), (50.0 + i,)) for i, t in enumerate(texts)]
    kept = {}
    for ema in (0.0, 0.9):
        rlm = RegressionLanguageModel.create(texts, vocab_size=400, device="cpu", seed=0, **TINY)
        cfg = TrainConfig(epochs=6, lr=3e-3, warmup_steps=10, ema=ema)
        result = rlm.fit(rows[6:], rows[:6], cfg, log=lambda s: None)
        assert np.isfinite(result.best_tau)
        # one objective: its own validation tau is the mean that picks the epoch
        assert all(h["val_tau:acc"] == h["val_tau"] for h in result.history)
        kept[ema] = torch.cat([p.detach().flatten() for p in rlm.net.parameters()])
        pred = rlm.predict(texts, ["acc"], k=1, temperature=0.0).median()
        assert np.all(np.isfinite(pred))
    assert not torch.allclose(kept[0.0], kept[0.9])  # the averaged weights, not the raw ones
    for bad in (1.0, -0.1, float("nan")):
        with pytest.raises(ValueError, match="ema"):
            TrainConfig(ema=bad)
