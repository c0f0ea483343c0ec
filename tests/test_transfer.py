"""Few-shot transfer: a new column read through a blend of pretrained columns that rank it."""

import itertools
import json

import numpy as np
import pytest
from scipy.stats import kendalltau

from searchlab import load_space
from searchlab.rlm.checkpoint import checkpoint_path
from searchlab.rlm.jobs import fit_csv
from searchlab.rlm.regressor import RegressionLanguageModel
from searchlab.rlm.transfer import (
    MIN_TAU,
    choose_links,
    decoded_names,
    map_decoded,
    proxy_columns,
)
from searchlab.surrogates.rlm import RlmSurrogate

DATA = "spaces/data/nb201_acc_latency.csv.xz"


class FakeModel:
    """Point predictions from a table: column 'good' ranks the target, 'noise' does not."""

    def __init__(self, truth: dict[str, float]) -> None:
        rng = np.random.default_rng(0)
        self.card: dict = {}
        self.table = {
            t: {"good": 2.0 * v + 1.0 + 0.01 * rng.normal(), "noise": rng.normal()}
            for t, v in truth.items()
        }
        self.asked = 0

    def predict_point_each(self, texts, objectives):  # noqa: ANN001, ANN201
        self.asked += len(texts)
        return np.array([[self.table[t][o] for o in objectives] for t in texts])


def test_the_column_that_ranks_best_is_chosen_and_mapped_to_the_target_scale():
    truth = {f"t{i}": float(i) for i in range(20)}
    model = FakeModel(truth)
    texts = list(truth)
    values = np.array(list(truth.values()))[:, None]
    cache: dict = {}
    links = choose_links(model, texts, ["y"], values, ["noise", "good"], cache=cache)
    link = links["y"]
    assert link.proxies == ("good",) and link.tau > 0.9 and link.n == 20
    assert np.allclose(link.apply([2.0 * 3 + 1.0]), [3.0], atol=0.05)  # back in target units
    assert link.weights[0] > 0 and link.residual < 0.1
    # linking again after more values predicts only the new texts
    asked = model.asked
    choose_links(model, texts, ["y"], values, ["noise", "good"], cache=cache)
    assert model.asked == asked


def test_no_link_when_no_column_ranks_the_target_or_too_few_rows():
    truth = {f"t{i}": float(i) for i in range(20)}
    model = FakeModel(truth)
    values = np.array(list(truth.values()))[:, None]
    assert choose_links(model, list(truth), ["y"], values, ["noise"]) == {}
    assert choose_links(model, list(truth)[:4], ["y"], values[:4], ["good"]) == {}
    shuffled = np.random.default_rng(1).permutation(values[:, 0])[:, None]
    links = choose_links(model, list(truth), ["y"], shuffled, ["good"])
    tau = kendalltau(shuffled[:, 0], np.arange(20)).statistic
    assert ("y" in links) == (tau >= MIN_TAU)


def test_columns_of_the_targets_kind_are_blended_when_each_sees_part_of_it():
    rng = np.random.default_rng(0)
    halves = rng.normal(size=(40, 2))
    texts = [f"t{i}" for i in range(40)]

    class TwoHalves(FakeModel):
        def __init__(self) -> None:
            self.card, self.asked = {}, 0
            self.table = {
                t: {"lat_a": u, "lat_b": v, "acc_c": u + v + 0.1 * rng.normal()}
                for t, (u, v) in zip(texts, halves)
            }

    values = halves.sum(axis=1, keepdims=True)
    proxies = ["lat_a", "lat_b", "acc_c"]
    # a latency-like target blends the latency-like columns, though acc_c alone ranks it
    # better: each half alone ranks it at tau ~0.5, the blend at > 0.9
    link = choose_links(TwoHalves(), texts, ["lat_y"], values, proxies)["lat_y"]
    assert set(link.proxies) == {"lat_a", "lat_b"} and min(link.weights) > 0
    alone = max(kendalltau(values[:, 0], halves[:, j]).statistic for j in range(2))
    assert link.tau > 0.9 > 0.6 > alone
    x = halves[:, [("lat_a", "lat_b").index(p) for p in link.proxies]]
    assert np.abs(link.apply(x) - values[:, 0]).max() < 0.5  # in the target's units
    # an accuracy-like target reads the accuracy-like column
    link = choose_links(TwoHalves(), texts, ["acc_y"], values, proxies)["acc_y"]
    assert link.proxies == ("acc_c",) and link.tau > 0.9


def test_objectives_read_their_proxies_each_decoded_once():
    links = {"a": {"proxies": ["p", "q"], "weights": [2.0, 1.0], "intercept": 1.0}}
    links["b"] = {"proxy": "p", "slope": 1.0, "intercept": 0.0, "residual": 0.0}  # older card
    names, index = decoded_names(["a", "c", "b"], links)
    assert names == ("p", "q", "c") and index == [[0, 1], [2], [0]]
    out = map_decoded(np.array([[3.0, 4.0, 5.0]]), ["a", "c", "b"], index, links)
    assert out.tolist() == [[11.0, 5.0, 3.0]]


