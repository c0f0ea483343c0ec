"""Screening on a space the checkpoint never saw, verified by real training.

    python -m benchmarks.unseen_space [--seeds 0 1 2 3 4] [--budget 50] [--strategy local]
        [--checkpoint default] [--report]

The space is :class:`benchmarks.digits_cnn.DigitsCnnSpace` (3,456 small CNNs; the bundled
checkpoint was pretrained on NB201 and FBNet only, so no pretrained column is a proxy and the
RLM learns the objective by fine-tuning on the campaign's own values). Each candidate is
trained on scikit-learn's digits (AdamW, lr 0.005, 4 epochs, batch 64, one thread, seed 0)
and scored by validation accuracy. Two arms per seed, the same strategy and budget: the
strategy alone, and the strategy screened by the RLM under the default trust rule
(:mod:`searchlab.campaign.trust`).

Each (strategy, arm, budget, seed) is added to results/unseen_space.json (``--out``) as it
ends, which a rerun skips: ``best`` (the best validation accuracy), ``curve`` (the best so far
after each evaluation), ``seconds`` and, screened, the surrogate's ``picked_by_surrogate`` /
``trust`` per round and ``update_seconds``. The table (best per seed and arm, their medians,
picks and seconds) and results/unseen_space.png (median best-so-far per arm) come from that
file alone.
"""

from __future__ import annotations

import time

import numpy as np

from benchmarks import common
from benchmarks.digits_cnn import DigitsCnnSpace
from searchlab.campaign.loop import Campaign, CampaignSettings
from searchlab.core.objectives import Objectives
from searchlab.rlm.checkpoint import checkpoint_id, checkpoint_path
from searchlab.store.study import CampaignStore
from searchlab.strategies import make_strategy
from searchlab.surrogates.rlm import RlmSurrogate
from searchlab.verifiers.training import TrainVerifier

OBJECTIVE = "acc_digits_val"
TRAINING = {"epochs": 4, "optimizer": "adamw", "lr": 0.005, "batch_size": 64, "threads": 1}
ARMS = ("alone", "screened")
KEY = ("strategy", "arm", "budget", "seed")


def run_one(arm: str, strategy: str, seed: int, budget: int, checkpoint: str) -> dict:
    """One campaign in memory, reduced to the record the results file keeps."""
    space = DigitsCnnSpace()
    objectives = Objectives.parse([OBJECTIVE])
    surrogate = None
    if arm == "screened":
        surrogate = RlmSurrogate(checkpoint, device="cpu", seed=seed)
    store = CampaignStore.open("sqlite:///:memory:", arm, {}, objectives)
    campaign = Campaign(
        space,
        make_strategy(strategy, space, objectives, seed=seed),
        surrogate,
        TrainVerifier(space, **TRAINING),
        objectives,
        store,
        CampaignSettings(seed=seed, pool=250),
    )
    start = time.perf_counter()
    campaign.run(budget)
    record = common.campaign_record(store, [OBJECTIVE], time.perf_counter() - start, surrogate)
    return kept({"arm": arm, "strategy": strategy, "seed": seed, **record}, budget)


def kept(rec: dict, budget: int) -> dict:
    """A :func:`common.campaign_record` cut to what the table and figure read."""
    curve = np.maximum.accumulate(np.ravel(rec["values"]))
    out = {k: rec[k] for k in ("strategy", "arm", "seed", "seconds", "surrogate")}
    out |= {"budget": budget, "best": float(curve[-1]), "curve": [float(v) for v in curve]}
    if rec["surrogate"] is not None:  # the alone arm's picks are all 0 and its trust empty
        out |= {k: rec[k] for k in ("picked_by_surrogate", "trust", "update_seconds")}
    return out


