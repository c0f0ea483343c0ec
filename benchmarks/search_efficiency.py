"""Search efficiency on NB201 (tabular verifier): strategies with and without a surrogate.

    python -m benchmarks.search_efficiency [--task single pair] [--seeds 0..19]
        [--surrogate-seeds 0..4] [--methods ...]

Every row runs on ``--seeds`` except the RLM rows, which run on ``--surrogate-seeds`` (an RLM
campaign costs one to three minutes on 2 cores; the others a few seconds).

``single``: cifar10 accuracy alone, up to 300 verified evaluations, stopped once the optimum
(94.373 %) is verified (nothing after it changes the figure; curves are flat from there);
figure: evaluations until the optimum, and how many seeds reach it. ``pair``: cifar10
accuracy up and Pixel 3 latency down, 150 evaluations; figure: hypervolume ratio to the
benchmark's true front at 50 / 100 / 150 with the reference point at the space's medians
(90.745 %, 10.676 ms), and the share of the 43 true-front cells found. Every method runs the
same campaign loop (batches of 10); surrogate rows screen 250 proposals a round (the GBDT
peer 500, as it always has):

- ``rea+rlm``, ``local+rlm``: regularized evolution or local search with the bundled default
  checkpoint (pretrained on cifar100 / imagenet16-120 accuracies and other devices'
  latencies; never cifar10 nor pixel3) under the default trust rule
  (:mod:`searchlab.campaign.trust`: the surrogate picks the share of each batch its measured
  health earns, the strategy the rest; params / FLOPs rank an objective where they rank it better);
- ``gbdt``: the peers' gradient-boosted trees on one-hot, refit every 20, screening every
  batch in full (the peers' way: no trust rule, no cheap rankers) for regularized evolution.

Each (task, method, seed) is saved to results/search_efficiency/ and skipped when present, so
an interrupted run resumes. Prints the table; saves results/search_efficiency_{task}.png.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from benchmarks.common import RESULTS, campaign_record, machine
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
#: method -> (strategy, options, surrogate, tasks); "+rlm": the bundled checkpoint, trusted
#: with the share of each batch its measured health earns (the product's default rule)
METHODS = {
    "random": ("random", {}, None, ("single", "pair")),
    "rea": ("rea", {}, None, ("single", "pair")),
    "local": ("local", {}, None, ("single", "pair")),
    "optuna-tpe": ("optuna", {"sampler": "tpe"}, None, ("single", "pair")),
    "nsga2": ("nsga2", {}, None, ("pair",)),
    "optuna-nsga2": ("optuna", {"sampler": "nsga2"}, None, ("pair",)),
    "gbdt": ("rea", {}, "gbdt", ("single", "pair")),
    "rea+rlm": ("rea", {}, "default", ("single", "pair")),
    "local+rlm": ("local", {}, "default", ("single", "pair")),
}
MARKS = (50, 100, 150)
OUT = RESULTS / "search_efficiency"


def make_surrogate(kind: str | None, seed: int):  # noqa: ANN201
    """None, the GBDT peer, or the RLM from the bundled checkpoint."""
    if kind is None:
        return None
    if kind == "gbdt":
        return GbdtSurrogate(load_space("nb201"), seed=seed)
    return RlmSurrogate(kind, device="cpu", seed=seed)


def settings(kind: str | None, seed: int) -> CampaignSettings:
    """The GBDT peer screens every batch after 10 unscreened values, as measured; the RLM rows
    use the defaults."""
    if kind == "gbdt":
        return CampaignSettings(
            seed=seed, pool=500, initial=10, trust="always", cheap_rankers=False
        )
    return CampaignSettings(seed=seed)


def run_one(task: str, method: str, seed: int) -> dict:
    """One campaign in memory; the verified values in order."""
    space = load_space("nb201")
    spec = TASKS[task]
    objectives = Objectives.parse(spec["names"], reference=spec["reference"])
    strategy, options, kind, _ = METHODS[method]
    surrogate = make_surrogate(kind, seed)
    store = CampaignStore.open("sqlite:///:memory:", method, {}, objectives)
    campaign = Campaign(
        space,
        make_strategy(strategy, space, objectives, seed=seed, **options),
        surrogate,
        TabularVerifier(space),
        objectives,
        store,
        settings(kind, seed),
    )
    start = time.perf_counter()
    if task == "single":  # nothing after the optimum changes the figure: stop there
        optimum = float(space.benchmark().column(spec["names"][0]).max())
        for budget in range(10, spec["budget"] + 1, 10):
            campaign.run(budget)
            if max(r.values[spec["names"][0]] for r in store.verified()) >= optimum - 1e-9:
                break
    else:
        campaign.run(spec["budget"])
    seconds = time.perf_counter() - start
    record = campaign_record(store, spec["names"], seconds, surrogate)
    return {"task": task, "method": method, "seed": seed, **record}


def score(task: str, rec: dict, truth: dict) -> dict:
    """single: evaluations to the optimum; pair: hypervolume ratios and front share."""
    vals = np.array(rec["values"])
    if task == "single":
        hits = np.flatnonzero(vals[:, 0] >= truth["optimum"] - 1e-9)
        return {"to_optimum": int(hits[0]) + 1 if len(hits) else None}
    objectives = Objectives.parse(TASKS[task]["names"], reference=TASKS[task]["reference"])
    F = objectives.to_min([dict(zip(TASKS[task]["names"], v)) for v in vals])
    ref = objectives.reference_min()
    out = {f"hv@{m}": hypervolume(F[:m], ref) / truth["hv"] for m in MARKS}
    out["found"] = len(truth["front"] & set(rec["keys"][: MARKS[-1]])) / len(truth["front"])
    return out


def ground_truth() -> dict:
    """The optimum, the true front's keys and hypervolume."""
    space = load_space("nb201")
    table = space.benchmark()
    spec = TASKS["pair"]
    objectives = Objectives.parse(spec["names"], reference=spec["reference"])
    F = objectives.to_min(
        [{n: table.column(n)[i] for n in spec["names"]} for i in range(len(table))]
    )
    mask = front_mask(F)
    front = {c.key for c, m in zip(table.candidates(), mask) if m}
    hv = hypervolume(F, objectives.reference_min())
    return {"optimum": float(table.column("acc_cifar10_test").max()), "front": front, "hv": hv}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", nargs="+", default=["single", "pair"], choices=list(TASKS))
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(20)))
    parser.add_argument("--surrogate-seeds", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--methods", nargs="+", default=list(METHODS))
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    truth = ground_truth()
    print(f"optimum {truth['optimum']}, true front {len(truth['front'])} cells; {machine()}")
    print(f"checkpoint: {checkpoint_id(checkpoint_path('default'))}")
    scored: dict[Path, dict] = {}
    for task in args.task:
        for method in [m for m in args.methods if task in METHODS[m][3]]:
            # only the RLM rows are costly enough to run on fewer seeds
            seeds = args.surrogate_seeds if method.endswith("+rlm") else args.seeds
            for seed in seeds:
                path = OUT / f"{task}_{method}_{seed}.json"
                if not path.exists():
                    path.write_text(json.dumps(run_one(task, method, seed)))
                rec = scored_run(task, path, truth, scored)
                print(f"{task} {method:22} seed {seed:2d} {_brief(rec)}", flush=True)
        # the table and figure show every method measured so far, not only those just run
        rows = cached_rows(task, truth, scored)
        table(task, rows)
        never_worse(task, rows, truth)
        plot(task, rows, truth)


def scored_run(task: str, path: Path, truth: dict, scored: dict[Path, dict]) -> dict:
    """A saved run with its figures; ``scored`` keeps the runs already read and scored."""
    if path not in scored:
        rec = json.loads(path.read_text())
        scored[path] = {**rec, **score(task, rec, truth)}
    return scored[path]


def cached_rows(task: str, truth: dict, scored: dict[Path, dict]) -> dict[str, list[dict]]:
    """Every saved run of a task, scored, per method in the order of METHODS, by seed."""
    rows = {}
    for method in METHODS:
        paths = OUT.glob(f"{task}_{method}_*.json")
        seeded = {int(p.stem.rsplit("_", 1)[1]): p for p in paths}
        if seeded:
            rows[method] = [scored_run(task, seeded[s], truth, scored) for s in sorted(seeded)]
    return rows


def _brief(rec: dict) -> str:
    if "to_optimum" in rec:
        return f"optimum after {rec['to_optimum']}  ({rec['seconds']:.0f}s)"
    return " ".join(f"{k} {rec[k]:.3f}" for k in ("hv@50", "hv@100", "hv@150", "found"))


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
        return
    print(f"\n{'method':22} seeds   HV@50  HV@100  HV@150  front found  s/run")
    for method, recs in rows.items():
        med = [np.median([r[f"hv@{m}"] for r in recs]) for m in MARKS]
        found = np.median([r["found"] for r in recs])
        secs = np.median([r["seconds"] for r in recs])
        print(
            f"{method:22} {len(recs):5d}  "
            + "  ".join(f"{v:6.3f}" for v in med)
            + f"  {found:10.0%}  {secs:5.0f}"
        )


#: screened row -> the strategy alone it screens for
SCREENED = {"rea+rlm": "rea", "local+rlm": "local", "gbdt": "rea"}


def curves(task: str, recs: list[dict], truth: dict, n: int) -> np.ndarray:
    """[seeds, n] best accuracy (single) or hypervolume ratio (pair) after each evaluation."""
    out = []
    for r in recs:
        if task == "single":
            c = np.maximum.accumulate(np.array(r["values"])[:, 0])
        else:
            objectives = Objectives.parse(TASKS[task]["names"], reference=TASKS[task]["reference"])
            ref = objectives.reference_min()
            F = objectives.to_min([dict(zip(TASKS[task]["names"], v)) for v in r["values"]])
            c = np.array([hypervolume(F[: i + 1], ref) / truth["hv"] for i in range(len(F))])
        out.append(np.concatenate([c, np.full(max(0, n - len(c)), c[-1])])[:n])
    return np.array(out)


def never_worse(task: str, rows: dict[str, list[dict]], truth: dict) -> None:
    """Screened against its strategy alone at every 10 evaluations: the median's deficit,
    against the bootstrap standard error of the difference of the two medians."""
    n = TASKS[task]["budget"]
    rng = np.random.default_rng(0)
    for screened, alone in SCREENED.items():
        if screened not in rows or alone not in rows:
            continue
        a, b = curves(task, rows[screened], truth, n), curves(task, rows[alone], truth, n)
        worst = None
        for m in range(10, n + 1, 10):
            x, y = a[:, m - 1], b[:, m - 1]
            diff = np.median(x) - np.median(y)
            boot = [
                np.median(rng.choice(x, len(x))) - np.median(rng.choice(y, len(y)))
                for _ in range(400)
            ]
            se = float(np.std(boot))
            if worst is None or diff - (-se) < worst[1] - (-worst[2]):
                worst = (m, diff, se)
        m, diff, se = worst
        verdict = "never worse" if diff >= -se else "WORSE"
        print(
            f"{screened} vs {alone}: worst at {m} evaluations, median difference {diff:+.4f} "
            f"(bootstrap s.e. {se:.4f}): {verdict}"
        )


def plot(task: str, rows: dict[str, list[dict]], truth: dict) -> None:
    """Median best accuracy (single) or hypervolume ratio (pair) over evaluations."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for method, recs in rows.items():
        if task == "single":
            curves = [np.maximum.accumulate(np.array(r["values"])[:, 0]) for r in recs]
        else:
            objectives = Objectives.parse(TASKS[task]["names"], reference=TASKS[task]["reference"])
            ref = objectives.reference_min()
            curves = []
            for r in recs:
                F = objectives.to_min([dict(zip(TASKS[task]["names"], v)) for v in r["values"]])
                curves.append([hypervolume(F[: i + 1], ref) / truth["hv"] for i in range(len(F))])
        n = max(len(c) for c in curves)  # a run stopped at the optimum stays there
        curves = [np.concatenate([c, np.full(n - len(c), c[-1])]) for c in curves]
        label = f"{method} ({len(recs)} seeds)"
        ax.plot(np.arange(1, n + 1), np.median([c[:n] for c in curves], axis=0), label=label)
    ax.set_xlabel("verified evaluations")
    ax.set_ylabel("best cifar10 accuracy (%)" if task == "single" else "hypervolume / true front's")
    if task == "single":
        ax.set_ylim(92.5, truth["optimum"] + 0.1)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(RESULTS / f"search_efficiency_{task}.png", dpi=110)


if __name__ == "__main__":
    main()
