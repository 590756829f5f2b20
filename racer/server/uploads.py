"""Validating a model uploaded to the race server before it is stored or queued.

An upload is only ever parsed as an ONNX protobuf and run by ONNX Runtime from memory; it is
never unpickled or executed as code. :func:`validate_upload` refuses, with an
:class:`UploadError` whose HTTP status and reason go back to the racer:

* 413: the file (or its metadata file) is too large;
* 415: the file is not an ONNX model at all (a pickle, a zip, text, nothing);
* 422: an ONNX model that is invalid or does not fit a race: external data, operators
  outside the allow-list, a wrong input or output shape, missing or invalid metadata, a
  sensor other than a camera, a tensor or network too large, NaN or infinite outputs.

The checks of the ONNX file itself live in :mod:`racer.server.onnx_checks`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from racer.drive.errors import ModelError
from racer.drive.metadata import CAMERA, STEREO, ModelInfo, parse_metadata

MB = 1024 * 1024
MAX_METADATA_BYTES = 1 * MB
METADATA_KEY = "model_metadata"
"""The ONNX ``metadata_props`` key holding ``model_metadata.json`` (racer's exports write it)."""
SENSOR_BY_CHANNELS = {1: CAMERA, 2: STEREO}


class UploadError(Exception):
    """An upload the race server refuses.

    Attributes:
        status_code: The HTTP status to answer with (413, 415 or 422).
        reason: What is wrong and what is expected, for the racer; also ``str(exc)``.
    """

    def __init__(self, status_code: int, reason: str) -> None:
        super().__init__(reason)
        self.status_code = status_code
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


@dataclass(frozen=True)
class ValidatedModel:
    """An uploaded model that passed every check.

    Attributes:
        data: The ONNX file's bytes (left out of repr and comparisons).
        sha256: Hex SHA-256 of ``data``; the server stores the file under it.
        size: Bytes.
        metadata: The ``model_metadata.json`` mapping (from the file or the metadata upload).
        sensors: ``("FRONT_FACING_CAMERA",)`` or ``("STEREO_CAMERAS",)``.
        channels: Input channels: 1 (one camera) or 2 (stereo).
        action_space_type: ``discrete`` or ``continuous``.
        outputs: Values the network outputs per frame: actions, or 2 (steering, speed).
    """

    data: bytes = field(repr=False, compare=False)
    sha256: str
    size: int
    metadata: dict[str, Any]
    sensors: tuple[str, ...]
    channels: int
    action_space_type: str
    outputs: int


def _sizes(size: int, limit: int) -> tuple[str, str]:
    """Two sizes in MB, with the bytes too where one decimal cannot tell them apart."""
    shown = f"{size / MB:.1f} MB", f"{limit / MB:.1f} MB"
    if shown[0] == shown[1]:
        return f"{shown[0]} ({size:,} bytes)", f"{shown[1]} ({limit:,} bytes)"
    return shown


def _check_size(data: bytes, max_bytes: int, metadata_text: str | None) -> None:
    """Refuse an empty file and files over the limits (413)."""
    if len(data) > max_bytes:
        size, limit = _sizes(len(data), max_bytes)
        raise UploadError(
            413, f"the model file is {size}; the race server accepts files up to {limit}"
        )
    if not data:
        raise UploadError(415, "the model file is empty; upload an .onnx file")
    if metadata_text is not None and len(metadata_text.encode()) > MAX_METADATA_BYTES:
        size, limit = _sizes(len(metadata_text.encode()), MAX_METADATA_BYTES)
        raise UploadError(
            413, f"the metadata file is {size}; a model_metadata.json may be up to {limit}"
        )


def _model_info(props: dict[str, str], metadata_text: str | None, filename: str) -> ModelInfo:
    """The model's metadata: from the file's ``metadata_props``, else the uploaded text."""
    if METADATA_KEY in props:
        text, source = props[METADATA_KEY], f"{filename} (its metadata_props)"
    elif metadata_text is not None:
        text, source = metadata_text, "the uploaded metadata file"
    else:
        raise UploadError(
            422,
            f"{filename} carries no model metadata: racer needs the action space and sensors, "
            f"either inside the ONNX file (metadata_props key {METADATA_KEY!r}, as "
            "`racer export --format onnx` writes it) or as a model_metadata.json uploaded "
            "with it (`racer submit` sends the one beside the .onnx file)",
        )
    try:
        return parse_metadata(text, source)
    except ModelError as exc:
        raise UploadError(422, str(exc)) from None


def _check_sensors(info: ModelInfo, channels: int) -> None:
    """One front camera with 1 input channel, or stereo cameras with 2."""
    sensors = info.sensors
    if any("LIDAR" in s.upper() for s in sensors):
        raise UploadError(
            422,
            f"the model's metadata lists sensors {list(sensors)}; the race server evaluates "
            f"camera models only ({CAMERA} or {STEREO}, no lidar)",
        )
    if sensors not in ((CAMERA,), (STEREO,)):
        raise UploadError(
            422,
            f"the model's metadata lists sensors {list(sensors)}; the race server evaluates "
            f"models with exactly one of {CAMERA} or {STEREO}",
        )
    if SENSOR_BY_CHANNELS[channels] != sensors[0]:
        raise UploadError(
            422,
            f"the model's metadata says {sensors[0]} but its input has {channels} channel(s); "
            f"{CAMERA} takes 1 channel, {STEREO} takes 2",
        )


def validate_upload(
    data: bytes,
    *,
    max_bytes: int,
    metadata_text: str | None = None,
    filename: str = "model.onnx",
) -> ValidatedModel:
    """Check an uploaded model thoroughly before the server stores it.

    Args:
        data: The uploaded file's bytes.
        max_bytes: The largest file accepted.
        metadata_text: A ``model_metadata.json`` uploaded beside the model, used when the
            ONNX file carries none itself.
        filename: The uploaded file's name, for messages only.

    Returns:
        The model's bytes, hash and what the evaluation needs to know about it.

    Raises:
        UploadError: With the HTTP status (413, 415 or 422) and a reason for the racer.
    """
    filename = filename.replace("\n", " ")[:120] or "model.onnx"
    _check_size(data, max_bytes, metadata_text)
    from racer.server import onnx_checks as checks

    model = checks.parse_model(data)
    checks.refuse_external_data(model)
    checks.check_operators(model)
    checks.run_checker(model)
    input_name, channels = checks.graph_input(model)
    info = _model_info({p.key: p.value for p in model.metadata_props}, metadata_text, filename)
    _check_sensors(info, channels)
    kind = info.action_space.kind
    checks.check_output(model, info.outputs, kind)
    checks.check_sizes(model)
    checks.run_inference(data, input_name, channels, info.outputs)
    return ValidatedModel(
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        metadata=info.metadata,
        sensors=info.sensors,
        channels=channels,
        action_space_type=kind,
        outputs=info.outputs,
    )


def read_capped(stream: BinaryIO, limit: int, what: str) -> bytes:
    """An uploaded file's bytes, refusing more than ``limit`` without reading them all.

    Raises:
        UploadError: 413 when the file is larger than ``limit``.
    """
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise UploadError(
            413, f"{what} is larger than the server's limit of {limit / 2**20:.1f} MB"
        )
    return data


METADATA_LIMIT = 256 * 1024
"""Largest ``model_metadata.json`` accepted beside a model."""


def read_metadata(stream: BinaryIO) -> str:
    """A ``model_metadata.json`` uploaded beside a model, as text.

    Raises:
        UploadError: 413 above :data:`METADATA_LIMIT`, 422 when it is not UTF-8.
    """
    raw = read_capped(stream, METADATA_LIMIT, "model_metadata.json")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UploadError(422, "model_metadata.json is not UTF-8 text") from None
