"""Classical surrogate baselines: each ranks held-out NB201 cells, deterministically."""

import numpy as np
import pytest
import torch
from scipy.stats import kendalltau

from benchmarks import baselines
from searchlab import load_space


@pytest.fixture(scope="module")
def nb201():
    return load_space("nb201")


@pytest.fixture(scope="module")
def split(nb201):
    table = nb201.benchmark()
    y = table.column("acc_cifar10_test")
    perm = np.random.default_rng(0).permutation(len(table))
    train, test = perm[:200], perm[200:700]
    return (
        [table.genotype(int(r)) for r in train],
        y[train],
        [table.genotype(int(r)) for r in test],
        y[test],
    )


def test_registry_lists_the_four_baselines():
    assert baselines.BASELINES == ("gbdt", "rf", "mlp", "gcn")


@pytest.mark.parametrize("name", ["gbdt", "rf", "mlp", "gcn"])
def test_ranks_held_out_cells(nb201, split, name):
    g_train, y_train, g_test, y_test = split
    pred = baselines.fit_predict(name, nb201, g_train, y_train, g_test, seed=0)
    assert pred.shape == (len(g_test),)
    assert np.isfinite(pred).all()
    # standardization is inverted: predictions live on the accuracy scale
    assert 0.0 < np.median(pred) < 100.0
    assert kendalltau(pred, y_test)[0] > 0.3


@pytest.mark.parametrize("name", ["gbdt", "rf", "mlp", "gcn"])
def test_same_seed_same_predictions(nb201, split, name):
    g_train, y_train, g_test, _ = split
    # 40 rows: also the small-data path (the MLP without early stopping)
    a = baselines.fit_predict(name, nb201, g_train[:40], y_train[:40], g_test[:50], seed=3)
    b = baselines.fit_predict(name, nb201, g_train[:40], y_train[:40], g_test[:50], seed=3)
    np.testing.assert_array_equal(a, b)


def test_gcn_leaves_torch_threads_and_rng_alone(nb201, split):
    g_train, y_train, g_test, _ = split
    threads = torch.get_num_threads()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    baselines.fit_predict("gcn", nb201, g_train[:20], y_train[:20], g_test[:5], seed=0)
    assert torch.get_num_threads() == threads
    assert torch.equal(torch.rand(3), expected)


def test_gcn_rejects_a_non_nb201_space(split):
    fbnet = load_space("fbnet")
    rng = np.random.default_rng(0)
    genotypes = [fbnet.sample(rng).genotype for _ in range(6)]
    with pytest.raises(ValueError, match="gcn baseline supports nb201 cells only"):
        baselines.fit_predict("gcn", fbnet, genotypes[:4], np.arange(4.0), genotypes[4:])


def test_rejects_an_unknown_baseline(nb201, split):
    g_train, y_train, g_test, _ = split
    with pytest.raises(ValueError, match="unknown baseline"):
        baselines.fit_predict("svm", nb201, g_train, y_train, g_test)
