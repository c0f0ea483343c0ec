"""NAS-Bench-201: the exact cell network of Dong & Yang (ICLR 2020), as a searchlab space.

Macro skeleton (NAS-Bench-201 paper, Fig. 1; NATS-Bench topology space): 3x3 conv stem with
16 channels + BN; three stages of 5 cells at 16/32/64 channels joined by residual reduction
blocks (ReLU-Conv3x3/s2-BN, ReLU-Conv3x3-BN, shortcut AvgPool2x2/s2 + Conv1x1); BN + ReLU;
global average pool; linear. Input 32x32x3. A cell has 4 nodes and 6 edges; node j sums
op(node i) over i < j; ops: none, skip_connect, nor_conv_1x1, nor_conv_3x3 (ReLU-Conv-BN),
avg_pool_3x3 (stride 1, padding 1, count_include_pad=False).

The ONNX graph is the inference network: every BN is folded into the conv before it (the
final BN becomes a per-channel Mul/Add), the cell and the reduction block are model-local
functions called 15 and 2 times, so the text stays short.

Example:
    >>> import numpy as np
    >>> from spaces.nb201 import Nb201Space
    >>> space = Nb201Space()
    >>> c = space.from_str("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|"
    ...                    "+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|")
    >>> space.genotype_to_str(c.genotype).count("nor_conv_3x3")
    5
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper
from torch import nn

from searchlab.core.categorical import CategoricalSpace
from searchlab.core.folding import fold_bn, fold_conv_bn
from searchlab.core.onnx_text import IR_VERSION, OPSET
from searchlab.core.tabular import TabularBenchmark

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
#: (to_node, from_node) of each edge, in the order of the benchmark's arch_str
EDGES = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
STAGE_CHANNELS = (16, 32, 64)
CELLS_PER_STAGE = 5
CONV_OPS = {"nor_conv_1x1": 1, "nor_conv_3x3": 3}
DATA = Path(__file__).parent / "data"


# ----- torch ------------------------------------------------------------------------------
class ReLUConvBN(nn.Sequential):
    """ReLU, convolution without bias, batch norm (NAS-Bench-201's ReLUConvBN)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1) -> None:
        super().__init__(
            nn.ReLU(),
            nn.Conv2d(c_in, c_out, kernel, stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out),
        )


def _edge_module(op: str, channels: int) -> nn.Module:
    if op in CONV_OPS:
        return ReLUConvBN(channels, channels, CONV_OPS[op])
    if op == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    return nn.Identity()


class Cell(nn.Module):
    """One NAS-Bench-201 cell; 'none' edges contribute nothing (a node with no input is 0)."""

    def __init__(self, genotype: tuple[str, ...], channels: int) -> None:
        super().__init__()
        self.genotype = tuple(genotype)
        self.edges = nn.ModuleDict(
            {f"e{e}": _edge_module(op, channels) for e, op in enumerate(genotype) if op != "none"}
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Sum each node's incoming edges in edge order."""
        nodes = [x]
        for j in (1, 2, 3):
            terms = [
                self.edges[f"e{e}"](nodes[i])
                for e, (to, i) in enumerate(EDGES)
                if to == j and self.genotype[e] != "none"
            ]
            nodes.append(sum(terms[1:], terms[0]) if terms else torch.zeros_like(x))
        return nodes[3]


class ResBlock(nn.Module):
    """NAS-Bench-201's residual reduction block (stride 2, channels doubled)."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride=2)
        self.conv_b = ReLUConvBN(c_out, c_out, 3)
        self.downsample = nn.Sequential(
            nn.AvgPool2d(2, stride=2), nn.Conv2d(c_in, c_out, 1, bias=False)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Shortcut plus the two-conv branch."""
        return self.downsample(x) + self.conv_b(self.conv_a(x))


class Nb201Network(nn.Module):
    """The NAS-Bench-201 macro network around one cell genotype."""

    def __init__(self, genotype: tuple[str, ...], num_classes: int) -> None:
        super().__init__()
        c0 = STAGE_CHANNELS[0]
        self.stem = nn.Sequential(nn.Conv2d(3, c0, 3, padding=1, bias=False), nn.BatchNorm2d(c0))
        blocks: list[nn.Module] = []
        for s, channels in enumerate(STAGE_CHANNELS):
            if s > 0:
                blocks.append(ResBlock(STAGE_CHANNELS[s - 1], channels))
            blocks.extend(Cell(genotype, channels) for _ in range(CELLS_PER_STAGE))
        self.blocks = nn.ModuleList(blocks)
        self.lastact = nn.Sequential(nn.BatchNorm2d(STAGE_CHANNELS[-1]), nn.ReLU())
        self.classifier = nn.Linear(STAGE_CHANNELS[-1], num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits for a batch of 3x32x32 images."""
        h = self.stem(x)
        for block in self.blocks:
            h = block(h)
        h = self.lastact(h).mean(dim=(2, 3))
        return self.classifier(h)


# ----- ONNX -------------------------------------------------------------------------------
def _cell_function(genotype: tuple[str, ...]) -> onnx.FunctionProto:
    """The cell as a function cell(x, w_e, b_e for each conv edge e) -> n3."""
    nodes, inputs, values, relus = [], ["x"], {0: "x"}, {}
    for j in (1, 2, 3):
        terms: list[tuple[str, Any]] = []
        for e, (to, i) in enumerate(EDGES):
            op = genotype[e]
            if to != j or op == "none":
                continue
            if op == "skip_connect":
                terms.append(("value", values[i]))
                continue
            if op in CONV_OPS:
                src = values[i]
                if src not in relus:  # conv edges leaving one node share its Relu
                    relus[src] = f"r{i}"
                    nodes.append(helper.make_node("Relu", [src], [relus[src]]))
                inputs += [f"w{e}", f"b{e}"]
                pads = [CONV_OPS[op] // 2] * 4
                attrs = {"pads": pads} if any(pads) else {}
                terms.append(("node", ("Conv", [relus[src], f"w{e}", f"b{e}"], attrs)))
            else:
                attrs = {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]}
                terms.append(("node", ("AveragePool", [values[i]], attrs)))
        name = f"n{j}"
        if not terms:
            nodes.append(helper.make_node("Sub", ["x", "x"], [name]))
        elif len(terms) == 1 and terms[0][0] == "value":
            # kept as its own node (not aliased) so that cells the benchmark tells apart,
            # e.g. an op reading node 1 = skip(node 0) vs the same op reading node 0,
            # keep distinct texts and keys
            nodes.append(helper.make_node("Identity", [terms[0][1]], [name]))
        elif len(terms) == 1:
            op_type, ins, attrs = terms[0][1]
            nodes.append(helper.make_node(op_type, ins, [name], **attrs))
        else:
            summands = []
            for k, (kind, payload) in enumerate(terms):
                if kind == "value":
                    summands.append(payload)
                    continue
                op_type, ins, attrs = payload
                out = f"t{j}{k}"
                nodes.append(helper.make_node(op_type, ins, [out], **attrs))
                summands.append(out)
            nodes.append(helper.make_node("Sum", summands, [name]))
        values[j] = name
    return helper.make_function(
        "l", "cell", inputs, ["n3"], nodes, opset_imports=[helper.make_opsetid("", OPSET)]
    )


def _res_function() -> onnx.FunctionProto:
    pad = {"pads": [1, 1, 1, 1]}
    nodes = [
        helper.make_node("Relu", ["x"], ["r"]),
        helper.make_node("Conv", ["r", "wa", "ba"], ["a"], strides=[2, 2], **pad),
        helper.make_node("Relu", ["a"], ["q"]),
        helper.make_node("Conv", ["q", "wb", "bb"], ["b"], **pad),
        helper.make_node("AveragePool", ["x"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p", "wd"], ["d"]),
        helper.make_node("Add", ["d", "b"], ["y"]),
    ]
    return helper.make_function(
        "l",
        "res",
        ["x", "wa", "ba", "wb", "bb", "wd"],
        ["y"],
        nodes,
        opset_imports=[helper.make_opsetid("", OPSET)],
    )


def _weight_shapes(genotype: tuple[str, ...], num_classes: int) -> list[list[int]]:
    """Shapes of the graph's weight inputs, in the order the graph and exporter use."""
    c0, last = STAGE_CHANNELS[0], STAGE_CHANNELS[-1]
    shapes = [[c0, 3, 3, 3], [c0]]
    for s, c in enumerate(STAGE_CHANNELS):
        if s > 0:
            p = STAGE_CHANNELS[s - 1]
            shapes += [[c, p, 3, 3], [c], [c, c, 3, 3], [c], [c, p, 1, 1]]
        for _ in range(CELLS_PER_STAGE):
            for op in genotype:
                if op in CONV_OPS:
                    shapes += [[c, c, CONV_OPS[op], CONV_OPS[op]], [c]]
    return shapes + [[last, 1, 1], [last, 1, 1], [num_classes, last], [num_classes]]


def build_onnx(genotype: tuple[str, ...], num_classes: int) -> onnx.ModelProto:
    """The weight-free inference graph of an NB201 network."""
    shapes = _weight_shapes(genotype, num_classes)
    names = [f"w{i}" for i in range(len(shapes))]
    take = iter(names)
    conv_edges = sum(op in CONV_OPS for op in genotype)
    nodes = [helper.make_node("Conv", ["x", next(take), next(take)], ["h0"], pads=[1, 1, 1, 1])]
    h = 0
    for s in range(len(STAGE_CHANNELS)):
        blocks = ([("res", 5)] if s > 0 else []) + [("cell", 2 * conv_edges)] * CELLS_PER_STAGE
        for fn, n_weights in blocks:
            ins = [f"h{h}"] + [next(take) for _ in range(n_weights)]
            nodes.append(helper.make_node(fn, ins, [f"h{h + 1}"], domain="l"))
            h += 1
    scale, shift, wf, bf = (next(take) for _ in range(4))
    nodes += [
        helper.make_node("Mul", [f"h{h}", scale], ["m"]),
        helper.make_node("Add", ["m", shift], ["a"]),
        helper.make_node("Relu", ["a"], ["r"]),
        helper.make_node("GlobalAveragePool", ["r"], ["p"]),
        helper.make_node("Flatten", ["p"], ["f"]),
        helper.make_node("Gemm", ["f", wf, bf], ["y"], transB=1),
    ]
    vi = helper.make_tensor_value_info
    inputs = [vi("x", TensorProto.FLOAT, ["N", 3, 32, 32])]
    inputs += [vi(n, TensorProto.FLOAT, shape) for n, shape in zip(names, shapes)]
    graph = helper.make_graph(
        nodes, "nb201", inputs, [vi("y", TensorProto.FLOAT, ["N", num_classes])]
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid("l", 1)],
        functions=[_cell_function(genotype), _res_function()],
        ir_version=IR_VERSION,
    )
    return model


def export_weights(net: Nb201Network) -> list[np.ndarray]:
    """The network's weights, BN folded, in the order of the graph's weight inputs."""
    out = list(fold_conv_bn(net.stem[0], net.stem[1]))
    for block in net.blocks:
        if isinstance(block, ResBlock):
            out += fold_conv_bn(block.conv_a[1], block.conv_a[2])
            out += fold_conv_bn(block.conv_b[1], block.conv_b[2])
            out.append(block.downsample[1].weight.detach().numpy())
            continue
        for e, op in enumerate(block.genotype):
            if op in CONV_OPS:
                edge = block.edges[f"e{e}"]
                out += fold_conv_bn(edge[1], edge[2])
    scale, shift = fold_bn(net.lastact[0])
    out += [scale.reshape(-1, 1, 1), shift.reshape(-1, 1, 1)]
    out += [net.classifier.weight.detach().numpy(), net.classifier.bias.detach().numpy()]
    return out


# ----- the space --------------------------------------------------------------------------
class Nb201Space(CategoricalSpace):
    """NAS-Bench-201 cells: 6 edges, 5 ops each (15,625 genotypes)."""

    name = "nb201"
    input_shape = (3, 32, 32)
    choices = (OPS,) * len(EDGES)

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        if num_classes not in (10, 100, 120):
            raise ValueError(f"nb201: num_classes must be 10, 100 or 120, got {num_classes!r}")
        self.num_classes = num_classes

    def genotype_from_str(self, text: str) -> tuple[str, ...]:
        """Parse the benchmark's ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`` string."""
        ops = []
        nodes = text.strip().split("+")
        if len(nodes) != 3:
            raise ValueError(f"nb201: arch string {text!r} must have 3 nodes joined by '+'")
        for j, node in enumerate(nodes, start=1):
            parts = [p for p in node.strip().strip("|").split("|")]
            if len(parts) != j:
                raise ValueError(f"nb201: node {j} of {text!r} must have {j} edges")
            for i, part in enumerate(parts):
                op, _, src = part.partition("~")
                if src != str(i):
                    raise ValueError(f"nb201: edge {part!r} in {text!r} must come from node {i}")
                ops.append(op)
        return self.validate(ops)

    def genotype_to_str(self, genotype: Any) -> str:
        """The benchmark's arch string of a genotype."""
        g = list(genotype)
        return "+".join(
            "|" + "|".join(f"{g[e]}~{i}" for e, (to, i) in enumerate(EDGES) if to == j) + "|"
            for j in (1, 2, 3)
        )

    def _onnx(self, genotype: Any) -> onnx.ModelProto:
        return build_onnx(tuple(genotype), self.num_classes)

    def _torch(self, genotype: Any) -> nn.Module:
        return Nb201Network(tuple(genotype), self.num_classes)

    def _export_weights(self, genotype: Any, module: nn.Module) -> dict[str, np.ndarray]:
        return {f"w{i}": w for i, w in enumerate(export_weights(module))}

    def benchmark(self) -> TabularBenchmark:
        """All 15,625 cells: accuracies (NATS-Bench) and latencies (HW-NAS-Bench, HELP)."""
        return _benchmark(self.num_classes)


@cache
def _benchmark(num_classes: int) -> TabularBenchmark:
    return TabularBenchmark.from_csv(
        DATA / "nb201_acc_latency.csv.xz", Nb201Space(num_classes), genotype_column="arch_str"
    )
