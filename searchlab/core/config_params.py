"""Parameters of a configuration space: categorical, integer and float (optionally log-scaled),
each optionally conditional on earlier parameters' values.

A parameter is declared as a mapping, as in a space file (:mod:`searchlab.core.config_space`)::

    kernel: {type: categorical, choices: [linear, rbf, poly]}
    C:      {type: float, low: 0.001, high: 1000, log: true}
    degree: {type: int, low: 2, high: 5, condition: {kernel: poly}}

Numeric values live on a unit scale for moves (log-scaled where ``log`` is set), and floats
are rounded to ``digits`` significant digits, so each configuration prints one way.

Example:
    >>> from searchlab.core.config_params import parse_params
    >>> ps = parse_params({"k": {"type": "categorical", "choices": ["a", "b"]},
    ...                    "x": {"type": "float", "low": 1e-3, "high": 1, "log": True,
    ...                          "condition": {"k": "b"}}})
    >>> ps[1].active({"k": "a"}), ps[1].active({"k": "b"}), ps[1].from_unit(0.5)
    (False, True, 0.03162)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from searchlab.core.space import SpaceError

TYPES = ("categorical", "int", "float")
FIELDS = {"type", "choices", "low", "high", "log", "condition"}
Scalar = str | int | float | bool


class ConfigSpaceError(SpaceError):
    """A space declaration that cannot be used (names the parameter, field and value)."""


def round_sig(value: float, digits: int) -> float:
    """``value`` rounded to ``digits`` significant digits (0 stays 0)."""
    return float(f"{value:.{digits}g}")


@dataclass(frozen=True)
class Param:
    """One named parameter: its kind, range or choices, and when it is active."""

    name: str
    type: str
    choices: tuple[Scalar, ...] = ()
    low: float = 0.0
    high: float = 0.0
    log: bool = False
    #: parent name -> the parent values under which this parameter exists
    condition: Mapping[str, tuple[Scalar, ...]] = field(default_factory=dict)
    digits: int = 4

    def active(self, values: Mapping[str, Any]) -> bool:
        """Whether this parameter exists given the (earlier) parameters' values."""
        return all(p in values and values[p] in ok for p, ok in self.condition.items())

    def to_unit(self, value: float) -> float:
        """A numeric value on the unit scale (log-scaled when ``log``)."""
        lo, hi = (math.log(self.low), math.log(self.high)) if self.log else (self.low, self.high)
        x = math.log(value) if self.log else float(value)
        return 0.5 if hi == lo else (x - lo) / (hi - lo)

    def from_unit(self, u: float) -> int | float:
        """The numeric value at unit position ``u`` (clipped), rounded the space's one way."""
        u = min(max(float(u), 0.0), 1.0)
        lo, hi = (math.log(self.low), math.log(self.high)) if self.log else (self.low, self.high)
        x = lo + u * (hi - lo)
        x = math.exp(x) if self.log else x
        if self.type == "int":
            return int(min(max(round(x), self.low), self.high))
        return min(max(round_sig(x, self.digits), self.low), self.high)

    def sample(self, rng: np.random.Generator) -> Scalar:
        """A value drawn uniformly (on the log scale when ``log``)."""
        if self.type == "categorical":
            return self.choices[int(rng.integers(len(self.choices)))]
        if self.type == "int" and not self.log:
            return int(rng.integers(int(self.low), int(self.high) + 1))
        return self.from_unit(float(rng.random()))

    def default(self) -> Scalar:
        """The value a newly active parameter takes in a deterministic move."""
        return self.choices[0] if self.type == "categorical" else self.from_unit(0.5)

    def normalize(self, value: Any) -> Scalar:
        """The value in its one printed form, or ConfigSpaceError naming the problem."""
        if self.type == "categorical":
            for choice in self.choices:  # match 1 to 1.0 but never True to 1
                if value == choice and (type(value) is bool) == (type(choice) is bool):
                    return choice
            raise ConfigSpaceError(f"{value!r} is not one of {list(self.choices)}")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigSpaceError(f"{value!r} is not a number")
        if self.type == "int":
            if float(value) != int(value):
                raise ConfigSpaceError(f"{value!r} is not a whole number")
            value = int(value)
        elif self.low <= value <= self.high:  # rounding must not leave the range
            value = min(max(round_sig(float(value), self.digits), self.low), self.high)
        if not self.low <= value <= self.high:
            raise ConfigSpaceError(f"{value!r} is outside [{self.low}, {self.high}]")
        return value

    def moves(self, value: Scalar) -> list[Scalar]:
        """Values one small step away (every other choice; nearby numbers), nearest first."""
        if self.type == "categorical":
            return [c for c in self.choices if c != value]
        u = self.to_unit(float(value))
        out: list[Scalar] = [value - 1, value + 1] if self.type == "int" else []
        out += [self.from_unit(u + d) for d in (-0.05, 0.05, -0.2, 0.2)]
        seen, unique = {value}, []
        for v in out:
            if self.low <= v <= self.high and v not in seen:
                seen.add(v)
                unique.append(v)
        return unique

    def width(self) -> int:
        """Length of this parameter's block in the numeric encoding."""
        return len(self.choices) if self.type == "categorical" else 2

    def encode(self, value: Scalar | None) -> list[float]:
        """One-hot for a choice; (active, unit position) for a number; zeros when inactive."""
        if self.type == "categorical":
            return [float(value is not None and value == c) for c in self.choices]
        return [0.0, 0.0] if value is None else [1.0, self.to_unit(float(value))]


