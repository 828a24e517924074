"""Read a model's architecture from its exported ONNX graph, as untrusted data.

The layer list a check reads must not come from code the student can change. An
exported graph is data: its nodes say what the model computes (convolutions with
their kernels and output channels, pooling, dense and recurrent layers, skip
connections), and its initializers how many parameters it has. The file comes
out of the student's sandbox, so it is size-checked before it is parsed and
nothing in it is executed; a graph that breaks a limit is refused with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx

from runner.measurements import Layer, LayerKind, file_inside

MAX_GRAPH_BYTES = 512 * 1024 * 1024
MAX_NODES = 20_000
MAX_LAYERS = 400

_ACTIVATIONS = {"Relu", "LeakyRelu", "Elu", "Selu", "Sigmoid", "Tanh", "Softmax", "LogSoftmax",
                "Gelu", "HardSigmoid", "HardSwish", "Softplus", "Softsign", "PRelu", "Mish",
                "ThresholdedRelu", "Celu"}
_POOLS = {"MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LpPool"}
_RECURRENT = {"LSTM", "GRU", "RNN"}
_NORMS = {"BatchNormalization", "LayerNormalization", "InstanceNormalization",
          "GroupNormalization"}
_MERGES = {"Add", "Concat", "Sum"}
_UPSAMPLES = {"Resize", "Upsample", "DepthToSpace"}


class GraphRefused(ValueError):
    """The exported file is not a graph nngrade reads: too large, malformed, too many nodes."""


@dataclass(frozen=True)
class GraphSummary:
    """What the graph computes, in the framework-neutral terms the checks read."""

    layers: list[Layer]
    params: int
    skip_connections: int  # merges (Add, Concat) of two computed branches
    inputs: list[list[int | None]]  # each graph input's shape, None where it is free
    outputs: list[list[int | None]] = field(default_factory=list)  # each output's shape


def exported_path(root: Path, relative: str) -> Path:
    """``root/relative`` when it is a file inside ``root`` within the size limit."""
    try:
        path = file_inside(root, relative)
    except ValueError as outside:
        raise GraphRefused(str(outside)) from None
    size = path.stat().st_size
    if size > MAX_GRAPH_BYTES:
        raise GraphRefused(f"{path.name}: {size} bytes, more than {MAX_GRAPH_BYTES}")
    return path


def read_exported(root: Path, relative: str) -> GraphSummary:
    """The graph a sandbox wrote at ``root/relative``, which must be a file inside ``root``."""
    return summarise_graph(load_graph(exported_path(root, relative)))


def load_graph(path: Path) -> onnx.ModelProto:
    """Parse ``path`` after checking its size; GraphRefused on anything unexpected."""
    size = path.stat().st_size
    if size > MAX_GRAPH_BYTES:
        raise GraphRefused(f"{path.name}: {size} bytes, more than {MAX_GRAPH_BYTES}")
    try:
        model = onnx.load_model_from_string(path.read_bytes())
    except Exception as error:  # the protobuf parser's errors have no common base
        raise GraphRefused(f"{path.name}: not an ONNX model ({type(error).__name__})") from None
    if len(model.graph.node) > MAX_NODES:
        raise GraphRefused(f"{path.name}: {len(model.graph.node)} nodes, more than {MAX_NODES}")
    if any(attr.g.node or attr.graphs for node in model.graph.node for attr in node.attribute):
        raise GraphRefused(f"{path.name}: control flow (subgraphs) in the graph")
    return model


def _attribute(node: onnx.NodeProto, name: str) -> onnx.AttributeProto | None:
    return next((a for a in node.attribute if a.name == name), None)


def _ints(node: onnx.NodeProto, name: str) -> list[int] | None:
    attr = _attribute(node, name)
    return [int(v) for v in attr.ints][:4] if attr is not None and attr.ints else None


def _shape(value: onnx.ValueInfoProto) -> list[int | None]:
    dims = value.type.tensor_type.shape.dim
    return [int(d.dim_value) if d.HasField("dim_value") else None for d in dims][:8]


def summarise_graph(model: onnx.ModelProto) -> GraphSummary:
    """The graph's layers in execution order, its parameter count and its skip connections."""
    graph = model.graph
    weights = {init.name: tuple(int(d) for d in init.dims) for init in graph.initializer}
    constants = set(weights)
    # Constants, shapes (a Flatten computes its target shape from the input's) and what is
    # computed only from them: a merge of such tensors is no skip connection.
    for node in graph.node:
        if node.op_type in ("Constant", "Shape", "Size") or (
                node.input and all(i in constants for i in node.input if i)):
            constants.update(node.output)
    floating = {onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE, onnx.TensorProto.FLOAT16,
                onnx.TensorProto.BFLOAT16}
    params = int(sum(np.prod(init.dims, dtype=np.int64) for init in graph.initializer
                     if init.data_type in floating))
    layers: list[Layer] = []
    skips = 0
    for node in graph.node:
        layer = _layer(node, weights)
        if node.op_type in _MERGES and sum(i not in constants for i in node.input if i) >= 2:
            skips += 1
            layer = Layer(kind=LayerKind.merge, type=node.op_type, name=node.name[:200])
        elif node.op_type == "Tile" and node.input and node.input[0] not in constants:
            # Keras' UpSampling2D repeats rows, then columns: a Tile of computed values
            layer = Layer(kind=LayerKind.upsample, type=node.op_type, name=node.name[:200])
        if layer is not None and len(layers) < MAX_LAYERS:
            layers.append(layer)
    inputs = [_shape(value) for value in graph.input if value.name not in weights]
    return GraphSummary(layers, params, skips, inputs, [_shape(v) for v in graph.output])


