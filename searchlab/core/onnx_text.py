"""Canonical, weight-free, compact ONNX text: print a model, parse it back, check it.

The text is the ONNX textual syntax accepted by ``onnx.parser.parse_model``, printed with
no optional whitespace and no attribute types, so the same graph always gives the same
bytes and few tokens. Weights never appear: an initializer becomes a graph input carrying
only its shape.

Example:
    >>> from searchlab.core.onnx_text import parse_text, to_text
    >>> text = to_text(parse_text('<ir_version: 8, opset_import: ["" : 17]>\\n'
    ...     'g (float[N,4] x) => (float[N,4] y) {\\n y = Relu (x)\\n}'))
    >>> print(text)
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[N,4] x) => (float[N,4] y) {
    y = Relu (x)
    }
"""

from __future__ import annotations

import re

import onnx
import onnx.checker
import onnx.defs
import onnx.parser
import onnx.shape_inference
from onnx import AttributeProto, TensorProto

OPSET = 17
IR_VERSION = 8


class OnnxTextError(ValueError):
    """Raised when a text is not valid ONNX or a model cannot be rendered canonically."""


def _value_type(value: onnx.ValueInfoProto) -> str:
    tensor = value.type.tensor_type
    elem = TensorProto.DataType.Name(tensor.elem_type).lower()
    if not tensor.HasField("shape"):
        return f"{elem} {value.name}"
    dims = [d.dim_param if d.dim_param else str(d.dim_value) for d in tensor.shape.dim]
    return f"{elem}[{','.join(dims)}] {value.name}"


def _number(x: float) -> str:
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") and "e" not in text else text


def _attribute(attr: AttributeProto) -> str:
    kind = attr.type
    if kind == AttributeProto.INT:
        value = str(attr.i)
    elif kind == AttributeProto.INTS:
        value = "[" + ",".join(str(i) for i in attr.ints) + "]"
    elif kind == AttributeProto.FLOAT:
        # a float written without a dot would parse back as an int: keep the type explicit
        value = repr(float(attr.f))
    elif kind == AttributeProto.FLOATS:
        value = "[" + ",".join(repr(float(f)) for f in attr.floats) + "]"
    elif kind == AttributeProto.STRING:
        value = '"' + attr.s.decode("utf-8") + '"'
    elif kind == AttributeProto.STRINGS:
        value = "[" + ",".join('"' + s.decode("utf-8") + '"' for s in attr.strings) + "]"
    else:
        kind_name = AttributeProto.AttributeType.Name(kind)
        raise OnnxTextError(
            f"attribute {attr.name!r} has type {kind_name}, which canonical text does not render"
        )
    return f"{attr.name}={value}"


def _node(node: onnx.NodeProto) -> str:
    op = f"{node.domain}.{node.op_type}" if node.domain else node.op_type
    attrs = ""
    if node.attribute:
        attrs = " <" + ",".join(_attribute(a) for a in node.attribute) + ">"
    return f"{','.join(node.output)} = {op}{attrs} ({','.join(node.input)})"


def _opsets(opsets: list[onnx.OperatorSetIdProto]) -> str:
    return ",".join(f'"{o.domain}" : {o.version}' for o in opsets)


def to_text(model: onnx.ModelProto) -> str:
    """Render a model as canonical compact ONNX text (deterministic, weight-free)."""
    if len(model.graph.initializer):
        raise OnnxTextError(
            f"graph {model.graph.name!r} holds {len(model.graph.initializer)} initializer(s); "
            "call strip_weights() first so weights become shape-only inputs"
        )
    graph = model.graph
    lines = [f"<ir_version: {model.ir_version}, opset_import: [{_opsets(model.opset_import)}]>"]
    outputs = ",".join(_value_type(v) for v in graph.output)
    lines.append(f"{graph.name} ({_signature(graph)}) => ({outputs}) {{")
    lines.extend(_node(n) for n in graph.node)
    lines.append("}")
    for fn in model.functions:
        lines.append(f'<domain: "{fn.domain}", opset_import: [{_opsets(fn.opset_import)}]>')
        lines.append(f"{fn.name} ({','.join(fn.input)}) => ({','.join(fn.output)}) {{")
        lines.extend(_node(n) for n in fn.node)
        lines.append("}")
    return "\n".join(lines)


def _signature(graph: onnx.GraphProto) -> str:
    """Graph inputs, one line per group of inputs first read by the same node."""
    first_reader: dict[str, int] = {}
    for index, node in enumerate(graph.node):
        for name in node.input:
            first_reader.setdefault(name, index)
    parts, previous = [], None
    for value in graph.input:
        reader = first_reader.get(value.name, -1)
        sep = "" if not parts else ("," if reader == previous else ",\n")
        parts.append(sep + _value_type(value))
        previous = reader
    return "".join(parts)


def parse_text(text: str, source: str = "<text>") -> onnx.ModelProto:
    """Parse ONNX text into a model, raising OnnxTextError that names the source on failure."""
    try:
        return onnx.parser.parse_model(text)
    except Exception as exc:  # the parser raises a bare ParseError with a C++ message
        message = exc.args[0] if exc.args else type(exc).__name__
        if isinstance(message, bytes):
            message = message.decode("utf-8", "replace")
        message = " ".join(str(message).split())
        raise OnnxTextError(f"{source}: not valid ONNX text: {message}") from None


