"""An uploaded ONNX camera model as a policy the evaluator drives, and its metadata.

The file is only ever parsed as ONNX and run by ONNX Runtime on the CPU, one thread.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from racer.sim.actions import ActionSpace, DiscreteActionSpace
from racer.train.config import ConfigError, TrainConfig
from racer.train.metadata import config_fields

CAMERA_SENSORS = {"FRONT_FACING_CAMERA": 1, "STEREO_CAMERAS": 2}
"""The sensors a submission may use, with the image channels each gives."""


class EvaluationError(ValueError):
    """A submission that cannot be raced (its model, metadata or the race's settings)."""


class OnnxPolicy:
    """An ONNX camera model as an evaluation policy (``predict(obs) -> action``).

    The network takes the environment's camera observation as float32 NHWC 0-255
    (``[1, 120, 160, C]``) and gives a softmax over the actions (discrete: the argmax index)
    or (steering, speed) in [-1, 1] (continuous: clipped, the environment's action).

    Args:
        path: The ``.onnx`` file.
        action_space: The model's action space (from its metadata).
        channels: Image channels: 1 for a front camera, 2 for stereo cameras.

    Raises:
        EvaluationError: ONNX Runtime cannot load the file, or its input or output shape does
            not fit the camera and the action space.
    """

    def __init__(self, path: Path, action_space: ActionSpace, channels: int = 1) -> None:
        self._session = onnx_session(Path(path))
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        if len(inputs) != 1 or len(outputs) != 1:
            raise EvaluationError(
                f"expected a network with one input and one output, got {len(inputs)} "
                f"input(s) and {len(outputs)} output(s)"
            )
        self._input, self._output = inputs[0].name, outputs[0].name
        dims = list(inputs[0].shape)
        expected = [120, 160, channels]
        if len(dims) != 4 or dims[1:] != expected or inputs[0].type != "tensor(float)":
            raise EvaluationError(
                f"the network takes {inputs[0].type} {dims}, expected float32 "
                f"[N, 120, 160, {channels}] (camera images, 0-255)"
            )
        self.action_space = action_space
        self.discrete = isinstance(action_space, DiscreteActionSpace)
        self.outputs = len(action_space) if isinstance(action_space, DiscreteActionSpace) else 2
        out_dims = list(outputs[0].shape)
        if len(out_dims) == 2 and isinstance(out_dims[1], int) and out_dims[1] != self.outputs:
            raise EvaluationError(
                f"the network has {out_dims[1]} outputs but the metadata's action space "
                f"needs {self.outputs}"
            )

    def predict(self, obs: Any) -> Any:
        """The action for one ``(C, 120, 160)`` uint8 camera observation.

        Raises:
            EvaluationError: The network fails or gives the wrong number of outputs.
        """
        x = np.ascontiguousarray(np.moveaxis(np.asarray(obs), 0, -1)[None], dtype=np.float32)
        try:
            result = self._session.run([self._output], {self._input: x})[0]
            out = np.asarray(result, dtype=np.float32).reshape(-1)
        except Exception as exc:  # ONNX Runtime raises its own exception types
            raise EvaluationError(f"the network failed: {str(exc).strip()[:200]}") from None
        if out.size != self.outputs:
            raise EvaluationError(f"the network gave {out.size} outputs, expected {self.outputs}")
        if self.discrete:
            return int(np.argmax(np.nan_to_num(out, nan=-np.inf)))
        return np.clip(np.nan_to_num(out, nan=0.0), -1.0, 1.0).astype(np.float32)


def model_config(metadata: dict[str, Any]) -> TrainConfig:
    """The model's configuration from its ``model_metadata``: its sensor and action space.

    Raises:
        EvaluationError: No or an invalid action space, or sensors other than one front
            camera or one pair of stereo cameras.
    """
    if "action_space" not in metadata:
        raise EvaluationError("model_metadata has no action_space")
    try:
        found = config_fields(metadata, "model_metadata")
        keep = {k: v for k, v in found.items() if k in ("action_space", "sensors")}
        config = TrainConfig(**keep)
    except (ConfigError, ValueError) as exc:
        raise EvaluationError(str(exc)) from None
    if len(config.sensors) != 1 or config.sensors[0] not in CAMERA_SENSORS:
        raise EvaluationError(
            f"the model's sensors are {list(config.sensors)}; a race takes models with one "
            f"of {sorted(CAMERA_SENSORS)}"
        )
    return config


def onnx_session(path: Path) -> Any:
    """An ONNX Runtime CPU session of a file: one intra-op and one inter-op thread.

    The file is read as bytes, so its name need not end in ``.onnx``.

    Raises:
        EvaluationError: ONNX Runtime is missing or cannot load the file.
    """
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        raise EvaluationError("ONNX Runtime is not installed: pip install onnxruntime") from None
    try:
        return cpu_session(Path(path).read_bytes())
    except Exception as exc:  # OSError, or ONNX Runtime's own exception types
        lines = str(exc).strip().splitlines() or [type(exc).__name__]
        raise EvaluationError(f"ONNX Runtime cannot load the model: {lines[0][:300]}") from None


def embedded_metadata(path: Path) -> dict[str, Any]:
    """The ``model_metadata`` mapping inside an ONNX file (its ``metadata_props``).

    Raises:
        EvaluationError: The file cannot be loaded, or carries no metadata or not a JSON
            object.
    """
    text = onnx_session(path).get_modelmeta().custom_metadata_map.get("model_metadata")
    if text is None:
        raise EvaluationError("no model_metadata given and none inside the model file")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EvaluationError(f"the model's model_metadata is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise EvaluationError("the model's model_metadata is not a JSON object")
    return data


def cpu_session(data: bytes) -> Any:
    """An ONNX Runtime session for a model's bytes: CPU, one thread, errors only in the log.

    Raises:
        Exception: ONNX Runtime's own error types when it cannot load the model.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
