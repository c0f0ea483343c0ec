"""Campaign results on real NB201 numbers: fronts, hypervolume curve, files, summary."""

import csv
import json
import re
import subprocess
import sys

import numpy as np
import pytest

from searchlab import load_space
from searchlab.core.objectives import Objectives
from searchlab.core.pareto import hypervolume
from searchlab.report.results import write_results
from searchlab.report.summary import fronts, hypervolume_curve, standing, summary

ACC, LAT = "acc_cifar10_test", "lat_ms_hwnb_pixel3"
NOISE = {ACC: 1.0, LAT: 0.6}
BOUND = 12.0  # lat_ms_hwnb_pixel3 <= BOUND; about half of NB201 satisfies it


@pytest.fixture(scope="module")
def nb201():
    space = load_space("nb201")
    return space, space.benchmark()


def make_records(nb201, n=120, n_verified=70, seed=0, failed=True):
    """Benchmark truth as verified values; predictions = truth + seeded noise."""
    space, table = nb201
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(table), n, replace=False)
    order = rng.permutation(n_verified + failed)
    records = []
    for i, (row, cand) in enumerate(zip(rows, table.candidates(rows))):
        truth = {name: float(table.column(name)[row]) for name in NOISE}
        pred = {name: v + float(rng.normal(0, NOISE[name])) for name, v in truth.items()}
        verified = i < n_verified
        fails = failed and i == n_verified
        records.append(
            {
                "key": cand.key,
                "space": "nb201",
                "genotype": "|".join(table.genotype(row)),
                "round": i // 20,
                "predicted": pred,
                "spread": dict(NOISE),
                "interval": {
                    k: [v - 1.28 * NOISE[k], v + 1.28 * NOISE[k]] for k, v in pred.items()
                },
                "model": "default@test",
                "verified": truth if verified else None,
                "source": "benchmark" if verified else None,
                "verified_order": int(order[i]) if verified or fails else None,
                "computed": {
                    "params": float(space.params(cand)),
                    "flops": float(space.flops(cand)),
                },
                "error": "NaN loss" if fails else None,
            }
        )
    return records


@pytest.fixture(scope="module")
def records(nb201):
    return make_records(nb201)


def objectives(reference=None, constrained=True):
    constraints = [f"{LAT} <= {BOUND}"] if constrained else []
    return Objectives.parse([ACC, LAT], constraints=constraints, reference=reference)


def brute_front(points):
    """Indices of (acc, lat) points no other point dominates (acc maximized, lat minimized)."""
    return {
        i
        for i, (a, t) in enumerate(points)
        if not any(b >= a and u <= t and (b > a or u < t) for b, u in points)
    }


def test_verified_and_predicted_fronts_match_brute_force(records):
    objs = objectives()
    got = fronts(records, objs)
    feasible = [r for r in records if r["verified"] and r["verified"][LAT] <= BOUND]
    points = [(r["verified"][ACC], r["verified"][LAT]) for r in feasible]
    expected = {feasible[i]["key"] for i in brute_front(points)}
    assert {e["key"] for e in got["verified"]} == expected and len(expected) >= 3
    accs = [e["values"][ACC] for e in got["verified"]]
    assert accs == sorted(accs)
    assert all(
        e["values"] == {ACC: e["verified"][ACC], LAT: e["verified"][LAT]} for e in got["verified"]
    )
    # predicted front: every record with a prediction except failed / verified-infeasible ones
    pool = [
        r
        for r in records
        if not r["error"]
        and r["predicted"][LAT] <= BOUND
        and not (r["verified"] and r["verified"][LAT] > BOUND)
    ]
    points = [(r["predicted"][ACC], r["predicted"][LAT]) for r in pool]
    assert {e["key"] for e in got["predicted"]} == {pool[i]["key"] for i in brute_front(points)}


def test_infeasible_records_are_never_on_a_front(records):
    objs = objectives(reference={ACC: 80.0, LAT: 20.0})
    best = max(r["verified"][ACC] for r in records if r["verified"])
    cheat = dict(records[0], key="f" * 16, verified_order=1000)
    cheat["verified"] = {ACC: best + 5, LAT: BOUND + 1}  # best accuracy, breaks the bound
    cheat["predicted"] = {ACC: best + 5, LAT: 0.01}  # and predicted to dominate everything
    guess = dict(records[-1], key="e" * 16, predicted={ACC: best + 5, LAT: BOUND + 3})
    both = fronts(records + [cheat, guess], objs)
    assert cheat["key"] not in {e["key"] for f in both.values() for e in f}
    assert guess["key"] not in {e["key"] for e in both["predicted"]}
    assert all(e["values"][LAT] <= BOUND for f in both.values() for e in f)
    unconstrained = fronts(records + [cheat], objectives(constrained=False))
    assert cheat["key"] in {e["key"] for e in unconstrained["verified"]}
    before = hypervolume_curve(records, objs)[-1]["hypervolume"]
    assert hypervolume_curve(records + [cheat], objs)[-1]["hypervolume"] == before
    assert (
        summary(records + [cheat], objs)["infeasible"] == summary(records, objs)["infeasible"] + 1
    )


