"""The bundled NB201 benchmark: every cell, the published optimum, distinct keys, clear misses."""

import csv
import lzma

import numpy as np
import pytest

from searchlab import BenchmarkMissError, TabularBenchmark, load_space
from spaces.nb201 import DATA


@pytest.fixture(scope="module")
def nb201():
    return load_space("nb201")


def test_covers_all_cells_with_published_optima(nb201):
    table = nb201.benchmark()
    assert len(table) == 15625 == nb201.size
    for column, best in [
        ("acc_cifar10_test", 94.373),
        ("acc_cifar100_test", 73.513),
        ("acc_imagenet16_120_test", 47.311),
    ]:
        cand, value = table.best(column)
        assert round(value, 3) == best
        assert table.lookup(cand)[column] == value
    assert {"lat_ms_hwnb_pixel3", "lat_ms_hwnb_eyeriss", "lat_ms_gold_6226"} <= set(table.columns)


def test_all_rows_map_to_distinct_keys(nb201):
    table = nb201.benchmark()
    keys = {c.key for c in table.candidates()}
    assert len(keys) == 15625


def test_lookup_agrees_with_the_raw_csv(nb201):
    table = nb201.benchmark()
    with lzma.open(DATA / "nb201_acc_latency.csv.xz", "rt") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows[::1500]:
        metrics = table.lookup(nb201.from_str(row["arch_str"]))
        assert metrics["acc_cifar10_test"] == pytest.approx(float(row["acc_cifar10_test"]))
        assert metrics["lat_ms_hwnb_pixel3"] == pytest.approx(float(row["lat_ms_hwnb_pixel3"]))


def test_missing_candidate_names_space_and_key(nb201, tmp_path):
    path = tmp_path / "two.csv"
    path.write_text(
        "arch_str,acc\n"
        "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,10.0\n"
        "|skip_connect~0|+|none~0|none~1|+|none~0|none~1|none~2|,11.0\n"
    )
    table = TabularBenchmark.from_csv(path, nb201, genotype_column="arch_str")
    missing = nb201.from_str("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    with pytest.raises(BenchmarkMissError, match=f"'nb201' has no row for candidate {missing.key}"):
        table.lookup(missing)
    with pytest.raises(BenchmarkMissError, match="no column 'nope'"):
        table.column("nope")


def test_bad_csv_is_reported_with_file_and_line(nb201, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("arch_str,acc\n|none~0|+|none~0|none~1|,1.0\n")
    with pytest.raises(ValueError, match=r"bad.csv, line 2, arch_str"):
        TabularBenchmark.from_csv(path, nb201, genotype_column="arch_str")
    with pytest.raises(ValueError, match="no column 'arch'"):
        TabularBenchmark.from_csv(path, nb201, genotype_column="arch")


def test_arch_strings_round_trip(nb201):
    table = nb201.benchmark()
    rng = np.random.default_rng(0)
    for row in rng.choice(len(table), 50, replace=False):
        genotype = table.genotype(int(row))
        assert nb201.genotype_from_str(nb201.genotype_to_str(genotype)) == genotype


CELL = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"


def test_a_byte_order_mark_is_not_part_of_the_first_column(nb201, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(f"arch_str,acc\n{CELL},10.0\n".encode("utf-8-sig"))
    table = TabularBenchmark.from_csv(path, nb201, genotype_column="arch_str")
    assert table.columns == ["acc"] and len(table) == 1


def test_bytes_that_are_not_utf8_name_the_file_and_line(nb201, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(f"arch_str,acc\n{CELL},10.0\n{CELL},caf\xe9\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin1.csv, line 3: not UTF-8 text \(byte 0xe9"):
        TabularBenchmark.from_csv(path, nb201, genotype_column="arch_str")


def test_an_overlong_field_names_the_file_and_line(nb201, tmp_path):
    path = tmp_path / "long.csv"
    path.write_text(f'arch_str,acc\n{CELL},10.0\n"{CELL},11.0\n' + "x" * 200_000 + "\n")
    with pytest.raises(ValueError, match=r"long.csv, line 3: a field longer than 131072 char"):
        TabularBenchmark.from_csv(path, nb201, genotype_column="arch_str")
