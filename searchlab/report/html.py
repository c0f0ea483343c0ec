"""The interactive campaign page: one offline HTML file with plotly.js inlined.

A scatter of every record (dropdowns pick the x and y axes among the objectives and the
round; colour tells verified, verified-infeasible, on the verified front, predicted only or
failed; hover shows key, genotype, predicted values with spread and interval, verified values
and their source), the hypervolume curve and a table of the verified front. Written by
``searchlab.report.results.write_results``; plotly is imported only when a page is written.

Example:
    >>> import tempfile, pathlib
    >>> from searchlab.core.objectives import Objectives
    >>> from searchlab.report.summary import fronts, hypervolume_curve, summary
    >>> from searchlab.report.html import write_html
    >>> objs = Objectives.parse(["acc_cifar10_test"])
    >>> recs = [{"key": "k1", "genotype": "skip_connect|none",
    ...          "predicted": {"acc_cifar10_test": 90.0}, "spread": {"acc_cifar10_test": 0.5},
    ...          "verified": {"acc_cifar10_test": 91.5}, "source": "benchmark",
    ...          "verified_order": 0, "computed": {"params": 1e5, "flops": 1e7}}]
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = write_html(pathlib.Path(tmp) / "report.html", recs, objs, fronts(recs, objs),
    ...                       hypervolume_curve(recs, objs), summary(recs, objs))
    ...     page = path.read_text(encoding="utf-8")
    >>> "skip_connect|none" in page and "<script src" not in page
    True
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from searchlab.core.objectives import Objectives
from searchlab.report.summary import Record, record_values

#: category name -> marker style; the scatter draws one trace per category
CATEGORIES = {
    "on verified front": {"color": "#2ca02c", "size": 10, "symbol": "diamond"},
    "verified": {"color": "#1f77b4", "size": 7, "symbol": "circle"},
    "verified, infeasible": {"color": "#d62728", "size": 8, "symbol": "x"},
    "predicted only": {"color": "#ff7f0e", "size": 6, "symbol": "circle-open"},
    "verification failed": {"color": "#7f7f7f", "size": 7, "symbol": "x-thin-open"},
}


def _num(value: Any) -> str:
    return "-" if value is None else f"{float(value):.4g}"


def _category(record: Record, objectives: Objectives, front: set[str]) -> str:
    if record.get("error"):
        return "verification failed"
    if not record.get("verified"):
        return "predicted only"
    if record.get("key") in front:
        return "on verified front"
    values = record_values(record, "verified", [c.name for c in objectives.constraints])
    infeasible = values is not None and objectives.violation([values])[0] > 0
    return "verified, infeasible" if infeasible else "verified"


def _hover(record: Record) -> str:
    pred, spread = record.get("predicted") or {}, record.get("spread") or {}
    interval, ver = record.get("interval") or {}, record.get("verified") or {}
    lines = [str(record.get("genotype"))]
    lines.append(f"round {record.get('round', '-')}, model {record.get('model') or '-'}")
    for name, med in pred.items():
        lo_hi = interval.get(name)
        band = f" [{_num(lo_hi[0])}, {_num(lo_hi[1])}]" if lo_hi else ""
        lines.append(f"predicted {name}: {_num(med)} ± {_num(spread.get(name))}{band}")
    for name, value in ver.items():
        lines.append(f"verified {name}: {_num(value)} ({record.get('source') or '?'})")
    lines += [f"{k}: {_num(v)}" for k, v in (record.get("computed") or {}).items()]
    if record.get("error"):
        lines.append(f"error: {record['error']}")
    key = f"<b>{html.escape(str(record.get('key')))}</b>"
    return "<br>".join([key] + [html.escape(line, quote=False) for line in lines])


def _position(record: Record, axis: str) -> float | None:
    if axis == "round":
        return record.get("round")
    values = {**(record.get("predicted") or {}), **(record.get("verified") or {})}
    value = {**values, **(record.get("computed") or {})}.get(axis)
    return None if value is None else float(value)


def _scatter(records: Sequence[Record], objectives: Objectives, front: set[str]) -> Any:
    import plotly.graph_objects as go

    axes = objectives.names + ["round"]
    x0, y0 = (axes[0], axes[1]) if len(axes) > 2 else ("round", axes[0])
    groups: dict[str, list[Record]] = {name: [] for name in CATEGORIES}
    for record in records:
        if record.get("predicted") or record.get("verified"):
            groups[_category(record, objectives, front)].append(record)
    shown = {name: group for name, group in groups.items() if group}
    fig = go.Figure()
    for name, group in shown.items():
        fig.add_trace(
            go.Scatter(
                x=[_position(r, x0) for r in group],
                y=[_position(r, y0) for r in group],
                mode="markers",
                name=f"{name} ({len(group)})",
                marker=CATEGORIES[name],
                text=[_hover(r) for r in group],
                hovertemplate="%{text}<extra></extra>",
            )
        )

    def menu(coord: str, chosen: str, x: float) -> dict[str, Any]:
        buttons = [
            {
                "label": axis,
                "method": "update",
                "args": [
                    {coord: [[_position(r, axis) for r in g] for g in shown.values()]},
                    {f"{coord}axis.title.text": axis},
                ],
            }
            for axis in axes
        ]
        return {
            "buttons": buttons,
            "active": axes.index(chosen),
            "x": x,
            "y": 1.13,
            "xanchor": "left",
            "yanchor": "bottom",
            "direction": "down",
        }

    fig.update_layout(
        updatemenus=[menu("x", x0, 0.04), menu("y", y0, 0.5)],
        annotations=[
            {
                "text": label,
                "x": pos,
                "y": 1.16,
                "xref": "paper",
                "yref": "paper",
                "xanchor": "right",
                "yanchor": "bottom",
                "showarrow": False,
            }
            for label, pos in (("x:", 0.035), ("y:", 0.495))
        ],
        xaxis_title=x0,
        yaxis_title=y0,
        height=620,
        margin={"t": 110},
        legend={"title": {"text": "record"}},
    )
    return fig


def _curve(curve: list[dict[str, Any]]) -> Any:
    import plotly.graph_objects as go

    fig = go.Figure(
        go.Scatter(
            x=[r["evaluations"] for r in curve],
            y=[r["hypervolume"] for r in curve],
            mode="lines",
            line={"shape": "hv"},
            name="hypervolume",
        )
    )
    ref = curve[-1]["reference"] if curve else None
    where = curve[-1]["reference_from"] if curve else "data"
    note = f"reference ({where}): {json.dumps(ref)}" if ref else "nothing verified yet"
    fig.update_layout(
        title={"text": f"Hypervolume of the verified front<br><sub>{html.escape(note)}</sub>"},
        xaxis_title="evaluations",
        yaxis_title="hypervolume",
        height=420,
    )
    return fig


def _table(front: list[dict[str, Any]], objectives: Objectives) -> str:
    head = ["key", "genotype", *objectives.names, "predicted (median ± spread)", "source"]
    rows = []
    for e in front:
        pred, spread = e.get("predicted") or {}, e.get("spread") or {}
        guess = ", ".join(f"{n} {_num(v)} ± {_num(spread.get(n))}" for n, v in pred.items())
        cells = [e.get("key"), e.get("genotype")]
        cells += [_num(e["values"][n]) for n in objectives.names] + [guess, e.get("source")]
        rows.append("".join(f"<td>{html.escape(str(c))}</td>" for c in cells))
    header = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = (
        "".join(f"<tr>{r}</tr>" for r in rows) or f'<tr><td colspan="{len(head)}">empty</td></tr>'
    )
    return f"<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"


def _rounds(rounds: Sequence[Mapping[str, Any]]) -> str:
    """Each round's surrogate health, trust and split (nothing without a surrogate)."""
    if not any(r.get("surrogate") for r in rounds):
        return ""
    head = ["round", "evaluated", "picks: surrogate / strategy", "trust (share, from tau on n)"]
    head += ["tau since update", "80 % coverage", "ranked by", "update s", "round s"]
    rows = []
    for r in rounds:
        t = r.get("trust") or {}
        basis = (
            f"{_num(t.get('share'))} from {_num(t.get('tau'))} on {t.get('on')} ({t.get('from')})"
        )
        cheap = [
            f"{n}: {v[0]}" for n, v in (t.get("ranked_by") or {}).items() if v[0] != "surrogate"
        ]
        cells = [
            r.get("round"),
            r.get("done"),
            f"{r.get('picked_by_surrogate', 0)} / {r.get('picked_by_strategy', 0)}",
            basis if t else "warm-up",
            ", ".join(f"{n} {_num(v)}" for n, v in (r.get("tau") or {}).items()) or "n/a",
            ", ".join(f"{n} {_num(v)}" for n, v in (r.get("coverage80") or {}).items()) or "n/a",
            ", ".join(cheap) or "surrogate",
            _num(r.get("finetune_seconds")),
            _num(r.get("seconds")),
        ]
        rows.append("".join(f"<td>{html.escape(str(c))}</td>" for c in cells))
    header = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join(f"<tr>{r}</tr>" for r in rows)
    return (
        "<h2>Surrogate health and trust by round</h2>\n<p>Tau and coverage: on values the "
        "surrogate predicted before they were verified. The surrogate picks the share of each "
        "batch its measured tau earns; the strategy's own proposals fill the rest.</p>\n"
        f"<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"
    )


