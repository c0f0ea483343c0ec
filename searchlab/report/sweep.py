"""Sweep summary: after ``searchlab run -m ...``, one table across the sweep's runs.

Hydra calls :class:`SweepSummary` when a multirun ends; it reads each run folder's
``summary.json`` and writes ``summary.csv`` (and prints it) in the sweep folder.

Example:
    >>> from searchlab.report.sweep import summary_rows
    >>> row = summary_rows([{"name": "a", "verified": 3, "best": {"acc": 91.0}}])[0]
    >>> row["name"], row["verified"], row["best_acc"]
    ('a', 3, 91.0)
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback


def summary_rows(summaries: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flatten run summaries into table rows (one per run)."""
    rows = []
    for s in summaries:
        row = {k: s.get(k) for k in ("name", "verified", "failed", "hypervolume")}
        for name, value in (s.get("best") or {}).items():
            row[f"best_{name}"] = value
        row["seconds"] = s.get("seconds")
        rows.append(row)
    return rows


def write_summary(sweep_dir: Path, run_dirs: Sequence[Path]) -> Path | None:
    """Write and print ``summary.csv`` over the runs that left a ``summary.json``."""
    found = [json.loads((d / "summary.json").read_text()) for d in run_dirs]
    if not found:
        return None
    rows = summary_rows(found)
    columns = list(dict.fromkeys(k for r in rows for k in r))
    path = sweep_dir / "summary.csv"
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    print(f"\nsweep summary ({len(rows)} runs): {path}")
    print("  ".join(columns))
    for r in rows:
        print("  ".join(_fmt(r.get(c)) for c in columns))
    return path


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


class SweepSummary(Callback):
    """Hydra callback: the summary table when a multirun ends."""

    def on_multirun_end(self, config: Any, **kwargs: Any) -> None:
        """Collect the runs of this sweep folder."""
        sweep_dir = Path(config.hydra.sweep.dir)
        runs = sorted(p.parent for p in sweep_dir.glob("*/summary.json"))
        write_summary(sweep_dir, runs)
