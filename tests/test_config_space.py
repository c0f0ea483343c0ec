"""Configuration spaces: canonical YAML text, conditions, strategies, space files, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import searchlab
from searchlab import load_space
from searchlab.cli import main
from searchlab.core.config_space import ConfigSpace, ConfigSpaceError, read_space_file
from searchlab.core.objectives import Objectives
from searchlab.core.space import SpaceError
from searchlab.strategies import make_strategy
from searchlab.testing import SpaceConformance

CONF = Path(__file__).resolve().parents[1] / "conf" / "space"
SVM = {
    "kernel": {"type": "categorical", "choices": ["rbf", "poly", "linear"]},
    "C": {"type": "float", "low": 0.01, "high": 1000, "log": True},
    "gamma": {"type": "float", "low": 1e-5, "high": 1, "log": True,
              "condition": {"kernel": ["rbf", "poly"]}},
    "degree": {"type": "int", "low": 2, "high": 5, "condition": {"kernel": "poly"}},
    "shrinking": {"type": "categorical", "choices": [True, False]},
}  # fmt: skip


def svm() -> ConfigSpace:
    return ConfigSpace(SVM, name="svm")


class TestConfigSpaceConformance(SpaceConformance):
    def make_space(self) -> ConfigSpace:
        return svm()


def test_text_is_canonical_and_parses_back():
    space = svm()
    a = space.candidate({"shrinking": True, "kernel": "rbf", "C": 12.345678, "gamma": 0.001})
    b = space.candidate({"C": 12.35, "gamma": 1e-3, "kernel": "rbf", "shrinking": True})
    assert a.key == b.key and a.text == b.text
    assert a.text == "C: 12.35\ngamma: 0.001\nkernel: rbf\nshrinking: true\n"
    assert space.from_text(a.text) == a
    assert space.from_str(space.genotype_to_str(a.genotype)) == a
    # an int-valued float of an int parameter is the same candidate; 2.5 is refused
    poly = {"kernel": "poly", "C": 1, "gamma": 0.1, "degree": 3.0, "shrinking": False}
    assert space.candidate(poly).genotype["degree"] == 3
    with pytest.raises(SpaceError, match="'degree': 2.5 is not a whole number"):
        space.candidate({**poly, "degree": 2.5})


def test_conditions_hold_in_samples_mutations_crossovers_and_neighbours():
    space = svm()
    rng = np.random.default_rng(0)
    cands = [space.sample(rng) for _ in range(200)]
    cands += [space.mutate(c, rng) for c in cands[:100]]
    cands += [space.crossover(a, b, rng) for a, b in zip(cands[:50], cands[50:100])]
    cands += [n for c in cands[:10] for n in space.neighbours(c)]
    for c in cands:
        g = c.genotype
        assert ("gamma" in g) == (g["kernel"] in ("rbf", "poly")), g
        assert ("degree" in g) == (g["kernel"] == "poly"), g
        assert 0.01 <= g["C"] <= 1000 and space.candidate(g) == c
    assert {c.genotype["kernel"] for c in cands} == {"rbf", "poly", "linear"}
    # log-uniform: about half the C values below the geometric middle (10 ** 0.5)
    assert 0.4 < np.mean([c.genotype["C"] < 10**0.5 for c in cands[:200]]) < 0.6
    # switching the kernel to linear drops gamma; to poly adds degree at its middle value
    rbf = space.candidate({"kernel": "rbf", "C": 1.0, "gamma": 0.01, "shrinking": True})
    moved = {json.dumps(n.genotype, sort_keys=True) for n in space.neighbours(rbf)}
    assert json.dumps({"C": 1.0, "kernel": "linear", "shrinking": True}, sort_keys=True) in moved
    poly = [n.genotype for n in space.neighbours(rbf) if n.genotype["kernel"] == "poly"]
    assert poly and poly[0]["degree"] in (3, 4) and poly[0]["gamma"] == 0.01


@pytest.mark.parametrize(
    ("strategy", "options"),
    [("random", {}), ("rea", {}), ("local", {}), ("nsga2", {}), ("optuna", {})],
)
def test_every_strategy_searches_a_configuration_space(strategy, options):
    space = svm()
    objectives = Objectives.parse(["loss"])

    def loss(g):  # best near C = 10, gamma = 0.01, rbf
        off = abs(np.log10(g["C"]) - 1) + abs(np.log10(g.get("gamma", 1e-5)) + 2)
        return {"loss": off + (g["kernel"] != "rbf")}

    s = make_strategy(strategy, space, objectives, seed=0, **options)
    told = []
    for _ in range(6):
        batch = s.ask(8)
        assert batch and all(c.space == "svm" for c in batch)
        values = [loss(c.genotype) for c in batch]
        s.tell(batch, values)
        told += [v["loss"] for v in values]
    assert len(told) == len(set(c.key for c, _ in s.history)) >= 40
    if strategy not in ("random", "rea"):  # evolution's first population (50) is random
        assert np.median(told[-24:]) < np.median(told[:8]), strategy


BAD_FILES = {
    "unknown type": ("x: {type: complex, low: 0, high: 1}", "field 'type': unknown type"),
    "empty choices": ("x: {type: categorical, choices: []}", "field 'choices': empty"),
    "missing parent": (
        "x: {type: int, low: 1, high: 3, condition: {y: 2}}",
        "'y' is not a parameter declared before it",
    ),
    "low above high": ("x: {type: float, low: 5, high: 1}", "low 5 > high 1"),
    "log of zero": ("x: {type: float, low: 0, high: 1, log: true}", "must be > 0 with log"),
    "unknown field": ("x: {type: float, low: 0, high: 1, step: 2}", "unknown field 'step'"),
    "condition value": (
        "k: {type: categorical, choices: [a, b]}\n    x: {type: int, low: 1, high: 3, "
        "condition: {k: c}}",
        "'c' is not one of",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_space_file_is_refused_in_one_line_naming_file_and_field(tmp_path, capsys, case):
    body, message = BAD_FILES[case]
    path = tmp_path / "bad.yaml"
    path.write_text(f"name: config\nargs:\n  name: bad\n  params:\n    {body}\n")
    with pytest.raises(ConfigSpaceError, match=message) as info:
        read_space_file(path)
    assert str(path) in str(info.value)
    run = tmp_path / "run"
    code = main(["run", f"space={path}", f"run_dir={run}", "surrogate=none", "progress=false"])
    err = capsys.readouterr().err
    assert code == 2 and message in err and str(path) in err, err
    assert len(err.strip().splitlines()) == 1 and not run.exists()


def test_packaged_space_files_load_by_name_and_path():
    for name in ("svm_digits", "gbm_breast_cancer"):
        declared = read_space_file(CONF / f"{name}.yaml")
        space = load_space("config", **declared)
        assert space.name == name and not space.renders_network
        assert ConfigSpace(file=CONF / f"{name}.yaml").declaration() == space.declaration()


def test_a_configuration_space_has_no_network_costs(tmp_path, capsys):
    space = svm()
    c = space.sample(np.random.default_rng(0))
    with pytest.raises(ValueError, match="renders no network"):
        space.params(c)
    code = main(
        ["run", "space=svm_digits", "verifier=function",
         "verifier.target=searchlab.examples:svm_digits", "objectives=cv_accuracy",
         "objectives.names=[acc_cv,params]",
         f"run_dir={tmp_path / 'run'}", "surrogate=none", "progress=false"]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "renders no network" in err and not (tmp_path / "run").exists()


def test_cli_tunes_a_real_model_and_resumes(tmp_path, capsys):
    run = tmp_path / "run"
    args = [
        "run", "space=svm_digits", "verifier=function", "objectives=cv_accuracy",
        "verifier.target=searchlab.examples:svm_digits", "verifier.time_limit=null",
        f"run_dir={run}", "surrogate=none", "progress=false", "rounds.batch=4",
    ]  # fmt: skip
    assert main([*args, "budget=8"]) == 0
    summary = json.loads((run / "summary.json").read_text())
    assert summary["verified"] == 8 and summary["name"].startswith("svm_digits-")
    assert main(["resume", str(run), "budget=12"]) == 0
    summary = json.loads((run / "summary.json").read_text())
    assert summary["verified"] == 12 and summary["best"]["acc_cv"] > 90
    assert "svm_digits" in capsys.readouterr().out


def test_optimize_keeps_its_study_in_storage_and_continues_it(tmp_path):
    url = f"sqlite:///{tmp_path}/tune.db"

    def objective(cfg):
        return {"acc_cv": 100 - abs(np.log10(cfg["C"]) - 1) - (cfg["kernel"] != "rbf")}

    args = {"objectives": ["acc_cv"], "storage": url, "surrogate": None, "batch": 5}
    first = searchlab.optimize(objective, SVM, n_trials=10, **args)
    again = searchlab.optimize(objective, SVM, n_trials=20, **args)
    assert len(first.trials) == 10 and len(again.trials) == 20
    assert again.trials[:10] == first.trials  # the first ten kept, not redone
    assert again.best_values["acc_cv"] >= first.best_values["acc_cv"]
    best = again.best_values["acc_cv"]  # one objective: the front is the best value's trials
    assert again.front and all(v["acc_cv"] == best for _, v in again.front)
    with pytest.raises(ValueError, match="another config"):  # a different space refused
        searchlab.optimize(objective, {"C": SVM["C"]}, n_trials=20, **args)