def _weight(node: onnx.NodeProto, weights: dict[str, tuple[int, ...]], position: int
            ) -> tuple[int, ...] | None:
    return weights.get(node.input[position]) if len(node.input) > position else None


def _size(*shapes: tuple[int, ...] | None) -> int:
    return int(sum(np.prod(s, dtype=np.int64) for s in shapes if s))


def _layer(node: onnx.NodeProto, weights: dict[str, tuple[int, ...]]) -> Layer | None:
    op = node.op_type
    if op in ("Conv", "ConvTranspose"):
        kernel = _weight(node, weights, 1)
        channels = (kernel[0] if op == "Conv" else kernel[1]) if kernel else None
        sizes = _ints(node, "kernel_shape") or (list(kernel[2:]) if kernel else None)
        kind = LayerKind.conv if op == "Conv" else LayerKind.upsample
        return Layer(kind=kind, type=op, name=node.name[:200], channels=channels,
                     kernel_size=sizes, stride=_ints(node, "strides"),
                     params=_size(kernel, _weight(node, weights, 2)))
    if op in _POOLS:
        return Layer(kind=LayerKind.pool, type=op, name=node.name[:200],
                     kernel_size=_ints(node, "kernel_shape"), stride=_ints(node, "strides"))
    if op == "Gemm":
        matrix = _weight(node, weights, 1)
        trans_b = _attribute(node, "transB")
        units = None
        if matrix and len(matrix) == 2:
            units = matrix[0] if trans_b is not None and trans_b.i else matrix[1]
        return Layer(kind=LayerKind.dense, type=op, name=node.name[:200], channels=units,
                     params=_size(matrix, _weight(node, weights, 2)))
    if op == "MatMul":
        matrix = _weight(node, weights, 1)
        if not matrix or len(matrix) != 2:  # a product of two computed tensors: not a layer
            return None
        return Layer(kind=LayerKind.dense, type=op, name=node.name[:200], channels=matrix[1],
                     params=_size(matrix))
    if op in _RECURRENT:
        hidden = _attribute(node, "hidden_size")
        return Layer(kind=LayerKind.recurrent, type=op, name=node.name[:200],
                     channels=int(hidden.i) if hidden is not None else None,
                     params=_size(*(_weight(node, weights, i) for i in (1, 2, 3))))
    if op in _UPSAMPLES:
        return Layer(kind=LayerKind.upsample, type=op, name=node.name[:200])
    if op in _ACTIVATIONS:
        return Layer(kind=LayerKind.activation, type=op, name=node.name[:200])
    if op in _NORMS:
        return Layer(kind=LayerKind.norm, type=op, name=node.name[:200])
    if op == "Flatten":
        return Layer(kind=LayerKind.flatten, type=op, name=node.name[:200])
    if op == "Gather" and _weight(node, weights, 0) and len(_weight(node, weights, 0) or ()) == 2:
        return Layer(kind=LayerKind.embedding, type=op, name=node.name[:200])
    return None
