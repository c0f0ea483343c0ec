import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchlab.campaign.acquisition import (
    ACQUISITIONS,
    Acquisition,
    Candidates,
    ExpectedHypervolumeImprovement,
    Greedy,
    default_acquisition,
    expected_improvement,
    hypervolume_improvement,
    make_acquisition,
)
from searchlab.core.objectives import Constraint, Objective, Objectives
from searchlab.core.pareto import hypervolume

RNG = np.random.default_rng(0)
ONE = Objectives.parse(["acc_cifar10_test"])
TWO = Objectives.parse(["acc_cifar10_test", "lat_ms"])
NONE2 = np.empty((0, 2))


def pick(name, samples, objectives, verified, q=1, **options):
    acq = make_acquisition(name, **options)
    return acq.select(np.asarray(samples, float), objectives, np.asarray(verified, float), q, RNG)


# ----- validation and registry ------------------------------------------------------------
@pytest.mark.parametrize(
    ("samples", "verified", "q", "match"),
    [
        (np.zeros((3, 4)), NONE2, 1, r"samples must be an \[N, k, M\] array.*shape \(3, 4\)"),
        (np.zeros((3, 4, 1)), NONE2, 1, r"samples .*M = 2.*shape \(3, 4, 1\)"),
        (np.zeros((3, 0, 2)), NONE2, 1, r"samples .*k >= 1, got shape \(3, 0, 2\)"),
        (np.zeros((3, 4, 2)), np.zeros((2, 3)), 1, r"verified .*M = 2.*shape \(2, 3\)"),
        (np.full((3, 4, 2), np.nan), NONE2, 1, r"samples \(shape \(3, 4, 2\)\) holds NaN"),
        (np.zeros((3, 4, 2)), np.array([[np.inf, 1.0]]), 1, r"verified \(shape \(1, 2\)\)"),
        (np.zeros((3, 4, 2)), NONE2, 0, "q must be a positive integer, got 0"),
        (np.zeros((3, 4, 2)), NONE2, 1.5, "q must be a positive integer"),
        (np.zeros((3, 4, 2)), NONE2, True, "q must be a positive integer"),
    ],
)
def test_select_validates_arguments(samples, verified, q, match):
    with pytest.raises(ValueError, match=match):
        Greedy().select(samples, TWO, verified, q, RNG)


def test_select_rejects_bad_rng_and_single_objective_misuse():
    with pytest.raises(TypeError, match="rng"):
        Greedy().select(np.zeros((2, 3, 2)), TWO, NONE2, 1, 0)
    for name in ("ucb", "ei"):
        with pytest.raises(ValueError, match=f"'{name}' handles one objective, got 2"):
            pick(name, np.zeros((2, 3, 2)), TWO, NONE2)


def test_registry_and_defaults():
    assert set(ACQUISITIONS) == {"ucb", "ei", "ehvi", "greedy"}
    assert all(issubclass(cls, Acquisition) for cls in ACQUISITIONS.values())
    assert make_acquisition("ucb", beta=0.9).beta == 0.9
    with pytest.raises(ValueError, match="unknown acquisition 'pi'; known: ehvi, ei, greedy, ucb"):
        make_acquisition("pi")
    with pytest.raises(ValueError, match="'greedy': bad options"):
        make_acquisition("greedy", beta=0.9)
    with pytest.raises(ValueError, match="beta must lie strictly between 0 and 1"):
        make_acquisition("ucb", beta=1.0)
    assert default_acquisition(ONE) == "ei" and default_acquisition(TWO) == "ehvi"


def test_empty_candidate_set_returns_no_picks():
    assert pick("ehvi", np.zeros((0, 3, 2)), TWO, NONE2, q=3).tolist() == []


# ----- single objective ---------------------------------------------------------------------
@pytest.mark.parametrize("direction", ["maximize", "minimize"])
def test_ucb_prefers_wide_spread_at_equal_median(direction):
    objs = Objectives([Objective("y", direction)])
    narrow = [10.0, 10.0, 10.0, 10.0, 10.0]
    wide = [6.0, 8.0, 10.0, 12.0, 14.0]
    samples = np.array([narrow, wide])[:, :, None]
    assert pick("ucb", samples, objs, [[10.0]], q=2).tolist() == [1, 0]
    # the greedy baseline ignores spread: equal medians keep index order
    assert pick("greedy", samples, objs, [[10.0]], q=2).tolist() == [0, 1]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-100, 100), min_size=1, max_size=8),
    st.floats(-100, 100),
)
def test_expected_improvement_zero_iff_no_sample_beats_best(values, best):
    ei = expected_improvement(np.array([values]), best)[0]
    assert ei >= 0
    assert (ei > 0) == any(v < best for v in values)


