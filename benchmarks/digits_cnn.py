"""A space the bundled checkpoint never saw: small CNNs for scikit-learn's 8x8 digits.

Three convolutions (width 4, 8, 16 or 32; kernel 1, 3 or 5; each followed by ReLU), then
either global average pooling or flattening, then a linear layer to the 10 classes: 3,456
networks. Trained for real by the training verifier (``verifier=train``, dataset digits) in a
second or two each on one CPU thread, so a campaign on it costs minutes, not hours.

Example:
    >>> import numpy as np
    >>> from benchmarks.digits_cnn import DigitsCnnSpace
    >>> space = DigitsCnnSpace()
    >>> cand = space.sample(np.random.default_rng(0))
    >>> len(cand.genotype), space.params(cand) > 0
    (7, True)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from onnx import TensorProto, helper

from searchlab.core.categorical import CategoricalSpace

WIDTHS = ("4", "8", "16", "32")
KERNELS = ("1", "3", "5")
HEADS = ("avg", "flat")


class DigitsCnnSpace(CategoricalSpace):
    """Three convolutions (width, kernel each) and a head, on 1x8x8 digits, 10 classes."""

    name = "digits_cnn"
    input_shape = (1, 8, 8)
    choices = (WIDTHS, KERNELS) * 3 + (HEADS,)

    @staticmethod
    def _layers(genotype: Any) -> tuple[list[tuple[int, int]], str]:
        g = list(genotype)
        return [(int(g[2 * i]), int(g[2 * i + 1])) for i in range(3)], g[6]

    def _onnx(self, genotype: Any) -> Any:
        layers, head = self._layers(genotype)
        vi = helper.make_tensor_value_info
        inputs = [vi("x", TensorProto.FLOAT, ["N", 1, 8, 8])]
        nodes, h, c_in = [], "x", 1
        for i, (width, k) in enumerate(layers):
            inputs += [
                vi(f"w{i}", TensorProto.FLOAT, [width, c_in, k, k]),
                vi(f"b{i}", TensorProto.FLOAT, [width]),
            ]
            pad = k // 2
            nodes.append(
                helper.make_node(
                    "Conv", [h, f"w{i}", f"b{i}"], [f"c{i}"], kernel_shape=[k, k], pads=[pad] * 4
                )
            )
            nodes.append(helper.make_node("Relu", [f"c{i}"], [f"r{i}"]))
            h, c_in = f"r{i}", width
        features = c_in if head == "avg" else c_in * 64
        if head == "avg":
            nodes.append(helper.make_node("GlobalAveragePool", [h], ["p"]))
            h = "p"
        nodes.append(helper.make_node("Flatten", [h], ["f"], axis=1))
        inputs += [
            vi("wo", TensorProto.FLOAT, [10, features]),
            vi("bo", TensorProto.FLOAT, [10]),
        ]
        nodes.append(helper.make_node("Gemm", ["f", "wo", "bo"], ["y"], transB=1))
        graph = helper.make_graph(nodes, "cnn", inputs, [vi("y", TensorProto.FLOAT, ["N", 10])])
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)

    def _torch(self, genotype: Any) -> torch.nn.Module:
        layers, head = self._layers(genotype)
        mods: list[torch.nn.Module] = []
        c_in = 1
        for width, k in layers:
            mods += [torch.nn.Conv2d(c_in, width, k, padding=k // 2), torch.nn.ReLU()]
            c_in = width
        if head == "avg":
            mods += [torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(c_in, 10)]
        else:
            mods += [torch.nn.Flatten(), torch.nn.Linear(c_in * 64, 10)]
        return torch.nn.Sequential(*mods)

    def _export_weights(self, genotype: Any, module: torch.nn.Module) -> dict[str, np.ndarray]:
        convs = [m for m in module if isinstance(m, torch.nn.Conv2d)]
        out = {}
        for i, conv in enumerate(convs):
            out[f"w{i}"] = conv.weight.detach().numpy().astype(np.float32)
            out[f"b{i}"] = conv.bias.detach().numpy().astype(np.float32)
        linear = [m for m in module if isinstance(m, torch.nn.Linear)][0]
        out["wo"] = linear.weight.detach().numpy().astype(np.float32)
        out["bo"] = linear.bias.detach().numpy().astype(np.float32)
        return out
