"""Pretraining quality: per pretrained column, the RLM against GBDT on the same held-out rows.

For every space in a checkpoint's model card, the test rows are those it lists as held out
(never trained on, never used for early stopping) and the GBDT peer (scikit-learn
``HistGradientBoostingRegressor``, defaults, on the space's one-hot encoding) is fitted on
exactly the rows the checkpoint was pretrained on, per column. The RLM is scored with its
greedy digits and with its point prediction (the median read from its digit distribution,
``predict_point``). Accuracy columns are compared by Kendall tau, latencies by Spearman rho
(the issue's figures); both are stored.

    python -m benchmarks.pretrain_quality                    # default checkpoint, every column
    python -m benchmarks.pretrain_quality --columns acc_cifar100_test acc_imagenet16_120_test
    python -m benchmarks.pretrain_quality --proxy acc_cifar10_test=acc_cifar100_test

``--proxy HELD=SEEN`` scores a pretrained column's predictions against a column the checkpoint
never saw, on the same held-out rows: how far a few-shot fit could start from (no label of
HELD is used).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.stats import kendalltau, spearmanr
from sklearn.ensemble import HistGradientBoostingRegressor

from benchmarks.common import add_record, machine
from searchlab import load_space
from searchlab.rlm.checkpoint import checkpoint_id, checkpoint_path
from searchlab.rlm.regressor import RegressionLanguageModel

NAME = "pretrain_quality"


def _scores(pred: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    return {
        "kendall": round(float(kendalltau(pred, truth).statistic), 4),
        "spearman": round(float(spearmanr(pred, truth).statistic), 4),
        "distinct": int(len(np.unique(np.round(pred, 8)))),
    }


def measure(model: str, columns: list[str] | None, log=print) -> list[dict]:
    folder = checkpoint_path(model)
    ident = checkpoint_id(folder)
    rlm = RegressionLanguageModel.load(folder)
    records = []
    held_out = rlm.card["held_out"]
    # a checkpoint continued from another lists each space once per pretraining run
    groups: dict[str, dict] = {}
    for g in rlm.card["trained_on"]:
        if g.get("space") in held_out:
            merged = groups.setdefault(g["space"], {"space": g["space"], "columns": [], "keys": []})
            merged["columns"] += [c for c in g["columns"] if c not in merged["columns"]]
            merged["keys"] = sorted(set(merged["keys"]) | set(g["keys"]))
    for space_name, group in groups.items():
        space = load_space(space_name)
        table = space.benchmark()
        candidates = table.candidates()
        keys = [c.key for c in candidates]
        train = [i for i, k in enumerate(keys) if k in set(group["keys"])]
        test_keys = set(held_out[space_name]["test_keys"])
        test = [i for i, k in enumerate(keys) if k in test_keys]
        x = np.stack([space.encode(c) for c in candidates])
        texts = [candidates[i].text for i in test]
        for column in group["columns"]:
            if columns and column not in columns:
                continue
            y = table.column(column)
            start = time.perf_counter()
            gbdt = HistGradientBoostingRegressor(random_state=0).fit(x[train], y[train])
            rlm_greedy = rlm.predict(texts, [column], k=1, temperature=0.0).samples[:, 0, 0]
            rlm_point = rlm.predict_point(texts, [column])[:, 0]
            truth = y[test]
            record = {
                "checkpoint": ident,
                "space": space_name,
                "column": column,
                "n_train": len(train),
                "n_test": len(test),
                "gbdt": _scores(gbdt.predict(x[test]), truth),
                "rlm_greedy": _scores(rlm_greedy, truth),
                "rlm_point": _scores(rlm_point, truth),
                "seconds": round(time.perf_counter() - start, 1),
            }
            add_record(NAME, record, ("checkpoint", "space", "column"), replace=True,
                       machine=machine())  # fmt: skip
            records.append(record)
            metric = "kendall" if column.startswith("acc_") else "spearman"
            log(
                f"{space_name:6} {column:28} {metric:8} GBDT {record['gbdt'][metric]:.3f}  "
                f"RLM greedy {record['rlm_greedy'][metric]:.3f} "
                f"({record['rlm_greedy']['distinct']} values)  "
                f"point {record['rlm_point'][metric]:.3f}"
            )
    return records


def proxy(model: str, held: str, seen: str, space_name: str = "nb201", log=print) -> dict:
    """Kendall tau of the checkpoint's ``seen`` predictions against true ``held`` values."""
    folder = checkpoint_path(model)
    rlm = RegressionLanguageModel.load(folder)
    space = load_space(space_name)
    table = space.benchmark()
    test_keys = set(rlm.card["held_out"][space_name]["test_keys"])
    test = [i for i, c in enumerate(table.candidates()) if c.key in test_keys]
    texts = [table.candidate(i).text for i in test]
    truth = table.column(held)[test]
    record = {
        "checkpoint": checkpoint_id(folder),
        "space": space_name,
        "column": f"{held} from {seen}",
        "n_test": len(test),
        "true_seen": _scores(table.column(seen)[test], truth),
        "rlm_greedy": _scores(
            rlm.predict(texts, [seen], k=1, temperature=0.0).samples[:, 0, 0], truth
        ),
        "rlm_point": _scores(rlm.predict_point(texts, [seen])[:, 0], truth),
    }
    add_record(NAME, record, ("checkpoint", "space", "column"), replace=True, machine=machine())
    log(
        f"{space_name:6} {held} ranked by predicted {seen}: greedy "
        f"{record['rlm_greedy']['kendall']:.3f}, point {record['rlm_point']['kendall']:.3f} "
        f"(true {seen}: {record['true_seen']['kendall']:.3f})"
    )
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--columns", nargs="*", default=None)
    parser.add_argument("--proxy", nargs="*", default=None, metavar="HELD=SEEN")
    args = parser.parse_args()
    if args.proxy:
        for pair in args.proxy:
            held, _, seen = pair.partition("=")
            proxy(args.model, held, seen)
    else:
        measure(args.model, args.columns)


if __name__ == "__main__":
    main()
