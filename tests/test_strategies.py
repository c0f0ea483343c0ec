"""Strategies on the real NB201 space, scored by its bundled tabular benchmark.

Every built-in strategy passes the conformance suite (``searchlab.testing.StrategyConformance``:
reproducible from seed, asks and told history, never a told or failed candidate again, exact
restore, an exhausted space ends the ask, configuration spaces), and the suite catches a
strategy that breaks it. Bad input is explained.
REA and local search must beat random search, and NSGA-II must rank its population right.
"""

import numpy as np
import pytest
from plugin_space import WIDTHS, MlpSpace

from searchlab import load_space
from searchlab.core.objectives import Objectives
from searchlab.core.pareto import front_mask, front_ranks
from searchlab.core.space import Space
from searchlab.strategies import (
    NSGA2,
    STRATEGIES,
    LocalSearch,
    OptunaSampler,
    RandomSearch,
    RegularizedEvolution,
    StrategyError,
    make_strategy,
)
from searchlab.testing import StrategyConformance, check_restore, check_seeded

ACC, LAT = "acc_cifar10_test", "lat_ms_hwnb_pixel3"
NAMES = ["random", "rea", "local", "nsga2", "optuna"]
#: small populations so the evolutionary phase starts within a few rounds
SMALL = {"rea": {"population": 8, "sample": 3}, "nsga2": {"population": 8}}


@pytest.fixture(scope="module")
def nb201():
    return load_space("nb201")


@pytest.fixture(scope="module")
def table(nb201):
    return nb201.benchmark()


def single():
    return Objectives.parse([ACC])


def build(name, space, seed=0, objectives=None, **options):
    return make_strategy(
        name, space, objectives or single(), seed=seed, **{**SMALL.get(name, {}), **options}
    )


def rounds(strategy, table, n_rounds, n=6, keep=4, fail=()):
    """Ask n, tell the first ``keep`` (a surrogate's pick); keys in ``fail`` fail."""
    asked = []
    for _ in range(n_rounds):
        batch = strategy.ask(n)
        asked.append([c.key for c in batch])
        told = batch[:keep]
        values = [
            None if c.key in fail else table.lookup(c, strategy.objectives.names) for c in told
        ]
        strategy.tell(told, values)
    return asked


class ListMlp(Space):
    """The plugin MLP with a list genotype: not categorical, no crossover, no neighbours."""

    name = "list_mlp"
    input_shape = (12,)
    _onnx = MlpSpace._onnx
    _torch = MlpSpace._torch
    _export_weights = MlpSpace._export_weights

    def _sample(self, rng):
        return [WIDTHS[int(rng.integers(3))] for _ in range(3)]

    def _mutate(self, genotype, rng):
        genes = list(genotype)
        genes[int(rng.integers(3))] = WIDTHS[int(rng.integers(3))]
        return genes


def mlp_score(candidate):
    return {"acc": float(sum(int(w) for w in candidate.genotype))}


# ----- the contract: the conformance suite a third-party strategy runs too ----------------
class _Builtin(StrategyConformance):
    name = ""

    def make_strategy(self, space, objectives, seed):
        return build(self.name, space, seed=seed, objectives=objectives)


class TestRandomConformance(_Builtin):
    name = "random"


class TestReaConformance(_Builtin):
    name = "rea"


class TestLocalConformance(_Builtin):
    name = "local"


class TestNsga2Conformance(_Builtin):
    name = "nsga2"


class TestOptunaConformance(_Builtin):
    name = "optuna"


class Unseeded(RandomSearch):
    """Draws from numpy's global generator instead of the one ``ask`` hands it."""

    name = "unseeded"

    def _ask(self, n, rng):
        return super()._ask(n, np.random.default_rng())


class SplitSensitive(RegularizedEvolution):
    """Counts tells instead of told candidates, so a replay in one batch differs."""

    name = "split_sensitive"

    def _tell(self, candidates, values):
        self.tells = getattr(self, "tells", 0) + 1
        super()._tell(candidates, values)

    def _ask(self, n, rng):
        return super()._ask(
            n, np.random.default_rng([self.seed, self.asks, getattr(self, "tells", 0)])
        )