def test_ei_zero_for_all_worse_candidate_positive_otherwise():
    # maximize accuracy: best verified is 92
    worse = [88.0, 89.0, 90.0, 91.0]
    hopeful = [85.0, 86.0, 87.0, 93.0]  # worse median, one sample beats 92
    samples = np.array([worse, hopeful])[:, :, None]
    ei = expected_improvement(-samples[:, :, 0], -92.0)
    assert ei[0] == 0 and ei[1] == pytest.approx(0.25)
    assert pick("ei", samples, ONE, [[92.0], [80.0]], q=2).tolist() == [1, 0]
    # nothing verified: best median (89.5) is the target, the hopeful one still leads
    assert pick("ei", samples, ONE, np.empty((0, 1)), q=2).tolist() == [1, 0]


# ----- hypervolume improvement and EHVI -----------------------------------------------------
def test_ehvi_tiny_2d_example_by_hand():
    # both minimized; verified front (1, 3), (3, 1); reference (4, 4)
    objs = Objectives.parse(["lat_ms", "size_mb"], reference={"lat_ms": 4.0, "size_mb": 4.0})
    front, ref = np.array([[1.0, 3.0], [3.0, 1.0]]), np.array([4.0, 4.0])
    pts = np.array([[2.0, 2.0], [2.1, 2.1], [0.5, 3.5], [5.0, 5.0], [3.0, 3.0]])
    # (2,2): box 4 minus dominated 2 + 2 - 1 = 1; (2.1,2.1): 3.61 - 2.8; (0.5,3.5): 1.75 - 1.5
    want = [1.0, 0.81, 0.25, 0.0, 0.0]
    assert hypervolume_improvement(pts, front, ref) == pytest.approx(want)
    a = [[2.0, 2.0], [2.0, 2.0]]  # EHVI 1
    c = [[2.1, 2.1], [2.1, 2.1]]  # EHVI 0.81, but dominated once a's median is believed
    b = [[0.5, 3.5], [5.0, 5.0]]  # EHVI (0.25 + 0) / 2
    samples = np.array([b, c, a])
    assert pick("ehvi", samples, objs, front, q=1).tolist() == [2]
    assert pick("ehvi", samples, objs, front, q=3).tolist() == [2, 0, 1]


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([1, 2, 3]), st.integers(0, 7))
def test_hypervolume_improvement_matches_pymoo(seed, m, n_front):
    rng = np.random.default_rng(seed)
    front, points, ref = rng.random((n_front, m)), rng.random((6, m)), np.full(m, 1.05)
    got = hypervolume_improvement(points, front, ref)
    base = hypervolume(front, ref)
    want = [hypervolume(np.vstack([front, p]), ref) - base for p in points]
    assert got == pytest.approx(want, abs=1e-12)


def brute_force_ehvi(F, front, ref, q):
    """Plain sequential greedy EHVI, all candidates re-scored each pick (no pruning)."""
    picks = []
    for _ in range(q):
        base = hypervolume(front, ref)
        gain = [
            -1.0
            if i in picks
            else np.mean([hypervolume(np.vstack([front, s]), ref) - base for s in F[i]])
            for i in range(len(F))
        ]
        if max(gain) <= 1e-12:
            break
        picks.append(int(np.argmax(gain)))
        front = np.vstack([front, np.median(F[picks[-1]], axis=0)])
    return picks


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([2, 3]))
def test_lazy_ehvi_equals_brute_force_greedy(seed, m):
    rng = np.random.default_rng(seed)
    names = ["lat_a", "lat_b", "lat_c"][:m]
    objs = Objectives.parse(names, reference=dict.fromkeys(names, 1.2))
    F = rng.random((12, 4, m))
    front = rng.random((3, m)) + 0.3
    want = brute_force_ehvi(F, front, np.full(m, 1.2), q=4)
    assert pick("ehvi", F, objs, front, q=4).tolist()[: len(want)] == want

    class OneAtATime(ExpectedHypervolumeImprovement):
        block = 1  # re-score a single stale candidate at a time: the lazy path proper

    assert OneAtATime().select(F, objs, front, 4, RNG).tolist()[: len(want)] == want


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([2, 3]), st.booleans())
def test_ehvi_never_picks_a_dominated_candidate_when_one_improves(seed, m, derive_ref):
    rng = np.random.default_rng(seed)
    names = ["lat_a", "lat_b", "lat_c"][:m]
    objs = Objectives.parse(names, reference=None if derive_ref else dict.fromkeys(names, 10.0))
    d = rng.dirichlet(np.ones(m), 5)
    front = 2.0 + d / np.linalg.norm(d, axis=1, keepdims=True)  # sphere patch inside [2, 3]
    # every sample of these lies at or behind some front point
    owner = rng.integers(0, 5, (30, 4))
    dominated = front[owner] + rng.random((30, 4, m)) * rng.integers(0, 2, (30, 4, 1))
    improving = np.full((1, 4, m), 4.0)
    improving[0, 0] = front.min(axis=0) - 0.1  # one sample beats the whole front
    samples = np.concatenate([dominated, improving])
    slot = int(rng.integers(0, 31))
    samples[[slot, 30]] = samples[[30, slot]]
    assert pick("ehvi", samples, objs, front, q=1).tolist() == [slot]


