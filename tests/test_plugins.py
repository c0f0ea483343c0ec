"""Third-party spaces plug in by dotted path and by entry point, without edits to searchlab."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from searchlab import SpaceError, available_spaces, load_space
from searchlab.cli import main
from searchlab.core.registry import UnknownSpaceError
from searchlab.testing import SpaceConformance, check_space

TESTS = Path(__file__).parent


class TestThirdPartyConformance(SpaceConformance):
    def make_space(self):
        return load_space("plugin_space:MlpSpace")


@pytest.fixture
def entry_point_dir(tmp_path, monkeypatch):
    """A fake installed distribution registering the toy space under the searchlab group."""
    dist = tmp_path / "toy_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[searchlab.spaces]\ntoy = plugin_space:MlpSpace\naliased = plugin_space:AliasedMlpSpace\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_dotted_path_loads_and_samples():
    space = load_space("plugin_space:MlpSpace")
    c = space.sample(np.random.default_rng(0))
    assert c.space == "toy_mlp" and space.params(c) > 0


def test_entry_point_registration(entry_point_dir):
    assert available_spaces()["toy"] == "plugin_space:MlpSpace"
    space = load_space("toy")
    check_space(space)


def test_entry_point_space_from_cli(entry_point_dir):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(entry_point_dir), str(TESTS)]))
    proc = subprocess.run(
        [sys.executable, "-m", "searchlab.cli", "sample", "space=toy", "n=3", "seed=1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line and not line.startswith("key")]
    assert len(rows) == 3


def _spaces_listing(capsys) -> dict[str, list[str]]:
    """Run ``searchlab spaces``; its lines under each space's heading, by space name."""
    assert main(["spaces"]) == 0
    listing: dict[str, list[str]] = {}
    for line in capsys.readouterr().out.splitlines():
        if not line.startswith(" "):
            listing[line.split()[0]] = []
        else:
            listing[list(listing)[-1]].append(line.strip())
    return listing


def test_spaces_counts_genotypes_and_distinct_networks(entry_point_dir, capsys):
    listing = _spaces_listing(capsys)
    assert "genotypes: 64" in listing["aliased"]
    assert "distinct networks (keys): 27" in listing["aliased"]
    assert "genotypes: 27" in listing["toy"] and "distinct networks (keys): 27" in listing["toy"]
    assert "genotypes: 15,625" in listing["nb201"]
    assert "distinct networks (keys): not counted (more than 20,000 genotypes)" in listing["fbnet"]


def test_spaces_does_not_render_a_large_space_for_long(entry_point_dir, capsys):
    started = time.perf_counter()
    listing = _spaces_listing(capsys)
    (line,) = [x for x in listing["nb201"] if x.startswith("distinct networks (keys)")]
    assert re.fullmatch(
        r"distinct networks \(keys\): not counted \(all 15,625 would take about \d+ s\)", line
    )
    assert time.perf_counter() - started < 30


def test_spaces_reports_a_plugin_that_cannot_render(entry_point_dir, capsys, monkeypatch):
    import plugin_space

    def broken(self, genotype):
        raise RuntimeError("render bug")

    monkeypatch.setattr(plugin_space.AliasedMlpSpace, "_onnx", broken)
    listing = _spaces_listing(capsys)
    assert any("not counted" in x and "render bug" in x for x in listing["aliased"])
    assert "distinct networks (keys): 27" in listing["toy"]


def test_plugin_that_raises_gives_one_clear_error():
    space = load_space("plugin_space:BrokenMutateSpace")
    c = space.sample(np.random.default_rng(0))
    with pytest.raises(SpaceError, match="'broken_mutate': mutate raised RuntimeError: plugin bug"):
        space.mutate(c, np.random.default_rng(0))


@pytest.mark.parametrize(
    "name, message",
    [
        ("no_such_space", "unknown space 'no_such_space'"),
        ("plugin_space:Nope", "has no 'Nope'"),
        ("no_such_module:Space", "importing module 'no_such_module' failed"),
        ("numpy:ndarray", "is not a searchlab Space subclass"),
    ],
)
def test_unknown_spaces(name, message):
    with pytest.raises(UnknownSpaceError, match=message):
        load_space(name)


def test_the_tokenizer_corpus_ignores_installed_plugins(entry_point_dir):
    """The vocabulary's corpus is the spaces named (the built-ins unless told), so an installed
    plugin does not change what fit and pretrain learn."""
    from searchlab.rlm.pretrain import BUILTIN_SPACES, tokenizer_corpus

    assert "toy" in available_spaces()
    corpus = tokenizer_corpus(per_space=3, seed=1)
    rng = np.random.default_rng(1)
    expected = [load_space(n).sample(rng).text for n in BUILTIN_SPACES for _ in range(3)]
    assert corpus == expected
    assert not any("\nmlp (" in t for t in corpus)
    named = tokenizer_corpus(["toy"], per_space=2)
    assert len(named) == 2 and all("\nmlp (" in t for t in named)
