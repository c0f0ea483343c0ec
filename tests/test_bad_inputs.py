"""The bad-input matrix: each bad input gets one clear error naming the problem, and the
stored campaign, checkpoint and data files beside it are left exactly as they were.

The "world" is a finished campaign's run folder, a checkpoint and CSV files; every case runs
against it (through the CLI where a user would meet the problem) and the world is compared,
file by file (databases by their SQL dump), before and after.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from searchlab import load_space
from searchlab.cli import main

FAST = ["surrogate=none", "progress=false", "report=false", "rounds.batch=5"]
BAD_ONNX = '<ir_version: 8, opset_import: ["" : 17]>\ng (float[1] x) => (y) { y = Relu(x'


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("world")
    assert main(["run", "budget=10", *FAST, f"run_dir={root / 'run'}"]) == 0
    space = load_space("nb201")
    table = space.benchmark()
    genotypes = [space.genotype_to_str(c.genotype) for c in table.candidates(np.arange(40))]

    def write(name, rows, header=("arch_str", "lat_ms_x")):
        with open(root / name, "w", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(header)
            out.writerows(rows)

    write("ok.csv", [(g, 1.0 + i) for i, g in enumerate(genotypes)])
    write("nan.csv", [(g, "nan" if i == 3 else 1.0 + i) for i, g in enumerate(genotypes)])
    write("inf.csv", [(g, "inf" if i == 3 else 1.0 + i) for i, g in enumerate(genotypes)])
    write("negative.csv", [(g, -1.0 - i) for i, g in enumerate(genotypes)])
    write("no_target.csv", [(g,) for g in genotypes], header=("arch_str",))
    unknown = genotypes[:5] + [genotypes[5].replace("nor_conv_3x3", "conv_7x7", 1)]
    write("unknown_op.csv", [(g, 1.0 + i) for i, g in enumerate(unknown)] * 2)
    default = Path(__file__).parents[1] / "searchlab" / "checkpoints" / "default"
    for name in ("corrupt", "truncated", "version"):
        shutil.copytree(default, root / name)
    (root / "corrupt" / "model.safetensors").write_bytes(b"not a tensor file" * 20)
    weights = (root / "truncated" / "model.safetensors").read_bytes()
    (root / "truncated" / "model.safetensors").write_bytes(weights[: len(weights) // 2])
    config = json.loads((root / "version" / "config.json").read_text())
    (root / "version" / "config.json").write_text(json.dumps({**config, "version": 99}))
    return root


def snapshot(root: Path) -> dict[str, str]:
    """Content of every file under root (SQLite databases as their SQL dump)."""
    out = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.suffix == ".db":
            with contextlib.closing(sqlite3.connect(path)) as conn:
                data = "\n".join(conn.iterdump()).encode()
        elif path.name.endswith(("-journal", "-wal", "-shm")):
            continue
        else:
            data = path.read_bytes()
        out[str(path.relative_to(root))] = hashlib.sha256(data).hexdigest()
    return out


def cli(*args: str) -> str:
    """Run the CLI, require exit code 2 (a user error), return what it printed."""
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = main(list(args))
    assert code == 2, f"exit {code}: {err.getvalue()}{out.getvalue()}"
    return err.getvalue() + out.getvalue()


def api(fn) -> str:
    """Call fn, require an exception, return its type name and message."""
    with pytest.raises(Exception) as info:
        fn()
    return f"{type(info.value).__name__}: {info.value}"


def fit(root: Path, data: str) -> str:
    return cli("fit", f"data={root / data}", "targets=[lat_ms_x]", "text_column=arch_str",
               "space=nb201", f"out={root.parent / 'fit-out'}", "train.epochs=1")  # fmt: skip


def evaluate(root: Path, model: str) -> str:
    return cli("evaluate", f"model={root / model}", f"data={root / 'ok.csv'}",
               "targets=[lat_ms_x]", "text_column=arch_str", "space=nb201")  # fmt: skip


def evaluate_edited(root: Path, name: str, file: str, old: str, new: str) -> str:
    """Evaluate with a copy of the bundled checkpoint whose ``file`` had ``old`` made ``new``."""
    copy = root.parent / name
    shutil.copytree(Path(__file__).parents[1] / "searchlab" / "checkpoints" / "default", copy,
                    dirs_exist_ok=True)  # fmt: skip
    (copy / file).write_text((copy / file).read_text().replace(old, new))
    return evaluate(root, f"../{name}")


def raising_mutate(root: Path) -> None:
    """A space plugin whose mutate raises, driving the stored campaign further."""
    from searchlab.campaign.loop import Campaign, CampaignSettings
    from searchlab.core.objectives import Objectives
    from searchlab.store.study import CampaignStore
    from searchlab.strategies import make_strategy
    from searchlab.verifiers import make_verifier
    from spaces.nb201 import Nb201Space

    class Broken(Nb201Space):
        def _mutate(self, genotype, rng):
            raise RuntimeError("mutate is broken in this plugin")

    space = Broken()
    objs = Objectives.parse(["acc_cifar10_test", "lat_ms_hwnb_pixel3"])
    url = f"sqlite:///{root / 'run' / 'campaign.db'}"
    name = json.loads((root / "run" / "summary.json").read_text())["name"]
    store = CampaignStore.open(url, name, {}, objs, compare=())
    strategy = make_strategy("rea", space, objs, seed=0, population=5, sample=3)
    verifier = make_verifier("tabular", space)
    Campaign(space, strategy, None, verifier, objs, store, CampaignSettings(batch=5)).run(20)


CASES = {
    "malformed ONNX text": (
        lambda r: api(
            lambda: __import__("searchlab.core.onnx_text").core.onnx_text.check_text(
                BAD_ONNX, "cand.onnx.txt"
            )
        ),  # fmt: skip
        ["OnnxTextError", "cand.onnx.txt", "not valid ONNX text"],
    ),
    "op the space does not know": (
        lambda r: fit(r, "unknown_op.csv"),
        ["unknown_op.csv", "conv_7x7"],
    ),
    "genotype of the wrong length": (
        lambda r: api(lambda: load_space("nb201").candidate(["none"] * 4)),
        ["SpaceError", "nb201", "expected 6 choices, got 4"],
    ),
    "unknown space name": (lambda r: cli("sample", "space=nosuch"), ["unknown space 'nosuch'"]),
    "unknown strategy name": (
        lambda r: cli("resume", str(r / "run"), "strategy.name=nosuch"),
        ["unknown strategy 'nosuch'", "rea"],
    ),
    "config value of the wrong type": (
        lambda r: cli("run", "budget=abc", *FAST, f"run_dir={r / 'run'}"),
        ["budget", "abc"],
    ),
    "link blend of no columns": (
        lambda r: cli(
            "run",
            "budget=10",
            "progress=false",
            "surrogate.link_proxies=0",
            f"run_dir={r / 'never'}",
        ),  # fmt: skip
        ["surrogate.link_proxies", "at least 1", "got 0"],
    ),
    "unknown trust rule": (
        lambda r: cli(
            "run", "budget=10", "progress=false", "rounds.trust=blind", f"run_dir={r / 'never'}"
        ),
        ["rounds.trust", "measured", "'blind'"],
    ),
    "config missing a required field": (
        lambda r: cli("worker", "campaign=x"),
        ["storage", "Missing mandatory value"],
    ),
    "NaN target in a fit CSV": (lambda r: fit(r, "nan.csv"), ["nan.csv", "line 5", "lat_ms_x"]),
    "inf target in a fit CSV": (
        lambda r: fit(r, "inf.csv"),
        ["inf.csv", "line 5", "not a finite number"],
    ),
    "negative latency in a fit CSV": (
        lambda r: fit(r, "negative.csv"),
        ["negative.csv", "line 2", "negative latency"],
    ),
    "CSV without the target column": (
        lambda r: fit(r, "no_target.csv"),
        ["no_target.csv", "missing column", "lat_ms_x"],
    ),
    "corrupt checkpoint": (lambda r: evaluate(r, "corrupt"), ["model.safetensors", "corrupt"]),
    "truncated checkpoint": (
        lambda r: evaluate(r, "truncated"),
        ["truncated/model.safetensors", "corrupt"],
    ),
    "checkpoint of another version": (
        lambda r: evaluate(r, "version"),
        ["config.json", "version 99"],
    ),
    "space plugin whose mutate raises": (
        lambda r: api(lambda: raising_mutate(r)),
        ["SpaceError", "nb201", "mutate raised RuntimeError", "mutate is broken"],
    ),
    "storage URL that cannot be reached": (
        lambda r: cli("resume", str(r / "run"), "storage=postgresql+psycopg://x@127.0.0.1:9/db"),
        ["cannot open storage", "127.0.0.1:9"],
    ),
    "run folder of another campaign": (
        lambda r: cli("run", "strategy=nsga2", *FAST, f"run_dir={r / 'run'}"),
        ["holds campaign", "use another run_dir"],
    ),
    "constraint on an unknown objective": (
        lambda r: cli("resume", str(r / "run"), "objectives.constraints=[lat_ms_nosuch<=5]"),
        ["lat_ms_nosuch"],
    ),
    "objective no verifier provides": (
        lambda r: cli("resume", str(r / "run"), "objectives.names=[acc_nosuch_test]"),
        ["acc_nosuch_test"],
    ),
    # --- install and space cases ---
    "unknown setting for searchlab spaces": (
        lambda r: cli("spaces", "nosuch=1"),
        ["searchlab spaces", "nosuch"],
    ),
    "space plugin exporting a weight its graph does not name": (
        lambda r: api(
            lambda: __import__("searchlab.testing").testing.check_space(
                load_space("plugin_space:MisnamedWeightsSpace")
            )
        ),
        ["misnamed_weights", "missing ['w0']", "extra ['weight0']"],
    ),
    # --- run folder, resume and command-line cases ---
    "resume with a value of the wrong type": (
        lambda r: cli("resume", str(r / "run"), "budget=abc"),
        ["budget", "abc"],
    ),
    "resume with an unknown setting": (
        lambda r: cli("resume", str(r / "run"), "nosuch=1"),
        ["nosuch"],
    ),
    "resume with an argument that is not key=value": (
        lambda r: cli("resume", str(r / "run"), "budget"),
        ["budget", "key=value"],
    ),
    "run with a budget of 0": (
        lambda r: cli("run", "budget=0", *FAST, f"run_dir={r / 'run'}"),
        ["budget", "at least 1"],
    ),
    "run with rounds.batch=0": (
        lambda r: cli("run", *FAST, "rounds.batch=0", f"run_dir={r / 'run'}"),
        ["rounds.batch", "at least 1"],
    ),
    "run with rounds.k=0": (
        lambda r: cli("run", "rounds.k=0", *FAST, f"run_dir={r / 'run'}"),
        ["rounds.k", "at least 1"],
    ),
    "run_dir that is a file": (
        lambda r: cli("run", *FAST, f"run_dir={r / 'ok.csv'}"),
        ["run_dir", "ok.csv", "not a folder"],
    ),
    "sample out= that is a file": (
        lambda r: cli("sample", "n=2", f"out={r / 'ok.csv'}"),
        ["out=", "ok.csv", "not a folder"],
    ),
    "front with extra arguments": (
        lambda r: cli("front", str(r / "run"), "foo=1", "bar"),
        ["foo=1", "bar"],
    ),
    "resume of a folder without a database": (
        lambda r: cli("resume", str(r / "run"), f"storage=sqlite:///{r / 'none.db'}"),
        ["no database", "none.db"],
    ),
    "unquoted comparison in a list": (
        lambda r: cli("run", "objectives.constraints=[lat_ms_hwnb_pixel3<=5]", *FAST),
        ["objectives.constraints", "quote"],
    ),
    # --- data, checkpoint and fit cases ---
    "CSV with bytes that are not UTF-8": (
        lambda r: [
            (r.parent / "latin1.csv").write_bytes((r / "ok.csv").read_bytes() + b"caf\xe9,1\n"),
            fit(r, "../latin1.csv"),
        ][-1],
        ["latin1.csv", "line 42", "not UTF-8"],
    ),
    "CSV field over the size limit": (
        lambda r: [
            (r.parent / "long.csv").write_text((r / "ok.csv").read_text() + '"' + "x" * 200_000),
            fit(r, "../long.csv"),
        ][-1],
        ["long.csv", "line 42", "a field longer than"],
    ),
    "CSV giving a candidate again with other values": (
        lambda r: [
            (r.parent / "conflict.csv").write_text(
                (r / "ok.csv").read_text() + (r / "ok.csv").read_text().splitlines()[1] + "9\n"
            ),
            fit(r, "../conflict.csv"),
        ][-1],
        ["conflict.csv", "line 42", "of line 2 again, with other values"],
    ),
    "evaluate with k=0": (
        lambda r: cli("evaluate", f"data={r / 'ok.csv'}", "targets=[lat_ms_x]", "k=0"),
        ["k must be at least 1, got 0"],
    ),
    "checkpoint whose number format was edited": (
        lambda r: evaluate_edited(r, "numbers", "config.json", '"digits": 4', '"digits": 3'),
        ["numbers/config.json", "number format", "does not match the fingerprint"],
    ),
    "checkpoint with another model's tokenizer": (
        lambda r: evaluate_edited(
            r, "swapped", "tokenizer.json", '"e1":300,"32":301', '"e1":301,"32":300'
        ),
        ["swapped/tokenizer.json", "does not match the fingerprint"],
    ),
    "fit out= an existing file": (
        lambda r: cli(
            "fit",
            f"data={r / 'ok.csv'}",
            "targets=[lat_ms_x]",
            "space=nb201",
            f"out={r / 'nan.csv'}",
            "train.epochs=1",
        ),
        ["out=", "nan.csv is a file"],
    ),
    # --- campaign log and export cases ---
    "export over an existing file": (
        lambda r: cli("export", str(r / "run"), f"out={r / 'ok.csv'}"),
        ["ok.csv", "exists", "overwrite=true"],
    ),
    "export of a folder that is no run folder": (
        lambda r: cli("export", str(r / "corrupt")),
        ["corrupt", "no config.yaml"],
    ),
    "export with a value that is not a boolean": (
        lambda r: cli("export", str(r / "run"), "overwrite=maybe"),
        ["overwrite", "'maybe'", "not true or false"],
    ),
    "export with an unknown argument": (
        lambda r: cli("export", str(r / "run"), "format=xlsx"),
        ["format=xlsx", "out=", "verified_only="],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_gives_a_clear_error_and_changes_nothing(world, case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # hydra's output folders go to the cwd, not the checkout
    action, fragments = CASES[case]
    before = snapshot(world)
    message = action(world)
    for fragment in fragments:
        assert fragment in message, f"{case}: {fragment!r} not in {message!r}"
    assert len(message.strip().splitlines()) <= 3, f"{case}: not a short message: {message}"
    assert snapshot(world) == before, f"{case}: stored files changed"
