"""The checks :func:`racer.server.uploads.validate_upload` runs on an uploaded ONNX file.

The file is only ever parsed as an ONNX protobuf and run by ONNX Runtime from memory: nothing
is unpickled, no external data file is followed, no custom operator is loaded. Before the one
test run, shape inference (with the batch fixed at 1) bounds every tensor's size and the
network's multiply-adds, so a small file cannot make the server allocate or compute without
limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto

from racer.server.uploads import UploadError

ALLOWED_OPS = frozenset(
    [
        "Add",
        "AveragePool",
        "BatchNormalization",
        "Cast",
        "Clip",
        "Concat",
        "Constant",
        "Conv",
        "Div",
        "Dropout",
        "Flatten",
        "Gather",
        "Gemm",
        "Identity",
        "LeakyRelu",
        "MatMul",
        "Max",
        "MaxPool",
        "Min",
        "Mul",
        "Relu",
        "Reshape",
        "Shape",
        "Sigmoid",
        "Softmax",
        "Squeeze",
        "Sub",
        "Tanh",
        "Transpose",
        "Unsqueeze",
    ]
)
"""Operators a camera policy needs: racer's exports and DeepRacer-style CNNs."""
STANDARD_DOMAINS = ("", "ai.onnx")
HEIGHT, WIDTH = 120, 160
MAX_NODES = 1000
MAX_ELEMENTS = 50_000_000
"""Largest tensor allowed, elements (a DeepRacer network's largest holds about 36 thousand)."""
MAX_MACS = 2_000_000_000
"""Most multiply-adds per frame (DeepRacer's deep network needs well under 0.1 billion)."""
FLOAT_TYPES = (TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16)
_SIGNATURES = (
    (b"PK\x03\x04", "a zip archive (a stable-baselines3 model .zip or a PyTorch checkpoint?)"),
    (b"PK\x05\x06", "an empty zip archive"),
    (b"\x1f\x8b", "a gzip file (a DeepRacer model .tar.gz?)"),
)
_EXPORT_HINT = (
    "upload an .onnx file: export a racer model with `racer export MODEL --format onnx`, "
    "or let `racer submit MODEL` export it for you"
)


def _refuse(reason: str, status: int = 422) -> UploadError:
    return UploadError(status, reason)


def one_line(exc: BaseException) -> str:
    """An exception's message on one line, at most 300 characters (or its type's name)."""
    text = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    return text[:300] if text else type(exc).__name__


def parse_model(data: bytes) -> onnx.ModelProto:
    """Parse the bytes as an ONNX protobuf, never as anything else.

    Raises:
        UploadError: 415 when the bytes are not an ONNX model.
    """
    for magic, kind in _SIGNATURES:
        if data.startswith(magic):
            raise _refuse(f"not an ONNX model: the file is {kind}; {_EXPORT_HINT}", 415)
    if data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        raise _refuse(
            "not an ONNX model: the file is a Python pickle, which the race server never "
            f"loads; {_EXPORT_HINT}",
            415,
        )
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except Exception:  # protobuf's DecodeError, or a RuntimeError from some backends
        model = onnx.ModelProto()
    if model.ir_version <= 0 or not model.HasField("graph") or not model.opset_import:
        raise _refuse(
            "not an ONNX model: the file cannot be read as one (is it truncated, or another "
            f"kind of file?); {_EXPORT_HINT}",
            415,
        )
    return model


def _graphs(graph: onnx.GraphProto) -> Iterator[onnx.GraphProto]:
    """A graph and every subgraph inside its nodes' attributes."""
    yield graph
    for node in graph.node:
        for attr in node.attribute:
            subs = [attr.g] if attr.HasField("g") else []
            for sub in [*subs, *attr.graphs]:
                yield from _graphs(sub)


def _tensors(graph: onnx.GraphProto) -> Iterator[onnx.TensorProto]:
    """Every tensor stored in a graph: initializers and node attributes, subgraphs included."""
    for g in _graphs(graph):
        yield from g.initializer
        for sparse in g.sparse_initializer:
            yield from (sparse.values, sparse.indices)
        for node in g.node:
            for attr in node.attribute:
                if attr.HasField("t"):
                    yield attr.t
                yield from attr.tensors
                if attr.HasField("sparse_tensor"):
                    yield from (attr.sparse_tensor.values, attr.sparse_tensor.indices)


