"""A third-party space, defined outside searchlab and the built-in spaces: an MLP of widths."""

from __future__ import annotations

import numpy as np
import torch
from onnx import TensorProto, helper

from searchlab.core.categorical import CategoricalSpace

WIDTHS = ("8", "16", "32")


class MlpSpace(CategoricalSpace):
    """Three hidden layers, each 8, 16 or 32 wide, on 12 input features."""

    name = "toy_mlp"
    input_shape = (12,)
    choices = (WIDTHS,) * 3

    def _onnx(self, genotype):
        widths = [12] + [int(w) for w in genotype] + [3]
        vi = helper.make_tensor_value_info
        nodes, inputs, h = [], [vi("x", TensorProto.FLOAT, ["N", 12])], "x"
        for i in range(len(widths) - 1):
            inputs += [
                vi(f"w{i}", TensorProto.FLOAT, [widths[i + 1], widths[i]]),
                vi(f"b{i}", TensorProto.FLOAT, [widths[i + 1]]),
            ]
            out = "y" if i == len(widths) - 2 else f"g{i}"
            nodes.append(helper.make_node("Gemm", [h, f"w{i}", f"b{i}"], [out], transB=1))
            if out != "y":
                nodes.append(helper.make_node("Relu", [out], [f"h{i}"]))
                h = f"h{i}"
        graph = helper.make_graph(nodes, "mlp", inputs, [vi("y", TensorProto.FLOAT, ["N", 3])])
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)

    def _torch(self, genotype):
        widths = [12] + [int(w) for w in genotype] + [3]
        layers = []
        for i in range(len(widths) - 1):
            layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
            if i < len(widths) - 2:
                layers.append(torch.nn.ReLU())
        return torch.nn.Sequential(*layers)

    def _export_weights(self, genotype, module):
        linears = [m for m in module if isinstance(m, torch.nn.Linear)]
        out = {}
        for i, lin in enumerate(linears):
            out[f"w{i}"] = lin.weight.detach().numpy().astype(np.float32)
            out[f"b{i}"] = lin.bias.detach().numpy().astype(np.float32)
        return out


class BrokenMutateSpace(MlpSpace):
    """A plugin whose mutate raises, to check the error the core gives."""

    name = "broken_mutate"

    def _mutate(self, genotype, rng):
        raise RuntimeError("plugin bug in mutate")


class MisnamedWeightsSpace(MlpSpace):
    """A plugin whose exported weights name the first layer's matrix differently from its graph."""

    name = "misnamed_weights"

    def _export_weights(self, genotype, module):
        out = super()._export_weights(genotype, module)
        out["weight0"] = out.pop("w0")
        return out


class AliasedMlpSpace(MlpSpace):
    """Width 16 has two spellings, so its 64 genotypes render only 27 distinct networks."""

    name = "aliased_mlp"
    choices = (WIDTHS + ("sixteen",),) * 3

    def _onnx(self, genotype):
        return super()._onnx(["16" if g == "sixteen" else g for g in genotype])

    def _torch(self, genotype):
        return super()._torch(["16" if g == "sixteen" else g for g in genotype])