def test_ehvi_runs_at_campaign_size():
    # N=2000, k=8, M=2 and M=3 (params as a cheap column, constant across samples), q=10
    rng = np.random.default_rng(3)
    for names in (["acc_cifar10_test", "lat_ms"], ["acc_cifar10_test", "lat_ms", "params"]):
        m = len(names)
        mu = rng.random((2000, 1, m)) * [10.0, 5.0, 1e6][:m] + [85.0, 1.0, 1e5][:m]
        noise = rng.standard_normal((2000, 8, m)) * [1.0, 0.3, 0.0][:m]
        verified = mu[rng.choice(2000, 50), 0] + [-1.0, 0.5, 0.0][:m]
        picks = pick("ehvi", mu + noise, Objectives.parse(names), verified, q=10)
        assert len(set(picks.tolist())) == 10


# ----- batches, constraints, directions -----------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.sampled_from(sorted(ACQUISITIONS)),
    st.integers(1, 12),
    st.integers(1, 15),
)
def test_batches_are_distinct_and_full(seed, name, n, q):
    rng = np.random.default_rng(seed)
    objs = ONE if ACQUISITIONS[name].single else TWO
    m = len(objs)
    samples = np.round(rng.normal(size=(n, 5, m)), 1)  # rounding makes ties common
    picks = pick(name, samples, objs, np.round(rng.normal(size=(3, m)), 1), q=q)
    assert len(picks) == min(n, q) == len(set(picks.tolist()))
    assert ((0 <= picks) & (picks < n)).all()


@pytest.mark.parametrize("name", sorted(ACQUISITIONS))
def test_feasible_candidate_beats_better_infeasible_one(name):
    if ACQUISITIONS[name].single:
        objs = Objectives.parse(["acc_cifar10_test"], constraints=["acc_cifar10_test <= 95"])
        infeasible, feasible = [[97.0], [96.0], [98.0]], [[92.0], [93.0], [94.0]]
        verified = [[91.0], [99.0]]  # 99 violates, so the best feasible verified is 91
    else:
        objs = Objectives.parse(["acc_cifar10_test", "lat_ms"], constraints=["lat_ms <= 5"])
        infeasible = [[95.0, 6.0], [96.0, 5.5], [95.5, 7.0]]
        feasible = [[90.0, 4.0], [90.5, 4.5], [91.0, 3.0]]
        verified = [[89.0, 4.8], [99.0, 9.0]]
    samples = np.array([infeasible, feasible])
    assert pick(name, samples, objs, verified, q=2).tolist() == [1, 0]


@pytest.mark.parametrize("name", sorted(ACQUISITIONS))
def test_nothing_feasible_picks_least_expected_violation(name):
    objs = Objectives.parse(["lat_ms"], constraints=["lat_ms <= 1"])
    samples = np.array([[3.0, 3.5], [1.5, 2.5], [9.0, 2.0]])[:, :, None]  # violations 2.25, 1, 4.5
    assert pick(name, samples, objs, [[0.5]], q=3).tolist() == [1, 0, 2]


def test_probability_of_feasibility_counts_samples():
    objs = Objectives.parse(["acc_cifar10_test", "lat_ms"], constraints=["lat_ms <= 5"])
    seen = {}

    class Spy(Acquisition):
        name = "spy"

        def _select(self, cands: Candidates, q, rng):
            seen.update(feasible=cands.feasible, violation=cands.violation, F=cands.F)
            return np.arange(q)

    samples = np.array([[[90.0, 4.0], [91.0, 6.0], [92.0, 5.0], [93.0, 8.0]]])
    Spy().select(samples, objs, NONE2, 1, RNG)
    assert seen["feasible"].tolist() == [0.5] and seen["violation"].tolist() == [1.0]
    assert seen["F"][0, 0].tolist() == [-90.0, 4.0]  # minimization form


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from(sorted(ACQUISITIONS)), st.booleans())
def test_flipping_a_column_and_its_direction_keeps_the_picks(seed, name, with_reference):
    rng = np.random.default_rng(seed)
    single = ACQUISITIONS[name].single
    m = 1 if single else 2
    samples = rng.normal(size=(20, 6, m)) + rng.normal(size=(20, 1, m))
    verified = rng.normal(size=(4, m))
    ref = dict(zip(["y0", "y1"][:m], [2.0, 2.5])) if with_reference else None
    objs = Objectives(
        [Objective(n, d) for n, d in zip(["y0", "y1"][:m], ["maximize", "minimize"])],
        [Constraint("y0", ">=", -0.5)],
        ref,
    )
    flip = np.array([-1.0, 1.0][:m])
    flipped_ref = None if ref is None else {"y0": -2.0, "y1": 2.5} if m == 2 else {"y0": -2.0}
    flipped = Objectives(
        [Objective(n, d) for n, d in zip(["y0", "y1"][:m], ["minimize", "minimize"])],
        [Constraint("y0", "<=", 0.5)],
        flipped_ref,
    )
    a = pick(name, samples, objs, verified, q=5)
    b = pick(name, samples * flip, flipped, verified * flip, q=5)
    assert a.tolist() == b.tolist()
