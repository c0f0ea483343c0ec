"""Results of a search campaign: verified and predicted fronts, hypervolume, plots, report page.

Records are the dicts a campaign's store exports (``key``, ``genotype``, ``round``,
``predicted``, ``spread``, ``interval``, ``model``, ``verified``, ``source``,
``verified_order``, ``computed``, ``error``); optional fields may be absent or None. A
record's objective values are its verified (or predicted) values merged with its computed
ones (params, flops). The verified front holds feasible verified records; the predicted
front ranks the feasible predicted medians of every record, verified ones included,
except records whose verification failed or whose verified values break a constraint (a
verified-infeasible record is never on a front and is drawn apart). Evaluations are
verification attempts in ``verified_order`` (failed ones included, unordered ones last).
A reference point is given in natural units by name, or as a minimization-form vector;
without one (argument or ``Objectives.reference``) the hypervolume uses the worst feasible
verified value per objective plus 10 % of its range (of its magnitude, at least 1, when the
range is zero); curve rows say where the reference came from.
Plotting libraries are imported only by :func:`searchlab.report.results.write_results`.

Example:
    >>> from searchlab.core.objectives import Objectives
    >>> from searchlab.report.summary import fronts, hypervolume_curve, summary
    >>> objs = Objectives.parse(["acc_cifar10_test", "params"], constraints=["params <= 2e6"])
    >>> def rec(key, acc, params, order):
    ...     return {"key": key, "genotype": key, "predicted": {"acc_cifar10_test": acc - 1},
    ...             "verified": {"acc_cifar10_test": acc}, "verified_order": order,
    ...             "source": "benchmark", "computed": {"params": params, "flops": 1e8}}
    >>> records = [rec("a", 90.0, 1e6, 0), rec("b", 93.0, 1.5e6, 1), rec("c", 89.0, 1.2e6, 2),
    ...            rec("d", 95.0, 3e6, 3)]
    >>> [e["key"] for e in fronts(records, objs)["verified"]]
    ['a', 'b']
    >>> ref = {"acc_cifar10_test": 80.0, "params": 2e6}
    >>> [round(row["hypervolume"] / 1e6, 6) for row in hypervolume_curve(records, objs, ref)]
    [10.0, 11.5, 11.5, 11.5]
    >>> s = summary(records, objs)
    >>> s["verified"], s["failed"], s["front_size"], s["best"]["acc_cifar10_test"]
    (4, 0, 2, 93.0)
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from searchlab.core.objectives import Objectives
from searchlab.core.pareto import front_mask, hypervolume

Record = Mapping[str, Any]
Item = tuple[Record, dict[str, float], float]  # record, objective values, violation
#: a reference point: natural units by objective name, or a minimization-form vector
Reference = Mapping[str, float] | Sequence[float] | None


def plain(obj: Any) -> Any:
    """A JSON-ready copy: numpy scalars to Python, tuples to lists, non-finite floats to None."""
    if isinstance(obj, Mapping):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def record_values(record: Record, field: str, names: Sequence[str]) -> dict[str, float] | None:
    """The ``field`` values merged with computed ones for ``names``; None if one is missing."""
    measured = record.get(field)
    if not measured:
        return None
    merged = {**measured, **(record.get("computed") or {})}
    out = {n: float(merged[n]) for n in names if merged.get(n) is not None}
    return out if len(out) == len(names) and all(map(math.isfinite, out.values())) else None


def objective_items(records: Sequence[Record], objectives: Objectives, field: str) -> list[Item]:
    """(record, objective values, violation) of each record that has ``field`` values."""
    pairs = [(r, record_values(r, field, objectives.names)) for r in records]
    return [(r, v, float(objectives.violation([v])[0])) for r, v in pairs if v is not None]


def front_entries(items: list[Item], objectives: Objectives) -> list[dict[str, Any]]:
    """The feasible non-dominated items: each record with its ``values``, sorted by them."""
    feasible = [(r, v) for r, v, violation in items if violation == 0]
    if not feasible:
        return []
    mask = front_mask(objectives.to_min([v for _, v in feasible]))
    chosen = [rv for rv, on in zip(feasible, mask) if on]
    chosen.sort(key=lambda rv: [rv[1][n] for n in objectives.names])
    return [plain({**r, "values": v}) for r, v in chosen]


def fronts(records: Sequence[Record], objectives: Objectives) -> dict[str, list[dict[str, Any]]]:
    """Verified front, and predicted-median front over all predicted records (verified too)."""
    excluded = {id(r) for r, _, v in objective_items(records, objectives, "verified") if v > 0}
    excluded |= {id(r) for r in records if r.get("error")}
    predicted = [
        it for it in objective_items(records, objectives, "predicted") if id(it[0]) not in excluded
    ]
    return {
        "verified": front_entries(objective_items(records, objectives, "verified"), objectives),
        "predicted": front_entries(predicted, objectives),
    }


def evaluations_in_order(records: Sequence[Record]) -> list[Record]:
    """Verification attempts in ``verified_order`` (failed ones included, unordered last)."""
    attempts = [(i, r) for i, r in enumerate(records) if r.get("verified") or r.get("error")]
    order = [
        (r.get("verified_order") is None, r.get("verified_order") or 0, i) for i, r in attempts
    ]
    return [r for _, (_, r) in sorted(zip(order, attempts), key=lambda p: p[0])]


def _reference(F: np.ndarray, objectives: Objectives, reference: Reference) -> tuple[Any, str]:
    if reference is not None:
        if isinstance(reference, Mapping):
            return objectives.to_min([reference])[0], "argument"
        return np.asarray(reference, dtype=float), "argument"
    if objectives.reference_min() is not None:
        return objectives.reference_min(), "objectives"
    if len(F) == 0:
        return None, "data"
    worst, span = F.max(axis=0), np.ptp(F, axis=0)
    span = np.where(span > 0, span, np.maximum(np.abs(worst), 1.0))
    return worst + 0.1 * span, "data"


def hypervolume_curve(
    records: Sequence[Record], objectives: Objectives, reference: Reference = None
) -> list[dict[str, Any]]:
    """Per evaluation: hypervolume of the verified feasible front and best value per objective."""
    names, signs = objectives.names, np.array([o.sign for o in objectives])
    steps = []
    for record in evaluations_in_order(records):
        values = record_values(record, "verified", names)
        ok = values is not None and objectives.violation([values])[0] == 0
        steps.append(objectives.to_min([values])[0] if ok else None)
    points = np.array([p for p in steps if p is not None]).reshape(-1, len(names))
    ref, origin = _reference(points, objectives, reference)
    ref_natural = None if ref is None else dict(zip(names, (ref * signs).tolist()))
    rows, front, hv, best = [], points[:0], 0.0, np.full(len(names), np.inf)
    for i, point in enumerate(steps, start=1):
        if point is not None:
            best = np.minimum(best, point)
            if ref is not None and not ((front <= point).all(axis=1)).any():
                front = np.vstack([front, point])
                front = front[front_mask(front)]
                hv = hypervolume(front, ref)
        shown = [float(b * s) if np.isfinite(b) else None for b, s in zip(best, signs)]
        row = {"evaluations": i, "hypervolume": hv, "best": dict(zip(names, shown))}
        rows.append(row | {"reference": ref_natural, "reference_from": origin})
    return rows


def standing(
    verified: Sequence[Mapping[str, float]], objectives: Objectives
) -> tuple[dict[str, float | None], float]:
    """Best feasible value per objective and the hypervolume, as :func:`summary` gives them."""
    points = [{"verified": v, "verified_order": i} for i, v in enumerate(verified)]
    feasible = [v for _, v, viol in objective_items(points, objectives, "verified") if viol == 0]
    best = {
        o.name: min((v[o.name] for v in feasible), key=lambda x, s=o.sign: x * s, default=None)
        for o in objectives
    }
    F = objectives.to_min(feasible).reshape(-1, len(objectives.names))
    ref, _ = _reference(F, objectives, None)
    hv = hypervolume(F[front_mask(F)], ref) if len(F) and ref is not None else 0.0
    return best, float(hv)


def summary(records: Sequence[Record], objectives: Objectives) -> dict[str, Any]:
    """Counts, best verified feasible value per objective, final hypervolume and front size."""
    feasible = [
        (r, v) for r, v, viol in objective_items(records, objectives, "verified") if viol == 0
    ]
    curve = hypervolume_curve(records, objectives)
    best, best_keys = {}, {}
    for o in objectives:
        top = min(feasible, key=lambda rv, o=o: rv[1][o.name] * o.sign, default=None)
        best[o.name] = None if top is None else top[1][o.name]
        best_keys[o.name] = None if top is None else top[0].get("key")
    return plain(
        {
            "objectives": objectives.describe(),
            "constraints": [str(c) for c in objectives.constraints],
            "candidates": len(records),
            "predicted": sum(bool(r.get("predicted")) for r in records),
            "verified": sum(bool(r.get("verified")) for r in records),
            "failed": sum(bool(r.get("error")) and not r.get("pruned") for r in records),
            "pruned": sum(bool(r.get("pruned")) for r in records),
            "infeasible": sum(
                v > 0 for _, _, v in objective_items(records, objectives, "verified")
            ),
            "best": best,
            "best_keys": best_keys,
            "hypervolume": curve[-1]["hypervolume"] if curve else 0.0,
            "reference": curve[-1]["reference"] if curve else None,
            "front_size": len(fronts(records, objectives)["verified"]),
        }
    )


def write_csv(path: Path, header: list[str], rows: list[dict[str, Any]]) -> Path:
    """Write rows under a header as CSV; the path."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, header, restval="")
        writer.writeheader()
        writer.writerows([{k: "" if v is None else v for k, v in row.items()} for row in rows])
    return path