@pytest.mark.parametrize(
    ("cls", "check", "message"),
    [
        (Unseeded, check_seeded, "same seed and history gave different"),
        (SplitSensitive, check_restore, "restored strategy asks differently"),
    ],
)
def test_conformance_catches_a_broken_strategy(cls, check, message):
    with pytest.raises(AssertionError, match=message):
        check(lambda space, objectives, seed: cls(space, objectives, seed))


@pytest.mark.parametrize("objectives", [[ACC], [ACC, LAT]], ids=["single", "two"])
@pytest.mark.parametrize("name", ["local", "nsga2"])
def test_restore_rebuilds_internal_state(name, objectives, nb201, table):
    objectives = Objectives.parse(objectives)
    original = build(name, nb201, seed=3, objectives=objectives)
    asked = rounds(original, table, 3, n=7, keep=5)
    rounds(original, table, 2, n=5, keep=5, fail={asked[1][0]})
    fresh = build(name, nb201, seed=3, objectives=objectives)
    fresh.restore(original.history, original.asks)  # one tell, where the original had five
    if isinstance(original, LocalSearch):
        assert fresh.current == original.current and fresh.restarts == original.restarts
    else:
        assert [c.key for c, _, _ in fresh.survivors()] == [
            c.key for c, _, _ in original.survivors()
        ]


@pytest.mark.parametrize("name", ["rea", "nsga2"])
def test_failed_candidates_never_breed(name, nb201, table):
    strategy = build(name, nb201, seed=5)
    first = strategy.ask(10)
    failed = {c.key for c in first[:6]}
    strategy.tell(first[:6], [None] * 6)
    rounds(strategy, table, 5, n=8, keep=4, fail=set())
    if isinstance(strategy, RegularizedEvolution):  # aging: the last successes, in order
        assert strategy.parents() == strategy.succeeded()[-strategy.population :]
        assert not failed & {c.key for c, _ in strategy.parents()}
    else:
        assert not failed & {c.key for c, _, _ in strategy.survivors()}


def test_a_nearly_exhausted_network_space_ends_the_ask():
    space = MlpSpace()  # 27 architectures
    everything = [space.candidate([WIDTHS[i] for i in idx]) for idx in np.ndindex(3, 3, 3)]
    for name in NAMES:
        strategy = build(name, space, seed=2, objectives=Objectives.parse(["acc"]))
        told, left = everything[:-2], {c.key for c in everything[-2:]}
        strategy.tell(told[:20], [mlp_score(c) for c in told[:20]])
        strategy.tell(told[20:], [None] * len(told[20:]))
        batch = strategy.ask(50)
        assert {c.key for c in batch} <= left and len(batch) == len({c.key for c in batch})


@pytest.mark.parametrize("name", ["random", "rea", "local", "nsga2"])
def test_generic_space_without_crossover_or_neighbours(name):
    space = ListMlp()
    assert not space.has_crossover()
    options = {"rea": {"population": 4, "sample": 2}, "nsga2": {"population": 4}}
    strategy = build(
        name, space, seed=4, objectives=Objectives.parse(["acc"]), **options.get(name, {})
    )
    for _ in range(4):
        batch = strategy.ask(5)
        assert batch and not {c.key for c in batch} & strategy.told
        strategy.tell(batch, [mlp_score(c) for c in batch])
    if isinstance(strategy, LocalSearch) and strategy.current is not None:
        around = strategy.neighbours(strategy.current)
        assert 0 < len(around) <= strategy.n_mutations
        assert all(
            sum(a != b for a, b in zip(c.genotype, strategy.current.genotype)) == 1 for c in around
        )


def test_local_search_climbs_then_restarts():
    space = MlpSpace()  # score = total width: one peak at (32, 32, 32), 6 neighbours each
    objectives = Objectives.parse(["acc"])
    climber = LocalSearch(space, objectives, seed=0)
    while climber.restarts == 0:
        batch = climber.ask(4)
        climber.tell(batch, [mlp_score(c) for c in batch])
    peak = space.candidate(["32"] * 3)
    assert climber.best()[0] == peak and peak.key in climber.told
    assert all(c.key in climber.told for c in space.neighbours(peak))
    for _ in range(2):
        batch = climber.ask(4)
        climber.tell(batch, [mlp_score(c) for c in batch])
    fresh = LocalSearch(space, objectives, seed=0)
    fresh.restore(climber.history, climber.asks)
    assert (fresh.current, fresh.restarts) == (climber.current, climber.restarts)
    assert [c.key for c in fresh.ask(4)] == [c.key for c in climber.ask(4)]


