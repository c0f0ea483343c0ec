"""Search efficiency on NB201 (tabular verifier): strategies with and without a surrogate.

    python -m benchmarks.search_efficiency [--task single pair] [--seeds 0 .. 19]
        [--surrogate-seeds 0 .. 9] [--methods ...] [--checkpoint default] [--report]

Every row runs on ``--seeds`` except the RLM rows, which run on ``--surrogate-seeds`` (an RLM
campaign costs one to three minutes on 2 cores; the others a few seconds).

``single``: cifar10 accuracy alone, up to 300 verified evaluations, stopped once the optimum
(94.373 %) is verified; table: evaluations until the optimum, and how many seeds reach it.
``pair``: cifar10 accuracy up and Pixel 3 latency down, 150 evaluations; table: hypervolume
ratio to the benchmark's true front at 50 / 100 / 150 (reference point at the space's medians,
90.745 %, 10.676 ms) and the share of the 43 true-front cells found. Every method runs the same
campaign loop (batches of 10); surrogate rows screen 250 proposals a round (the GBDT peer 500):

- ``rea+rlm``, ``local+rlm``: regularized evolution or local search screened by the checkpoint
  (the bundled default never saw cifar10 nor pixel3) under the default trust rule
  (:mod:`searchlab.campaign.trust`: the surrogate picks the share of each batch its measured
  health earns, the strategy the rest; params / FLOPs rank where they rank better);
- ``gbdt``: the peers' gradient-boosted trees on one-hot, refit every 20, screening every
  batch of regularized evolution in full (the peers' way: no trust rule, no cheap rankers).

Each run is scored as it ends and added to results/search_efficiency.json (``--out``), one
record per (task, method, seed), which a rerun skips: ``seconds``, ``evaluations``,
``surrogate`` (and its ``picked_by_surrogate`` / ``trust`` per round, ``update_seconds``);
single: ``to_optimum`` (null: not within 300) and ``best``, the [evaluation, new best] steps
of the best-so-far accuracy; pair: ``hv``, the hypervolume ratio after 10, 20, ..., 150
evaluations, and ``found``, the share of true-front cells verified by 150. Both tables, the
never-worse check (each screened row against its strategy alone at every 10 evaluations) and
results/search_efficiency.png (single | pair) come from that file alone.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from benchmarks import common
from searchlab import load_space
from searchlab.campaign.loop import Campaign, CampaignSettings
from searchlab.core.objectives import Objectives
from searchlab.core.pareto import front_mask, hypervolume
from searchlab.rlm.checkpoint import checkpoint_id, checkpoint_path
from searchlab.store.study import CampaignStore
from searchlab.strategies import make_strategy
from searchlab.surrogates.gbdt import GbdtSurrogate
from searchlab.surrogates.rlm import RlmSurrogate
from searchlab.verifiers import TabularVerifier

TASKS = {
    "single": {"names": ["acc_cifar10_test"], "reference": None, "budget": 300},
    "pair": {
        "names": ["acc_cifar10_test", "lat_ms_hwnb_pixel3"],
        "reference": {"acc_cifar10_test": 90.745, "lat_ms_hwnb_pixel3": 10.676},
        "budget": 150,
    },
}
#: method -> (strategy, options, surrogate, tasks); "rlm": the checkpoint, trusted with the
#: share of each batch its measured health earns (the product's default rule)
METHODS = {
    "random": ("random", {}, None, ("single", "pair")),
    "rea": ("rea", {}, None, ("single", "pair")),
    "local": ("local", {}, None, ("single", "pair")),
    "optuna-tpe": ("optuna", {"sampler": "tpe"}, None, ("single", "pair")),
    "nsga2": ("nsga2", {}, None, ("pair",)),
    "optuna-nsga2": ("optuna", {"sampler": "nsga2"}, None, ("pair",)),
    "gbdt": ("rea", {}, "gbdt", ("single", "pair")),
    "rea+rlm": ("rea", {}, "rlm", ("single", "pair")),
    "local+rlm": ("local", {}, "rlm", ("single", "pair")),
}
#: screened row -> the strategy alone it screens for
SCREENED = {"rea+rlm": "rea", "local+rlm": "local", "gbdt": "rea"}
MARKS = (50, 100, 150)
STEP = 10  # the campaign's batch: the curves are compared (and hv kept) at its multiples
KEY = ("task", "method", "seed")
#: the GBDT peer's settings, as measured: every batch screened in full after 10 values; the
#: RLM rows use the defaults
PEER = {"pool": 500, "initial": 10, "trust": "always", "cheap_rankers": False}
LABELS = {"single": "best cifar10 accuracy (%)", "pair": "hypervolume / true front's"}


def make_surrogate(
    kind: str | None, seed: int, checkpoint: str
) -> GbdtSurrogate | RlmSurrogate | None:
    """None, the GBDT peer, or the RLM from ``checkpoint``."""
    if kind is None:
        return None
    if kind == "gbdt":
        return GbdtSurrogate(load_space("nb201"), seed=seed)
    return RlmSurrogate(checkpoint, device="cpu", seed=seed)


def run_one(task: str, method: str, seed: int, checkpoint: str, truth: dict) -> dict:
    """One campaign in memory, scored: the record the results file keeps."""
    space = load_space("nb201")
    spec = TASKS[task]
    objectives = Objectives.parse(spec["names"], reference=spec["reference"])
    strategy, options, kind, _ = METHODS[method]
    surrogate = make_surrogate(kind, seed, checkpoint)
    store = CampaignStore.open("sqlite:///:memory:", method, {}, objectives)
    search = make_strategy(strategy, space, objectives, seed=seed, **options)
    rounds = CampaignSettings(seed=seed, **(PEER if kind == "gbdt" else {}))
    campaign = Campaign(space, search, surrogate, TabularVerifier(space), objectives, store, rounds)
    start = time.perf_counter()
    if task == "single":  # nothing after the optimum changes the figure: stop there
        for budget in range(STEP, spec["budget"] + 1, STEP):
            campaign.run(budget)
            if max(r.values[spec["names"][0]] for r in store.verified()) >= truth["optimum"] - 1e-9:
                break
    else:
        campaign.run(spec["budget"])
    record = common.campaign_record(store, spec["names"], time.perf_counter() - start, surrogate)
    return score(task, {"task": task, "method": method, "seed": seed, **record}, truth)


def score(task: str, rec: dict, truth: dict) -> dict:
    """A :func:`common.campaign_record` cut to what the tables and figure read (see above)."""
    vals = np.array(rec["values"])
    kept = {k: rec[k] for k in ("task", "method", "seed", "seconds", "surrogate")}
    kept["evaluations"] = len(vals)
    if rec["surrogate"] is not None:
        kept |= {k: rec[k] for k in ("picked_by_surrogate", "trust", "update_seconds") if k in rec}
    if task == "single":
        best = np.maximum.accumulate(vals[:, 0])
        # the curve only rises where a new best is verified: its steps say it all, exactly
        rises = np.flatnonzero(np.diff(best, prepend=-np.inf))
        kept["best"] = [[int(i) + 1, float(best[i])] for i in rises]
        hits = np.flatnonzero(vals[:, 0] >= truth["optimum"] - 1e-9)
        kept["to_optimum"] = int(hits[0]) + 1 if len(hits) else None
        return kept
    objectives = Objectives.parse(TASKS[task]["names"], reference=TASKS[task]["reference"])
    F = objectives.to_min([dict(zip(TASKS[task]["names"], v)) for v in vals])
    ref = objectives.reference_min()
    kept["hv"] = [
        float(hypervolume(F[:m], ref) / truth["hv"]) for m in range(STEP, len(F) + 1, STEP)
    ]
    kept["found"] = len(truth["front"] & set(rec["keys"][: MARKS[-1]])) / len(truth["front"])
    return kept


def ground_truth() -> dict:
    """The optimum, the true front's keys and hypervolume."""
    table = load_space("nb201").benchmark()
    spec = TASKS["pair"]
    objectives = Objectives.parse(spec["names"], reference=spec["reference"])
    F = objectives.to_min(
        [{n: table.column(n)[i] for n in spec["names"]} for i in range(len(table))]
    )
    front = {c.key for c in table.candidates(np.flatnonzero(front_mask(F)))}
    hv = hypervolume(F, objectives.reference_min())
    return {"optimum": float(table.column("acc_cifar10_test").max()), "front": front, "hv": hv}


