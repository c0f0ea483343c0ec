"""FBNet (Wu et al., CVPR 2019) macro space at CIFAR-100 resolution, as HW-NAS-Bench builds it.

Network (FBNet paper, Table 1, adapted to 32x32x3 input and 100 classes exactly as HW-NAS-Bench
does in ``hw_nas_bench_api/fbnet_models/model_infer.py`` (``FBNet_Infer``) and
``hw_nas_bench_api/hw_nas_bench_api.py`` (``fbnet_get_metrics``, ``dataname == "cifar100"``)):
3x3 conv stem, 16 channels, stride 1 (ImageNet: 2) + BN + ReLU; 22 searchable layers in seven
stages of (channels, repeats, stride) = (16,1,1), (24,4,1), (32,4,2), (64,4,2), (112,4,1),
(184,4,2), (352,1,1) (ImageNet: the second stage has stride 2); 1x1 conv to 1504 channels
(HW-NAS-Bench's CIFAR ``header_channel``; Table 1's ImageNet value is 1984) + BN + ReLU; global
average pool; linear. Only the first layer of a stage changes stride or width.

Layer choices (HW-NAS-Bench ``PRIMITIVES``/``ConvBlock``): ``k{K}_e{E}[_g2]`` is 1x1 conv (groups
g) to E*C_in + BN + ReLU, channel shuffle (g=2 only), KxK depthwise conv (stride s, padding K//2)
+ BN + ReLU, 1x1 conv (groups g) to C_out + BN, plus the input when s == 1 and C_in == C_out; the
first 1x1 conv is kept also for E = 1. ``skip`` is the identity where s == 1 and C_in == C_out,
otherwise (first layer of stages 2, 3, 4, 5, 6, 7) a 1x1 conv with stride s + BN + ReLU
(HW-NAS-Bench ``Skip``).

The ONNX graph is the inference network: each BN is folded into the conv before it; the
width-independent pieces (1x1 conv + ReLU, grouped 1x1 conv + ReLU + shuffle, ReLU + projection
[+ residual]) are model-local functions, and the depthwise conv, whose ``group`` is its width,
stays in the main graph.

Example:
    >>> from spaces.fbnet import FbnetSpace
    >>> space = FbnetSpace()
    >>> c = space.from_str(" ".join(["k3_e6"] * 21 + ["skip"]))
    >>> space.genotype_to_str(c.genotype).split()[-1]
    'skip'
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
from searchlab.core.folding import fold_conv_bn
from searchlab.core.onnx_text import IR_VERSION, OPSET
from searchlab.core.tabular import TabularBenchmark

#: the 9 layer choices, in HW-NAS-Bench's PRIMITIVES order
OPS = ("k3_e1", "k3_e1_g2", "k3_e3", "k3_e6", "k5_e1", "k5_e1_g2", "k5_e3", "k5_e6", "skip")
#: (channels, repeats, stride) per stage: channels and repeats from FBNet Table 1; strides are
#: HW-NAS-Bench's CIFAR stride_list [1, 1, 2, 2, 1, 2, 1] (Table 1, ImageNet: [1, 2, 2, 2, 1, 2, 1])
STAGES = ((16, 1, 1), (24, 4, 1), (32, 4, 2), (64, 4, 2), (112, 4, 1), (184, 4, 2), (352, 1, 1))
STEM = 16  # Table 1 stem width; stride 1 for CIFAR (HW-NAS-Bench stride_init = 1)
HEAD = 1504  # HW-NAS-Bench CIFAR header_channel (Table 1 / ImageNet: 1984)
DATA = Path(__file__).parent / "data"


def _layers() -> tuple[tuple[int, int, int], ...]:
    out, c_in = [], STEM
    for channels, repeats, stride in STAGES:
        for i in range(repeats):
            out.append((c_in, channels, stride if i == 0 else 1))
            c_in = channels
    return tuple(out)


#: (c_in, c_out, stride) of the 22 searchable layers
LAYERS = _layers()


def parse_op(op: str) -> tuple[int, int, int]:
    """(kernel, expansion, groups) of a block choice such as ``k5_e1_g2``."""
    parts = op.split("_")
    return int(parts[0][1:]), int(parts[1][1:]), 2 if len(parts) == 3 else 1


# ----- torch ------------------------------------------------------------------------------
def _conv_bn(c_in: int, c_out: int, k: int = 1, stride: int = 1, groups: int = 1) -> list:
    conv = nn.Conv2d(c_in, c_out, k, stride, padding=k // 2, groups=groups, bias=False)
    return [conv, nn.BatchNorm2d(c_out)]


class ConvBNReLU(nn.Sequential):
    """Convolution without bias, batch norm, ReLU (stem, header, strided/widening skip)."""

    def __init__(self, c_in: int, c_out: int, k: int = 1, stride: int = 1) -> None:
        super().__init__(*_conv_bn(c_in, c_out, k, stride), nn.ReLU())


class Shuffle(nn.Module):
    """Channel shuffle: view channels as (groups, C/groups), swap, flatten."""

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Interleave the channel groups."""
        n, c, h, w = x.shape
        return x.view(n, self.groups, c // self.groups, h, w).transpose(1, 2).reshape(n, c, h, w)


class Block(nn.Module):
    """FBNet inverted-residual block ``k{K}_e{E}[_g2]`` (HW-NAS-Bench ConvBlock)."""

    def __init__(self, c_in: int, c_out: int, stride: int, op: str) -> None:
        super().__init__()
        k, e, g = parse_op(op)
        mid = c_in * e
        shuffle = [Shuffle(g)] if g > 1 else []
        self.expand = nn.Sequential(*_conv_bn(c_in, mid, groups=g), nn.ReLU(), *shuffle)
        self.depthwise = nn.Sequential(*_conv_bn(mid, mid, k, stride, groups=mid), nn.ReLU())
        self.project = nn.Sequential(*_conv_bn(mid, c_out, groups=g))
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Expand, depthwise, project, add the input when shapes agree."""
        y = self.project(self.depthwise(self.expand(x)))
        return y + x if self.residual else y


def _layer_module(op: str, c_in: int, c_out: int, stride: int) -> nn.Module:
    if op != "skip":
        return Block(c_in, c_out, stride, op)
    if stride == 1 and c_in == c_out:
        return nn.Identity()
    return ConvBNReLU(c_in, c_out, 1, stride)


class FbnetNetwork(nn.Module):
    """The FBNet macro network (CIFAR setting) around 22 layer choices."""

    def __init__(self, genotype: tuple[str, ...], num_classes: int) -> None:
        super().__init__()
        self.stem = ConvBNReLU(3, STEM, 3)
        layers = zip(genotype, LAYERS, strict=True)
        self.blocks = nn.ModuleList(_layer_module(op, *layer) for op, layer in layers)
        self.head = ConvBNReLU(STAGES[-1][0], HEAD)
        self.classifier = nn.Linear(HEAD, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits for a batch of 3x32x32 images."""
        h = self.stem(x)
        for block in self.blocks:
            h = block(h)
        return self.classifier(self.head(h).mean(dim=(2, 3)))


def export_weights(net: FbnetNetwork) -> list[np.ndarray]:
    """The network's weights, BN folded, in the order of the graph's weight inputs."""
    pairs = [net.stem]
    for block in net.blocks:
        if isinstance(block, Block):
            pairs += [block.expand, block.depthwise, block.project]
        elif isinstance(block, ConvBNReLU):
            pairs.append(block)
    pairs.append(net.head)
    out = [w for seq in pairs for w in fold_conv_bn(seq[0], seq[1])]
    return out + [net.classifier.weight.detach().numpy(), net.classifier.bias.detach().numpy()]


# ----- ONNX -------------------------------------------------------------------------------
def _function(name: str, inputs: list[str], nodes: list[onnx.NodeProto]) -> onnx.FunctionProto:
    return helper.make_function(
        "l", name, inputs, ["y"], nodes, opset_imports=[helper.make_opsetid("", OPSET)]
    )


def _shuffle_nodes(x: str) -> list[onnx.NodeProto]:
    """Channel shuffle (2 groups) of ``x`` into ``y`` without knowing C, H or W.

    NCHW -> NHWC -> (N,H,W,2,C/2) -> (N,H,W,C/2,2) -> NHWC -> NCHW; Reshape's 0 copies a dim.
    """
    mk = helper.make_node
    return [
        mk("Transpose", [x], ["t"], perm=[0, 2, 3, 1]),
        mk("Constant", [], ["s"], value_ints=[0, 0, 0, 2, -1]),
        mk("Reshape", ["t", "s"], ["u"]),
        mk("Transpose", ["u"], ["v"], perm=[0, 1, 2, 4, 3]),
        mk("Constant", [], ["q"], value_ints=[0, 0, 0, -1]),
        mk("Reshape", ["v", "q"], ["z"]),
        mk("Transpose", ["z"], ["y"], perm=[0, 3, 1, 2]),
    ]


def _make_function(name: str) -> onnx.FunctionProto:
    """Local function: pw = 1x1 conv + ReLU (pw2: stride 2; pwg: 2 groups + shuffle);
    pj = ReLU + 1x1 conv (pjg: 2 groups), ``r`` suffix: + residual input ``i``."""
    mk = helper.make_node
    attrs = {"group": 2} if "g" in name else {"strides": [2, 2]} if name == "pw2" else {}
    ins = ["x", "w", "b"]
    if name.startswith("pw"):
        shuffle = _shuffle_nodes("r") if name == "pwg" else []
        nodes = [mk("Conv", ins, ["c"], **attrs), mk("Relu", ["c"], ["r" if shuffle else "y"])]
        return _function(name, ins, nodes + shuffle)
    residual = name.endswith("r")
    conv = mk("Conv", ["r", "w", "b"], ["c" if residual else "y"], **attrs)
    nodes = [mk("Relu", ["x"], ["r"]), conv]
    if residual:
        nodes.append(mk("Add", ["c", "i"], ["y"]))
    return _function(name, ins + ["i"] * residual, nodes)


FUNCTION_NAMES = ("pw", "pw2", "pwg", "pj", "pjr", "pjg", "pjgr")


def build_onnx(genotype: tuple[str, ...], num_classes: int) -> onnx.ModelProto:
    """The weight-free inference graph of an FBNet network."""
    shapes: list[list[int]] = []
    nodes: list[onnx.NodeProto] = []
    used: set[str] = set()

    def conv(c_out: int, c_in_per_group: int, k: int = 1) -> list[str]:
        shapes.extend([[c_out, c_in_per_group, k, k], [c_out]])
        return [f"w{len(shapes) - 2}", f"w{len(shapes) - 1}"]

    def call(fn: str, ins: list[str], out: str) -> None:
        used.add(fn)
        nodes.append(helper.make_node(fn, ins, [out], domain="l"))

    mk = helper.make_node
    nodes += [
        mk("Conv", ["x", *conv(STEM, 3, 3)], ["c0"], pads=[1, 1, 1, 1]),
        mk("Relu", ["c0"], ["h0"]),
    ]
    h = "h0"
    for i, (op, (c_in, c_out, stride)) in enumerate(zip(genotype, LAYERS, strict=True), start=1):
        if op == "skip":
            if stride != 1 or c_in != c_out:
                call("pw2" if stride == 2 else "pw", [h, *conv(c_out, c_in)], f"h{i}")
                h = f"h{i}"
            continue
        k, e, g = parse_op(op)
        mid = c_in * e
        call("pwg" if g == 2 else "pw", [h, *conv(mid, c_in // g)], f"e{i}")
        attrs: dict[str, Any] = {"group": mid, "pads": [k // 2] * 4}
        if stride == 2:
            attrs["strides"] = [2, 2]
        nodes.append(mk("Conv", [f"e{i}", *conv(mid, 1, k)], [f"d{i}"], **attrs))
        residual = stride == 1 and c_in == c_out
        fn = "pj" + ("g" if g == 2 else "") + ("r" if residual else "")
        call(fn, [f"d{i}", *conv(c_out, mid // g)] + ([h] if residual else []), f"h{i}")
        h = f"h{i}"
    call("pw", [h, *conv(HEAD, STAGES[-1][0])], "hd")
    shapes += [[num_classes, HEAD], [num_classes]]
    nodes += [
        mk("GlobalAveragePool", ["hd"], ["p"]),
        mk("Flatten", ["p"], ["f"]),
        mk("Gemm", ["f", f"w{len(shapes) - 2}", f"w{len(shapes) - 1}"], ["y"], transB=1),
    ]
    vi = helper.make_tensor_value_info
    inputs = [vi("x", TensorProto.FLOAT, ["N", 3, 32, 32])]
    inputs += [vi(f"w{j}", TensorProto.FLOAT, s) for j, s in enumerate(shapes)]
    output = vi("y", TensorProto.FLOAT, ["N", num_classes])
    graph = helper.make_graph(nodes, "fbnet", inputs, [output])
    return helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid("l", 1)],
        functions=[_make_function(n) for n in FUNCTION_NAMES if n in used],
        ir_version=IR_VERSION,
    )


# ----- the space --------------------------------------------------------------------------
class FbnetSpace(CategoricalSpace):
    """FBNet macro space (CIFAR-100 setting): 22 layers, 9 choices each (9**22 genotypes)."""

    name = "fbnet"
    input_shape = (3, 32, 32)
    choices = (OPS,) * len(LAYERS)

    def __init__(self, num_classes: int = 100) -> None:
        super().__init__()
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f"fbnet: num_classes must be a positive int, got {num_classes!r}")
        self.num_classes = num_classes

    def genotype_from_str(self, text: str) -> tuple[str, ...]:
        """Parse the benchmark's 22 space-separated block choices."""
        tokens = text.split()
        if len(tokens) != len(LAYERS):
            raise ValueError(
                f"fbnet: arch string {text!r} has {len(tokens)} blocks, expected {len(LAYERS)}"
            )
        for pos, token in enumerate(tokens):
            if token not in OPS:
                raise ValueError(
                    f"fbnet: block {pos} of {text!r} is {token!r}, not one of {list(OPS)}"
                )
        return self.validate(tokens)

    def genotype_to_str(self, genotype: Any) -> str:
        """The benchmark's arch string of a genotype."""
        return " ".join(genotype)

    def _onnx(self, genotype: Any) -> onnx.ModelProto:
        return build_onnx(tuple(genotype), self.num_classes)

    def _torch(self, genotype: Any) -> nn.Module:
        return FbnetNetwork(tuple(genotype), self.num_classes)

    def _export_weights(self, genotype: Any, module: nn.Module) -> dict[str, np.ndarray]:
        return {f"w{i}": w for i, w in enumerate(export_weights(module))}

    def benchmark(self) -> TabularBenchmark:
        """5,000 sampled architectures with latencies (HW-NAS-Bench, HELP)."""
        return _benchmark(self.num_classes)


@cache
def _benchmark(num_classes: int) -> TabularBenchmark:
    return TabularBenchmark.from_csv(
        DATA / "fbnet_latency.csv.xz", FbnetSpace(num_classes), genotype_column="arch"
    )
