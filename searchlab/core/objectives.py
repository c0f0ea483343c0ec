"""Objectives and constraints of a search: names, directions, bounds, reference point.

An objective is a column name (``acc_cifar10_test``, ``lat_ms_hwnb_pixel3``) or a cheap
quantity computed from the graph (``params``, ``flops``), which is never predicted.
Everything downstream works on *minimization* vectors: ``Objectives.to_min`` flips the
sign of maximized objectives so strategies, Pareto tools and acquisitions share one rule.

Example:
    >>> from searchlab.core.objectives import Objectives
    >>> objs = Objectives.parse(
    ...     ["acc_cifar10_test", "lat_ms_hwnb_pixel3"],
    ...     constraints=["lat_ms_hwnb_pixel3 <= 5"],
    ...     reference={"acc_cifar10_test": 90.0, "lat_ms_hwnb_pixel3": 10.0},
    ... )
    >>> [o.direction for o in objs]
    ['maximize', 'minimize']
    >>> objs.to_min([{"acc_cifar10_test": 93.0, "lat_ms_hwnb_pixel3": 4.0}]).tolist()
    [[-93.0, 4.0]]
    >>> objs.violation([{"acc_cifar10_test": 93.0, "lat_ms_hwnb_pixel3": 6.5}]).tolist()
    [1.5]
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

#: quantities read off the graph (searchlab.core.graph_cost): computed, never predicted
CHEAP = ("params", "flops")
Direction = Literal["maximize", "minimize"]


class ObjectiveError(ValueError):
    """An objective, constraint or reference point that cannot be used, with the reason."""


def default_direction(name: str) -> Direction:
    """Accuracy-like names are maximized; latency, size and anything else minimized."""
    return "maximize" if name.startswith(("acc", "accuracy")) else "minimize"


@dataclass(frozen=True)
class Objective:
    """One objective: its column name, direction, and whether it is computed (cheap)."""

    name: str
    direction: Direction = "minimize"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ObjectiveError(f"objective name must be a non-empty string, got {self.name!r}")
        if self.direction not in ("maximize", "minimize"):
            raise ObjectiveError(
                f"objective {self.name!r}: direction must be 'maximize' or 'minimize', "
                f"got {self.direction!r}"
            )

    @property
    def cheap(self) -> bool:
        """True for quantities computed from the graph (params, flops)."""
        return self.name in CHEAP

    @property
    def sign(self) -> float:
        """+1 for minimized objectives, -1 for maximized ones (value * sign is minimized)."""
        return 1.0 if self.direction == "minimize" else -1.0


_CONSTRAINT = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(<=|>=)\s*([-+0-9.eE]+)\s*$")


@dataclass(frozen=True)
class Constraint:
    """``name <= bound`` or ``name >= bound`` on one objective or measured column."""

    name: str
    op: Literal["<=", ">="]
    bound: float

    @classmethod
    def parse(cls, text: str) -> Constraint:
        """Read ``"lat_ms_hwnb_pixel3 <= 5"``; ObjectiveError names a malformed one."""
        match = _CONSTRAINT.match(str(text))
        if not match:
            raise ObjectiveError(
                f"constraint {text!r} is not of the form 'NAME <= NUMBER' or 'NAME >= NUMBER'"
            )
        name, op, bound = match.groups()
        try:
            value = float(bound)
        except ValueError:
            raise ObjectiveError(f"constraint {text!r}: bound {bound!r} is not a number") from None
        if not math.isfinite(value):
            raise ObjectiveError(f"constraint {text!r}: bound must be finite")
        return cls(name, op, value)  # type: ignore[arg-type]

    def violation(self, value: float) -> float:
        """How far ``value`` lies outside the bound (0 when satisfied)."""
        excess = value - self.bound if self.op == "<=" else self.bound - value
        return max(0.0, float(excess))

    def __str__(self) -> str:
        return f"{self.name} {self.op} {self.bound:g}"


class Objectives(Sequence[Objective]):
    """The ordered objectives of a search, its constraints and hypervolume reference point."""

    def __init__(
        self,
        objectives: Iterable[Objective],
        constraints: Iterable[Constraint] = (),
        reference: Mapping[str, float] | None = None,
    ) -> None:
        self._items = list(objectives)
        if not self._items:
            raise ObjectiveError("a search needs at least one objective")
        names = [o.name for o in self._items]
        if len(set(names)) != len(names):
            raise ObjectiveError(f"objective names repeat: {names}")
        self.constraints = list(constraints)
        for c in self.constraints:
            if c.name not in names:
                raise ObjectiveError(
                    f"constraint '{c}' is on {c.name!r}, which is not an objective "
                    f"(objectives: {', '.join(names)})"
                )
        self.reference: dict[str, float] | None = None
        if reference is not None:
            unknown = set(reference) - set(names)
            missing = set(names) - set(reference)
            if unknown or missing:
                raise ObjectiveError(
                    f"reference point must give exactly the objectives {names}; "
                    f"unknown {sorted(unknown)}, missing {sorted(missing)}"
                )
            self.reference = {n: float(reference[n]) for n in names}

    @classmethod
    def parse(
        cls,
        objectives: Sequence[str | Mapping[str, Any]],
        constraints: Sequence[str] = (),
        reference: Mapping[str, float] | None = None,
    ) -> Objectives:
        """Build from config: names (direction inferred) or ``{name, direction}`` mappings."""
        items = []
        for entry in objectives:
            if isinstance(entry, str):
                items.append(Objective(entry, default_direction(entry)))
            elif isinstance(entry, Mapping):
                if "name" not in entry:
                    raise ObjectiveError(f"objective entry {dict(entry)!r} lacks 'name'")
                name = entry["name"]
                items.append(Objective(name, entry.get("direction") or default_direction(name)))
            else:
                raise ObjectiveError(f"objective entry {entry!r} is neither a name nor a mapping")
        return cls(items, [Constraint.parse(c) for c in constraints], reference)

    def __getitem__(self, i: int) -> Objective:  # type: ignore[override]
        return self._items[i]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Objective]:
        return iter(self._items)

    @property
    def names(self) -> list[str]:
        """Objective names in order."""
        return [o.name for o in self._items]

    @property
    def expensive(self) -> list[str]:
        """Names that are predicted and verified (not computed from the graph)."""
        return [o.name for o in self._items if not o.cheap]

    @property
    def cheap(self) -> list[str]:
        """Names computed from the graph."""
        return [o.name for o in self._items if o.cheap]

    def _matrix(self, values: Sequence[Mapping[str, float]]) -> np.ndarray:
        out = np.empty((len(values), len(self)))
        for i, row in enumerate(values):
            for j, name in enumerate(self.names):
                if name not in row:
                    raise ObjectiveError(f"values {dict(row)!r} lack objective {name!r}")
                out[i, j] = float(row[name])
        return out

    def to_min(self, values: Sequence[Mapping[str, float]]) -> np.ndarray:
        """[N, M] array where every column is to be minimized (maximized ones negated)."""
        signs = np.array([o.sign for o in self._items])
        return self._matrix(values) * signs

    def reference_min(self) -> np.ndarray | None:
        """The reference point in minimization form, or None when none was given."""
        if self.reference is None:
            return None
        return np.array([self.reference[o.name] * o.sign for o in self._items])

    def violation(self, values: Sequence[Mapping[str, float]]) -> np.ndarray:
        """Total constraint violation per row (0 = feasible)."""
        out = np.zeros(len(values))
        for i, row in enumerate(values):
            out[i] = sum(c.violation(float(row[c.name])) for c in self.constraints)
        return out

    def describe(self) -> list[dict[str, Any]]:
        """JSON-ready description (for stores and reports)."""
        return [{"name": o.name, "direction": o.direction, "cheap": o.cheap} for o in self]

    def __repr__(self) -> str:
        parts = [f"{o.name} ({o.direction})" for o in self]
        parts += [str(c) for c in self.constraints]
        return f"Objectives({', '.join(parts)})"
