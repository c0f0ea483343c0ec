"""Everything a finished campaign writes to its run folder: fronts, hypervolume curve, plots
and the HTML report (plotting libraries are imported here only)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from searchlab.core.objectives import Objectives
from searchlab.core.pareto import hypervolume
from searchlab.report.html import write_html
from searchlab.report.plots import plot_hypervolume, plot_pareto, plot_parity
from searchlab.report.summary import (
    Record,
    front_entries,
    fronts,
    hypervolume_curve,
    objective_items,
    summary,
    write_csv,
    write_fronts,
)


def write_results(
    run_dir: str | Path,
    records: Sequence[Record],
    objectives: Objectives,
    true_front: Sequence[Mapping[str, float]] | None = None,
    title: str = "",
    rounds: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Path]:
    """Write fronts (CSV, JSON), hypervolume.csv, pareto/hypervolume/parity PNGs, report.html
    (with the surrogate's health and trust per round when ``rounds``, the stored round logs)."""
    run, names = Path(run_dir), objectives.names
    paths = write_fronts(run, records, objectives)
    both, curve = fronts(records, objectives), hypervolume_curve(records, objectives)
    bench = [{"verified": dict(v)} for v in true_front or []]
    true = [
        e["values"]
        for e in front_entries(objective_items(bench, objectives, "verified"), objectives)
    ]
    ref = curve[-1]["reference"] if curve else None
    true_hv = (
        hypervolume(objectives.to_min(true), objectives.to_min([ref])[0]) if true and ref else 0.0
    )
    header = ["evaluations", "hypervolume", "hypervolume_ratio"] + [f"best_{n}" for n in names]
    header += [f"reference_{n}" for n in names] + ["reference_from"]
    rows = [
        {k: r[k] for k in ("evaluations", "hypervolume", "reference_from")}
        | {"hypervolume_ratio": r["hypervolume"] / true_hv if true_hv else None}
        | {f"best_{n}": v for n, v in r["best"].items()}
        | {f"reference_{n}": v for n, v in (r["reference"] or {}).items()}
        for r in curve
    ]
    paths["hypervolume.csv"] = write_csv(run / "hypervolume.csv", header, rows)
    figures = {
        "pareto.png": plot_pareto(records, objectives, both, curve, true),
        "hypervolume.png": plot_hypervolume(curve, true_hv),
        "parity.png": plot_parity(records, objectives),
    }
    for name, fig in figures.items():
        fig.suptitle(title)
        fig.savefig(run / name, dpi=110)
        paths[name] = run / name
    info = summary(records, objectives)
    paths["report.html"] = write_html(
        run / "report.html", records, objectives, both, curve, info, title, rounds
    )
    return paths