def _number(name: str, key: str, raw: Any) -> float:
    try:  # YAML 1.1 reads 1e-3 as text: accept what float() accepts
        if isinstance(raw, bool):
            raise ValueError
        value = float(raw)
    except (TypeError, ValueError):
        raise ConfigSpaceError(
            f"parameter {name!r}: field {key!r}: {raw!r} is not a number"
        ) from None
    if not math.isfinite(value):
        raise ConfigSpaceError(f"parameter {name!r}: field {key!r}: {raw!r} is not finite")
    return value


def parse_param(name: str, spec: Any, earlier: Mapping[str, Param], digits: int = 4) -> Param:
    """One parameter from its declaration; ``earlier``: the parameters declared before it."""
    if not isinstance(spec, Mapping):
        raise ConfigSpaceError(f"parameter {name!r}: expected a mapping of fields, got {spec!r}")
    unknown = sorted(set(spec) - FIELDS)
    if unknown:
        fields = ", ".join(sorted(FIELDS))
        raise ConfigSpaceError(
            f"parameter {name!r}: unknown field {unknown[0]!r} (fields: {fields})"
        )
    kind = spec.get("type")
    if kind not in TYPES:
        raise ConfigSpaceError(
            f"parameter {name!r}: field 'type': unknown type {kind!r} (choose {', '.join(TYPES)})"
        )
    condition = _condition(name, spec.get("condition") or {}, earlier)
    if kind == "categorical":
        choices = spec.get("choices")
        if not isinstance(choices, (list, tuple)) or not choices:
            raise ConfigSpaceError(f"parameter {name!r}: field 'choices': empty or missing")
        for c in choices:
            if not isinstance(c, (str, int, float, bool)):
                raise ConfigSpaceError(f"parameter {name!r}: field 'choices': {c!r} is no scalar")
        if len(set(map(repr, choices))) < len(choices):
            raise ConfigSpaceError(f"parameter {name!r}: field 'choices': duplicates in {choices}")
        return Param(name, kind, tuple(choices), condition=condition, digits=digits)
    if "choices" in spec:
        raise ConfigSpaceError(f"parameter {name!r}: field 'choices' belongs to categoricals")
    low, high = _number(name, "low", spec.get("low")), _number(name, "high", spec.get("high"))
    if low > high:
        raise ConfigSpaceError(f"parameter {name!r}: low {low:g} > high {high:g}")
    log = spec.get("log", False)
    if not isinstance(log, bool):
        raise ConfigSpaceError(f"parameter {name!r}: field 'log': {log!r} is not true or false")
    if log and low <= 0:
        raise ConfigSpaceError(f"parameter {name!r}: field 'low': {low:g} must be > 0 with log")
    if kind == "int" and (low != int(low) or high != int(high)):
        raise ConfigSpaceError(f"parameter {name!r}: int bounds {low:g}, {high:g} not whole")
    return Param(name, kind, low=low, high=high, log=log, condition=condition, digits=digits)


def _condition(name: str, raw: Any, earlier: Mapping[str, Param]) -> dict[str, tuple]:
    if not isinstance(raw, Mapping):
        raise ConfigSpaceError(f"parameter {name!r}: field 'condition': {raw!r} is no mapping")
    out = {}
    for parent, ok in raw.items():
        if parent not in earlier:
            raise ConfigSpaceError(
                f"parameter {name!r}: field 'condition': {parent!r} is not a parameter "
                "declared before it"
            )
        values = tuple(ok) if isinstance(ok, (list, tuple)) else (ok,)
        try:
            out[parent] = tuple(earlier[parent].normalize(v) for v in values)
        except ConfigSpaceError as exc:
            raise ConfigSpaceError(
                f"parameter {name!r}: field 'condition': {parent!r}: {exc}"
            ) from None
    return out


def parse_params(specs: Mapping[str, Any], digits: int = 4) -> list[Param]:
    """Parameters in declaration order from ``{name: fields}``."""
    if not isinstance(specs, Mapping) or not specs:
        raise ConfigSpaceError(f"field 'params': expected a non-empty mapping, got {specs!r}")
    params: dict[str, Param] = {}
    for name, spec in specs.items():
        params[str(name)] = parse_param(str(name), spec, params, digits)
    return list(params.values())
