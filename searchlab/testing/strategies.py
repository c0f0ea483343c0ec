"""Conformance suite for strategies: what the campaign relies on of every ask/tell optimizer.

A campaign restores its strategy from the store after a crash, tells it only the candidates
its surrogate picked, marks failures, and runs on network and configuration spaces alike; a
strategy that breaks any of that breaks resumption or wastes verified evaluations silently.
The checks run it on the real NB201 space, scored by its bundled benchmark, and on small
configuration spaces. Give them a factory ``(space, objectives, seed) -> Strategy``::

    from searchlab.testing import check_strategy
    check_strategy(lambda space, objectives, seed: MyStrategy(space, objectives, seed))

or subclass the pytest class to get one test per property::

    from searchlab.testing import StrategyConformance

    class TestMyStrategy(StrategyConformance):
        def make_strategy(self, space, objectives, seed):
            return MyStrategy(space, objectives, seed)
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Sequence
from functools import cache

from searchlab.core.config_space import ConfigSpace
from searchlab.core.objectives import Objectives
from searchlab.core.registry import load_space
from searchlab.core.space import Space
from searchlab.strategies.base import Strategy

#: builds the strategy under test for a space, its objectives and a seed
Factory = Callable[[Space, Objectives, int], Strategy]
ACC, LAT = "acc_cifar10_test", "lat_ms_hwnb_pixel3"


@cache
def _nb201() -> Space:
    return load_space("nb201")


def _score(space: Space, candidate, names: Sequence[str]) -> dict[str, float]:  # noqa: ANN001
    """Real values of an NB201 cell; for a configuration, a fixed function of its numbers."""
    if space.renders_network:
        return space.benchmark().lookup(candidate, names)
    total = sum(float(v) if not isinstance(v, str) else len(v) for v in candidate.genotype.values())
    return {n: total for n in names}


def _rounds(strategy: Strategy, n_rounds: int, n: int = 6, keep: int = 4, fail=()) -> list:  # noqa: ANN001
    """Ask ``n``, tell the first ``keep`` (as when a surrogate picks); keys in ``fail`` fail."""
    asked = []
    names = strategy.objectives.names
    for _ in range(n_rounds):
        batch = strategy.ask(n)
        asked.append([c.key for c in batch])
        told = batch[:keep]
        values = [None if c.key in fail else _score(strategy.space, c, names) for c in told]
        strategy.tell(told, values)
    return asked


def check_seeded(make: Factory) -> None:
    """The same seed and history give the same asks; another seed gives others."""
    runs = [_rounds(make(_nb201(), Objectives.parse([ACC]), s), 5) for s in (7, 7, 8)]
    assert runs[0] == runs[1], "the same seed and history gave different candidates"
    assert runs[0] != runs[2], "two seeds gave the same candidates"


def check_distinct_and_untold(make: Factory) -> None:
    """Each ask returns the number asked for, distinct, none told before."""
    strategy = make(_nb201(), Objectives.parse([ACC]), 1)
    for _ in range(6):
        batch = strategy.ask(8)
        keys = [c.key for c in batch]
        assert len(keys) == 8, f"ask(8) returned {len(keys)} candidates on a large space"
        assert len(set(keys)) == 8, "ask returned a candidate twice"
        assert not set(keys) & strategy.told, "ask returned a told candidate"
        assert all(c.space == strategy.space.name for c in batch), "candidate of another space"
        strategy.tell(batch[:5], [_score(strategy.space, c, [ACC]) for c in batch[:5]])


def check_restore(make: Factory) -> None:
    """A fresh strategy restored from history and asks continues exactly (one and two
    objectives), though the history is replayed as one tell where it came in several."""
    for names in ([ACC], [ACC, LAT]):
        objectives = Objectives.parse(names)
        original = make(_nb201(), objectives, 3)
        asked = _rounds(original, 3, n=7, keep=5)
        _rounds(original, 2, n=5, keep=5, fail={asked[1][0]})
        fresh = make(_nb201(), objectives, 3)
        fresh.restore(original.history, original.asks)
        assert [c.key for c in fresh.ask(9)] == [c.key for c in original.ask(9)], (
            f"objectives {names}: a restored strategy asks differently from the original"
        )


def check_failures_never_return(make: Factory) -> None:
    """A failed candidate is never proposed again."""
    strategy = make(_nb201(), Objectives.parse([ACC]), 5)
    first = strategy.ask(10)
    failed = {c.key for c in first[:6]}
    strategy.tell(first[:6], [None] * 6)
    later = _rounds(strategy, 5, n=8, keep=4)
    assert not failed & {k for batch in later for k in batch}, "a failed candidate came back"


def check_runs_dry(make: Factory) -> None:
    """On a space with two candidates left, ask returns only those, and returns."""
    names = ("a", "b", "c")
    space = ConfigSpace({n: {"type": "categorical", "choices": [1, 2, 3]} for n in names})
    everything = [
        space.candidate(dict(zip(names, v))) for v in itertools.product([1, 2, 3], repeat=3)
    ]
    strategy = make(space, Objectives.parse(["acc"]), 2)
    told, left = everything[:-2], {c.key for c in everything[-2:]}
    strategy.tell(told[:20], [_score(space, c, ["acc"]) for c in told[:20]])
    strategy.tell(told[20:], [None] * len(told[20:]))
    batch = strategy.ask(50)
    assert {c.key for c in batch} <= left, "ask returned a told candidate on an exhausted space"


def check_config_space(make: Factory) -> None:
    """Configuration spaces with conditional, integer and log-scaled float parameters work:
    asks are valid candidates of the space."""
    space = ConfigSpace(
        {
            "kernel": {"type": "categorical", "choices": ["linear", "rbf", "poly"]},
            "C": {"type": "float", "low": 0.01, "high": 100, "log": True},
            "degree": {"type": "int", "low": 2, "high": 5, "condition": {"kernel": "poly"}},
        },
        name="conformance",
    )
    strategy = make(space, Objectives.parse(["acc"]), 4)
    for _ in range(4):
        batch = strategy.ask(5)
        assert batch, "no candidate asked of a configuration space"
        for c in batch:
            assert space.candidate(c.genotype) == c, f"{c.genotype} is not a valid configuration"
        strategy.tell(batch, [_score(space, c, ["acc"]) for c in batch])


def check_options(make: Factory) -> None:
    """``options()`` is JSON, with the strategy's name and seed (stored with the campaign)."""
    strategy = make(_nb201(), Objectives.parse([ACC]), 6)
    options = json.loads(json.dumps(strategy.options()))
    assert options.get("name") == strategy.name and options.get("seed") == 6, options