def test_local_search_fills_a_large_ask_from_the_best_neighbourhoods(nb201, table):
    objs = Objectives.parse([ACC])
    plain, elite = (LocalSearch(nb201, objs, seed=0, elite_share=e) for e in (0.0, 1.0))
    first = plain.ask(20)
    values = [table.lookup(c, [ACC]) for c in first]
    for s in (plain, elite):
        s.tell(first, values)
    order = np.argsort([-v[ACC] for v in values])
    near = {n.key for i in order[:5] for n in nb201.neighbours(first[int(i)])}
    around = {n.key for n in nb201.neighbours(elite.current)}
    # both start with the incumbent's untold neighbours; past them, elite_share=1 asks the
    # neighbourhoods of the best told candidates, elite_share=0 random samples
    big = elite.ask(100)
    assert {c.key for c in big[:24]} <= around and len(big) == 100
    assert all(c.key in near or c.key in around for c in big[24:])
    rest = [c for c in plain.ask(100)[24:]]
    assert sum(c.key in near for c in rest) < len(rest) // 2
    with pytest.raises(StrategyError, match="elite_share"):
        LocalSearch(nb201, objs, elite_share=1.5)


def test_a_key_told_twice_in_one_batch_is_recorded_once(nb201, table):
    strategy = build("nsga2", nb201)
    cand = strategy.ask(1)[0]
    strategy.tell([cand, cand], [table.lookup(cand, [ACC]), None])
    assert strategy.history == [(cand, table.lookup(cand, [ACC]))]
    assert [c.key for c, _, _ in strategy.survivors()] == [cand.key]


# ----- configuration and errors --------------------------------------------------------------
def test_registry_and_options(nb201):
    assert sorted(STRATEGIES) == sorted(NAMES)
    objectives = single()
    assert make_strategy("rea", nb201, objectives, 1, population=9, sample=4).options() == {
        "name": "rea",
        "seed": 1,
        "population": 9,
        "sample": 4,
    }
    assert make_strategy("nsga2", nb201, objectives).options()["population"] == 20
    assert make_strategy("local", nb201, objectives).options()["n_mutations"] == 32
    assert make_strategy("optuna", nb201, objectives, sampler="nsga2").options()["sampler"] == (
        "nsga2"
    )
    assert isinstance(make_strategy("optuna", nb201, objectives), OptunaSampler)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda s: make_strategy("rea", s, single()).ask(0), r"positive integer, got 0"),
        (lambda s: make_strategy("random", s, single()).ask(2.5), r"positive integer, got 2.5"),
        (lambda s: make_strategy("cmaes", s, single()), r"unknown strategy 'cmaes' \(known: "),
        (
            lambda s: make_strategy("rea", s, single(), popsize=3),
            r"strategy 'rea' has no option 'popsize' \(options: population, sample\)",
        ),
        (
            lambda s: make_strategy("random", s, single(), population=3),
            r"strategy 'random' has no option 'population' \(options: none\)",
        ),
        (
            lambda s: make_strategy("rea", s, single(), population=4, sample=5),
            r"sample \(5\) cannot exceed population \(4\)",
        ),
        (lambda s: make_strategy("nsga2", s, single(), population=1), r"'population'.*>= 2"),
        (lambda s: make_strategy("local", s, single(), n_mutations=0), r"'n_mutations'.*>= 1"),
        (lambda s: make_strategy("optuna", s, single(), sampler="cmaes"), r"tpe, nsga2, random"),
        (lambda s: make_strategy("optuna", ListMlp(), single()), r"space 'list_mlp' \(ListMlp\)"),
    ],
)
def test_bad_arguments_raise_strategy_error(call, message, nb201):
    with pytest.raises(StrategyError, match=message):
        call(nb201)


