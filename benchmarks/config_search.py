"""Configuration spaces on real problems: searchlab with the RLM against optuna's TPE and random.

    python -m benchmarks.config_search [--problems svm_digits gbm_breast_cancer nb201_yaml]
        [--methods random tpe local local+rlm tpe+rlm] [--seeds 0 .. 9] [--budget 100]
        [--checkpoint default] [--report]

Problems (no synthetic stand-ins): an SVM on scikit-learn's digits and histogram gradient
boosting on breast cancer (:mod:`searchlab.examples`, 3-fold cross-validated accuracy, a few
seconds a trial at most), and NB201 declared as six categorical parameters, one per cell
edge, looked up in the bundled benchmark (cifar10 test accuracy): the same networks as the
``nb201`` space, written as YAML instead of ONNX. Methods, each given the same budget:

- ``random``, ``tpe``: optuna's RandomSampler and TPESampler (the default TPE) in a study;
- ``local``: searchlab's local search alone (``searchlab.optimize(surrogate=None)``);
- ``local+rlm``: ``searchlab.optimize`` with the RLM (``--checkpoint``) under the trust rule
  (the RLM never saw YAML: it learns each problem from the campaign's values);
- ``tpe+rlm``: ``optuna`` with :class:`searchlab.RlmSampler` around the same TPE.

Each (problem, method, seed, budget) run is added to results/config_search.json (``--out``)
as it ends, with every trial's value in order, and skipped by a rerun. The table (median over
seeds of the best accuracy after 50 and 100 trials, per problem and method) and
results/config_search.png (median best so far against trials, one panel per problem) come
from that file alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import optuna

import searchlab
from benchmarks import common
from searchlab import examples
from searchlab.core.config_space import ConfigSpace
from searchlab.rlm.checkpoint import checkpoint_id, checkpoint_path

CONF = Path(__file__).parents[1] / "conf" / "space"
PROBLEMS = ("svm_digits", "gbm_breast_cancer", "nb201_yaml")
METHODS = ("random", "tpe", "local", "local+rlm", "tpe+rlm")
MARKS = (50, 100)
#: what names one run in the results file
KEY = ("problem", "method", "seed", "budget")


@cache
def _nb201() -> Any:
    """The NB201 space whose bundled benchmark answers ``nb201_yaml`` (built once)."""
    return searchlab.load_space("nb201")


def nb201_yaml(config: dict[str, Any]) -> dict[str, float]:
    """cifar10 test accuracy of the NB201 cell a configuration names (bundled benchmark)."""
    space = _nb201()
    cell = space.candidate([config[name] for name in common.nb201_yaml_space()[1]])
    return {
        "acc_cv": float(space.benchmark().lookup(cell, ["acc_cifar10_test"])["acc_cifar10_test"])
    }


def problem(name: str) -> tuple[ConfigSpace, Callable[[dict], dict]]:
    """A problem's space and objective (every objective returns ``acc_cv``, maximized)."""
    if name == "nb201_yaml":
        return common.nb201_yaml_space()[0], nb201_yaml
    return ConfigSpace(file=CONF / f"{name}.yaml"), getattr(examples, name)


def run_one(name: str, method: str, seed: int, budget: int, checkpoint: str) -> dict:
    """One search: the values in the order they were verified, and the seconds."""
    space, objective = problem(name)
    start = time.perf_counter()
    if method in ("local", "local+rlm"):
        result = searchlab.optimize(
            objective, space, n_trials=budget, objectives=["acc_cv"], strategy="local",
            surrogate=checkpoint if method == "local+rlm" else None, seed=seed,
        )  # fmt: skip
        values = [v["acc_cv"] for _, v in result.trials]
    else:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        inner = (
            optuna.samplers.RandomSampler(seed=seed)
            if method == "random"
            else optuna.samplers.TPESampler(seed=seed)
        )
        sampler = inner
        if method == "tpe+rlm":
            sampler = searchlab.RlmSampler(space, inner=inner, surrogate=checkpoint, seed=seed)
        study = optuna.create_study(direction="maximize", sampler=sampler)
        study.optimize(lambda t: objective(space.suggest(t))["acc_cv"], n_trials=budget)
        values = [t.value for t in study.trials if t.value is not None]
    return {"values": values, "seconds": time.perf_counter() - start}


