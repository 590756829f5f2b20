"""A TensorFlow 1.x frozen ``GraphDef`` written directly as protobuf, without TensorFlow.

The message classes come from ``tensorboard.compat.proto`` (TensorBoard ships TensorFlow's
``.proto`` definitions compiled for Python). The graph is channels-last (NHWC), as the car's
converter expects, and uses only operators that converter has always known: Placeholder,
Const, Conv2D, BiasAdd, Add, Relu, Reshape, MatMul, Mul, RealDiv, Softmax, Tanh, Identity.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from tensorboard.compat.proto import (
    attr_value_pb2,
    graph_pb2,
    node_def_pb2,
    tensor_pb2,
    tensor_shape_pb2,
    types_pb2,
)

from racer.export.layers import (
    Clip,
    Conv,
    Dense,
    Flatten,
    PolicyGraph,
    Relu,
    Scale,
    Softmax,
    Tanh,
    hwc_dense,
    hwio,
)

ALLOWED_OPS = frozenset(
    {
        "Placeholder", "Const", "Conv2D", "BiasAdd", "Add", "Relu", "Reshape", "MatMul", "Mul",
        "RealDiv", "Softmax", "Tanh", "Identity",
    }
)  # fmt: skip
"""The operators an exported ``model.pb`` may contain."""
PRODUCER = 27
"""GraphDef version (TensorFlow 1.15's producer number)."""

_DTYPES = {np.dtype(np.float32): types_pb2.DT_FLOAT, np.dtype(np.int32): types_pb2.DT_INT32}


class GraphBuilder:
    """Appends nodes to a ``GraphDef``; every method returns the new node's name."""

    def __init__(self) -> None:
        self.graph = graph_pb2.GraphDef()
        self.graph.versions.producer = PRODUCER

    def node(self, op: str, name: str, inputs: list[str], **attrs: Any) -> str:
        """A node of type ``op`` with float32 ``T`` unless ``attrs`` say otherwise."""
        node = node_def_pb2.NodeDef(name=name, op=op, input=inputs)
        if op not in ("Placeholder", "Const"):
            attrs.setdefault("T", types_pb2.DT_FLOAT)
        for key, value in attrs.items():
            node.attr[key].CopyFrom(_attr(value))
        self.graph.node.append(node)
        return name

    def placeholder(self, name: str, shape: list[int]) -> str:
        """A float32 input; ``-1`` marks an unknown dimension."""
        dims = [tensor_shape_pb2.TensorShapeProto.Dim(size=d) for d in shape]
        shape_proto = tensor_shape_pb2.TensorShapeProto(dim=dims)
        return self.node("Placeholder", name, [], dtype=types_pb2.DT_FLOAT, shape=shape_proto)

    def const(self, name: str, value: NDArray[Any]) -> str:
        """A constant tensor (float32 or int32)."""
        array = np.ascontiguousarray(value)
        dtype = _DTYPES[array.dtype]
        tensor = tensor_pb2.TensorProto(
            dtype=dtype,
            tensor_shape=tensor_shape_pb2.TensorShapeProto(
                dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=d) for d in array.shape]
            ),
            tensor_content=array.astype(array.dtype.newbyteorder("<")).tobytes(),
        )
        return self.node("Const", name, [], dtype=dtype, value=tensor)


def _attr(value: Any) -> Any:
    """An ``AttrValue`` for a Python value (dtype enums are ints, lists are int lists)."""
    attr = attr_value_pb2.AttrValue()
    if isinstance(value, tensor_shape_pb2.TensorShapeProto):
        attr.shape.CopyFrom(value)
    elif isinstance(value, tensor_pb2.TensorProto):
        attr.tensor.CopyFrom(value)
    elif isinstance(value, bool):
        attr.b = value
    elif isinstance(value, int):
        attr.type = value
    elif isinstance(value, bytes):
        attr.s = value
    elif isinstance(value, list):
        attr.list.i.extend(value)
    else:
        raise TypeError(f"no AttrValue for {value!r}")
    return attr


def build_graph(graph: PolicyGraph, input_name: str, output_name: str, scope: str) -> Any:
    """The policy as a frozen ``GraphDef``.

    Args:
        graph: A camera policy.
        input_name: The Placeholder's name (``[-1, H, W, C]`` float32, 0-255).
        output_name: The name of the node giving the policy output.
        scope: Name prefix of the internal nodes.
    """
    b = GraphBuilder()
    x = b.placeholder(input_name, [-1, *graph.nhwc_shape])
    chw: tuple[int, int, int] | None = None
    count: dict[str, int] = {}
    last = len(graph.layers) - 1
    for i, layer in enumerate(graph.layers):
        kind = type(layer).__name__
        k = count[kind] = count.get(kind, -1) + 1
        name = output_name if i == last else f"{scope}/{kind}_{k}"
        if isinstance(layer, Scale):
            divisor = b.const(f"{name}/y", np.array(layer.divisor, np.float32))
            x = b.node("RealDiv", name, [x, divisor])
        elif isinstance(layer, Conv):
            kernel = b.const(f"{name}/kernel", hwio(layer.weight))
            s = layer.stride
            conv = b.node(
                "Conv2D", f"{name}/Conv2D", [x, kernel], strides=[1, s, s, 1],
                padding=b"VALID", data_format=b"NHWC", dilations=[1, 1, 1, 1],
                use_cudnn_on_gpu=True,
            )  # fmt: skip
            bias = b.const(f"{name}/bias", layer.bias)
            x = b.node("BiasAdd", name, [conv, bias], data_format=b"NHWC")
        elif isinstance(layer, Flatten):
            chw = layer.chw
            size = -1 if chw is None else int(np.prod(chw))
            shape = b.const(f"{name}/shape", np.array([-1, size], np.int32))
            x = b.node("Reshape", name, [x, shape], Tshape=types_pb2.DT_INT32)
        elif isinstance(layer, Dense):
            weight = layer.weight if chw is None else hwc_dense(layer.weight, chw)
            chw = None
            kernel = b.const(f"{name}/kernel", np.ascontiguousarray(weight.T))
            mm = b.node("MatMul", f"{name}/MatMul", [x, kernel], transpose_a=False,
                        transpose_b=False)  # fmt: skip
            x = b.node("Add", name, [mm, b.const(f"{name}/bias", layer.bias)])
        elif isinstance(layer, Clip):
            x = _clip(b, x, name, layer)
        else:
            op = {Relu: "Relu", Tanh: "Tanh", Softmax: "Softmax"}[type(layer)]
            x = b.node(op, name, [x])
    return b.graph


def _clip(b: GraphBuilder, x: str, name: str, layer: Clip) -> str:
    """``clip(x, lo, hi) = relu(x - lo) - relu(x - hi) + lo`` from Add, Relu and Mul only."""

    def const(suffix: str, value: float) -> str:
        return b.const(f"{name}/{suffix}", np.array(value, np.float32))

    from_low = b.node(
        "Relu",
        f"{name}/from_low",
        [b.node("Add", f"{name}/minus_low", [x, const("low_neg", -layer.low)])],
    )
    from_high = b.node(
        "Relu",
        f"{name}/from_high",
        [b.node("Add", f"{name}/minus_high", [x, const("high_neg", -layer.high)])],
    )
    negated = b.node("Mul", f"{name}/negate", [from_high, const("minus_one", -1.0)])
    width = b.node("Add", f"{name}/difference", [from_low, negated])
    return b.node("Add", name, [width, const("low", layer.low)])
