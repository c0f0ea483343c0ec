"""Canonical ONNX text: compact, parses back, rejects malformed input, counts costs right."""

import numpy as np
import pytest
import torch

from searchlab import Candidate, load_space
from searchlab.core.graph_cost import count_flops, count_params
from searchlab.core.onnx_text import (
    OnnxTextError,
    canonical_model,
    check_text,
    parse_text,
    to_text,
)


def _torch_macs(module, shape):
    """Reference MAC count from torch forward hooks (conv and linear layers)."""
    total = 0

    def hook(layer, inputs, output):
        nonlocal total
        if isinstance(layer, torch.nn.Conv2d):
            k = layer.kernel_size[0] * layer.kernel_size[1] * layer.in_channels // layer.groups
            total += output.numel() * k
        elif isinstance(layer, torch.nn.Linear):
            total += output.numel() * layer.in_features

    handles = [m.register_forward_hook(hook) for m in module.modules()]
    module.eval()(torch.zeros(1, *shape))
    for h in handles:
        h.remove()
    return total


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nb201_flops_and_params_match_torch(seed):
    space = load_space("nb201")
    c = space.sample(np.random.default_rng(seed))
    module = space.to_torch(c)
    assert space.flops(c) == _torch_macs(module, space.input_shape)
    # BN is folded: the graph has conv biases where torch has BN affine + running stats
    folded = sum(v.size for v in space.export_weights(c, module).values())
    assert space.params(c) == folded


def test_nb201_text_is_compact_and_deterministic():
    space = load_space("nb201")
    rng = np.random.default_rng(0)
    words = [len(space.sample(rng).text.split()) for _ in range(200)]
    assert max(words) < 1024
    cell = ("nor_conv_3x3",) * 6
    assert space.candidate(cell).text == space.candidate(list(cell)).text


def test_malformed_text_names_the_source():
    with pytest.raises(OnnxTextError, match="cand.txt: not valid ONNX text"):
        parse_text("<ir_version: 8>\ng (float[N] x) => (y) { y = Relu (", "cand.txt")


def test_unknown_op_fails_the_check():
    text = (
        '<ir_version: 8, opset_import: ["" : 17]>\n'
        "g (float[N,4] x) => (float[N,4] y) {\ny = Frobnicate (x)\n}"
    )
    with pytest.raises(OnnxTextError, match="ONNX check failed"):
        check_text(text, "frob.txt")


def test_text_with_weights_is_refused_until_stripped():
    layer = torch.nn.Linear(4, 2)
    path_model = _export(layer, (1, 4))
    with pytest.raises(OnnxTextError, match="initializer"):
        to_text(path_model)
    model, renames = canonical_model(path_model)
    text = to_text(model)
    assert not len(model.graph.initializer)
    assert count_params(model) == 10
    assert set(renames.values()) == {v.name for v in model.graph.input[1:]}
    check_text(text)


def test_default_attributes_are_dropped():
    text = (
        '<ir_version: 8, opset_import: ["" : 17]>\n'
        "g (float[N,2,4,4] x, float[2,2,3,3] w) => (float[N,2,2,2] y) {\n"
        "y = Conv <group=1,strides=[1,1]> (x,w)\n}"
    )
    model, _ = canonical_model(parse_text(text))
    assert "group" not in to_text(model) and "strides" not in to_text(model)
    assert count_flops(model) == 2 * 2 * 2 * 2 * 3 * 3


def test_candidate_key_guards_its_text():
    c = Candidate(space="s", genotype=[1, [2, 3]], text="abc")
    assert c.genotype == (1, (2, 3)) and c.genotype_json() == "[1,[2,3]]"
    with pytest.raises(ValueError, match="does not match its text"):
        Candidate(space="s", genotype=[1], text="abc", key="0" * 16)
    with pytest.raises(TypeError, match="not JSON-serializable"):
        Candidate(space="s", genotype=[object()], text="abc")
    with pytest.raises(ValueError, match="lacks field"):
        Candidate.from_dict({"space": "s"})


def _export(module, shape):
    import io

    import onnx

    buf = io.BytesIO()
    torch.onnx.export(
        module,
        torch.zeros(*shape),
        buf,
        dynamo=False,
        input_names=["x"],
        dynamic_axes={"x": {0: "N"}},
        opset_version=17,
    )
    return onnx.load_from_string(buf.getvalue())