def marks(budget: int) -> list[int]:
    """The trial counts the table reads: 50 and 100, or the budget where it is smaller."""
    return sorted({min(m, budget) for m in MARKS})


def main() -> None:
    parser = common.arguments(__doc__, seeds=range(10), out="config_search", checkpoint=True)
    parser.add_argument("--problems", nargs="+", default=list(PROBLEMS), choices=PROBLEMS)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--budget", type=int, default=100)
    args = parser.parse_args()
    if not args.report:
        ident = checkpoint_id(checkpoint_path(args.checkpoint))
        done = {tuple(r[k] for k in KEY) for r in common.resume(args.out, checkpoint=ident)}
        print(f"checkpoint {ident}; {common.machine()}", flush=True)
        for name in args.problems:
            for method in args.methods:
                for seed in args.seeds:
                    key = (name, method, seed, args.budget)
                    if key in done:
                        continue
                    run = run_one(name, method, seed, args.budget, args.checkpoint)
                    record = dict(zip(KEY, key)) | run | {"machine": common.machine()}
                    common.add_record(args.out, record, KEY, checkpoint=ident)
                    best = np.maximum.accumulate(run["values"])
                    shown = " ".join(f"best@{m} {best[:m][-1]:.2f}" for m in marks(args.budget))
                    print(
                        f"{name} {method:10} seed {seed} {shown} ({run['seconds']:.0f} s)",
                        flush=True,
                    )
    report(args.out)


def report(out: str) -> None:
    """The table per budget and the figure, from results/OUT.json alone."""
    payload = common.saved(out)
    print(f"checkpoint {payload['checkpoint']}")
    runs: dict[tuple[int, str], dict[str, list[dict]]] = {}  # (budget, problem) -> method -> runs
    order = {name: i for i, name in enumerate(PROBLEMS)}
    for r in sorted(
        payload["records"], key=lambda r: (r["budget"], order[r["problem"]], r["seed"])
    ):
        runs.setdefault((r["budget"], r["problem"]), {}).setdefault(r["method"], []).append(r)
    for budget in sorted({b for b, _ in runs}):
        after = " / ".join(map(str, marks(budget)))
        print(f"\nmedian best acc_cv (%) over seeds after {after} trials")
        print(f"{'problem':18} {'seeds':>5}  " + "".join(f"{m:17}" for m in METHODS).rstrip())
        for (b, name), methods in runs.items():
            if b != budget:
                continue
            counts = sorted({len(rs) for rs in methods.values()})
            seeds = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
            cells = [cell(methods.get(k, []), budget) for k in METHODS]
            print(f"{name:18} {seeds:>5}  " + "".join(f"{c:17}" for c in cells).rstrip())
    plot(out, runs)


def cell(runs: list[dict], budget: int) -> str:
    """One method's median best at each mark over its runs ("-" when it has none)."""
    if not runs:
        return "-"
    return " / ".join(
        f"{np.median([max(r['values'][:m]) for r in runs]):.2f}" for m in marks(budget)
    )


def plot(out: str, runs: dict[tuple[int, str], dict[str, list[dict]]]) -> None:
    """Per (budget, problem): the median over seeds of the best so far against trials."""
    with common.figure(out, panels=len(runs), size=(4.2, 3.4)) as axes:
        for ax, ((budget, name), methods) in zip(axes, runs.items()):
            for method in (m for m in METHODS if m in methods):
                best = [np.maximum.accumulate(r["values"]) for r in methods[method]]
                n = min(len(b) for b in best)  # a failed trial leaves a run shorter
                label = f"{method} ({len(best)})"
                ax.plot(np.arange(1, n + 1), np.median([b[:n] for b in best], 0), label=label)
            # the first trials start far below: show where the methods differ
            top = max(max(r["values"]) for rs in methods.values() for r in rs)
            ax.set_ylim(top - 2.5, top + 0.25)
            ax.set(xlabel="trials", ylabel="best acc_cv (%)", title=f"{name} (budget {budget})")
            ax.legend(fontsize=7)


if __name__ == "__main__":
    main()
