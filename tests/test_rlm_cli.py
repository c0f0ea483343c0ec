"""`searchlab fit` and `searchlab evaluate` on real NB201 rows, and their input errors."""

import csv
import json
import lzma
import shutil
from itertools import islice
from pathlib import Path

import pytest

from searchlab import load_space
from searchlab.cli import main
from searchlab.rlm.regressor import RegressionLanguageModel
from spaces.nb201 import DATA

CELL = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
TINY = [
    "model.d_model=32",
    "model.n_heads=2",
    "model.enc_layers=1",
    "model.dec_layers=1",
    "model.d_ff=64",
    "vocab_size=600",
    "train.epochs=2",
    "train.min_steps=1",
]


@pytest.fixture(scope="module")
def nb201_csv(tmp_path_factory):
    """The first 120 rows of the bundled NB201 table as a plain CSV."""
    with lzma.open(DATA / "nb201_acc_latency.csv.xz", "rt") as fh:
        reader = csv.DictReader(fh)
        rows = [next(reader) for _ in range(120)]
    path = tmp_path_factory.mktemp("data") / "nb201.csv"
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def unseen():
    """Rows 120..159 of the bundled NB201 table: rows `fitted` never trained on."""
    with lzma.open(DATA / "nb201_acc_latency.csv.xz", "rt") as fh:
        return list(islice(csv.DictReader(fh), 120, 160))


def write_csv(path, rows, encoding="utf-8"):
    with open(path, "w", newline="", encoding=encoding) as fh:
        # the text column first: a byte-order mark would glue onto its name
        writer = csv.DictWriter(
            fh, fieldnames=["arch_str", *(k for k in rows[0] if k != "arch_str")]
        )
        writer.writeheader()
        writer.writerows(rows)
    return path


def strict_json(line):
    """Parse a JSON line, refusing NaN and Infinity (json.loads accepts them by default)."""
    return json.loads(line, parse_constant=lambda c: pytest.fail(f"{c} is not valid JSON"))


def evaluate(model, data, capsys, *extra):
    code = main(["evaluate", f"model={model}", f"data={data}", "targets=[acc_cifar10_test]",
                 "space=nb201", "k=1", *extra])  # fmt: skip
    out, err = capsys.readouterr()
    return code, out.strip().splitlines(), err


def tune(data, init, out, capsys, *extra):
    code = main(["fit", f"data={data}", "targets=[acc_cifar10_test]", "space=nb201",
                 f"init={init}", f"out={out}", "train.epochs=2", *extra])  # fmt: skip
    out_text, err = capsys.readouterr()
    return code, out_text, err


@pytest.fixture(scope="module")
def fitted(nb201_csv, tmp_path_factory):
    out = tmp_path_factory.mktemp("ck") / "fit"
    args = [
        f"data={nb201_csv}",
        "targets=[acc_cifar10_test,lat_ms_hwnb_eyeriss]",
        "text_column=arch_str",
        "space=nb201",
        "n_train=40",
        "seed=0",
        "init=scratch",
        f"out={out}",
    ]
    assert main(["fit", *args, *TINY]) == 0
    return out


def test_fit_writes_a_checkpoint_listing_its_rows(fitted):
    card = json.loads((fitted / "model_card.json").read_text())
    (group,) = card["trained_on"]
    assert group["columns"] == ["acc_cifar10_test", "lat_ms_hwnb_eyeriss"]
    assert len(group["keys"]) == 40
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= {
        p.name for p in fitted.iterdir()
    }


