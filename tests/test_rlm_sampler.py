"""The RLM inside an optuna study: trust falls back to the inner sampler, follows a perfect
surrogate, handles conditional and multi-objective studies, and resumes from storage."""

from __future__ import annotations

import numpy as np
import optuna
import pytest

from searchlab.campaign.rlm_sampler import RlmSampler
from searchlab.core.config_space import ConfigSpace
from searchlab.surrogates.rlm import RlmSurrogate

SPACE = ConfigSpace(
    {
        "kind": {"type": "categorical", "choices": ["a", "b", "c"]},
        "x": {"type": "float", "low": -3, "high": 3},
        "y": {
            "type": "float",
            "low": 0.001,
            "high": 10,
            "log": True,
            "condition": {"kind": ["b", "c"]},
        },
    },  # fmt: skip
    name="toy",
)


def loss(cfg):
    """Best at kind b, x 1, y 0.1."""
    y = cfg.get("y", 100.0)
    return (cfg["x"] - 1) ** 2 + abs(np.log10(y) + 1) + (cfg["kind"] != "b")


def second(cfg):
    return (cfg["x"] + 1) ** 2 + (cfg["kind"] == "b")


class Noise:
    """A surrogate whose predictions are noise."""

    def predict(self, cands, objectives, k, seed):
        rng = np.random.default_rng(seed)
        return rng.standard_normal((len(cands), k, len(objectives)))

    def update(self, cands, values, objectives, source):
        self.updates = getattr(self, "updates", 0) + 1


class Truth(Noise):
    """A surrogate that predicts the objective itself."""

    def predict(self, cands, objectives, k, seed):
        fns = [loss, second][: len(objectives)]
        vals = np.array([[f(dict(c.genotype)) for f in fns] for c in cands])
        return np.repeat(vals[:, None, :], k, axis=1)


def objective(trial):
    return loss(SPACE.suggest(trial))


def run(sampler, n=30, storage=None, name="t", directions=("minimize",)):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        sampler=sampler, storage=storage, study_name=name, load_if_exists=True,
        directions=list(directions),
    )  # fmt: skip
    if len(directions) == 1:
        study.optimize(objective, n_trials=n)
    else:
        study.optimize(lambda t: (loss(c := SPACE.suggest(t)), second(c)), n_trials=n)
    return study


def test_a_noise_surrogate_hands_the_trials_back_to_the_inner_sampler():
    sampler = RlmSampler(SPACE, surrogate=Noise(), pool=16, seed=0)
    run(sampler, 40)
    late = [sampler.picks[n] for n in range(20, 40)]
    assert all(by == "inner" and share == 0.0 for by, share in late), late
    assert sampler.surrogate.updates >= 3  # still fine-tuned, still predicting: still measured


def test_a_truth_surrogate_picks_every_trial_and_beats_tpe_alone():
    sampler = RlmSampler(SPACE, surrogate=Truth(), pool=32, seed=0)
    screened = run(sampler, 30)
    picks = [sampler.picks[n] for n in range(10, 30)]
    assert all(by == "surrogate" and share == 1.0 for by, share in picks), picks
    alone = run(optuna.samplers.TPESampler(seed=0), 30)
    assert screened.best_value < alone.best_value
    for t in screened.trials:  # conditions held in every trial
        assert ("y" in t.params) == (t.params["kind"] in ("b", "c"))


def test_a_multi_objective_study_is_screened_by_hypervolume():
    sampler = RlmSampler(SPACE, surrogate=Truth(), pool=32, seed=0)
    study = run(sampler, 25, directions=("minimize", "minimize"))
    assert len(study.best_trials) >= 3
    assert {sampler.picks[n][0] for n in range(10, 25)} == {"surrogate"}


def test_without_a_space_the_study_gives_one(tmp_path):
    sampler = RlmSampler(surrogate=Truth(), pool=16, seed=0)
    study = run(sampler, 15)
    assert len(study.trials) == 15 and sampler.picks


def test_the_rlm_screens_a_study_that_resumes_from_its_storage(tmp_path):
    url = f"sqlite:///{tmp_path}/study.db"
    rlm = RlmSurrogate("default", device="cpu", finetune_steps=10, seed=0)
    first = RlmSampler(SPACE, surrogate=rlm, pool=12, k=4, initial=4, finetune_every=4, seed=0)
    run(first, 8, storage=url, name="resumable")
    assert set(first.picks) == {4, 5, 6, 7}
    # a new process: a new sampler on the same storage continues the same study
    again = RlmSampler(SPACE, surrogate=rlm, pool=12, k=4, initial=4, finetune_every=4, seed=1)
    study = run(again, 4, storage=url, name="resumable")
    assert len(study.trials) == 12 and set(again.picks) == {8, 9, 10, 11}
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    keys = {SPACE.candidate(t.params).key for t in study.trials}
    assert len(keys) == 12  # the sampler never proposes a configuration already tried


@pytest.mark.parametrize("bad", [{"x": {"type": "float", "low": 2, "high": 1}}])
def test_a_bad_space_is_refused_at_once(bad):
    with pytest.raises(ValueError, match="low 2 > high 1"):
        RlmSampler(bad, surrogate=None)
