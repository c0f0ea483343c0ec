"""The searchlab command: listing, sampling, writing texts, one-line errors."""

import json
import re
import subprocess
import sys

import pytest

from searchlab.cli import main
from searchlab.core.onnx_text import check_text


def test_sample_prints_and_writes(tmp_path, capsys):
    assert main(["sample", "space=nb201", "n=4", "seed=3", f"out={tmp_path}"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines()[1:] if not line.startswith("wrote")]
    assert len(rows) == 4
    records = [
        json.loads(line) for line in (tmp_path / "candidates.jsonl").read_text().splitlines()
    ]
    assert len(records) == 4
    for rec in records:
        text = (tmp_path / f"{rec['key']}.onnx.txt").read_text()
        check_text(text)
        assert rec["params"] > 0 and rec["flops"] > 0


def test_sample_is_seeded(capsys):
    assert main(["sample", "n=3", "seed=5"]) == 0
    first = capsys.readouterr().out
    assert main(["sample", "n=3", "seed=5"]) == 0
    assert capsys.readouterr().out == first
    assert main(["sample", "n=3", "seed=6"]) == 0
    other = capsys.readouterr().out
    keys = [line.split()[0] for line in first.splitlines()[1:]]
    assert len(keys) == 3 and all(re.fullmatch("[0-9a-f]{16}", k) for k in keys), first
    assert other != first


def test_spaces_lists_metrics(capsys):
    assert main(["spaces"]) == 0
    out = capsys.readouterr().out
    assert "nb201" in out and "acc_cifar10_test" in out and "lat_ms_hwnb_pixel3" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["sample", "space=nope"], "unknown space 'nope'"),
        (["sample", "n=abc"], "could not be converted to Integer"),
        (["sample", "n=0"], "n must be at least 1"),
        (["sample", "bogus=1"], "Could not override 'bogus'"),
        (["sample", "space.args.num_classes=7"], "num_classes must be 10, 100 or 120"),
        (["frobnicate"], "unknown command 'frobnicate'"),
    ],
)
def test_errors_are_one_clear_line(args, message):
    proc = subprocess.run(
        [sys.executable, "-m", "searchlab.cli", *args], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_sample_out_that_is_a_file_is_refused(tmp_path, capsys):
    target = tmp_path / "taken"
    target.write_text("keep me\n")
    assert main(["sample", "n=2", f"out={target}"]) == 2
    err = capsys.readouterr().err
    assert "out=" in err and "not a folder" in err and "FileExistsError" not in err
    assert target.read_text() == "keep me\n"


COMMANDS = ["run", "resume", "front", "worker", "sample", "spaces", "fit", "evaluate", "pretrain"]


@pytest.mark.parametrize("flag", ["--help", "-h"])
@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command, flag, capsys):
    assert main([command, flag]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith(f"usage: searchlab {command}") and captured.err == ""


def test_run_help_names_the_settings_and_how_to_quote(capsys):
    assert main(["run", "--help"]) == 0
    out = capsys.readouterr().out
    for needle in ("budget=", "rounds.batch", "rounds.k", "storage=", "run_dir=", "space=",
                   'objectives.constraints=["lat_ms_hwnb_pixel3<=5"]', "-m"):  # fmt: skip
        assert needle in out, needle


def test_help_command_and_top_level_help(capsys):
    assert main(["help", "resume"]) == 0
    assert capsys.readouterr().out.startswith("usage: searchlab resume")
    assert main(["--help"]) == 0
    assert "searchlab COMMAND --help" in capsys.readouterr().out


def test_worker_without_arguments_is_a_usage_line():
    proc = subprocess.run(
        [sys.executable, "-m", "searchlab.cli", "worker"], capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "usage: searchlab worker storage=URL campaign=NAME" in lines[0]
    assert "storage" in lines[0] and "campaign" in lines[0] and proc.stdout == ""