def test_evaluate_skips_trained_rows_and_ends_with_json(fitted, nb201_csv, capsys):
    args = [
        f"model={fitted}",
        f"data={nb201_csv}",
        "targets=[acc_cifar10_test]",
        "space=nb201",
        "k=2",
    ]
    assert main(["evaluate", *args]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert "80 rows to predict, 40 skipped" in out[0]
    summary = json.loads(out[-1])
    stats = summary["targets"]["acc_cifar10_test"]
    assert stats["n"] == 80 and set(stats) == {"kendall", "spearman", "mae", "coverage80", "n"}
    assert 0.0 <= stats["coverage80"] <= 1.0


def test_fine_tune_from_a_checkpoint_with_raw_text(fitted, tmp_path):
    path = tmp_path / "raw.csv"
    path.write_text(
        "text,lat_ms_new_device\n"
        + "".join(f'"g (x) => (y) {{ y = Relu{i % 7} (x) }}",{1.5 + i % 7}\n' for i in range(30))
    )
    out = tmp_path / "tuned"
    assert (
        main(
            [
                "fit",
                f"data={path}",
                "targets=[lat_ms_new_device]",
                "text_column=text",
                "space=null",
                f"init={fitted}",
                f"out={out}",
                "train.epochs=1",
            ]
        )
        == 0
    )
    card = json.loads((out / "model_card.json").read_text())
    assert [g["columns"] for g in card["trained_on"]][-1] == ["lat_ms_new_device"]
    assert len(card["trained_on"]) == 2  # the parent's rows stay listed


@pytest.mark.parametrize(
    "content, targets, message",
    [
        (
            "arch_str,acc\n|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,nan\n",
            "[acc]",
            "line 2, column 'acc': value nan is not a finite number",
        ),
        (
            "arch_str,lat_ms_x\n|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,-3\n",
            "[lat_ms_x]",
            "negative latency -3.0",
        ),
        (
            "arch_str,acc\n|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,inf\n",
            "[acc]",
            "value inf is not a finite number",
        ),
        (
            "arch_str,acc\n|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,1\n",
            "[missing]",
            "missing column(s) ['missing']",
        ),
        (
            "arch_str,acc\n|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|,1\n",
            "[acc]",
            "line 2, column 'arch_str'",
        ),
        (
            f"arch_str,acc\n{CELL},1\n{CELL},caf\xe9\n".encode("latin-1"),
            "[acc]",
            "bad.csv, line 3: not UTF-8 text (byte 0xe9 at column 52)",
        ),
        (
            f'arch_str,acc\n{CELL},1\n"{CELL},2\n' + "x" * 200_000 + "\n",
            "[acc]",
            "bad.csv, line 3: a field longer than 131072 characters",
        ),
        (
            f"arch_str,acc\n{CELL},1\n{CELL},2\n",
            "[acc]",
            f"bad.csv, line 3: candidate {load_space('nb201').from_str(CELL).key} "
            "of line 2 again, with other values",
        ),
    ],
    ids=["nan", "negative", "inf", "missing", "genotype", "latin-1", "long-field", "conflict"],
)
def test_bad_csv_input_is_one_clear_error(tmp_path, capsys, content, targets, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    out = tmp_path / "never"
    code = main(
        [
            "fit",
            f"data={path}",
            f"targets={targets}",
            "space=nb201",
            f"out={out}",
            "init=scratch",
            *TINY,
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_unknown_checkpoint_is_named(nb201_csv, capsys):
    assert (
        main(["evaluate", "model=/no/such/ck", f"data={nb201_csv}", "targets=[acc_cifar10_test]"])
        == 2
    )
    assert "checkpoint '/no/such/ck' not found" in capsys.readouterr().err


def test_evaluate_reads_a_csv_with_a_byte_order_mark(fitted, unseen, tmp_path, capsys):
    data = write_csv(tmp_path / "excel.csv", unseen[:5], encoding="utf-8-sig")
    code, out, err = evaluate(fitted, data, capsys)
    assert code == 0, err
    assert "5 rows to predict" in out[0]
    assert strict_json(out[-1])["targets"]["acc_cifar10_test"]["n"] == 5


def test_evaluate_collapses_identical_repeats_with_a_warning(fitted, unseen, tmp_path, capsys):
    data = write_csv(tmp_path / "twice.csv", unseen[:6] + unseen[:2])
    code, out, err = evaluate(fitted, data, capsys)
    assert code == 0, err
    assert err.count("warning") == 1
    assert "2 repeated rows (lines 8, 9)" in err
    assert strict_json(out[-1])["targets"]["acc_cifar10_test"]["n"] == 6


def test_evaluate_refuses_a_candidate_repeated_with_other_values(fitted, unseen, tmp_path, capsys):
    data = write_csv(
        tmp_path / "conflict.csv", unseen[:6] + [{**unseen[1], "acc_cifar10_test": "1"}]
    )
    code, out, err = evaluate(fitted, data, capsys)
    assert code == 2 and out == []
    assert "conflict.csv, line 8: candidate" in err and "of line 3 again, with other values" in err


def test_evaluate_on_one_row_ends_with_valid_json(fitted, unseen, tmp_path, capsys):
    code, out, err = evaluate(fitted, write_csv(tmp_path / "one.csv", unseen[:1]), capsys)
    assert code == 0, err
    stats = strict_json(out[-1])["targets"]["acc_cifar10_test"]
    assert stats["kendall"] is None and stats["spearman"] is None and stats["n"] == 1
    assert stats["mae"] >= 0


def test_evaluate_refuses_k_zero(fitted, unseen, tmp_path, capsys):
    code, out, err = evaluate(fitted, write_csv(tmp_path / "d.csv", unseen[:3]), capsys, "k=0")
    assert code == 2 and out == []
    assert "k must be at least 1, got 0" in err and len(err.strip().splitlines()) == 1


def test_fit_refuses_an_out_that_is_a_file_before_training(fitted, unseen, tmp_path, capsys):
    taken = tmp_path / "notes.txt"
    taken.write_text("keep me\n")
    data = write_csv(tmp_path / "d.csv", unseen[:20])
    code, out, err = tune(data, fitted, taken, capsys)
    assert code == 2
    assert "epoch" not in out
    assert f"out={taken} is a file" in err and len(err.strip().splitlines()) == 1
    assert taken.read_text() == "keep me\n"


def test_fit_collapses_identical_repeats_with_a_warning(fitted, unseen, tmp_path, capsys):
    data = write_csv(tmp_path / "twice.csv", unseen[:20] + unseen[:1])
    code, out, err = tune(data, fitted, tmp_path / "ck", capsys)
    assert code == 0, err
    assert "1 repeated row (line 22)" in err
    card = json.loads((tmp_path / "ck" / "model_card.json").read_text())
    assert len(card["trained_on"][-1]["keys"]) == 20
    assert card["fits"][-1]["examples"] + card["fits"][-1]["validation_examples"] == 20


def test_fit_on_too_few_rows_for_early_stopping_says_so_once(fitted, unseen, tmp_path, capsys):
    data = write_csv(tmp_path / "few.csv", unseen[:14])
    code, out, err = tune(data, fitted, tmp_path / "ck", capsys)
    assert code == 0, err
    assert err.count("too few rows") == 1
    assert "14 rows" in err and "fixed number of epochs" in err
    assert "val tau" not in out and "epoch   1" in out


def swap_two_ids(tokenizer):
    """Another model's tokenizer of the same size: two ids mean other text."""
    vocab = tokenizer["model"]["vocab"]
    first, second = list(vocab)[300:302]
    vocab[first], vocab[second] = vocab[second], vocab[first]


@pytest.mark.parametrize(
    "name, change, code, message",
    [
        # same vocabulary sizes, other meaning: no check but the fingerprint sees these two
        ("config.json", lambda c: c["numbers"].update(digits=3), 2, "config.json: the number"),
        ("tokenizer.json", swap_two_ids, 2, "tokenizer.json does not match the fingerprint"),
        ("config.json", lambda c: c.pop("fingerprint"), 0, "3 rows to predict"),
    ],
    ids=["number-format", "tokenizer", "written-before-fingerprints"],
)
def test_fingerprint_refuses_changed_tokenizers(
    fitted, unseen, tmp_path, capsys, name, change, code, message
):
    copied = shutil.copytree(fitted, tmp_path / "copy")
    assert set(json.loads((copied / "config.json").read_text())["fingerprint"]) == {
        "tokenizer.json",
        "numbers",
    }
    content = json.loads((copied / name).read_text())
    change(content)
    (copied / name).write_text(json.dumps(content))
    got, out, err = evaluate(copied, write_csv(tmp_path / "d.csv", unseen[:3]), capsys)
    assert got == code, err
    assert message in (err if code else out[0])
    assert code == 0 or (out == [] and f"{copied}" in err and "fingerprint" in err)


@pytest.mark.parametrize("folder", ["searchlab/checkpoints/default"])
def test_bundled_checkpoints_carry_matching_fingerprints(folder):
    path = Path(__file__).parents[1] / folder
    assert "fingerprint" in json.loads((path / "config.json").read_text())
    RegressionLanguageModel.load(path, device="cpu")
