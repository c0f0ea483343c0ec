"""Screening on a space the checkpoint never saw, verified by real training.

    python -m benchmarks.unseen_space [--seeds 0 1 2 3 4] [--budget 50] [--strategy local]

The space is :class:`benchmarks.digits_cnn.DigitsCnnSpace` (3,456 small CNNs; the bundled
checkpoint was pretrained on NB201 and FBNet only, so no pretrained column is a proxy and the
RLM learns the objective by fine-tuning on the campaign's own values). Each candidate is
trained on scikit-learn's digits (AdamW, lr 0.005, 4 epochs, batch 64, one thread, seed 0)
and scored by validation accuracy. Two arms per seed, the same strategy and budget: the
strategy alone, and the strategy screened by the RLM under the default trust rule
(:mod:`searchlab.campaign.trust`). Figure: the best validation accuracy after the budget. Each (arm,
seed) is saved to results/unseen_space/ and skipped when present, so a run resumes.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from benchmarks.common import RESULTS, campaign_record, machine
from benchmarks.digits_cnn import DigitsCnnSpace
from searchlab.campaign.loop import Campaign, CampaignSettings
from searchlab.core.objectives import Objectives
from searchlab.rlm.checkpoint import checkpoint_id, checkpoint_path
from searchlab.store.study import CampaignStore
from searchlab.strategies import make_strategy
from searchlab.surrogates.rlm import RlmSurrogate
from searchlab.verifiers.training import TrainVerifier

OUT = RESULTS / "unseen_space"
OBJECTIVE = "acc_digits_val"
TRAINING = {"epochs": 4, "optimizer": "adamw", "lr": 0.005, "batch_size": 64, "threads": 1}


def run_one(arm: str, strategy: str, seed: int, budget: int) -> dict:
    """One campaign in memory: the verified values in order, the picks and the seconds."""
    space = DigitsCnnSpace()
    objectives = Objectives.parse([OBJECTIVE])
    surrogate = RlmSurrogate("default", device="cpu", seed=seed) if arm == "screened" else None
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
    record = campaign_record(store, [OBJECTIVE], time.perf_counter() - start, surrogate)
    return {"arm": arm, "strategy": strategy, "seed": seed, **record}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(5)))
    parser.add_argument("--budget", type=int, default=50)
    parser.add_argument("--strategy", default="local")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"checkpoint {checkpoint_id(checkpoint_path('default'))}; {machine()}", flush=True)
    best: dict[str, list[float]] = {"alone": [], "screened": []}
    for seed in args.seeds:
        for arm in ("alone", "screened"):
            path = OUT / f"{args.strategy}_{arm}_b{args.budget}_{seed}.json"
            if not path.exists():
                path.write_text(json.dumps(run_one(arm, args.strategy, seed, args.budget)))
            rec = json.loads(path.read_text())
            best[arm].append(max(np.ravel(rec["values"])))
            print(
                f"seed {seed} {arm:8} best {best[arm][-1]:.2f}  "
                f"surrogate picks {sum(rec['picked_by_surrogate'])}  {rec['seconds']:.0f} s",
                flush=True,
            )
    alone, screened = np.array(best["alone"]), np.array(best["screened"])
    print(
        f"\n{args.strategy}, budget {args.budget}, seeds {args.seeds}: median best "
        f"alone {np.median(alone):.2f}, screened {np.median(screened):.2f}; "
        f"screened >= alone on {(screened >= alone).sum()}/{len(alone)} seeds"
    )


if __name__ == "__main__":
    main()