def refuse_external_data(model: onnx.ModelProto) -> None:
    """Refuse tensors whose data lives in another file (which could name any server file)."""
    for tensor in _tensors(model.graph):
        if tensor.data_location == TensorProto.EXTERNAL or len(tensor.external_data) > 0:
            raise _refuse(
                f"tensor {tensor.name!r} keeps its data in an external file; the race server "
                "accepts self-contained ONNX files only (save with all weights inside the "
                "file, e.g. onnx.save_model(model, path, save_as_external_data=False))"
            )


def check_operators(model: onnx.ModelProto) -> None:
    """Only standard ONNX operators from :data:`ALLOWED_OPS`, no functions, a bounded graph."""
    for opset in model.opset_import:
        if opset.domain not in STANDARD_DOMAINS:
            raise _refuse(
                f"the model imports the operator set {opset.domain!r}; the race server runs "
                "standard ONNX operators only (domain ai.onnx)"
            )
    if model.functions:
        raise _refuse("the model defines ONNX functions; the race server accepts plain graphs")
    nodes = [node for g in _graphs(model.graph) for node in g.node]
    custom = sorted({f"{n.domain}::{n.op_type}" for n in nodes if n.domain not in STANDARD_DOMAINS})
    if custom:
        raise _refuse(f"the model uses custom operators {', '.join(custom)}; {_ops_hint()}")
    refused = sorted({n.op_type for n in nodes} - ALLOWED_OPS)
    if refused:
        raise _refuse(f"the model uses operators {', '.join(refused)}; {_ops_hint()}")
    if len(nodes) > MAX_NODES:
        raise _refuse(f"the model has {len(nodes)} nodes; the race server allows {MAX_NODES}")


def _ops_hint() -> str:
    return f"the race server runs these ONNX operators only: {', '.join(sorted(ALLOWED_OPS))}"


def run_checker(model: onnx.ModelProto) -> None:
    """``onnx.checker.check_model`` with full shape checks."""
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as exc:  # ValidationError, InferenceError and friends
        raise _refuse(f"the ONNX checker rejects the model: {one_line(exc)}") from None


def _dims(value: onnx.ValueInfoProto) -> list[int | str] | None:
    """A value's dimensions (int, the symbol's name, or '?'); None when its rank is unknown."""
    tensor = value.type.tensor_type
    if not value.type.HasField("tensor_type") or not tensor.HasField("shape"):
        return None
    return [
        d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in tensor.shape.dim
    ]


def _show(dims: list[int | str] | None) -> str:
    return "unknown" if dims is None else "[" + ", ".join(str(d) for d in dims) + "]"


def graph_input(model: onnx.ModelProto) -> tuple[str, int]:
    """The one camera input's name and channels; it must be float ``[batch, 120, 160, C]``."""
    stored = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in stored]
    expected = (
        f"racer feeds a camera model one float input of shape [batch, {HEIGHT}, {WIDTH}, C] "
        "(0-255, channels last; C is 1 for FRONT_FACING_CAMERA, 2 for STEREO_CAMERAS)"
    )
    if len(inputs) != 1:
        names = ", ".join(repr(i.name) for i in inputs) or "none"
        raise _refuse(f"the model has {len(inputs)} inputs ({names}); {expected}")
    value = inputs[0]
    dims = _dims(value)
    ok_type = value.type.tensor_type.elem_type == TensorProto.FLOAT
    ok_shape = (
        dims is not None
        and len(dims) == 4
        and (not isinstance(dims[0], int) or dims[0] == 1)
        and dims[1:3] == [HEIGHT, WIDTH]
        and dims[3] in (1, 2)
    )
    if not (ok_type and ok_shape):
        kind = TensorProto.DataType.Name(value.type.tensor_type.elem_type).lower()
        raise _refuse(
            f"the model's input {value.name!r} is {kind} of shape {_show(dims)}; {expected}"
        )
    assert dims is not None
    return value.name, int(dims[3])


def check_output(model: onnx.ModelProto, outputs: int, space: str) -> None:
    """Exactly one float output whose last dimension is ``outputs`` (when declared)."""
    values = model.graph.output
    need = f"{outputs} values per frame for its {space} action space"
    if len(values) != 1:
        raise _refuse(f"the model has {len(values)} outputs; racer reads exactly one ({need})")
    value = values[0]
    if value.type.tensor_type.elem_type not in FLOAT_TYPES:
        raise _refuse(f"the model's output {value.name!r} is not a float tensor ({need})")
    dims = _dims(value)
    if dims and isinstance(dims[-1], int) and dims[-1] != outputs:
        raise _refuse(f"the model's output {value.name!r} has shape {_show(dims)}; it needs {need}")


