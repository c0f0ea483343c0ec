"""Both built-in spaces pass the plugin conformance suite; its failures name what to fix."""

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from plugin_space import MisnamedWeightsSpace, MlpSpace

from searchlab.core.registry import load_space
from searchlab.testing import SpaceConformance, check_keys, check_onnx_matches_torch

TESTS = Path(__file__).parent


class TestNb201(SpaceConformance):
    def make_space(self):
        return load_space("nb201")


class TestNb201Cifar100(SpaceConformance):
    def make_space(self):
        return load_space("nb201", num_classes=100)


SCRIPT = """
from plugin_space import MlpSpace
from searchlab.testing import check_space


class ScriptSpace(MlpSpace):
    name = "script_space"


check_space(ScriptSpace())
print("ScriptSpace conforms")
"""


def test_space_defined_in_a_script_passes(tmp_path):
    (tmp_path / "my_script.py").write_text(SCRIPT)
    env = dict(os.environ, PYTHONPATH=str(TESTS))
    proc = subprocess.run(
        [sys.executable, "my_script.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ScriptSpace conforms"


def test_space_defined_in_a_function_passes():
    class LocalSpace(MlpSpace):
        name = "local_space"

    check_keys(LocalSpace())


def test_space_that_cannot_reach_a_fresh_process_says_what_to_do():
    class LockedSpace(MlpSpace):
        name = "locked_space"
        lock = threading.Lock()

    with pytest.raises(AssertionError) as info:
        check_keys(LockedSpace())
    message = str(info.value)
    assert "'locked_space'" in message and "LockedSpace" in message
    assert "define it in an importable module" in message


def test_wrong_weight_name_is_reported_as_the_author_wrote_it():
    expected = "export_weights names differ from the graph's weight inputs: missing ['w0'], "
    expected += "extra ['weight0']"
    with pytest.raises(AssertionError, match=re.escape(expected)):
        check_onnx_matches_torch(MisnamedWeightsSpace())
