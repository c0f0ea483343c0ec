"""Conformance suite for search-space plugins: one call checks everything the core relies on.

Run it from a plain script or test::

    from searchlab.testing import check_space
    check_space(MySpace())

or subclass the pytest class to get one test per property::

    from searchlab.testing import SpaceConformance

    class TestMySpace(SpaceConformance):
        def make_space(self):
            return MySpace()
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import cloudpickle
import numpy as np
import torch

from searchlab.core.candidate import Candidate, text_key
from searchlab.core.graph_cost import data_inputs, weight_inputs, with_weights
from searchlab.core.onnx_text import check_text, parse_text, strip_weights, to_text
from searchlab.core.space import Space

TOLERANCE = 1e-4


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def check_determinism(space: Space, n: int = 5) -> None:
    """The same seed gives the same candidates; different seeds give different ones."""
    a = [c.key for c in _draw(space, 11, n)]
    b = [c.key for c in _draw(space, 11, n)]
    assert a == b, f"space {space.name!r}: same seed gave different candidates"
    assert len({c.key for c in _draw(space, 12, n)}) > 1, f"{space.name!r}: samples never differ"


def check_mutation(space: Space, n: int = 10) -> None:
    """Mutation returns a different, valid candidate, reproducibly for a seed."""
    for parent in _draw(space, 1, n):
        child = space.mutate(parent, _rng(2))
        assert child.key != parent.key, f"{space.name!r}: mutate returned its parent"
        assert child == space.mutate(parent, _rng(2)), f"{space.name!r}: mutate not seeded"
        assert space.candidate(child.genotype) == child
    if space.has_crossover():
        a, b = _draw(space, 3, 2)
        child = space.crossover(a, b, _rng(4))
        assert child == space.crossover(a, b, _rng(4)), f"{space.name!r}: crossover not seeded"


def check_text_parses(space: Space, n: int = 5) -> None:
    """Texts parse back with onnx.parser, pass the checker with shape inference, re-render.

    A space of texts other than networks must parse its texts back (``from_text``)."""
    if not space.renders_network:
        for c in _draw(space, 5, n):
            assert isinstance(c.text, str) and c.text, f"{space.name!r}: empty text"
            from_text = getattr(space, "from_text", None)
            assert from_text is not None, f"{space.name!r}: no from_text to parse texts back"
            assert from_text(c.text) == c, f"{space.name!r}: text does not parse back"
        return
    for c in _draw(space, 5, n):
        model = check_text(c.text, f"{space.name} candidate {c.key}")
        assert to_text(model) == c.text, f"{space.name!r}: text does not re-render identically"
        assert not len(model.graph.initializer), f"{space.name!r}: text carries weights"


def check_keys(space: Space, n: int = 5) -> None:
    """Keys hash the text; genotype strings round-trip; keys agree across processes."""
    cands = _draw(space, 6, n)
    for c in cands:
        assert c.key == text_key(c.text)
        again = space.candidate(c.genotype)
        assert again.text == c.text, f"{space.name!r}: same genotype gave different text"
        assert space.from_str(space.genotype_to_str(c.genotype)) == c
        assert Candidate.from_dict(json.loads(json.dumps(c.to_dict()))) == c
    # A fresh interpreter (its own hash seed, its own import order) rebuilds the space and
    # renders the genotypes again. cloudpickle sends the class by reference when it is
    # importable and by value when it is not (a script's or notebook's __main__, a function).
    cls = type(space)
    # a space declared by data (a configuration space) is rebuilt from its declaration
    declared = space.declaration() if hasattr(space, "declaration") else {}
    genotypes = [json.loads(c.genotype_json()) for c in cands]
    try:
        payload = cloudpickle.dumps((cls, declared, genotypes))
    except Exception as exc:
        raise AssertionError(
            f"{space.name!r}: cannot send class {cls.__qualname__} to a fresh process for the "
            f"key check ({type(exc).__name__}: {exc}); define it in an importable module"
        ) from exc
    code = (
        "import json,pickle,sys\n"
        "S,declared,genotypes=pickle.loads(sys.stdin.buffer.read())\n"
        "s=S(**declared)\n"
        "print(json.dumps([s.candidate(g).key for g in genotypes]))"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.run(
        [sys.executable, "-c", code], input=payload, capture_output=True, env=env, timeout=300
    )
    assert proc.returncode == 0, (
        f"{space.name!r}: key check in a fresh process failed:\n{proc.stderr.decode()}"
    )
    # the child builds the space with default arguments: compare only when those reproduce it
    if cls(**declared).candidate(cands[0].genotype).key == cands[0].key:
        assert json.loads(proc.stdout) == [c.key for c in cands], "keys differ across processes"


def check_torch_forward(space: Space, n: int = 2, batch: int = 3) -> None:
    """The torch module runs a batch and returns one finite row per example (networks)."""
    if not space.renders_network:
        return
    for c in _draw(space, 8, n):
        module = space.to_torch(c).eval()
        with torch.no_grad():
            out = module(torch.randn(batch, *space.input_shape))
        assert out.shape[0] == batch, f"{space.name!r}: output batch {out.shape[0]} != {batch}"
        assert torch.isfinite(out).all(), f"{space.name!r}: non-finite outputs"


def check_onnx_matches_torch(space: Space, n: int = 3, batch: int = 2) -> None:
    """The ONNX graph with the module's weights gives the module's outputs (onnxruntime)."""
    if not space.renders_network:
        return
    import onnxruntime as ort

    torch.manual_seed(0)
    for c in _draw(space, 9, n):
        module = space.to_torch(c)
        randomize_norm_layers(module)
        module.eval()
        # compare the names the author wrote (the core renames them to canonical ones)
        authored_model, given = space.authored(c, module)
        authored = strip_weights(authored_model)[0]
        wanted = set(weight_inputs(authored))
        assert set(given) == wanted, (
            f"{space.name!r}: export_weights names differ from the graph's weight inputs: "
            f"missing {sorted(wanted - set(given))[:5]}, extra {sorted(set(given) - wanted)[:5]}"
        )
        model = space.to_onnx(c)
        weights = space.export_weights(c, module)
        expected = set(weight_inputs(model))
        assert set(weights) == expected, (
            f"{space.name!r}: weights renamed to the canonical text's names differ from its "
            f"inputs: missing {sorted(expected - set(weights))[:5]}, "
            f"extra {sorted(set(weights) - expected)[:5]}"
        )
        assert sum(int(np.prod(w.shape)) for w in weights.values()) == space.params(c)
        x = torch.randn(batch, *space.input_shape)
        with torch.no_grad():
            want = module(x).numpy()
        session = ort.InferenceSession(
            with_weights(model, weights).SerializeToString(), providers=["CPUExecutionProvider"]
        )
        (data_name,) = data_inputs(model)
        got = session.run(None, {data_name: x.numpy()})[0]
        np.testing.assert_allclose(
            got,
            want,
            rtol=TOLERANCE,
            atol=TOLERANCE,
            err_msg=f"{space.name!r}: ONNX and torch differ for candidate {c.key}",
        )


def check_encoding(space: Space, n: int = 10) -> None:
    """encode() gives finite 1-D vectors of one length; a network's params/flops are
    positive integers."""
    cands = _draw(space, 10, n)
    vecs = [space.encode(c) for c in cands]
    assert len({v.shape for v in vecs}) == 1 and vecs[0].ndim == 1, "encodings differ in shape"
    assert all(np.isfinite(v).all() for v in vecs)
    assert len({v.tobytes() for v in vecs}) > 1, f"{space.name!r}: every encoding is the same"
    for c in cands[:3] if space.renders_network else []:
        assert space.params(c) > 0 and space.flops(c) > 0


ALL_CHECKS = (
    check_determinism,
    check_mutation,
    check_text_parses,
    check_keys,
    check_torch_forward,
    check_onnx_matches_torch,
    check_encoding,
)


def check_space(space: Space) -> None:
    """Run every conformance check on a space; raise AssertionError on the first failure."""
    for check in ALL_CHECKS:
        check(space)


def randomize_norm_layers(module: torch.nn.Module, seed: int = 0) -> None:
    """Give batch-norm layers non-trivial statistics so folding errors cannot hide."""
    gen = torch.Generator().manual_seed(seed)
    for layer in module.modules():
        if isinstance(layer, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d, torch.nn.BatchNorm3d)):
            n = layer.num_features
            with torch.no_grad():
                layer.running_mean.copy_(torch.rand(n, generator=gen) - 0.5)
                layer.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
                if layer.affine:
                    layer.weight.copy_(torch.rand(n, generator=gen) + 0.5)
                    layer.bias.copy_(torch.rand(n, generator=gen) - 0.5)


def _draw(space: Space, seed: int, n: int) -> list[Candidate]:
    rng = _rng(seed)
    return [space.sample(rng) for _ in range(n)]


class SpaceConformance:
    """Pytest mix-in: subclass it and define ``make_space()`` to get one test per check."""

    def make_space(self) -> Space:
        """Return the space under test."""
        raise NotImplementedError

    def test_determinism(self) -> None:
        """Seeded sampling is reproducible."""
        check_determinism(self.make_space())

    def test_mutation(self) -> None:
        """Mutation gives a different valid candidate."""
        check_mutation(self.make_space())

    def test_text_parses(self) -> None:
        """Texts parse back and pass the ONNX checker."""
        check_text_parses(self.make_space())

    def test_keys(self) -> None:
        """Keys are stable, also across processes."""
        check_keys(self.make_space())

    def test_torch_forward(self) -> None:
        """The torch module runs a batch."""
        check_torch_forward(self.make_space())

    def test_onnx_matches_torch(self) -> None:
        """ONNX and torch compute the same network."""
        check_onnx_matches_torch(self.make_space())

    def test_encoding(self) -> None:
        """Encodings have one shape."""
        check_encoding(self.make_space())


__all__ = [
    "ALL_CHECKS",
    "SpaceConformance",
    "check_space",
    "parse_text",
    "randomize_norm_layers",
] + [c.__name__ for c in ALL_CHECKS]