def _static_shapes(model: onnx.ModelProto) -> tuple[dict[str, list[int]], onnx.GraphProto]:
    """Every tensor's shape, inferred with the batch fixed at 1; all must be known."""
    fixed = onnx.ModelProto()
    fixed.CopyFrom(model)
    del fixed.graph.value_info[:]
    stored = {t.name for t in fixed.graph.initializer}
    for value in [*fixed.graph.input, *fixed.graph.output]:
        dims = value.type.tensor_type.shape.dim
        if value.name not in stored and dims and not dims[0].HasField("dim_value"):
            dims[0].dim_value = 1
    try:
        graph = onnx.shape_inference.infer_shapes(
            fixed, check_type=True, strict_mode=True, data_prop=True
        ).graph
    except Exception as exc:  # InferenceError and friends
        raise _refuse(f"ONNX shape inference fails on the model: {one_line(exc)}") from None
    shapes = {t.name: list(t.dims) for t in graph.initializer}
    known = {v.name: _dims(v) for v in [*graph.input, *graph.value_info, *graph.output]}
    for node in graph.node:
        for name in filter(None, node.output):  # "" is an omitted optional output
            dims = known.get(name)
            if dims is None or not all(isinstance(d, int) and d > 0 for d in dims):
                raise _refuse(
                    f"the size of tensor {name!r} ({node.op_type}) cannot be worked out before "
                    f"running the model (shape {_show(dims)}); the race server accepts models "
                    "whose tensor shapes are fixed once the batch is 1"
                )
            shapes[name] = [int(d) for d in dims]
    return shapes, graph


def check_sizes(model: onnx.ModelProto) -> None:
    """Refuse tensors over :data:`MAX_ELEMENTS` and networks over :data:`MAX_MACS`."""
    shapes, graph = _static_shapes(model)
    for name, dims in shapes.items():
        elements = int(np.prod(dims, dtype=np.float64))
        if elements > MAX_ELEMENTS:
            raise _refuse(
                f"tensor {name!r} would hold {elements:,} values (shape {dims}); the race server "
                f"allows at most {MAX_ELEMENTS:,} per tensor"
            )
    macs = 0.0
    for node in graph.node:
        if node.op_type in ("Conv", "Gemm", "MatMul") and node.output[0] in shapes:
            out = float(np.prod(shapes[node.output[0]], dtype=np.float64))
            macs += out * _reduced(node, shapes)
    if macs > MAX_MACS:
        raise _refuse(
            f"the network needs about {macs / 1e9:.1f} billion multiply-adds per frame; the race "
            f"server allows {MAX_MACS / 1e9:.0f} billion"
        )


def _reduced(node: onnx.NodeProto, shapes: dict[str, list[int]]) -> float:
    """Multiply-adds per output value of a Conv, Gemm or MatMul node."""
    a, b = (shapes.get(name, [1]) for name in node.input[:2])
    if node.op_type == "Conv":
        return float(np.prod(b[1:], dtype=np.float64))
    if node.op_type == "Gemm":
        trans = any(attr.name == "transA" and attr.i for attr in node.attribute)
        return float(a[0] if trans else a[-1])
    return float(a[-1])


def run_inference(data: bytes, name: str, channels: int, outputs: int) -> None:
    """Run the model on an all-0 and an all-255 frame: ``outputs`` finite values each."""
    from racer.server.onnx_policy import cpu_session

    try:
        session = cpu_session(data)
    except Exception as exc:  # onnxruntime's errors share no public base class
        raise _refuse(f"ONNX Runtime cannot load the model: {one_line(exc)}") from None
    for fill, frame in ((0.0, "an all-black"), (255.0, "an all-white")):
        x = np.full((1, HEIGHT, WIDTH, channels), fill, dtype=np.float32)
        try:
            out: Any = session.run(None, {name: x})[0]
        except Exception as exc:  # as above
            raise _refuse(f"ONNX Runtime cannot run the model: {one_line(exc)}") from None
        result = np.asarray(out)
        if result.size != outputs or result.shape[-1:] != (outputs,):
            raise _refuse(
                f"on {frame} frame the model outputs shape {list(result.shape)}; racer expects "
                f"[1, {outputs}] (one value per action, or steering and speed)"
            )
        if not np.all(np.isfinite(result.astype(np.float64))):
            raise _refuse(
                f"on {frame} frame the model outputs {np.round(result.reshape(-1), 4).tolist()}: "
                "NaN or infinite values; check the model's weights"
            )
