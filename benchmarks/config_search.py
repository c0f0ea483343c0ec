"""Configuration spaces on real problems: searchlab with the RLM against optuna's TPE and random.

    python -m benchmarks.config_search [--problems svm_digits gbm_breast_cancer nb201_yaml]
        [--methods random tpe local local+rlm tpe+rlm] [--seeds 0 .. 9] [--budget 100]

Problems (no synthetic stand-ins): an SVM on scikit-learn's digits and histogram gradient
boosting on breast cancer (:mod:`searchlab.examples`, 3-fold cross-validated accuracy, a few
seconds a trial at most), and NB201 declared as six categorical parameters, one per cell
edge, looked up in the bundled benchmark (cifar10 test accuracy): the same networks as the
``nb201`` space, written as YAML instead of ONNX. Methods, each given the same budget:

- ``random``, ``tpe``: optuna's RandomSampler and TPESampler (the default TPE) in a study;
- ``local``: searchlab's local search alone (``searchlab.optimize(surrogate=None)``);
- ``local+rlm``: ``searchlab.optimize`` with the bundled RLM under the trust rule (the RLM
  never saw YAML: it learns each problem from the campaign's values);
- ``tpe+rlm``: ``optuna`` with :class:`searchlab.RlmSampler` around the same TPE.

Figure: the median over seeds of the best accuracy after 50 and 100 trials. Each (problem,
method, seed) run is added to results/config_search.json as it ends and skipped when there,
so a run resumes; the table is printed from every saved run.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import optuna

import searchlab
from benchmarks import common
from benchmarks.common import machine
from searchlab import examples
from searchlab.core.config_space import ConfigSpace
from searchlab.rlm.checkpoint import checkpoint_id, checkpoint_path

OUT = "config_search"
CONF = Path(__file__).parents[1] / "conf" / "space"
METHODS = ("random", "tpe", "local", "local+rlm", "tpe+rlm")
MARKS = (50, 100)
#: what names one run in the results file
KEY = ("problem", "method", "seed", "budget")


@cache
def _nb201() -> tuple[Any, Any]:
    from spaces.nb201 import EDGES, OPS

    space = searchlab.load_space("nb201")
    params = {f"edge_{i}_{j}": {"type": "categorical", "choices": list(OPS)} for i, j in EDGES}
    return space, ConfigSpace(params, name="nb201_yaml")


def nb201_yaml(config: dict[str, Any]) -> dict[str, float]:
    """cifar10 test accuracy of the NB201 cell a configuration names (bundled benchmark)."""
    from spaces.nb201 import EDGES

    space, _ = _nb201()
    cell = space.candidate([config[f"edge_{i}_{j}"] for i, j in EDGES])
    return {
        "acc_cv": float(space.benchmark().lookup(cell, ["acc_cifar10_test"])["acc_cifar10_test"])
    }


def problem(name: str) -> tuple[ConfigSpace, Callable[[dict], dict]]:
    """A problem's space and objective (every objective returns ``acc_cv``, maximized)."""
    if name == "nb201_yaml":
        return _nb201()[1], nb201_yaml
    return ConfigSpace(file=CONF / f"{name}.yaml"), getattr(examples, name)


def run_one(name: str, method: str, seed: int, budget: int) -> dict:
    """One search: the values in the order they were verified, and the seconds."""
    space, objective = problem(name)
    start = time.perf_counter()
    if method in ("local", "local+rlm"):
        result = searchlab.optimize(
            objective, space, n_trials=budget, objectives=["acc_cv"], strategy="local",
            surrogate="default" if method == "local+rlm" else None, seed=seed,
        )  # fmt: skip
        values = [v["acc_cv"] for _, v in result.trials]
    else:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        inner = (
            optuna.samplers.RandomSampler(seed=seed)
            if method == "random"
            else optuna.samplers.TPESampler(seed=seed)
        )
        sampler = (
            searchlab.RlmSampler(space, inner=inner, seed=seed) if method == "tpe+rlm" else inner
        )
        study = optuna.create_study(direction="maximize", sampler=sampler)
        study.optimize(lambda t: objective(space.suggest(t))["acc_cv"], n_trials=budget)
        values = [t.value for t in study.trials if t.value is not None]
    return {"values": values, "seconds": time.perf_counter() - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--problems", nargs="+", default=["svm_digits", "gbm_breast_cancer", "nb201_yaml"]
    )
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--budget", type=int, default=100)
    args = parser.parse_args()
    ident = checkpoint_id(checkpoint_path("default"))
    print(f"checkpoint {ident}; {machine()}", flush=True)
    runs = {_key(r): r for r in common.load(OUT).get("records", [])}
    for name in args.problems:
        for method in args.methods:
            for seed in args.seeds:
                key = (name, method, seed, args.budget)
                if key not in runs:
                    run = run_one(name, method, seed, args.budget)
                    runs[key] = dict(zip(KEY, key)) | run | {"machine": machine()}
                    common.add_record(OUT, runs[key], KEY, checkpoint=ident)
                rec = runs[key]
                best = np.maximum.accumulate(rec["values"])
                print(
                    f"{name} {method:10} seed {seed} best@50 {best[min(49, len(best) - 1)]:.2f} "
                    f"best@100 {best[-1]:.2f} ({rec['seconds']:.0f} s)",
                    flush=True,
                )
        table(name, args.budget)


def _key(record: dict) -> tuple:
    return tuple(record[k] for k in KEY)


def table(name: str, budget: int) -> None:
    """Median best accuracy at each mark over every saved seed, per method."""
    print(f"\n{name}: median best acc_cv (%) over seeds")
    print(f"{'method':10} {'seeds':>5} " + " ".join(f"{'@' + str(m):>8}" for m in MARKS))
    for method in METHODS:
        runs = [
            r
            for r in common.load(OUT).get("records", [])
            if (r["problem"], r["method"], r["budget"]) == (name, method, budget)
        ]
        if runs:
            bests = [[max(r["values"][:m]) for r in runs] for m in MARKS]
            cells = " ".join(f"{np.median(b):8.2f}" for b in bests)
            print(f"{method:10} {len(runs):5d} {cells}")


if __name__ == "__main__":
    main()