# ----- quality -----------------------------------------------------------------------------
def search(name, space, table, seed, budget=300):
    strategy = make_strategy(name, space, single(), seed=seed)  # default options
    accs = []
    while len(strategy.history) < budget:
        batch = strategy.ask(10)
        values = [table.lookup(c, [ACC]) for c in batch]
        strategy.tell(batch, values)
        accs += [v[ACC] for v in values]
    return max(accs), float(np.mean(accs[-100:]))


def test_rea_and_local_search_beat_random_search(nb201, table):
    seeds = (0, 1, 2)
    results = {n: np.array([search(n, nb201, table, s) for s in seeds]) for n in NAMES[:3]}
    random_best, random_recent = np.median(results["random"], axis=0)
    top = np.sort(table.column(ACC))[-int(0.005 * len(table))]  # the top 0.5% of the space
    for name in ("rea", "local"):
        best, recent = results[name][:, 0], np.median(results[name][:, 1])
        # every run ends at least as high as random search's typical run, inside the top 0.5%
        assert (best >= random_best).all() and (best >= top).all(), (name, best, random_best)
        # and the search concentrates where accuracy is high, which random search cannot do
        assert recent > random_recent + 2.0, (name, recent, random_recent)


# ----- several objectives and constraints ----------------------------------------------------
def test_nsga2_population_ranks_match_the_told_front(nb201, table):
    objectives = Objectives.parse([ACC, LAT])
    ga = NSGA2(nb201, objectives, seed=0, population=10)
    for _ in range(8):
        batch = ga.ask(10)
        ga.tell(batch, [table.lookup(c, [ACC, LAT]) for c in batch])
    members = ga.survivors()
    assert len(members) == 10
    F = objectives.to_min([v for _, v, _ in members])
    assert [r for _, _, r in members] == front_ranks(F).tolist()
    told = ga.succeeded()
    on_front = {
        c.key for (c, _), m in zip(told, front_mask(objectives.to_min([v for _, v in told]))) if m
    }
    assert {c.key for c, _, r in members if r == 0} <= on_front
    # elitism: the told front survives whole whenever it fits in the population
    if len(on_front) <= 10:
        assert on_front <= {c.key for c, _, _ in members}


@pytest.mark.parametrize("name", ["nsga2", "optuna", "local", "rea"])
def test_constraints_put_feasible_candidates_first(name, nb201, table):
    bound = float(np.quantile(table.column(LAT), 0.5))
    objectives = Objectives.parse([ACC, LAT], constraints=[f"{LAT} <= {bound}"])
    strategy = build(name, nb201, seed=6, objectives=objectives)
    rounds(strategy, table, 5, n=8, keep=8)
    assert objectives.violation([strategy.best()[1]])[0] == 0.0
    if isinstance(strategy, NSGA2):
        feasible = sum(objectives.violation([v for _, v in strategy.succeeded()]) == 0)
        violations = objectives.violation([v for _, v, _ in strategy.survivors()])
        assert (violations == 0).sum() == min(feasible, strategy.population)
    if isinstance(strategy, LocalSearch) and strategy.current_values is not None:
        assert objectives.violation([strategy.current_values])[0] == 0.0


def test_optuna_nsga2_sampler_breeds_from_replayed_generations(nb201, table):
    # 120 told trials fill generations 0-1 of 50, so an ask breeds from an elite population;
    # without the replayed generation numbers it would keep sampling at random (half the
    # children above the space's median accuracy, give or take 7%)
    batch = make_strategy("random", nb201, single(), seed=0).ask(120)
    history = [(c, table.lookup(c, [ACC])) for c in batch]
    children = []
    for _ in range(2):
        study = OptunaSampler(nb201, single(), seed=0, sampler="nsga2")
        study.restore(history, asks=1)
        children.append(study.ask(50))
    assert [c.key for c in children[0]] == [c.key for c in children[1]]
    assert len(children[0]) == 50 and not {c.key for c in children[0]} & study.told
    accs = np.array([table.lookup(c, [ACC])[ACC] for c in children[0]])
    assert np.mean(accs > np.median(table.column(ACC))) > 0.66