def _front_csv(path: Path, front: list[dict[str, Any]], objectives: Objectives) -> Path:
    info = ["key", "space", "genotype", "round", "verified_order", "source", "model"]
    fields = ["predicted", "spread", "verified", "low", "high"]
    header = info + objectives.names + [f"{f}_{n}" for n in objectives.expensive for f in fields]
    rows = []
    for e in front:
        row = {k: e.get(k) for k in info} | e["values"]
        for n in objectives.expensive:
            row |= {f"{f}_{n}": (e.get(f) or {}).get(n) for f in fields[:3]}
            row[f"low_{n}"], row[f"high_{n}"] = (e.get("interval") or {}).get(n) or ["", ""]
        rows.append(row)
    return write_csv(path, header, rows)


def write_fronts(
    run_dir: str | Path, records: Sequence[Record], objectives: Objectives
) -> dict[str, Path]:
    """Write ``front_verified`` and ``front_predicted`` as JSON and CSV; the paths by name."""
    run = Path(run_dir)
    run.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for kind, front in fronts(records, objectives).items():
        paths[f"front_{kind}.json"] = run / f"front_{kind}.json"
        paths[f"front_{kind}.json"].write_text(json.dumps(front, indent=1), encoding="utf-8")
        paths[f"front_{kind}.csv"] = _front_csv(run / f"front_{kind}.csv", front, objectives)
    return paths
