"""ONNX: one input ``observation``, one output ``policy``, the run's metadata inside.

Written with ``onnx.helper`` from the layer list (opset 17, IR version 8, so that older
runtimes load it too). The input is channels-last float32 like the car's frames:
``[N, 120, 160, C]`` 0-255 for cameras (transposed to channels-first inside the graph), or
``[N, D]`` for a vector sensor. ``metadata_props`` carry ``model_metadata`` (the JSON),
``sensor``, ``action_space_type`` and ``action_space``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from racer.export.errors import ExportError
from racer.export.formats import ExportFormat, any_model
from racer.export.layers import Clip, Conv, Dense, Flatten, PolicyGraph, Relu, Scale, Softmax, Tanh
from racer.export.parity import ParityCheck, compare

OPSET = 17
IR_VERSION = 8
INPUT = "observation"
OUTPUT = "policy"
METADATA_KEYS = ("model_metadata", "sensor", "action_space_type", "action_space")


def build_model(graph: PolicyGraph) -> Any:
    """The policy as an ``onnx.ModelProto`` (checked with ``onnx.checker``)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes: list[Any] = []
    inits: list[Any] = []

    def const(name: str, value: NDArray[Any]) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    x = INPUT
    if graph.is_image:
        nodes.append(helper.make_node("Transpose", [x], ["nchw"], perm=[0, 3, 1, 2]))
        x = "nchw"
    last = len(graph.layers) - 1
    for i, layer in enumerate(graph.layers):
        out = OUTPUT if i == last else f"l{i}_{type(layer).__name__.lower()}"
        if isinstance(layer, Scale):
            divisor = const(f"{out}_d", np.array(layer.divisor, np.float32))
            nodes.append(helper.make_node("Div", [x, divisor], [out]))
        elif isinstance(layer, Conv):
            w, b = const(f"{out}_w", layer.weight), const(f"{out}_b", layer.bias)
            s = layer.stride
            nodes.append(
                helper.make_node(
                    "Conv",
                    [x, w, b],
                    [out],
                    strides=[s, s],
                    kernel_shape=list(layer.weight.shape[2:]),
                )
            )
        elif isinstance(layer, Dense):
            w, b = const(f"{out}_w", layer.weight), const(f"{out}_b", layer.bias)
            nodes.append(helper.make_node("Gemm", [x, w, b], [out], transB=1))
        elif isinstance(layer, Flatten):
            nodes.append(helper.make_node("Flatten", [x], [out], axis=1))
        elif isinstance(layer, Clip):
            lo, hi = (
                const(f"{out}_lo", np.array(layer.low, np.float32)),
                const(f"{out}_hi", np.array(layer.high, np.float32)),
            )
            nodes.append(helper.make_node("Clip", [x, lo, hi], [out]))
        elif isinstance(layer, Softmax):
            nodes.append(helper.make_node("Softmax", [x], [out], axis=-1))
        else:
            op = {Relu: "Relu", Tanh: "Tanh"}[type(layer)]
            nodes.append(helper.make_node(op, [x], [out]))
        x = out
    inputs = [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["N", *graph.nhwc_shape])]
    outputs = [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["N", graph.outputs])]
    body = helper.make_graph(nodes, "racer_policy", inputs, outputs, initializer=inits)
    model = helper.make_model(
        body, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="racer"
    )
    model.ir_version = IR_VERSION
    helper.set_model_props(model, metadata_props(graph))
    onnx.checker.check_model(model)
    return model


def metadata_props(graph: PolicyGraph) -> dict[str, str]:
    """The ``metadata_props`` of an exported model: all strings."""
    meta = graph.metadata
    return {
        "model_metadata": json.dumps(meta),
        "sensor": graph.sensor,
        "action_space_type": graph.action_space_type,
        "action_space": json.dumps(meta.get("action_space")),
    }


def write(graph: PolicyGraph, dest: Path, precision: str = "fp32") -> None:
    """Write the ``.onnx`` file."""
    import onnx

    onnx.save_model(build_model(graph), str(dest))


def verify(
    path: Path, inputs: NDArray[Any], reference: NDArray[Any], discrete: bool
) -> tuple[ParityCheck, ...]:
    """Check the file with ``onnx.checker``, its metadata, and its outputs in ONNX Runtime."""
    import onnx

    from racer.export.runtimes import run_onnxruntime

    try:
        model = onnx.load(str(path))
        onnx.checker.check_model(model)
    except Exception as exc:  # onnx raises several unrelated types for a bad file
        raise ExportError(f"{path}: not a valid ONNX model ({exc})") from exc
    props = {p.key for p in model.metadata_props}
    missing = [k for k in METADATA_KEYS if k not in props]
    if missing:
        raise ExportError(f"{path}: metadata_props lack {', '.join(missing)}")
    try:
        outputs = run_onnxruntime(path, inputs)
    except Exception as exc:  # onnxruntime's errors have no common public base class
        raise ExportError(f"{path}: ONNX Runtime cannot run it ({exc})") from exc
    return (compare("onnxruntime", "fp32", outputs, reference, discrete=discrete),)


FORMAT = ExportFormat(
    name="onnx",
    description="an ONNX model (input 'observation', output 'policy'), metadata inside",
    default_name=lambda run: f"{run}.onnx",
    write=write,
    verify=verify,
    refuses=any_model,
    recognises=lambda p: p.suffix == ".onnx",
)
