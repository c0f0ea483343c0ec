"""Any objective as the verifier: a Python function or a shell command.

``FunctionVerifier`` calls ``fn(config)`` with the candidate's configuration (its genotype as
a plain dict for a configuration space; the genotype itself for any other space) and takes a
dict of objective values back (a bare number when there is one objective). ``target`` is the
function itself or its ``"module:function"`` path. ``CommandVerifier`` runs a shell command
with the configuration as JSON on its standard input (and in ``SEARCHLAB_CONFIG``) and reads
the last line it prints as one JSON object of values.

A failure is data, never a crash: an exception, a non-zero exit, a missing objective or a
non-finite value fails that candidate with its reason stored. A command is killed after
``timeout`` seconds; a function runs in this process unless the verifier is given a
``time_limit`` (``make_verifier(..., time_limit=T)``, the CLI's ``verifier.time_limit``),
which runs each call in a worker process killed after T seconds
(:mod:`searchlab.verifiers.pool`). Functions travel to workers by value (cloudpickle), so a
lambda or a notebook's function works too.

Example:
    >>> from searchlab.core.config_space import ConfigSpace
    >>> from searchlab.verifiers.function import FunctionVerifier
    >>> space = ConfigSpace({"x": {"type": "float", "low": -2, "high": 2}}, name="line")
    >>> fn = FunctionVerifier(space, lambda cfg: {"loss": (cfg["x"] - 1) ** 2})
    >>> [e.values for e in fn.verify([space.candidate({"x": 0.5})], ["loss"])]
    [{'loss': 0.25}]
    >>> bad = FunctionVerifier(space, lambda cfg: {"loss": float("nan")})
    >>> bad.verify([space.candidate({"x": 0.5})], ["loss"])[0].error
    "ValueError: non-finite values {'loss': nan}"
"""

from __future__ import annotations

import json
import math
import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import cloudpickle

from searchlab.core.candidate import Candidate
from searchlab.core.space import Space
from searchlab.core.targets import TargetError, resolve
from searchlab.verifiers.base import Verifier, VerifierError

#: characters of a failing command's standard error kept as its reason
REASON_CHARS = 500


def import_target(target: str) -> Callable[..., Any]:
    """The callable at ``"module:function"``, or VerifierError naming what is wrong."""
    try:
        obj = resolve(target)
    except TargetError as exc:
        raise VerifierError(f"verifier 'function': target {target!r}: {exc}") from None
    if not callable(obj):
        raise VerifierError(f"verifier 'function': target {target!r} is not callable")
    return obj


def configuration(candidate: Candidate) -> Any:
    """What the objective receives: the genotype as plain JSON data (a dict for configs)."""
    return json.loads(candidate.genotype_json())


def as_values(result: Any, objectives: Sequence[str]) -> dict[str, float]:
    """An objective's result as ``{objective: float}`` (a bare number for one objective)."""
    if isinstance(result, Mapping):
        return {str(k): float(v) for k, v in result.items()}
    if len(objectives) == 1 and isinstance(result, (int, float)) and not isinstance(result, bool):
        return {objectives[0]: float(result)}
    raise TypeError(f"expected a dict of objective values, got {type(result).__name__} {result!r}")


class FunctionVerifier(Verifier):
    """Values from a Python function of the candidate's configuration."""

    name = "function"
    source = "measured"

    def __init__(self, space: Space, target: str | Callable[..., Any]) -> None:
        super().__init__(space)
        if target is None or target == "":
            raise VerifierError("verifier 'function' needs a target: verifier.target=mod:fn")
        self.target = target
        self.fn = import_target(target) if isinstance(target, str) else target
        if not callable(self.fn):
            raise VerifierError(f"verifier 'function': target {target!r} is not callable")

    def provides(self, objective: str) -> bool:
        """Any objective: a missing one fails its candidate with the reason."""
        return True

    def _verify_one(self, candidate: Candidate, objectives: Sequence[str]) -> dict[str, float]:
        return as_values(self.fn(configuration(candidate)), objectives)

    def settings(self) -> dict[str, Any]:
        """The verifier and its target (a function's qualified name)."""
        name = self.target if isinstance(self.target, str) else _qualname(self.fn)
        return {"verifier": self.name, "target": name}

    def __getstate__(self) -> dict[str, Any]:
        # by value, so a lambda or a __main__ function reaches a worker process
        return {"space": self.space, "target": cloudpickle.dumps(self.target)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.space = state["space"]
        self.target = cloudpickle.loads(state["target"])
        self.fn = import_target(self.target) if isinstance(self.target, str) else self.target


class CommandVerifier(Verifier):
    """Values from a shell command that reads the configuration and prints one JSON object."""

    name = "command"
    source = "measured"

    def __init__(self, space: Space, target: str, timeout: float = 600.0) -> None:
        super().__init__(space)
        if not isinstance(target, str) or not target.strip():
            raise VerifierError("verifier 'command' needs a target: verifier.target='cmd args'")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise VerifierError(f"verifier 'command': timeout {timeout!r} is not seconds > 0")
        self.target, self.timeout = target, float(timeout)

    def provides(self, objective: str) -> bool:
        """Any objective: a missing one fails its candidate with the reason."""
        return True

    def _verify_one(self, candidate: Candidate, objectives: Sequence[str]) -> dict[str, float]:
        config = json.dumps(configuration(candidate), sort_keys=True)
        try:
            proc = subprocess.run(
                self.target,
                shell=True,
                input=config,
                capture_output=True,
                text=True,
                timeout=self.timeout,
                env={**os.environ, "SEARCHLAB_CONFIG": config},
            )
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"timeout after {self.timeout:g} s") from None
        if proc.returncode != 0:
            tail = proc.stderr.strip()[-REASON_CHARS:]
            raise RuntimeError(f"command exited with status {proc.returncode}: {tail}")
        lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
        if not lines:
            raise ValueError("command printed nothing (expected one JSON object)")
        try:
            result = json.loads(lines[-1])
        except json.JSONDecodeError:
            raise ValueError(f"last line printed is not JSON: {lines[-1][:200]!r}") from None
        values = as_values(result, objectives)
        if not all(math.isfinite(v) for v in values.values()):
            raise ValueError(f"non-finite values {values}")
        return values

    def settings(self) -> dict[str, Any]:
        """The verifier, its command and its timeout."""
        return {"verifier": self.name, "target": self.target, "timeout": self.timeout}


def _qualname(fn: Any) -> str:
    return f"{getattr(fn, '__module__', '?')}:{getattr(fn, '__qualname__', repr(fn))}"
