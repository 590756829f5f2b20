"""Inference runtimes that load the car's model files: OpenVINO and ONNX Runtime.

======================  ==========================================  =====================
runtime                 reads                                       package
======================  ==========================================  =====================
``openvino``            DeepRacer ``.pb`` (TensorFlow frontend),    ``openvino``
                        ``.onnx``, OpenVINO IR ``.xml``
``onnxruntime``         ``.onnx``                                   ``onnxruntime``
======================  ==========================================  =====================

``auto`` picks ONNX Runtime for ``.onnx`` and OpenVINO for the rest, falling back to whichever
is installed. Both run the network with one thread by default (a steady, comparable latency),
and OpenVINO computes in float32 unless told otherwise: the CPU plugin's default on many
CPUs is bfloat16, which can flip a near-tie between two actions (the car itself compiles FP16).
The network is found as "exactly one input, exactly one output", never by name.
"""

from __future__ import annotations

import difflib
import importlib.util
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from racer.drive.errors import DriveError, ModelError

FloatArray = NDArray[np.float32]

PRECISIONS = {"f32": "f32", "fp32": "f32", "f16": "f16", "fp16": "f16", "bf16": "bf16"}
"""OpenVINO CPU inference precisions (``INFERENCE_PRECISION_HINT``) by accepted spelling."""

FORMATS = {".pb": "deepracer", ".onnx": "onnx", ".xml": "openvino"}
"""Network file suffix -> format name."""


class Runtime(Protocol):
    """A compiled network with one input and one output."""

    name: str
    input_shape: tuple[int, ...]
    """Static input shape, batch 1 (``(1, 120, 160, 1)`` for a camera model)."""
    output_size: int
    """Values per output row."""
    metadata_text: str | None
    """``model_metadata.json`` carried inside the file (ONNX ``metadata_props``), if any."""

    def __call__(self, x: FloatArray) -> FloatArray:
        """The output row of one input."""
        ...


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _static_shape(dims: list[Any], path: Path) -> tuple[int, ...]:
    """A network input shape with its batch set to 1; other dimensions must be fixed."""
    if not dims:
        raise ModelError(f"{path}: the network input has no dimensions")
    shape = [1]
    for d in dims[1:]:
        if not isinstance(d, int) or d <= 0:
            raise ModelError(f"{path}: the network input has a dynamic dimension: {dims}")
        shape.append(d)
    return tuple(shape)


class OpenVinoRuntime:
    """A network compiled by OpenVINO for the CPU.

    Args:
        path: ``.pb``, ``.onnx`` or ``.xml`` (with its ``.bin`` beside it).
        threads: ``INFERENCE_NUM_THREADS``; None lets OpenVINO choose.
        precision: ``f32``, ``f16`` or ``bf16`` (``INFERENCE_PRECISION_HINT``).

    Raises:
        ModelError: OpenVINO is missing or cannot read the file, or the network does not have
            exactly one input and one output.
    """

    name = "openvino"

    def __init__(self, path: Path, threads: int | None = 1, precision: str = "f32") -> None:
        try:
            import openvino as ov
        except ImportError:
            raise ModelError("OpenVINO is not installed: pip install openvino") from None
        if precision not in PRECISIONS:
            raise DriveError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
        core = ov.Core()
        try:
            model = core.read_model(str(path))
        except Exception as exc:  # OpenVINO raises RuntimeError and friends
            raise ModelError(f"{path}: OpenVINO cannot read it: {_first_line(exc)}") from None
        if len(model.inputs) != 1 or len(model.outputs) != 1:
            raise ModelError(
                f"{path}: expected a network with exactly one input and one output, got "
                f"{len(model.inputs)} input(s) and {len(model.outputs)} output(s)"
            )
        pshape = model.input(0).get_partial_shape()
        dims = [d.get_length() if d.is_static else -1 for d in pshape]
        self.input_shape = _static_shape(dims, path)
        model.reshape({model.input(0): ov.PartialShape(list(self.input_shape))})
        self.metadata_text = None
        if model.has_rt_info(["framework", "model_metadata"]):
            self.metadata_text = str(model.get_rt_info(["framework", "model_metadata"]).astype(str))
        config: dict[str, Any] = {
            "INFERENCE_PRECISION_HINT": PRECISIONS[precision],
            "PERFORMANCE_HINT": "LATENCY",
        }
        if threads is not None:
            config["INFERENCE_NUM_THREADS"] = int(threads)
        try:
            compiled = core.compile_model(model, "CPU", config)
        except Exception as exc:
            raise ModelError(f"{path}: OpenVINO cannot compile it: {_first_line(exc)}") from None
        self.output_size = int(np.prod(list(compiled.output(0).get_shape())[1:], dtype=np.int64))
        self._request = compiled.create_infer_request()

    def __call__(self, x: FloatArray) -> FloatArray:
        """The output row of one input."""
        self._request.infer({0: x})
        out = self._request.get_output_tensor(0).data
        return np.array(out, dtype=np.float32).reshape(-1)