@pytest.mark.parametrize("where", ["objectives", "argument", "data"])
def test_hypervolume_curve_grows_to_hypervolume_of_all_verified(records, where):
    given = {ACC: 85.0, LAT: BOUND}
    objs = objectives(reference=given if where == "objectives" else None)
    curve = hypervolume_curve(records, objs, reference=given if where == "argument" else None)
    attempts = [r for r in records if r["verified"] or r["error"]]
    assert [row["evaluations"] for row in curve] == list(range(1, len(attempts) + 1))
    hv = np.array([row["hypervolume"] for row in curve])
    assert np.all(np.diff(hv) >= 0) and hv[-1] > 0
    feasible = [r["verified"] for r in records if r["verified"] and r["verified"][LAT] <= BOUND]
    F = objs.to_min(feasible)
    if where == "data":
        ref = F.max(axis=0) + 0.1 * (F.max(axis=0) - F.min(axis=0))
    else:
        ref = objs.to_min([given])[0]
    assert all(row["reference_from"] == where for row in curve)
    assert curve[-1]["reference"] == pytest.approx({ACC: -ref[0], LAT: ref[1]})
    assert hv[-1] == pytest.approx(hypervolume(F, ref), rel=1e-12)
    assert summary(records, objs)["hypervolume"] == hv[-1] or where == "argument"


def test_single_objective_gives_best_so_far(nb201, records, tmp_path):
    objs = Objectives.parse([ACC])
    curve = hypervolume_curve(records, objs)
    ordered = sorted(
        (r for r in records if r["verified"] or r["error"]), key=lambda r: r["verified_order"]
    )
    accs = [r["verified"][ACC] if r["verified"] else -np.inf for r in ordered]
    assert [row["best"][ACC] for row in curve] == np.maximum.accumulate(accs).tolist()
    assert [row["hypervolume"] for row in curve] == sorted(row["hypervolume"] for row in curve)
    _, table = nb201
    optimum = float(np.nanmax(table.column(ACC)))
    paths = write_results(tmp_path, records, objs, true_front=[{ACC: optimum}, {ACC: 90.0}])
    assert all(p.stat().st_size > 0 for p in paths.values())
    with open(paths["hypervolume.csv"]) as fh:
        rows = list(csv.DictReader(fh))
    assert [float(r[f"best_{ACC}"]) for r in rows] == [row["best"][ACC] for row in curve]
    assert all(0 < float(r["hypervolume_ratio"]) <= 1 for r in rows)


def benchmark_front(table):
    """The benchmark's feasible (acc, lat) front as value dicts, by a sort-and-sweep."""
    acc, lat = table.column(ACC), table.column(LAT)
    front, top = [], -np.inf
    for i in np.lexsort((-acc, lat)):
        if lat[i] <= BOUND and acc[i] > top:
            front.append({ACC: float(acc[i]), LAT: float(lat[i])})
            top = acc[i]
    return front


