"""The benchmarks' own pieces: the decoder-only twin, the top-k front ratio, ablation variants."""

import numpy as np
import pytest
import torch

from benchmarks.claim_decoder_only import matched_prefix_lm
from benchmarks.claim_joint import front_ratio
from benchmarks.rlm_ablation import parse_variant
from searchlab import load_space
from searchlab.rlm.decode import sample_tokens
from searchlab.rlm.model import RlmConfig, RlmNetwork
from searchlab.rlm.numbers import NumberTokenizer


def _prefix_lm():
    tok = NumberTokenizer(digits=3)
    cfg = RlmConfig(vocab_size=40, num_vocab=len(tok.vocab), d_model=64, n_heads=4, d_ff=256)
    net = RlmNetwork(cfg)
    return tok, net, matched_prefix_lm(net, seed=0).eval()


def test_decoder_only_twin_has_about_the_same_parameters():
    _, net, twin = _prefix_lm()
    assert abs(twin.num_parameters() / net.num_parameters() - 1) < 0.1


def test_decoder_only_cached_sampling_equals_uncached_and_teacher_forcing():
    tok, _, twin = _prefix_lm()
    ids = torch.randint(5, 40, (3, 9))
    pad = torch.zeros(3, 9, dtype=torch.bool)
    pad[0, 6:] = True
    cached = sample_tokens(twin, ids, pad, tok, 2, k=4, seed=1, use_cache=True)
    assert torch.equal(cached, sample_tokens(twin, ids, pad, tok, 2, k=4, seed=1, use_cache=False))
    targets = cached[:, 0, :]
    forced = twin(ids, pad, targets)
    memory, mask = twin.encode(ids, pad)
    cache, step_in, steps = twin.new_cache(3, ids.device), torch.full((3, 1), twin.bos), []
    for t in range(targets.shape[1]):
        steps.append(twin.decode(step_in, memory, mask, 1, t, cache)[:, -1])
        step_in = targets[:, t : t + 1]
    assert torch.allclose(forced, torch.stack(steps, 1), atol=1e-5)


def test_decoder_only_ignores_padding():
    tok, _, twin = _prefix_lm()
    ids = torch.randint(5, 40, (2, 7))
    pad = torch.zeros(2, 7, dtype=torch.bool)
    targets = torch.randint(0, len(tok.vocab), (2, 6))
    padded = torch.cat([ids, torch.zeros(2, 3, dtype=torch.long)], 1)
    mask = torch.cat([pad, torch.ones(2, 3, dtype=torch.bool)], 1)
    assert torch.allclose(twin(ids, pad, targets), twin(padded, mask, targets), atol=1e-5)


def test_front_ratio_is_one_for_true_values_and_lower_for_shuffled():
    table = load_space("nb201").benchmark()
    cols = ["acc_cifar10_test", "lat_ms_hwnb_pixel3", "lat_ms_hwnb_eyeriss"]
    truth = np.stack([table.column(c)[:2000] for c in cols], axis=1)
    assert front_ratio(truth, truth, k=200) == 1.0
    shuffled = truth[np.random.default_rng(0).permutation(len(truth))]
    assert front_ratio(shuffled, truth, k=20) < 0.9


def test_ablation_variants_parse_typed_and_reject_unknown_settings():
    assert parse_variant("base") == {}
    assert parse_variant("split=nodes,digit_sigma=0.5,digits=3") == {
        "split": "nodes",
        "digit_sigma": 0.5,
        "digits": 3,
    }
    with pytest.raises(SystemExit, match="'depth=4'"):
        parse_variant("depth=4")