class OnnxRuntime:
    """An ``.onnx`` network in an ONNX Runtime CPU session.

    Args:
        path: The ``.onnx`` file.
        threads: Intra-op threads (1 by default); None lets ONNX Runtime choose.
        precision: Ignored (ONNX Runtime computes in the model's float32).

    Raises:
        ModelError: ONNX Runtime is missing or cannot load the file, the file is not ONNX, or
            the network does not have exactly one input and one output.
    """

    name = "onnxruntime"

    def __init__(self, path: Path, threads: int | None = 1, precision: str = "f32") -> None:
        if path.suffix.lower() != ".onnx":
            raise ModelError(
                f"{path}: ONNX Runtime reads .onnx files only; use --runtime openvino for it"
            )
        try:
            import onnxruntime as ort
        except ImportError:
            raise ModelError("ONNX Runtime is not installed: pip install onnxruntime") from None
        options = ort.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = int(threads)
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        try:
            self._session = ort.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelError(f"{path}: ONNX Runtime cannot load it: {_first_line(exc)}") from None
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        if len(inputs) != 1 or len(outputs) != 1:
            raise ModelError(
                f"{path}: expected a network with exactly one input and one output, got "
                f"{len(inputs)} input(s) and {len(outputs)} output(s)"
            )
        self._input, self._output = inputs[0].name, outputs[0].name
        dims = [d if isinstance(d, int) else -1 for d in inputs[0].shape]
        self.input_shape = _static_shape(dims, path)
        out_dims = outputs[0].shape[1:]
        self.output_size = (
            int(np.prod(out_dims)) if all(isinstance(d, int) for d in out_dims) else -1
        )
        meta = self._session.get_modelmeta().custom_metadata_map
        self.metadata_text = meta.get("model_metadata")

    def __call__(self, x: FloatArray) -> FloatArray:
        """The output row of one input."""
        out = self._session.run([self._output], {self._input: x})[0]
        return np.asarray(out, dtype=np.float32).reshape(-1)


RUNTIMES: dict[str, type[OpenVinoRuntime] | type[OnnxRuntime]] = {
    "openvino": OpenVinoRuntime,
    "onnxruntime": OnnxRuntime,
}
"""Runtimes by name."""

_PACKAGES = {"openvino": "openvino", "onnxruntime": "onnxruntime"}
_PREFERENCE = {
    "onnx": ("onnxruntime", "openvino"),
    "deepracer": ("openvino",),
    "openvino": ("openvino",),
}


def choose_runtime(name: str, network: Path) -> str:
    """The runtime to load ``network`` with: ``name`` itself, or the best installed for ``auto``.

    Raises:
        DriveError: An unknown runtime name (with a "did you mean").
        ModelError: ``auto`` finds no installed runtime that reads this format.
    """
    if name != "auto":
        if name not in RUNTIMES:
            close = difflib.get_close_matches(name, [*RUNTIMES, "auto"], n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise DriveError(f"unknown runtime {name!r}{hint}; known: auto, {', '.join(RUNTIMES)}")
        return name
    fmt = FORMATS.get(network.suffix.lower(), "onnx")
    for candidate in _PREFERENCE[fmt]:
        if importlib.util.find_spec(_PACKAGES[candidate]) is not None:
            return candidate
    wanted = " or ".join(_PREFERENCE[fmt])
    raise ModelError(f"{network}: no runtime installed that reads it; pip install {wanted}")


def load_runtime(
    network: Path, name: str = "auto", threads: int | None = 1, precision: str = "f32"
) -> OpenVinoRuntime | OnnxRuntime:
    """Compile a network file with a runtime (see :func:`choose_runtime`)."""
    return RUNTIMES[choose_runtime(name, network)](network, threads=threads, precision=precision)
