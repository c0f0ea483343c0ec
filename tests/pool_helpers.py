"""Helpers for the pool tests, in a module of their own so "spawn"ed workers can import them.

A tiny torch-free space keeps worker start-up cheap; ``ScriptedVerifier`` misbehaves on the
candidates it is told to (sleeps, exits, allocates) and scores the others.
"""

from __future__ import annotations

import os
import time

from onnx import TensorProto, helper

from searchlab.core.categorical import CategoricalSpace
from searchlab.verifiers.base import Verifier

WIDTHS = tuple(str(w) for w in range(1, 9))


class TinySpace(CategoricalSpace):
    """Two dense layers of 1..8 units on 4 features (torch only imported when asked for)."""

    name = "tiny_pool"
    input_shape = (4,)
    choices = (WIDTHS, WIDTHS)

    def _onnx(self, genotype):
        a, b = (int(w) for w in genotype)
        vi = helper.make_tensor_value_info
        nodes = [
            helper.make_node("Gemm", ["x", "w0", "b0"], ["h"], transB=1),
            helper.make_node("Gemm", ["h", "w1", "b1"], ["y"], transB=1),
        ]
        inputs = [
            vi("x", TensorProto.FLOAT, ["N", 4]),
            vi("w0", TensorProto.FLOAT, [a, 4]),
            vi("b0", TensorProto.FLOAT, [a]),
            vi("w1", TensorProto.FLOAT, [b, a]),
            vi("b1", TensorProto.FLOAT, [b]),
        ]
        graph = helper.make_graph(nodes, "tiny", inputs, [vi("y", TensorProto.FLOAT, ["N", b])])
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)

    def _torch(self, genotype):
        import torch

        a, b = (int(w) for w in genotype)
        return torch.nn.Sequential(torch.nn.Linear(4, a), torch.nn.Linear(a, b))

    def _export_weights(self, genotype, module):
        names = ["w0", "b0", "w1", "b1"]
        return {n: p.detach().numpy() for n, p in zip(names, module.parameters())}


def tiny_candidates(n):
    """The first n candidates of the tiny space, in a fixed order."""
    space = TinySpace()
    return space, [space.candidate((WIDTHS[i % 8], WIDTHS[i // 8])) for i in range(n)]


class ScriptedVerifier(Verifier):
    """Scores a candidate by its widths; ``script[key]`` makes it sleep, exit or allocate."""

    name = "scripted"
    source = "measured"

    def __init__(self, space, script=None):
        super().__init__(space)
        self.script = dict(script or {})

    def provides(self, objective):
        return objective == "score"

    def _verify_one(self, candidate, objectives):
        kind, arg = self.script.get(candidate.key, ("", 0))
        if kind == "sleep":
            time.sleep(arg)
        elif kind == "exit":
            os._exit(arg)
        elif kind == "alloc_gib":
            bytearray(int(arg * 2**30))
        return {"score": float(sum(int(w) for w in candidate.genotype))}