_STYLE = """body{font-family:sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;font-size:.85em}td,th{border:1px solid #ccc;padding:3px 6px}
th{background:#f3f3f3}code{background:#f3f3f3}"""


def write_html(
    path: str | Path,
    records: Sequence[Record],
    objectives: Objectives,
    fronts: Mapping[str, list[dict[str, Any]]],
    curve: list[dict[str, Any]],
    summary: Mapping[str, Any],
    title: str = "",
    rounds: Sequence[Mapping[str, Any]] = (),
) -> Path:
    """Write the self-contained interactive report page (no network needed to view it)."""
    import plotly.io as pio
    from plotly.offline import get_plotlyjs

    front = {e.get("key") for e in fronts["verified"]}
    plots = [_scatter(records, objectives, front), _curve(curve)]
    divs = [pio.to_html(fig, full_html=False, include_plotlyjs=False) for fig in plots]
    counts = ", ".join(
        f"{summary[k]} {k}" for k in ("candidates", "predicted", "verified", "failed", "infeasible")
    )
    heading = html.escape(title or "Search campaign")
    page = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{heading}</title><style>{_STYLE}</style>
<script type="text/javascript">{get_plotlyjs()}</script></head>
<body><h1>{heading}</h1>
<p>Objectives: <code>{html.escape(repr(objectives))}</code></p>
<p>{counts}; verified front size {summary["front_size"]}, hypervolume
{_num(summary["hypervolume"])}.</p>
<p>Points sit at verified values when known, else at predicted medians.</p>
{divs[0]}
{divs[1]}
<h2>Verified front ({len(fronts["verified"])})</h2>
{_table(fronts["verified"], objectives)}
{_rounds(rounds)}
</body></html>
"""
    path = Path(path)
    path.write_text(page, encoding="utf-8")
    return path
