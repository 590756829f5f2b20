"""OpenVINO IR: a folder with ``model.xml``, ``model.bin`` and ``model_metadata.json``.

Converted with ``openvino.convert_model`` from the ONNX model of the same layers, so input and
output keep the names ``observation`` and ``policy`` and the channels-last input. With
``precision="fp16"`` the weights are stored as float16 (``compress_to_fp16``), half the size;
OpenVINO still computes in float32 on a CPU unless told otherwise. The run's metadata is also
in the IR's runtime info under ``racer/model_metadata``.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from numpy.typing import NDArray

from racer.export.errors import ExportError
from racer.export.formats import ExportFormat, any_model
from racer.export.layers import PolicyGraph
from racer.export.parity import ParityCheck, compare

XML = "model.xml"
BIN = "model.bin"
METADATA = "model_metadata.json"


def write(graph: PolicyGraph, dest: Path, precision: str = "fp32") -> None:
    """Write the IR folder at ``dest`` (created)."""
    import onnx
    import openvino as ov

    from racer.export.onnx_model import build_model

    dest.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="racer-export-") as tmp:
        onnx_path = Path(tmp) / "model.onnx"
        onnx.save_model(build_model(graph), str(onnx_path))
        model = ov.convert_model(str(onnx_path))
    model.set_rt_info(json.dumps(graph.metadata), ["racer", "model_metadata"])
    model.set_rt_info(precision, ["racer", "precision"])
    ov.save_model(model, str(dest / XML), compress_to_fp16=precision == "fp16")
    (dest / METADATA).write_text(json.dumps(graph.metadata, indent=2) + "\n")


def verify(
    path: Path, inputs: NDArray[Any], reference: NDArray[Any], discrete: bool
) -> tuple[ParityCheck, ...]:
    """Read the IR with OpenVINO and compare (FP16 tolerance when its weights are float16)."""
    from racer.export.runtimes import has_fp16_weights, openvino_core, run_openvino

    missing = [name for name in (XML, BIN, METADATA) if not (path / name).is_file()]
    if missing:
        raise ExportError(f"{path}: an OpenVINO export needs {', '.join(missing)}")
    try:
        model = openvino_core().read_model(str(path / XML))
        outputs = run_openvino(model, inputs)
    except RuntimeError as exc:
        raise ExportError(f"{path}: OpenVINO cannot run the IR ({exc})") from exc
    precision = "fp16" if has_fp16_weights(model) else "fp32"
    return (compare("openvino (IR)", precision, outputs, reference, discrete=discrete),)


FORMAT = ExportFormat(
    name="openvino",
    description="an OpenVINO IR folder (model.xml, model.bin, model_metadata.json)",
    default_name=lambda run: f"{run}-openvino",
    write=write,
    verify=verify,
    refuses=any_model,
    recognises=lambda p: p.is_dir() and (p / XML).is_file(),
    precisions=("fp32", "fp16"),
)