def check_text(text: str, source: str = "<text>") -> onnx.ModelProto:
    """Parse a text and run the full ONNX checker with strict shape inference; return the model."""
    model = parse_text(text, source)
    # the checker accepts an empty graph and any IR version; a network needs both
    if model.ir_version < 3:
        raise OnnxTextError(f"{source}: ONNX check failed: ir_version {model.ir_version} < 3")
    if not model.graph.output:
        name = model.graph.name
        raise OnnxTextError(f"{source}: ONNX check failed: graph {name!r} has no outputs")
    try:
        onnx.checker.check_model(model, full_check=True)
        onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise OnnxTextError(f"{source}: ONNX check failed: {first}") from None
    return model


def strip_weights(model: onnx.ModelProto) -> tuple[onnx.ModelProto, dict[str, onnx.TensorProto]]:
    """Turn initializers into shape-only graph inputs; return the weight-free model and weights."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    weights = {t.name: t for t in model.graph.initializer}
    existing = {v.name for v in out.graph.input}
    for tensor in model.graph.initializer:
        if tensor.name not in existing:
            out.graph.input.append(
                onnx.helper.make_tensor_value_info(tensor.name, tensor.data_type, tensor.dims)
            )
    del out.graph.initializer[:]
    return out, weights


def drop_default_attributes(model: onnx.ModelProto) -> onnx.ModelProto:
    """Remove node attributes whose value equals the operator schema's default."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    graphs = [out.graph.node] + [fn.node for fn in out.functions]
    for nodes in graphs:
        for node in nodes:
            if node.domain not in ("", "ai.onnx"):
                continue
            try:
                schema = onnx.defs.get_schema(node.op_type, OPSET, node.domain)
            except onnx.defs.SchemaError:
                raise OnnxTextError(f"unknown ONNX operator {node.op_type!r}") from None
            keep = []
            for attr in node.attribute:
                spec = schema.attributes.get(attr.name)
                default = spec.default_value if spec is not None else None
                if default is not None and default.type == attr.type and _same(default, attr):
                    continue
                if attr.name in _UNIT_DEFAULTS and all(
                    v == _UNIT_DEFAULTS[attr.name] for v in attr.ints
                ):
                    continue
                keep.append(attr)
            del node.attribute[:]
            node.attribute.extend(keep)
    return out


# attributes whose schema gives no default value but whose documented default is all 1 / all 0
_UNIT_DEFAULTS = {"strides": 1, "dilations": 1, "pads": 0}


def _same(a: AttributeProto, b: AttributeProto) -> bool:
    fields = ("i", "f", "s", "ints", "floats", "strings")
    return all(getattr(a, f) == getattr(b, f) for f in fields)


def canonical_model(model: onnx.ModelProto) -> tuple[onnx.ModelProto, dict[str, str]]:
    """Weight-free copy with defaults dropped and weights named after their first reader.

    Weight inputs (and initializers) are renamed ``{out}_{k}``: ``out`` is the first output of
    the first node reading the weight, ``k`` its position among that node's weights. Names
    thus follow the graph's structure, not the order a builder happened to create them in.
    Returns the model and the map from old to new weight names.
    """
    from searchlab.core.graph_cost import weight_inputs

    out, _ = strip_weights(model)
    out = drop_default_attributes(out)
    out.graph.doc_string = ""
    _rename_invalid_identifiers(out.graph)
    weights = list(weight_inputs(out))
    taken = {v.name for v in out.graph.input} | {o for n in out.graph.node for o in n.output}
    renames: dict[str, str] = {}
    for node in out.graph.node:
        k = 0
        for name in node.input:
            if name in weights and name not in renames:
                new = f"{_identifier(node.output[0])}_{k}"
                while new in taken and new != name:
                    new = "_" + new
                renames[name] = new
                taken.add(new)
                k += 1
    for index, name in enumerate(weights):
        renames.setdefault(name, f"unused_{index}")
    for value in out.graph.input:
        value.name = renames.get(value.name, value.name)
    for node in out.graph.node:
        node.input[:] = [renames.get(n, n) for n in node.input]
    return out, renames


def canonical_text(model: onnx.ModelProto) -> str:
    """The canonical compact text of any model (see :func:`canonical_model`)."""
    return to_text(canonical_model(model)[0])


def _rename_invalid_identifiers(graph: onnx.GraphProto) -> None:
    """Give values the text syntax cannot name (``3``, ``/conv/Conv_output_0``) valid names."""
    names = [v.name for v in graph.input] + [o for n in graph.node for o in n.output]
    taken = set(names)
    renames = {}
    for name in names:
        if name and not _IDENTIFIER.fullmatch(name) and name not in renames:
            new = _identifier(name)
            while new in taken:
                new = "_" + new
            renames[name] = new
            taken.add(new)
    if not renames:
        return
    for value in list(graph.input) + list(graph.output) + list(graph.value_info):
        value.name = renames.get(value.name, value.name)
    for node in graph.node:
        node.input[:] = [renames.get(n, n) for n in node.input]
        node.output[:] = [renames.get(n, n) for n in node.output]


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _identifier(name: str) -> str:
    clean = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name).strip("_")
    return clean if clean and not clean[0].isdigit() else "v" + clean