def main() -> None:
    parser = common.arguments(__doc__, seeds=range(5), out="unseen_space", checkpoint=True)
    parser.add_argument("--budget", type=int, default=50)
    parser.add_argument("--strategy", default="local")
    args = parser.parse_args()
    if not args.report:
        ident = checkpoint_id(checkpoint_path(args.checkpoint))
        records = common.resume(args.out, checkpoint=ident, training=TRAINING)
        done = {tuple(r[k] for k in KEY) for r in records}
        print(f"checkpoint {ident}; {common.machine()}", flush=True)
        for seed in args.seeds:
            for arm in ARMS:
                if (args.strategy, arm, args.budget, seed) in done:
                    continue
                rec = run_one(arm, args.strategy, seed, args.budget, args.checkpoint)
                common.add_record(args.out, rec, KEY, checkpoint=ident, training=TRAINING)
                picks = sum(rec.get("picked_by_surrogate", []))
                print(
                    f"seed {seed} {arm:8} best {rec['best']:.2f}  "
                    f"surrogate picks {picks}  {rec['seconds']:.0f} s",
                    flush=True,
                )
    report(args.out)


def groups(records: list[dict]) -> dict[tuple[str, int], dict[str, dict[int, dict]]]:
    """(strategy, budget) -> arm -> seed -> record."""
    out: dict = {}
    for r in sorted(records, key=lambda r: r["seed"]):
        out.setdefault((r["strategy"], r["budget"]), {a: {} for a in ARMS})[r["arm"]][r["seed"]] = r
    return out


def report(out: str) -> None:
    """The table per (strategy, budget) and the figure, from results/OUT.json alone."""
    payload = common.saved(out)
    print(f"checkpoint {payload['checkpoint']}; training {payload['training']}")
    found = groups(payload["records"])
    for (strategy, budget), arms in found.items():
        seeds = sorted(set(arms["alone"]) | set(arms["screened"]))
        print(f"\n{strategy}, budget {budget}: best validation accuracy (%) per seed")
        print(f"{'':18}" + "".join(f"{s:>7}" for s in seeds) + f"{'median':>8}")
        rows = [(f"{arm} best", arm, "best", ".2f") for arm in ARMS] + [
            ("surrogate picks", "screened", "picks", ".0f"),
            ("its update s", "screened", "update_seconds", ".0f"),
            ("alone s", "alone", "seconds", ".0f"),
            ("screened s", "screened", "seconds", ".0f"),
        ]
        for label, arm, field, fmt in rows:
            values = {s: _field(r, field) for s, r in arms[arm].items()}
            cells = "".join(f"{values[s]:7{fmt}}" if s in values else f"{'-':>7}" for s in seeds)
            print(f"{label:18}{cells}{np.median(list(values.values())):8{fmt}}")
        both = [s for s in seeds if s in arms["alone"] and s in arms["screened"]]
        ahead = sum(arms["screened"][s]["best"] >= arms["alone"][s]["best"] for s in both)
        print(f"screened >= alone on {ahead}/{len(both)} seeds")
    plot(out, found)


def _field(rec: dict, field: str) -> float:
    return sum(rec["picked_by_surrogate"]) if field == "picks" else rec[field]


def plot(out: str, found: dict[tuple[str, int], dict[str, dict[int, dict]]]) -> None:
    """Per (strategy, budget): the median best-so-far per arm over seeds (each seed faint)."""
    with common.figure(out, panels=len(found)) as axes:
        for ax, ((strategy, budget), arms) in zip(axes, found.items()):
            for arm, color in zip(ARMS, ("tab:blue", "tab:orange")):
                curves = np.array([r["curve"] for r in arms[arm].values()])
                if not len(curves):
                    continue
                x = np.arange(1, curves.shape[1] + 1)
                ax.plot(x, curves.T, color=color, alpha=0.2, lw=0.8)
                label = f"{strategy} {arm} ({len(curves)} seeds)"
                ax.plot(x, np.median(curves, 0), color=color, lw=2, label=label)
            ax.set(xlabel="verified evaluations", ylabel="best validation accuracy (%)")
            # the first evaluations start far below: show where the arms differ
            lowest = min(r["best"] for seeds in arms.values() for r in seeds.values())
            ax.set_ylim(max(0.0, lowest - 3), 100)
            ax.set_title(f"digits CNNs, budget {budget}: median over seeds", fontsize=9)
            ax.legend(fontsize=7)


if __name__ == "__main__":
    main()
