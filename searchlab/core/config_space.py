"""ConfigSpace: candidates that are named parameters, rendered as canonical YAML text.

Black-box optimization beyond networks: a training recipe, a compiler's flags, a database's
knobs. Declare the parameters in a space file (``conf/space/NAME.yaml``, or any path)::

    name: config                  # the space plugin: this module
    args:
      name: svm_digits            # the space's own name, stored with the campaign
      params:
        kernel: {type: categorical, choices: [linear, rbf, poly]}
        C:      {type: float, low: 0.001, high: 1000, log: true}
        gamma:  {type: float, low: 0.0001, high: 1, log: true,
                 condition: {kernel: [rbf, poly]}}
        degree: {type: int, low: 2, high: 5, condition: {kernel: poly}}

or in Python (``ConfigSpace({"C": {...}, ...}, name="svm_digits")``). A candidate's genotype
is the mapping of its active parameters; its text is that mapping as YAML with sorted keys and
floats rounded to ``digits`` significant digits, so the text is the candidate's identity (its
hash is the key) exactly as an ONNX text is a network's. Sampling, mutation, crossover, the
one-step neighbourhood and a numeric encoding come with it, so every strategy runs on it; it
has no params or FLOPs (those belong to networks).

Example:
    >>> import numpy as np
    >>> from searchlab.core.config_space import ConfigSpace
    >>> space = ConfigSpace({"kernel": {"type": "categorical", "choices": ["linear", "rbf"]},
    ...                      "gamma": {"type": "float", "low": 1e-4, "high": 1, "log": True,
    ...                                "condition": {"kernel": "rbf"}}}, name="svm")
    >>> c = space.candidate({"kernel": "rbf", "gamma": 0.0123456})
    >>> print(c.text, end="")
    gamma: 0.01235
    kernel: rbf
    >>> space.from_text(c.text) == c, len(space.neighbours(c))
    (True, 5)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from searchlab.core.candidate import Candidate
from searchlab.core.config_params import ConfigSpaceError, Param, parse_params
from searchlab.core.space import Space, SpaceError

__all__ = ["ConfigSpace", "ConfigSpaceError", "Param", "expand_space_file", "read_space_file"]


class ConfigSpace(Space):
    """Named parameters (categorical, int, float, log, conditional) as canonical YAML text."""

    name = "config"

    def __init__(
        self,
        params: Mapping[str, Any] | Sequence[Param] | None = None,
        name: str = "config",
        digits: int = 4,
        file: str | Path | None = None,
    ) -> None:
        if file is not None:  # a space file's declaration (its own name unless one is given)
            if params is not None:
                raise ConfigSpaceError(f"{file}: give params or a space file, not both")
            declared = read_space_file(file)
            params, digits = declared["params"], declared.get("digits", digits)
            name = declared.get("name", name) if name == "config" else name
        if not isinstance(name, str) or not name:
            raise ConfigSpaceError(f"field 'name': {name!r} is not a space name")
        if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= 12:
            raise ConfigSpaceError(f"field 'digits': {digits!r} is not a whole number in 1..12")
        self.name = name
        self.digits = digits
        if isinstance(params, Mapping):
            self.parameters = parse_params(params, digits)
        else:
            self.parameters = list(params)
        self.by_name = {p.name: p for p in self.parameters}
        super().__init__()

    # ----- the Space contract -------------------------------------------------------------
    def _sample(self, rng: np.random.Generator) -> dict[str, Any]:
        return self.complete({}, rng)

    def _mutate(self, genotype: Any, rng: np.random.Generator) -> dict[str, Any]:
        values = dict(genotype)
        names = [
            n
            for n in values
            if self.by_name[n].type != "categorical" or len(self.by_name[n].choices) > 1
        ]
        param = self.by_name[names[int(rng.integers(len(names)))]]
        if param.type != "categorical" and rng.random() < 0.5:  # a local step half the time
            u = param.to_unit(float(values[param.name])) + rng.normal(0.0, 0.1)
            values[param.name] = param.from_unit(u)
        else:
            values[param.name] = param.sample(rng)
        return self.complete(values, rng)

    def _crossover(self, a: Any, b: Any, rng: np.random.Generator) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for p in self.parameters:
            if p.active(values):
                have = [g[p.name] for g in (a, b) if p.name in g]
                if have:
                    values[p.name] = have[int(rng.integers(len(have)))]
        return self.complete(values, rng)

    def _validate(self, genotype: Any) -> dict[str, Any]:
        if not isinstance(genotype, Mapping):
            raise ValueError(f"expected a mapping of parameter values, got {genotype!r}")
        unknown = sorted(set(genotype) - set(self.by_name))
        if unknown:
            raise ValueError(f"unknown parameter {unknown[0]!r}")
        values: dict[str, Any] = {}
        for p in self.parameters:
            if not p.active(values):
                if p.name in genotype:
                    raise ValueError(f"parameter {p.name!r} is inactive (condition {p.condition})")
                continue
            if p.name not in genotype:
                raise ValueError(f"parameter {p.name!r} is missing")
            try:
                values[p.name] = p.normalize(genotype[p.name])
            except ConfigSpaceError as exc:
                raise ValueError(f"parameter {p.name!r}: {exc}") from None
        return values

    def _text(self, genotype: Any) -> str:
        return yaml.safe_dump(dict(genotype), sort_keys=True, default_flow_style=False)

    def _encode(self, genotype: Any) -> np.ndarray:
        return np.array([x for p in self.parameters for x in p.encode(genotype.get(p.name))])

    def genotype_from_str(self, text: str) -> dict[str, Any]:
        """A genotype from JSON or YAML text (a candidate's own text parses back to it)."""
        try:
            value = yaml.safe_load(text)  # JSON is YAML too
        except yaml.YAMLError as exc:
            raise SpaceError(f"space {self.name!r}: {text!r} is not YAML: {exc}") from None
        if not isinstance(value, Mapping):
            raise SpaceError(f"space {self.name!r}: {text!r} is not a mapping of parameters")
        return dict(value)

    # ----- configuration helpers ----------------------------------------------------------
    def complete(self, values: Mapping[str, Any], rng: np.random.Generator | None) -> dict:
        """Keep the active parameters given, draw (or default, without ``rng``) the missing
        active ones, drop the inactive ones; parameters in declaration order."""
        out: dict[str, Any] = {}
        for p in self.parameters:
            if p.active(out):
                if p.name in values:
                    out[p.name] = values[p.name]
                else:
                    out[p.name] = p.sample(rng) if rng is not None else p.default()
        return out

    def neighbours(self, candidate: Candidate) -> list[Candidate]:
        """Every candidate one parameter's step away (other choices, nearby numbers)."""
        self._own(candidate)
        out, seen = [], {candidate.key}
        for name, value in candidate.genotype.items():
            for moved in self.by_name[name].moves(value):
                cand = self.candidate(self.complete({**candidate.genotype, name: moved}, None))
                if cand.key not in seen:
                    seen.add(cand.key)
                    out.append(cand)
        return out

    def from_text(self, text: str) -> Candidate:
        """The candidate a canonical text renders (its YAML parsed back)."""
        return self.candidate(self.genotype_from_str(text))

    def distributions(self) -> dict[str, Any]:
        """Each parameter as an optuna distribution (conditions are the caller's to follow)."""
        from optuna.distributions import (
            CategoricalDistribution,
            FloatDistribution,
            IntDistribution,
        )

        out: dict[str, Any] = {}
        for p in self.parameters:
            if p.type == "categorical":
                out[p.name] = CategoricalDistribution(list(p.choices))
            elif p.type == "int":
                out[p.name] = IntDistribution(int(p.low), int(p.high), log=p.log)
            else:
                out[p.name] = FloatDistribution(p.low, p.high, log=p.log)
        return out

    def suggest(self, trial: Any) -> dict[str, Any]:
        """A configuration suggested by an optuna trial, define-by-run (conditions followed)."""
        values: dict[str, Any] = {}
        for p in self.parameters:
            if not p.active(values):
                continue
            if p.type == "categorical":
                values[p.name] = trial.suggest_categorical(p.name, list(p.choices))
            elif p.type == "int":
                values[p.name] = trial.suggest_int(p.name, int(p.low), int(p.high), log=p.log)
            else:
                values[p.name] = trial.suggest_float(p.name, p.low, p.high, log=p.log)
        return values

    def declaration(self) -> dict[str, Any]:
        """The parameters as a space file's ``args`` (round-trips through the constructor)."""
        params: dict[str, Any] = {}
        for p in self.parameters:
            spec: dict[str, Any] = {"type": p.type}
            if p.type == "categorical":
                spec["choices"] = list(p.choices)
            else:
                spec.update(low=p.low, high=p.high, log=p.log)
            if p.condition:
                spec["condition"] = {k: list(v) for k, v in p.condition.items()}
            params[p.name] = spec
        return {"name": self.name, "digits": self.digits, "params": params}


def read_space_file(path: str | Path) -> dict[str, Any]:
    """A space file's declaration ``{name, params, digits}``, checked; a bad file raises one
    error naming the file, the parameter and the field."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigSpaceError(f"{path}: cannot read a space file: {exc}") from None
    args = raw.get("args", raw) if isinstance(raw, Mapping) else None
    if not isinstance(args, Mapping):
        raise ConfigSpaceError(f"{path}: expected a mapping with field 'params'")
    unknown = sorted(set(args) - {"name", "params", "digits"})
    if unknown:
        raise ConfigSpaceError(f"{path}: unknown field {unknown[0]!r} (name, params, digits)")
    declared = {"name": str(args.get("name", path.stem)), **args}
    try:
        ConfigSpace(declared["params"], declared["name"], declared.get("digits", 4))
    except ConfigSpaceError as exc:
        raise ConfigSpaceError(f"{path}: {exc}") from None
    return declared


def expand_space_file(space_cfg: Mapping[str, Any]) -> dict[str, Any]:
    """A run's space config with a ``file`` argument replaced by the file's declaration, so
    the campaign stores (and a resume rebuilds) the space itself, not a path to it."""
    args = dict(space_cfg.get("args") or {})
    if "file" not in args:
        return dict(space_cfg)
    declared = read_space_file(args.pop("file"))
    return {**space_cfg, "args": {**declared, **args}}