@pytest.fixture(scope="module")
def linked(tmp_path_factory):
    """The bundled checkpoint fitted with link on 30 NB201 cifar10 cells (no weight changes)."""
    out = tmp_path_factory.mktemp("fit") / "c10"
    lines: list[str] = []
    fit_csv(
        DATA,
        ["acc_cifar10_test"],
        "arch_str",
        load_space("nb201"),
        str(out),
        n_train=30,
        seed=0,
        log=lines.append,
        warn=lines.append,
    )
    return out, lines


def _held_out(n: int = 300):
    rlm = RegressionLanguageModel.load(checkpoint_path("default"), device="cpu")
    space = load_space("nb201")
    table = space.benchmark()
    test = set(rlm.card["held_out"]["nb201"]["test_keys"])
    # the first n held-out rows, rendering only as many cells as it takes to find them
    found = (c for c in map(table.candidate, range(len(table))) if c.key in test)
    cands = list(itertools.islice(found, n))
    return rlm, table, [c.text for c in cands], [table.row_of(c) for c in cands]


def test_fit_links_cifar10_and_keeps_the_pretrained_column(linked):
    out, lines = linked
    assert any("read through pretrained" in line for line in lines), lines
    assert not any("too few rows" in line for line in lines)  # no early stopping was needed
    card = json.loads((out / "model_card.json").read_text())
    link = card["links"]["acc_cifar10_test"]
    assert set(link["proxies"]) <= {"acc_cifar100_test", "acc_imagenet16_120_test"}
    assert set(card["trained_on"][-1]["keys"]) and card["trained_on"][-1]["linked"]
    base, table, texts, rows = _held_out()
    fitted = RegressionLanguageModel.load(out, device="cpu")
    # the pretrained column is untouched (what a fine-tune on 30 labels used to erase)...
    before = base.predict_point(texts, ["acc_cifar100_test"])[:, 0]
    after = fitted.predict_point(texts, ["acc_cifar100_test"])[:, 0]
    assert np.array_equal(before, after)
    floor = kendalltau(after, table.column("acc_cifar100_test")[rows]).statistic
    assert floor > 0.75, floor
    # ...and the new column ranks unseen cells from 30 labels
    c10 = fitted.predict_point(texts, ["acc_cifar10_test"])[:, 0]
    tau = kendalltau(c10, table.column("acc_cifar10_test")[rows]).statistic
    assert tau > 0.65, tau


def test_campaign_surrogate_links_saves_and_restores(tmp_path):
    base, table, texts, rows = _held_out(40)
    sur = RlmSurrogate("default", device="cpu", finetune_steps=5)
    cands = [table.candidate(i) for i in rows]
    names = ["acc_cifar10_test", "lat_ms_hwnb_pixel3"]
    values = [{n: float(table.column(n)[i]) for n in names} for i in rows]
    weights = {k: v.clone() for k, v in sur.model.net.state_dict().items()}
    sur.update(cands[:20], values[:20], names, {"campaign": "t", "verified": 20})
    assert set(sur.model.card["links"]) == set(names)
    assert all((weights[k] == v).all() for k, v in sur.model.net.state_dict().items())
    # each linked objective is its proxy decoded alone, mapped: the point value stored
    points = sur.predict_point(cands[20:], names)
    texts_left = [c.text for c in cands[20:]]
    for j, name in enumerate(names):
        link = sur.model.card["links"][name]
        alone = np.stack([base.predict_point(texts_left, [p])[:, 0] for p in link["proxies"]], 1)
        assert np.allclose(points[:, j], alone @ np.array(link["weights"]) + link["intercept"])
    samples = sur.predict(cands[20:], names, k=4, seed=0)
    assert samples.shape == (20, 4, 2) and 50 < np.median(samples[:, :, 0]) < 100
    # the points decoded with those samples (one encoder pass) are the same values
    assert sur._points is not None and np.array_equal(sur._points[2], points)
    assert np.array_equal(sur.predict_point(cands[20:], names), points)
    sur.save(tmp_path / "ck")
    again = RlmSurrogate("default", device="cpu")
    again.load(tmp_path / "ck")
    assert np.array_equal(again.predict(cands[20:], names, k=4, seed=0), samples)
    # with link off the same update fine-tunes the weights instead
    plain = RlmSurrogate("default", device="cpu", finetune_steps=5, link=False)
    plain.update(cands[:20], values[:20], names, {"campaign": "t", "verified": 20})
    assert "links" not in plain.model.card or not plain.model.card["links"]
    changed = [
        k
        for k, v in plain.model.net.state_dict().items()
        if v.shape != weights[k].shape or (v != weights[k]).any()
    ]
    assert changed


def test_proxies_are_the_pretrained_columns_of_the_same_space():
    card = {
        "trained_on": [
            {"space": "nb201", "columns": ["a", "b"]},
            {"space": "fbnet", "columns": ["c"]},
            {"campaign": "x", "columns": ["d"]},
            {"data": "f.csv", "columns": ["e"]},
        ]
    }
    assert proxy_columns(card, "nb201") == ["a", "b"]
    assert proxy_columns(card, "digits_cnn") == []  # never pretrained: no chance matches
    assert proxy_columns(card, None) == ["a", "b", "c"]