STRATEGY_CHECKS = (
    check_seeded,
    check_distinct_and_untold,
    check_restore,
    check_failures_never_return,
    check_runs_dry,
    check_config_space,
    check_options,
)


def check_strategy(make: Factory) -> None:
    """Run every strategy check; raise AssertionError on the first failure."""
    for check in STRATEGY_CHECKS:
        check(make)


class StrategyConformance:
    """Pytest mix-in: subclass it and define ``make_strategy`` to get one test per check."""

    def make_strategy(self, space: Space, objectives: Objectives, seed: int) -> Strategy:
        """Return the strategy under test for this space, objectives and seed."""
        raise NotImplementedError

    def test_seeded(self) -> None:
        """Asks are a function of the seed and history."""
        check_seeded(self.make_strategy)

    def test_distinct_and_untold(self) -> None:
        """Asks are distinct and new."""
        check_distinct_and_untold(self.make_strategy)

    def test_restore(self) -> None:
        """A restored strategy continues exactly."""
        check_restore(self.make_strategy)

    def test_failures_never_return(self) -> None:
        """Failed candidates are not proposed again."""
        check_failures_never_return(self.make_strategy)

    def test_runs_dry(self) -> None:
        """An exhausted space ends the ask."""
        check_runs_dry(self.make_strategy)

    def test_config_space(self) -> None:
        """Configuration spaces work."""
        check_config_space(self.make_strategy)

    def test_options(self) -> None:
        """Options are JSON with name and seed."""
        check_options(self.make_strategy)


__all__ = [
    "STRATEGY_CHECKS",
    "StrategyConformance",
    "check_strategy",
] + [c.__name__ for c in STRATEGY_CHECKS]
