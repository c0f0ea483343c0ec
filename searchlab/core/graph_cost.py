"""Cheap objectives read off a weight-free ONNX graph: parameter count and FLOPs.

Weights are the graph inputs whose shapes are fully fixed; data inputs carry a symbolic
batch dimension. FLOPs follow the NAS-Bench-201 convention: multiply-accumulates of
Conv and Gemm/MatMul at batch size 1 (element-wise ops are not counted).

Example:
    >>> from searchlab.core.onnx_text import parse_text
    >>> from searchlab.core.graph_cost import count_flops, count_params
    >>> m = parse_text('<ir_version: 8, opset_import: ["" : 17]>\\n'
    ...     'g (float[N,8] x, float[4,8] w, float[4] b) => (float[N,4] y) {\\n'
    ...     ' y = Gemm <transB=1> (x, w, b)\\n}')
    >>> count_params(m), count_flops(m)
    (36, 32)
"""

from __future__ import annotations

import math

import numpy as np
import onnx
import onnx.inliner
import onnx.shape_inference
from onnx import numpy_helper


def _dims(value: onnx.ValueInfoProto) -> list[int | str]:
    return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]


def weight_inputs(model: onnx.ModelProto) -> dict[str, tuple[int, ...]]:
    """Graph inputs with fully fixed shapes (the weights), in graph order, with their shapes."""
    out = {}
    for value in model.graph.input:
        dims = _dims(value)
        if all(isinstance(d, int) and d > 0 for d in dims):
            out[value.name] = tuple(int(d) for d in dims)
    return out


def data_inputs(model: onnx.ModelProto) -> dict[str, list[int | str]]:
    """Graph inputs with a symbolic dimension (the data), with their dims."""
    weights = weight_inputs(model)
    return {v.name: _dims(v) for v in model.graph.input if v.name not in weights}


def count_params(model: onnx.ModelProto) -> int:
    """Number of weight values in the graph (sum of the weight inputs' sizes)."""
    return sum(math.prod(shape) for shape in weight_inputs(model).values())


def fixed_batch(model: onnx.ModelProto, batch: int = 1) -> onnx.ModelProto:
    """Inline local functions and set every symbolic dimension to ``batch``."""
    flat = onnx.inliner.inline_local_functions(model)
    for value in list(flat.graph.input) + list(flat.graph.output):
        for dim in value.type.tensor_type.shape.dim:
            if dim.dim_param:
                dim.Clear()
                dim.dim_value = batch
    return flat


def count_flops(model: onnx.ModelProto) -> int:
    """Multiply-accumulates of Conv, Gemm and MatMul nodes at batch size 1."""
    flat = onnx.shape_inference.infer_shapes(fixed_batch(model, 1), strict_mode=True)
    shapes: dict[str, list[int | str]] = {}
    for value in list(flat.graph.input) + list(flat.graph.value_info) + list(flat.graph.output):
        shapes[value.name] = _dims(value)
    total = 0
    for node in flat.graph.node:
        if node.op_type == "Conv":
            out = shapes[node.output[0]]
            kernel = shapes[node.input[1]]  # [C_out, C_in / group, kh, kw]
            total += math.prod(out) * math.prod(kernel[1:])
        elif node.op_type in ("Gemm", "MatMul"):
            a = shapes[node.input[0]]
            out = shapes[node.output[0]]
            reduce_dim = a[0] if node.op_type == "Gemm" and _attr(node, "transA") else a[-1]
            total += math.prod(out) * int(reduce_dim)
    return int(total)


def _attr(node: onnx.NodeProto, name: str) -> int:
    for attr in node.attribute:
        if attr.name == name:
            return attr.i
    return 0


def random_weights(
    model: onnx.ModelProto, seed: int = 0, scale: float = 0.1
) -> dict[str, np.ndarray]:
    """Random float32 values for every weight input, for running a weight-free graph."""
    rng = np.random.default_rng(seed)
    return {
        name: (rng.standard_normal(shape) * scale).astype(np.float32)
        for name, shape in weight_inputs(model).items()
    }


def with_weights(model: onnx.ModelProto, weights: dict[str, np.ndarray]) -> onnx.ModelProto:
    """Inline functions and bind weights as initializers, giving a model onnxruntime can run."""
    missing = set(weight_inputs(model)) - set(weights)
    if missing:
        raise ValueError(f"no values given for weight input(s) {sorted(missing)[:5]}")
    flat = onnx.inliner.inline_local_functions(model)
    bound = set(weights)
    kept = [v for v in flat.graph.input if v.name not in bound]
    del flat.graph.input[:]
    flat.graph.input.extend(kept)
    for name, value in weights.items():
        flat.graph.initializer.append(
            numpy_helper.from_array(np.asarray(value, dtype=np.float32), name)
        )
    return flat
