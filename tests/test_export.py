"""`searchlab export RUN`: every verified and predicted candidate as CSV, ready for `fit`."""

from __future__ import annotations

import contextlib
import csv
import io
import shutil
import sqlite3

import pytest
from test_campaign import OracleSurrogate

from searchlab import load_space
from searchlab.cli import main
from searchlab.cli.launch import build
from searchlab.core.objectives import Objectives
from searchlab.store.study import CampaignStore

FAST = ["progress=false", "report=false", "rounds.batch=5", "rounds.pool=30", "rounds.k=4"]
OBJS = ["acc_cifar10_test", "lat_ms_hwnb_pixel3"]
NAME = "nb201-acc_latency-local-none-seed0"


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def read(path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def dump(db) -> str:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return "\n".join(conn.iterdump())


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A finished campaign's run folder; its later rounds were screened by a surrogate."""
    folder = tmp_path_factory.mktemp("export") / "run"
    assert main(["run", f"run_dir={folder}", "budget=10", "surrogate=none", *FAST]) == 0
    # the same campaign, with a stand-in surrogate: its predictions are stored as the RLM's
    from omegaconf import OmegaConf

    cfg = OmegaConf.to_container(OmegaConf.load(folder / "config.yaml"), resolve=True)
    campaign = build(cfg, folder, load_surrogate=False)
    campaign.surrogate = OracleSurrogate(campaign.space)
    campaign.settings.initial, campaign.run_dir = 5, None  # the stand-in keeps no checkpoint
    campaign.run(budget=20)
    return folder


def test_export_writes_every_verified_and_predicted_candidate(run, tmp_path):
    db = run / "campaign.db"
    before = dump(db)
    out = tmp_path / "all.csv"
    code, printed, err = cli("export", str(run), f"out={out}")
    assert code == 0, err
    assert f"to {out}" in printed and "searchlab fit" in printed
    rows = read(out)
    objectives = Objectives.parse(OBJS)
    store = CampaignStore.open(f"sqlite:///{db}", NAME, {}, objectives, compare=())
    trials = store.trials()
    assert [r["key"] for r in rows[: len(trials)]] == [t.key for t in trials]
    assert {r["state"] for r in rows[: len(trials)]} == {"COMPLETE"}
    scored = rows[len(trials) :]
    assert scored and {r["state"] for r in scored} == {"SCORED"}
    assert not {r["key"] for r in scored} & {t.key for t in trials}
    space = load_space("nb201")
    for row, t in zip(rows, trials):
        assert row["genotype"] == space.genotype_to_str(t.candidate().genotype)
        assert row["text"] == t.text and int(row["round"]) == t.round
        for name in OBJS:
            assert float(row[name]) == t.values[name]
            assert row[f"source_{name}"] == "benchmark"
            if t.predicted:
                assert float(row[f"predicted_{name}"]) == t.predicted[name]
                assert [float(row[f"low_{name}"]), float(row[f"high_{name}"])] == t.interval[name]
            else:
                assert row[f"predicted_{name}"] == row[f"low_{name}"] == ""
    assert sum(bool(t.predicted) for t in trials) == 10  # rounds 2 and 3 were screened
    for row in scored:
        assert row["text"] == "" and row[OBJS[0]] == "" and row["model"] == "oracle"
        assert space.from_str(row["genotype"]).key == row["key"]
        assert float(row[f"low_{OBJS[1]}"]) <= float(row[f"predicted_{OBJS[1]}"])
    assert dump(db) == before  # reading changed nothing in the store


def test_export_refuses_to_overwrite_unless_told(run, tmp_path):
    out = run / "candidates.csv"
    assert cli("export", str(run))[0] == 0  # the default file
    out.write_text("kept\n")
    code, printed, err = cli("export", str(run))
    assert code == 2 and printed == ""
    assert f"{out} exists" in err and "overwrite=true" in err and len(err.splitlines()) == 1
    assert out.read_text() == "kept\n"
    code, _, err = cli("export", str(run), "overwrite=true", "verified_only=true")
    assert code == 0, err
    assert {r["state"] for r in read(out)} == {"COMPLETE"} and len(read(out)) == 20
    out.unlink()


def test_export_never_creates_a_database(run, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    shutil.copy(run / "config.yaml", empty / "config.yaml")
    code, printed, err = cli("export", str(empty))
    assert code == 2 and "no database" in err and "is not there" in err and str(empty) in err
    assert sorted(p.name for p in empty.iterdir()) == ["config.yaml"]


@pytest.mark.parametrize(
    ("text_column", "space"), [("genotype", "space=nb201"), ("text", "space=null")]
)
def test_searchlab_fit_reads_an_export(run, tmp_path, text_column, space):
    data = tmp_path / "all.csv"  # predicted-only rows included: fit skips them
    assert cli("export", str(run), f"out={data}")[0] == 0
    model = tmp_path / "model"
    code, printed, err = cli(
        "fit", f"data={data}", f"targets=[{OBJS[1]}]", f"text_column={text_column}", space,
        f"out={model}", "train.epochs=1", "train.eval_batch=32", "device=cpu", "link=false",
    )  # fmt: skip
    assert code == 0, err
    assert "fitting" in printed and "16 rows (4 for early stopping)" in printed
    assert "skipped" in err and "empty" in err and "not measured" in err
    assert (model / "model_card.json").is_file()
