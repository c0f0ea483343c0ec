"""`searchlab fit` and `searchlab evaluate` on real NB201 rows, and their input errors."""

import csv
import json
import lzma

import pytest

from searchlab.cli import main
from spaces.nb201 import DATA

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
    assert stats["n"] == 80 and set(stats) == {"kendall", "spearman", "mae", "n"}


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
    ],
)
def test_bad_csv_input_is_one_clear_error(tmp_path, capsys, content, targets, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
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
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_unknown_checkpoint_is_named(nb201_csv, capsys):
    assert (
        main(["evaluate", "model=/no/such/ck", f"data={nb201_csv}", "targets=[acc_cifar10_test]"])
        == 2
    )
    assert "checkpoint '/no/such/ck' not found" in capsys.readouterr().err