def main() -> None:
    parser = common.arguments(__doc__, seeds=range(20), out="search_efficiency", checkpoint=True)
    parser.add_argument("--task", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--surrogate-seeds", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    args = parser.parse_args()
    if not args.report:
        measure(args)
    report(args.out)


def measure(args: argparse.Namespace) -> None:
    """Run and add to results/OUT.json every (task, method, seed) it lacks."""
    ident = checkpoint_id(checkpoint_path(args.checkpoint))
    done = {tuple(r[k] for k in KEY) for r in common.resume(args.out, checkpoint=ident)}
    truth = ground_truth()
    top = {"checkpoint": ident, "optimum": truth["optimum"], "front_cells": len(truth["front"])}
    print(f"checkpoint {ident}; {common.machine()}", flush=True)
    for task in args.task:
        for method in [m for m in args.methods if task in METHODS[m][3]]:
            # only the RLM rows are costly enough to run on fewer seeds
            for seed in args.surrogate_seeds if METHODS[method][2] == "rlm" else args.seeds:
                if (task, method, seed) not in done:
                    rec = run_one(task, method, seed, args.checkpoint, truth)
                    common.add_record(args.out, rec, KEY, **top)
                    print(f"{task} {method:22} seed {seed:2d} {_brief(rec)}", flush=True)


def _brief(rec: dict) -> str:
    if rec["task"] == "single":
        return f"optimum after {rec['to_optimum'] or '>300'} ({rec['seconds']:.0f} s)"
    return f"hv@150 {rec['hv'][-1]:.3f}, found {rec['found']:.3f} ({rec['seconds']:.0f} s)"


def report(out: str) -> None:
    """Both tables, the never-worse check and the figure, from results/OUT.json alone."""
    payload = common.saved(out)
    top = f"optimum {payload['optimum']}, true front {payload['front_cells']} cells"
    print(f"{top}; checkpoint {payload['checkpoint']}")
    # task -> method -> runs, in the order of TASKS and METHODS, by seed (the bootstrap of the
    # never-worse check draws in that order)
    rank = {name: i for i, name in enumerate([*TASKS, *METHODS])}
    tasks: dict[str, dict[str, list[dict]]] = {}
    for r in sorted(
        payload["records"], key=lambda r: (rank[r["task"]], rank[r["method"]], r["seed"])
    ):
        tasks.setdefault(r["task"], {}).setdefault(r["method"], []).append(r)
    for task, rows in tasks.items():
        table(task, rows)
        never_worse(task, rows)
    plot(out, tasks, payload["optimum"])


def table(task: str, rows: dict[str, list[dict]]) -> None:
    """Median over seeds."""
    if task == "single":
        print(f"\n{'method':22} seeds  median evals to optimum  reached within 300  s/run")
        for method, recs in rows.items():
            hits = [r["to_optimum"] for r in recs if r["to_optimum"] is not None]
            # seeds that never reach it count as beyond the budget in the median
            med = np.median([r["to_optimum"] or np.inf for r in recs])
            secs = np.median([r["seconds"] for r in recs])
            shown = f"{med:.0f}" if np.isfinite(med) else ">300"
            reached = f"{len(hits):>10}/{len(recs):<7}"
            print(f"{method:22} {len(recs):5d}  {shown:>23}  {reached} {secs:5.0f}")
        for method in (m for m in rows if METHODS[m][2] == "rlm"):
            each = ", ".join(str(r["to_optimum"] or ">300") for r in rows[method])
            print(f"per seed, {method}: {each}")
        return
    print(f"\n{'method':22} seeds   HV@50  HV@100  HV@150  front found  s/run")
    for method, recs in rows.items():
        hv = curves(task, recs)
        med = [np.median(hv[:, m // STEP - 1]) for m in MARKS]
        found = np.median([r["found"] for r in recs])
        secs = np.median([r["seconds"] for r in recs])
        cells = "  ".join(f"{v:6.3f}" for v in med)
        print(f"{method:22} {len(recs):5d}  {cells}  {found:10.0%}  {secs:5.0f}")


def best_after(steps: list[list[float]], n: np.ndarray) -> np.ndarray:
    """Best accuracy after each of ``n`` evaluations, from a run's [evaluation, best] steps."""
    at, best = np.array(steps).T
    return best[np.searchsorted(at, n, side="right") - 1]


def curves(task: str, recs: list[dict]) -> np.ndarray:
    """[seeds, budget / 10] best accuracy (single) or hypervolume ratio (pair) after every 10
    evaluations; a run that stopped early stays where it ended."""
    marks = np.arange(STEP, TASKS[task]["budget"] + 1, STEP)
    if task == "single":
        return np.array([best_after(r["best"], marks) for r in recs])
    return np.array([np.pad(r["hv"], (0, len(marks) - len(r["hv"])), "edge") for r in recs])


def never_worse(task: str, rows: dict[str, list[dict]]) -> None:
    """Screened against its strategy alone at every 10 evaluations: the median's deficit,
    against the bootstrap standard error of the difference of the two medians."""
    rng = np.random.default_rng(0)
    for screened, alone in SCREENED.items():
        if screened not in rows or alone not in rows:
            continue
        a, b = curves(task, rows[screened]), curves(task, rows[alone])
        worst = None
        for i in range(a.shape[1]):
            x, y = a[:, i], b[:, i]
            diff = np.median(x) - np.median(y)
            boot = [
                np.median(rng.choice(x, len(x))) - np.median(rng.choice(y, len(y)))
                for _ in range(400)
            ]
            se = float(np.std(boot))
            if worst is None or diff + se < worst[1] + worst[2]:
                worst = ((i + 1) * STEP, diff, se)
        m, diff, se = worst
        verdict = "never worse" if diff >= -se else "WORSE"
        print(
            f"{screened} vs {alone}: worst at {m} evaluations, median difference {diff:+.4f} "
            f"(bootstrap s.e. {se:.4f}): {verdict}"
        )


def plot(out: str, tasks: dict[str, dict[str, list[dict]]], optimum: float) -> None:
    """Median best accuracy (single) and hypervolume ratio (pair) over evaluations."""
    with common.figure(out, panels=len(tasks), size=(6.4, 4.2)) as axes:
        for ax, (task, rows) in zip(axes, tasks.items()):
            for method, recs in rows.items():
                label = f"{method} ({len(recs)} seeds)"
                if task == "single":  # every evaluation; a run stopped at the optimum stays
                    x = np.arange(1, max(r["evaluations"] for r in recs) + 1)
                    ax.plot(x, np.median([best_after(r["best"], x) for r in recs], 0), label=label)
                else:
                    hv = curves(task, recs)
                    x = np.arange(STEP, STEP * hv.shape[1] + 1, STEP)
                    ax.plot(x, np.median(hv, 0), marker=".", label=label)
            if task == "single":
                ax.set_ylim(92.5, optimum + 0.1)
            ax.set(xlabel="verified evaluations", ylabel=LABELS[task], title=f"{task}: median")
            ax.legend(fontsize=7)


if __name__ == "__main__":
    main()
