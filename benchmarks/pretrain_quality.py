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
    python -m benchmarks.pretrain_quality --report           # print and draw; measure nothing

``--proxy HELD=SEEN`` scores a pretrained column's predictions against a column the checkpoint
never saw, on the same held-out rows: how far a few-shot fit could start from (no label of
HELD is used). Each record replaces the one of the same checkpoint, space and column in
results/{out}.json (one file holds every checkpoint measured). Every run ends by printing
every record, checkpoint by checkpoint, and drawing results/{out}.png (per column, the
most recently measured checkpoint's point prediction next to GBDT) from the results file
alone; ``--report`` does only that.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from benchmarks import common

NAME = "pretrain_quality"
IDENT = ("checkpoint", "space", "column")


def _scores(pred: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    return {**common.rank_scores(pred, truth), "distinct": int(len(np.unique(np.round(pred, 8))))}


def metric_of(column: str) -> str:
    """The issue's figure for a column: Kendall tau for accuracies, Spearman rho for latencies."""
    return "kendall" if column.startswith("acc_") else "spearman"


def line(record: dict) -> str:
    """One record as the line a run prints for it."""
    space, column = record["space"], record["column"]
    if "true_seen" in record:  # a --proxy record: "HELD from SEEN"
        held, _, seen = column.partition(" from ")
        return (
            f"{space:6} {held} ranked by predicted {seen}: greedy "
            f"{record['rlm_greedy']['kendall']:.3f}, point {record['rlm_point']['kendall']:.3f} "
            f"(true {seen}: {record['true_seen']['kendall']:.3f})"
        )
    metric = metric_of(column)
    return (
        f"{space:6} {column:28} {metric:8} GBDT {record['gbdt'][metric]:.3f}  "
        f"RLM greedy {record['rlm_greedy'][metric]:.3f} "
        f"({record['rlm_greedy']['distinct']} values)  "
        f"point {record['rlm_point'][metric]:.3f}"
    )


def measure(
    model: str, columns: list[str] | None, out: str = NAME, log: Callable = print
) -> list[dict]:
    """Score every pretrained column of checkpoint ``model`` (or those in ``columns``)."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    from searchlab import load_space
    from searchlab.rlm.checkpoint import checkpoint_id, checkpoint_path
    from searchlab.rlm.regressor import RegressionLanguageModel

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
        candidates = common.candidates(space_name)
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
            common.add_record(out, record, IDENT, replace=True, machine=common.machine())
            records.append(record)
            log(line(record))
    return records


def proxy(
    model: str, held: str, seen: str, space_name: str = "nb201", out: str = NAME,
    log: Callable = print,
) -> dict:  # fmt: skip
    """Kendall tau of the checkpoint's ``seen`` predictions against true ``held`` values."""
    from searchlab import load_space

    fair = common.held_out(model, [held], space_name)
    table = load_space(space_name).benchmark()
    texts = [common.candidates(space_name)[i].text for i in fair.test]
    truth = table.column(held)[fair.test]
    greedy = fair.rlm.predict(texts, [seen], k=1, temperature=0.0).samples[:, 0, 0]
    record = {
        "checkpoint": fair.ident,
        "space": space_name,
        "column": f"{held} from {seen}",
        "n_test": len(fair.test),
        "true_seen": _scores(table.column(seen)[fair.test], truth),
        "rlm_greedy": _scores(greedy, truth),
        "rlm_point": _scores(fair.rlm.predict_point(texts, [seen])[:, 0], truth),
    }
    common.add_record(out, record, IDENT, replace=True, machine=common.machine())
    log(line(record))
    return record


def report(out: str) -> None:
    """Print every record and draw results/{out}.png from results/{out}.json alone."""
    records = common.saved(out)["records"]
    for ident in dict.fromkeys(r["checkpoint"] for r in records):
        print(f"\n{ident}")
        for record in (r for r in records if r["checkpoint"] == ident):
            print(line(record))
    # the figure shows the checkpoint measured last (a rerun's records are appended)
    latest = [r for r in records if "gbdt" in r][-1]["checkpoint"]
    shown = [r for r in records if r["checkpoint"] == latest and "gbdt" in r]
    spaces = list(dict.fromkeys(r["space"] for r in shown))
    height = 1.2 + 0.2 * max(sum(r["space"] == s for r in shown) for s in spaces)
    title = f"pretrained columns on held-out rows: {latest} (point) against GBDT on its rows"
    with common.figure(out, panels=len(spaces), size=(5.5, height), title=title) as axes:
        for ax, space in zip(axes, spaces):
            rows = [r for r in shown if r["space"] == space]
            ys = np.arange(len(rows))[::-1]
            names = [f"{r['column']} ({'τ' if metric_of(r['column']) == 'kendall' else 'ρ'})"
                     for r in rows]  # fmt: skip
            for key, label, marker in (("gbdt", "GBDT", "s"), ("rlm_point", "RLM point", "o")):
                xs = [r[key][metric_of(r["column"])] for r in rows]
                ax.scatter(xs, ys, marker=marker, s=18, label=label, alpha=0.8)
            ax.set_yticks(ys, names, fontsize=6)
            ax.set_xlabel("Kendall τ (accuracies) / Spearman ρ (latencies)", fontsize=7)
            ax.set_title(f"{space}, {rows[0]['n_test']} held-out rows", fontsize=8)
            ax.grid(axis="x", alpha=0.3)
        axes[0].legend(fontsize=7)


def main() -> None:
    """Measure (unless --report), then print every record and draw the figure."""
    parser = common.arguments(__doc__, out=NAME, checkpoint=True)
    # --model was this script's name for --checkpoint; older commands keep working
    parser.add_argument("--model", dest="checkpoint", help=argparse.SUPPRESS)
    parser.add_argument("--columns", nargs="*", default=None)
    parser.add_argument("--proxy", nargs="*", default=None, metavar="HELD=SEEN")
    args = parser.parse_args()
    if args.report:
        pass
    elif args.proxy:
        for pair in args.proxy:
            held, _, seen = pair.partition("=")
            proxy(args.checkpoint, held, seen, out=args.out)
    else:
        measure(args.checkpoint, args.columns, out=args.out)
    report(args.out)


if __name__ == "__main__":
    main()
