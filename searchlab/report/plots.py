"""Matplotlib figures of a campaign report (imported only when a report is written).

Example:
    >>> from searchlab.report.plots import plot_parity
    >>> from searchlab.core.objectives import Objectives
    >>> fig = plot_parity([], Objectives.parse(["acc_cifar10_test"]))
    >>> type(fig).__name__
    'Figure'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from searchlab.core.objectives import Objectives
from searchlab.report.summary import Record, evaluations_in_order, objective_items


def _axes(ncols: int) -> tuple[Any, list[Any]]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.2 * ncols, 4.4), layout="constrained")
    FigureCanvasAgg(fig)
    return fig, list(fig.subplots(1, ncols, squeeze=False)[0])


def _note(ax: Any, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="grey")


_STYLE = {0: {"c": "tab:blue", "alpha": 0.5, "s": 14}, 1: {"c": "tab:red", "marker": "x", "s": 18}}


def plot_pareto(
    records: Sequence[Record], objs: Objectives, both: dict, curve: list, true: list
) -> Any:
    """Verified points, predicted and verified fronts, the benchmark's front (or best so far)."""
    fig, (ax,) = _axes(1)
    names, verified = objs.names, objective_items(records, objs, "verified")
    order = {id(r): i for i, r in enumerate(evaluations_in_order(records), start=1)}
    x, y = ("evaluations", names[0]) if len(names) == 1 else names[:2]
    at = {"evaluations": lambda r, v: order[id(r)]} | {n: lambda r, v, n=n: v[n] for n in names}
    for bad, label in ((0, "verified"), (1, "verified, infeasible")):
        pts = [(at[x](r, v), at[y](r, v)) for r, v, viol in verified if (viol > 0) == bad]
        if pts:
            ax.scatter(*zip(*pts), label=f"{label} ({len(pts)})", **_STYLE[bad])
    if len(names) == 1:
        xs, best = [r["evaluations"] for r in curve], [r["best"][y] for r in curve]
        ax.step(xs, best, where="post", c="tab:green", label="best so far")
        if true:
            ax.axhline(true[0][y], ls="--", c="grey", label="benchmark optimum")
    else:
        pred = [(e["values"][x], e["values"][y]) for e in both["predicted"]]
        if pred:
            ax.scatter(*zip(*pred), marker="^", fc="none", ec="tab:orange", label="predicted front")
        style = "-o" if len(names) == 2 else "o"
        front = [(e["values"][x], e["values"][y]) for e in both["verified"]]
        if front:
            ax.plot(*zip(*front), style, c="tab:green", ms=5, label="verified front")
        if true:
            ax.plot([v[x] for v in true], [v[y] for v in true], style, c="grey", lw=1, ms=2)
            ax.lines[-1].set_label("benchmark front")
        if len(names) > 2:
            ax.set_title(f"first two of {len(names)} objectives")
    ax.set(xlabel=x, ylabel=y)
    if not verified and not both["predicted"]:
        _note(ax, "nothing to show yet")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    return fig


def plot_hypervolume(curve: list[dict[str, Any]], true_hv: float) -> Any:
    """Hypervolume over evaluations, and its ratio to the benchmark front's when known."""
    fig, axes = _axes(2 if true_hv else 1)
    xs, hv = [r["evaluations"] for r in curve], [r["hypervolume"] for r in curve]
    axes[0].step(xs, hv, where="post", label="verified front")
    origin = curve[-1]["reference_from"] if curve else "data"
    axes[0].set(xlabel="evaluations", ylabel="hypervolume", title=f"reference from {origin}")
    if not curve:
        _note(axes[0], "nothing verified yet")
    if true_hv:
        axes[0].axhline(true_hv, ls="--", c="grey", label="benchmark front")
        axes[0].legend(fontsize=8)
        axes[1].step(xs, [h / true_hv for h in hv], where="post", c="tab:green")
        axes[1].set(xlabel="evaluations", ylabel="hypervolume / benchmark front's")
        axes[1].set_ylim(bottom=0)
    return fig


def plot_parity(records: Sequence[Record], objectives: Objectives) -> Any:
    """Predicted median (80 % interval bars) against verified, one panel per objective."""
    from scipy.stats import kendalltau

    names = objectives.expensive
    fig, axes = _axes(max(1, len(names)))
    if not names:
        _note(axes[0], "no predicted objectives")
    for ax, name in zip(axes, names):
        pts = []
        for r in records:
            med, true = (r.get("predicted") or {}).get(name), (r.get("verified") or {}).get(name)
            if med is not None and true is not None:
                lo, hi = (r.get("interval") or {}).get(name) or (med, med)
                pts.append((true, med, max(med - lo, 0.0), max(hi - med, 0.0)))
        ax.set(xlabel=f"verified {name}", ylabel="predicted median (80 % interval)")
        if len(pts) < 2:
            _note(ax, f"{len(pts)} verified prediction(s)")
            ax.set_title(f"{name}: Kendall tau n/a")
            continue
        t, m, down, up = (np.array(c, dtype=float) for c in zip(*pts))
        ax.errorbar(t, m, yerr=[down, up], fmt="o", ms=3, alpha=0.6, elinewidth=0.7)
        lims = [min(t.min(), m.min()), max(t.max(), m.max())]
        ax.plot(lims, lims, c="grey", lw=1)
        ax.set_title(f"{name}: Kendall tau = {kendalltau(t, m).statistic:.3f} (n = {len(pts)})")
    return fig
