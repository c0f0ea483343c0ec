"""TrialRecord: one claimed candidate as the store keeps it, read back from an optuna trial.

A trial's user attrs hold the candidate (key, space, genotype, ONNX text), the round that
chose it, the prediction made before verification and, once finished, the verified values'
source (and each value's own, ``sources``); its values are the verified objectives in the
campaign's order.

Example:
    >>> from searchlab.store.records import TrialRecord
    >>> r = TrialRecord(number=0, key="k", space="nb201", genotype="[0]", text="", round=0,
    ...                 state="RUNNING")
    >>> r.values, r.source
    ({}, None)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import optuna
from optuna.trial import TrialState

from searchlab.core.candidate import Candidate


@dataclass
class TrialRecord:
    """One claimed candidate as stored: identity, prediction, and verified outcome."""

    number: int
    key: str
    space: str
    genotype: str
    text: str
    round: int
    state: str
    values: dict[str, float] = field(default_factory=dict)
    source: str | None = None
    error: str | None = None
    predicted: dict[str, float] | None = None
    spread: dict[str, float] | None = None
    interval: dict[str, list[float]] | None = None
    model: str | None = None
    seconds: float = 0.0
    owner: str | None = None
    genotype_str: str | None = None  #: the space's native genotype string (what fit reads)
    sources: dict[str, str] | None = None  #: per verified value, where it came from

    def candidate(self) -> Candidate:
        """The stored candidate (its key is checked against its text)."""
        return Candidate(space=self.space, genotype=json.loads(self.genotype), text=self.text)


def record_from_trial(t: optuna.trial.FrozenTrial, names: Sequence[str]) -> TrialRecord | None:
    """The record of a stored trial (None while its claim is incomplete: no key yet)."""
    a = t.user_attrs
    if "key" not in a:
        return None
    values = {}
    if t.state == TrialState.COMPLETE and t.values is not None:
        values = dict(zip(names, t.values))
    return TrialRecord(
        number=t.number,
        key=a["key"],
        space=a["space"],
        genotype=a["genotype"],
        text=a["text"],
        round=int(a.get("round", 0)),
        state=t.state.name,
        values=values,
        source=a.get("source"),
        error=a.get("error"),
        predicted=a.get("predicted"),
        spread=a.get("spread"),
        interval=a.get("interval"),
        model=a.get("model"),
        seconds=float(a.get("seconds", 0.0)),
        owner=a.get("owner"),
        genotype_str=a.get("genotype_str"),
        sources=a.get("sources"),
    )