def test_write_results_writes_every_file(nb201, records, tmp_path):
    _, table = nb201
    objs = objectives()
    paths = write_results(tmp_path / "run", records, objs, benchmark_front(table), "nb201 demo")
    names = {"front_verified.csv", "front_verified.json", "front_predicted.csv"}
    names |= {"front_predicted.json", "hypervolume.csv", "pareto.png", "hypervolume.png"}
    names |= {"parity.png", "report.html"}
    assert set(paths) == names
    assert all(p.parent == tmp_path / "run" and p.stat().st_size > 0 for p in paths.values())
    assert all(
        paths[n].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for n in names if n.endswith("png")
    )
    both = fronts(records, objs)
    for kind in ("verified", "predicted"):
        assert json.loads(paths[f"front_{kind}.json"].read_text()) == both[kind]
        with open(paths[f"front_{kind}.csv"]) as fh:
            rows = list(csv.DictReader(fh))
        assert [r["key"] for r in rows] == [e["key"] for e in both[kind]]
        assert [float(r[ACC]) for r in rows] == [e["values"][ACC] for e in both[kind]]
    with open(paths["hypervolume.csv"]) as fh:
        ratios = [float(r["hypervolume_ratio"]) for r in csv.DictReader(fh)]
    assert len(ratios) == len(hypervolume_curve(records, objs)) and 0 < ratios[-1] <= 1
    page = paths["report.html"].read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]*\ssrc\s*=", page, re.IGNORECASE)
    assert "<link" not in page and "@import" not in page
    record = both["verified"][0]
    assert record["key"] in page and record["genotype"] in page
    assert len(re.findall(r'"updatemenus":\[\{', page)) == 1  # x and y dropdowns of the scatter
    assert '"xaxis.title.text"' in page and '"yaxis.title.text"' in page
    assert "verification failed" in page


def test_cheap_objectives_come_from_computed_values(records, tmp_path):
    objs = Objectives.parse([ACC, LAT, "params"], constraints=[f"{LAT} <= {BOUND}"])
    front = fronts(records, objs)["verified"]
    pool = [r for r in records if r["verified"] and r["verified"][LAT] <= BOUND]
    F = objs.to_min([{**r["verified"], **r["computed"]} for r in pool])
    dominated = [any((G <= f).all() and (G < f).any() for G in F) for f in F]
    assert {e["key"] for e in front} == {r["key"] for r, d in zip(pool, dominated) if not d}
    assert all(e["values"]["params"] == e["computed"]["params"] for e in front)
    paths = write_results(tmp_path, records, objs)
    with open(paths["front_verified.csv"]) as fh:
        assert [float(r["params"]) for r in csv.DictReader(fh)] == [
            e["values"]["params"] for e in front
        ]


@pytest.mark.parametrize("empty", [True, False])
def test_nothing_verified_writes_files_and_zero_summary(nb201, tmp_path, empty):
    records = [] if empty else make_records(nb201, n=12, n_verified=0, seed=3, failed=False)
    objs = objectives()
    paths = write_results(tmp_path, records, objs)
    assert len(paths) == 9 and all(p.stat().st_size > 0 for p in paths.values())
    assert json.loads(paths["front_verified.json"].read_text()) == []
    assert hypervolume_curve(records, objs) == []
    info = summary(records, objs)
    assert info["candidates"] == (0 if empty else 12) and info["predicted"] == info["candidates"]
    assert (info["verified"], info["failed"], info["front_size"]) == (0, 0, 0)
    assert info["hypervolume"] == 0.0 and info["best"] == {ACC: None, LAT: None}
    assert json.loads(json.dumps(info)) == info


def test_summary_counts_and_best(records):
    objs = objectives()
    info = summary(records, objs)
    feasible = [r for r in records if r["verified"] and r["verified"][LAT] <= BOUND]
    assert (info["candidates"], info["predicted"], info["verified"], info["failed"]) == (
        120,
        120,
        70,
        1,
    )
    assert info["infeasible"] == 70 - len(feasible)
    top = max(feasible, key=lambda r: r["verified"][ACC])
    assert info["best"][ACC] == top["verified"][ACC] and info["best_keys"][ACC] == top["key"]
    assert info["best"][LAT] == min(r["verified"][LAT] for r in feasible)
    assert info["front_size"] == len(fronts(records, objs)["verified"])
    assert info["hypervolume"] == hypervolume_curve(records, objs)[-1]["hypervolume"] > 0


@pytest.mark.parametrize("reference", [None, {ACC: 85.0, LAT: BOUND}])
def test_standing_gives_the_summary_best_and_hypervolume_from_values(records, reference):
    objs = objectives(reference=reference)
    ordered = sorted((r for r in records if r["verified"]), key=lambda r: r["verified_order"])
    best, hv = standing([r["verified"] for r in ordered], objs)
    info = summary(records, objs)
    assert best == info["best"] and hv == pytest.approx(info["hypervolume"], rel=1e-12)
    assert standing([], objs) == ({ACC: None, LAT: None}, 0.0)
    infeasible = [{ACC: 99.0, LAT: BOUND + 1}]
    assert standing(infeasible, objs) == ({ACC: None, LAT: None}, 0.0)


def test_importing_report_does_not_import_plotting_libraries():
    code = (
        "import sys, searchlab.report.summary\n"
        "print(sorted({'matplotlib', 'plotly'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
