"""Running an exported model in the runtimes that load it on the car: OpenVINO, ONNX Runtime.

Both run on the CPU here. OpenVINO is asked for float32 arithmetic explicitly: on CPUs with
bfloat16 units it would otherwise compute in bfloat16, which is not what the check measures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

BATCH = 100
"""Frames per inference call."""


def openvino_core() -> Any:
    """A fresh ``openvino.Core``."""
    import openvino as ov

    return ov.Core()


def run_openvino(model: Any, inputs: NDArray[np.float32]) -> NDArray[np.float32]:
    """Outputs of an ``openvino.Model`` (one input, one output) on a batch of inputs."""
    compiled = openvino_core().compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    request = compiled.create_infer_request()
    parts = []
    for start in range(0, len(inputs), BATCH):
        result = request.infer([inputs[start : start + BATCH]])
        parts.append(np.array(result[compiled.output(0)], dtype=np.float32))
    return np.concatenate(parts)


def run_onnxruntime(path: Path, inputs: NDArray[np.float32]) -> NDArray[np.float32]:
    """Outputs of an ONNX file in ONNX Runtime's CPU provider."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    parts = [
        np.asarray(session.run(None, {name: inputs[start : start + BATCH]})[0], dtype=np.float32)
        for start in range(0, len(inputs), BATCH)
    ]
    return np.concatenate(parts)


def has_fp16_weights(model: Any) -> bool:
    """Whether an ``openvino.Model`` stores any constant as float16."""
    import openvino as ov

    return any(
        op.get_type_name() == "Constant" and op.get_element_type() == ov.Type.f16
        for op in model.get_ops()
    )


def fp16_copy(model: Any, folder: Path) -> Any:
    """The model saved with float16 weights and read back (what the car's converter makes)."""
    import openvino as ov

    xml = folder / "fp16.xml"
    ov.save_model(model, str(xml), compress_to_fp16=True)
    return openvino_core().read_model(str(xml))
