"""The benchmark harness: shared flags, fair checkpoints, resumable results, figures, fitting."""

import json
from types import SimpleNamespace

import numpy as np
import pytest

from benchmarks import common


@pytest.fixture
def results(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "RESULTS", tmp_path)
    return tmp_path


def test_arguments_share_the_flags_and_keep_the_scripts_own():
    parser = common.arguments("Title line.\n\nMore.", seeds=(0, 1), out="x", epochs=5, threads=1)
    parser.add_argument("--cells", type=int, default=10)
    args = parser.parse_args(["--seeds", "3", "--report", "--cells", "4"])
    assert (args.seeds, args.out, args.report, args.epochs, args.threads, args.cells) == (
        [3],
        "x",
        True,
        5,
        1,
        4,
    )
    assert not hasattr(args, "checkpoint")
    assert common.arguments(None, out="y", checkpoint=True).parse_args([]).checkpoint == "default"


def test_add_record_keeps_one_record_per_identity_and_resume_reads_them(results):
    common.add_record("t", {"seed": 0, "m": "a", "v": 1}, ("seed", "m"), checkpoint="c1")
    common.add_record("t", {"seed": 0, "m": "a", "v": 2}, ("seed", "m"), checkpoint="c1")
    records = common.add_record("t", {"seed": 1, "m": "a", "v": 3}, ("seed", "m"))
    assert [r["v"] for r in records] == [1, 3]
    replaced = common.add_record("t", {"seed": 0, "m": "a", "v": 4}, ("seed", "m"), replace=True)
    assert sorted(r["v"] for r in replaced) == [3, 4]
    assert json.loads((results / "t.json").read_text())["checkpoint"] == "c1"
    assert len(common.resume("t", checkpoint="c1")) == 2
    assert common.resume("missing", checkpoint="c1") == []


def test_resume_refuses_results_made_under_other_settings(results):
    common.add_record("t", {"seed": 0}, ("seed",), checkpoint="c1")
    with pytest.raises(SystemExit, match="t.json was made with checkpoint=c1, not c2: use --out"):
        common.resume("t", checkpoint="c2")


def test_figure_is_written_under_its_name(results):
    with common.figure("plot", panels=2, title="t") as axes:
        assert len(axes) == 2
        axes[0].plot([0, 1], [1, 0])
    assert (results / "plot.png").stat().st_size > 1000


def test_rank_scores_are_one_for_the_truth_and_minus_one_reversed():
    truth = np.arange(20.0)
    assert common.rank_scores(truth * 3, truth) == {"kendall": 1.0, "spearman": 1.0}
    assert common.rank_scores(-truth, truth) == {"kendall": -1.0, "spearman": -1.0}


def test_nb201_split_is_seeded_and_disjoint():
    train, test = common.nb201_split(0, 100, 50)
    again, _ = common.nb201_split(0, 100, 50)
    assert np.array_equal(train, again) and len(test) == 50
    assert not set(train) & set(test)


def test_held_out_refuses_a_column_the_checkpoint_saw_and_splits_the_rest(monkeypatch):
    with pytest.raises(SystemExit, match="saw \\['acc_cifar100_test'\\]"):
        common.held_out("default", ["acc_cifar100_test"])
    # the table's rows stand in by their keys: three of the checkpoint's test keys, two others
    from searchlab.rlm.checkpoint import checkpoint_path
    from searchlab.rlm.regressor import RegressionLanguageModel

    card = RegressionLanguageModel.load(checkpoint_path("default"), device="cpu").card
    test_keys = card["held_out"]["nb201"]["test_keys"][:3]
    rows = [SimpleNamespace(key=k) for k in ["a", test_keys[0], "b", *test_keys[1:]]]
    monkeypatch.setattr(common, "candidates", lambda space: rows)
    held = common.held_out("default", ["acc_cifar10_test"])
    assert held.test.tolist() == [1, 3, 4] and held.pool.tolist() == [0, 2]
    assert not held.rlm.seen_keys("acc_cifar10_test")


def test_fit_rlm_learns_a_ranking_from_scratch():
    rng = np.random.default_rng(0)
    sizes = rng.integers(1, 9, size=60)
    texts = ["layer " * int(s) for s in sizes]
    rlm = common.fresh_rlm(texts, seed=0, d_model=32, n_heads=2, d_ff=64, enc_layers=1)
    result = common.fit_rlm(rlm, texts, ["y"], sizes * 10.0, seed=0, epochs=3, scratch=False)
    assert result.seconds > 0
    pred = rlm.predict_point(texts[:20], ["y"])[:, 0]
    assert pred.shape == (20,) and np.isfinite(pred).all()
