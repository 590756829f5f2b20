"""Loading a model file the way the car does: find the network and its metadata, compile it.

Accepted models (see ``docs/real-car.md``):

* ``NAME.tar.gz`` — the DeepRacer archive the car loads: ``model_metadata.json`` at the root
  and exactly one ``.pb`` (by convention ``agent/model.pb``), a TensorFlow 1 frozen graph;
* a folder holding such an archive's contents, or a ``.pb`` with ``model_metadata.json``
  beside it or one folder up;
* ``NAME.onnx`` — metadata in its ``metadata_props`` (key ``model_metadata``), else in a
  ``model_metadata.json`` beside it;
* an OpenVINO IR folder (``model.xml``, ``model.bin``, ``model_metadata.json``) or its ``.xml``.

The network must take one ``[1, 120, 160, 1]`` image (NHWC, raw 0-255) and give one output:
a softmax over the action list, or (steering, speed) in [-1, 1] for a continuous space.
"""

from __future__ import annotations

import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
from numpy.typing import NDArray

from racer.drive.errors import ModelError
from racer.drive.metadata import ModelInfo, parse_metadata
from racer.drive.preprocess import HEIGHT, WIDTH
from racer.drive.runtimes import FORMATS, OnnxRuntime, OpenVinoRuntime, load_runtime

FloatArray = NDArray[np.float32]
METADATA_FILE = "model_metadata.json"
RUNS_DIR = Path("models")
"""Where training runs live: a bare run name given as a model gets an "export it" hint."""


@dataclass(frozen=True)
class _Found:
    network: Path
    metadata: Path | None
    format: str


def _tar_members(archive: Path, tar: tarfile.TarFile) -> tuple[tarfile.TarInfo, tarfile.TarInfo]:
    """The root ``model_metadata.json`` and the one ``.pb`` of a DeepRacer archive."""
    meta: tarfile.TarInfo | None = None
    pbs: list[tarfile.TarInfo] = []
    for member in tar.getmembers():
        if not member.isfile():
            continue
        parts = [p for p in PurePosixPath(member.name).parts if p not in (".", "/")]
        if parts == [METADATA_FILE]:
            meta = member
        elif parts and parts[-1].endswith(".pb"):
            pbs.append(member)
    if meta is None:
        raise ModelError(f"{archive}: no {METADATA_FILE} at the archive's root")
    if len(pbs) != 1:
        found = ", ".join(m.name for m in pbs) or "none"
        raise ModelError(f"{archive}: expected exactly one .pb file, found {found}")
    return meta, pbs[0]


@contextmanager
def _unpacked(archive: Path) -> Iterator[_Found]:
    """A DeepRacer ``.tar.gz`` unpacked into a temporary folder (the network and metadata)."""
    try:
        tar = tarfile.open(archive)  # noqa: SIM115 (closed by the with below)
    except (tarfile.TarError, OSError) as exc:
        raise ModelError(f"{archive}: not a readable tar archive: {exc}") from None
    with tar, tempfile.TemporaryDirectory(prefix="racer-drive-") as tmp:
        meta, pb = _tar_members(archive, tar)
        folder = Path(tmp)
        for member, name in ((meta, METADATA_FILE), (pb, "model.pb")):
            data = tar.extractfile(member)
            if data is None:
                raise ModelError(f"{archive}: cannot read {member.name}")
            (folder / name).write_bytes(data.read())
        yield _Found(folder / "model.pb", folder / METADATA_FILE, "deepracer")


def _in_folder(folder: Path) -> _Found:
    """The model inside a folder: an OpenVINO IR, an unpacked archive, or one ``.onnx``."""
    meta = folder / METADATA_FILE
    if (folder / "model.xml").is_file():
        return _Found(folder / "model.xml", meta if meta.is_file() else None, "openvino")
    pbs = sorted(folder.rglob("*.pb"))
    if len(pbs) == 1 and meta.is_file():
        return _Found(pbs[0], meta, "deepracer")
    onnx = sorted(folder.glob("*.onnx"))
    if len(onnx) == 1:
        return _Found(onnx[0], meta if meta.is_file() else None, "onnx")
    if (folder / "config.yaml").is_file():
        exports = sorted((folder / "export").glob("*"))
        also = f"drive one of its exports ({', '.join(map(str, exports))}) or " if exports else ""
        raise ModelError(
            f"{folder}: this is a training run, not a car model; {also}export it first: "
            f"racer export {folder.name} --format deepracer"
        )
    raise ModelError(
        f"{folder}: no model in this folder (expected model.xml, one .onnx, or "
        f"{METADATA_FILE} with one .pb)"
    )


@contextmanager
def _located(path: Path) -> Iterator[_Found]:
    if not path.exists() and (RUNS_DIR / path).is_dir():  # a run name: say how to export it
        _in_folder(RUNS_DIR / path)
    if not path.exists():
        raise ModelError(f"{path}: no such model file or folder")
    name = path.name.lower()
    if path.is_dir():
        yield _in_folder(path)
    elif name.endswith((".tar.gz", ".tgz", ".tar")):
        with _unpacked(path) as found:
            yield found
    elif path.suffix.lower() in FORMATS:
        candidates = [path.parent / METADATA_FILE, path.parent.parent / METADATA_FILE]
        meta = next((c for c in candidates if c.is_file()), None)
        yield _Found(path, meta, FORMATS[path.suffix.lower()])
    else:
        raise ModelError(
            f"{path}: not a model the car loads (expected NAME.tar.gz, NAME.onnx, an OpenVINO "
            "folder or .xml, or a .pb)"
        )


class DriveModel:
    """A compiled network with its metadata, ready to map one camera image to outputs.

    Attributes:
        path: The file or folder it was loaded from.
        format: ``deepracer``, ``onnx`` or ``openvino``.
        info: Its metadata (action space, sensors).
        runtime: The compiled network.
    """

    def __init__(
        self, path: Path, format: str, info: ModelInfo, runtime: OpenVinoRuntime | OnnxRuntime
    ) -> None:
        self.path = path
        self.format = format
        self.info = info
        self.runtime = runtime

    @property
    def channels(self) -> int:
        """Image channels the network takes (1 for one camera)."""
        return self.runtime.input_shape[-1]

    def __call__(self, x: FloatArray) -> FloatArray:
        """The output row for one ``[1, 120, 160, 1]`` input."""
        return self.runtime(x)


def _check_shapes(path: Path, info: ModelInfo, runtime: OpenVinoRuntime | OnnxRuntime) -> None:
    shape = runtime.input_shape
    if len(shape) != 4 or shape[1:3] != (HEIGHT, WIDTH):
        raise ModelError(
            f"{path}: the network takes {list(shape)}, not a [1, {HEIGHT}, {WIDTH}, C] image"
        )
    if shape[3] == 2:
        raise ModelError(
            f"{path}: the network takes two camera images (stereo); racer drive reads one camera"
        )
    if shape[3] != 1:
        raise ModelError(f"{path}: the network takes {shape[3]} channels; one gray image expected")
    if runtime.output_size not in (-1, info.outputs):
        what = f"{info.outputs} actions" if info.discrete else "(steering, speed)"
        raise ModelError(
            f"{path}: action space mismatch: the network has {runtime.output_size} outputs but "
            f"{METADATA_FILE} describes {what}"
        )


def load_model(
    path: str | Path, runtime: str = "auto", *, threads: int | None = 1, precision: str = "f32"
) -> DriveModel:
    """Load a car model (see the module docstring) for driving from one camera.

    Args:
        path: ``NAME.tar.gz``, ``NAME.onnx``, an OpenVINO IR folder, or the other forms above.
        runtime: ``auto``, ``openvino`` or ``onnxruntime``.
        threads: Inference threads (None: the runtime's choice).
        precision: OpenVINO's CPU precision: ``f32`` (default), ``f16`` or ``bf16``.

    Raises:
        ModelError: A missing or unreadable file, no metadata, a model that needs stereo
            cameras or other sensors, or a network whose shape does not fit the metadata.
        DriveError: An unknown runtime or precision.
    """
    source = Path(path)
    with _located(source) as found:
        compiled = load_runtime(found.network, runtime, threads=threads, precision=precision)
        if compiled.metadata_text is not None:  # carried inside the file: it wins
            text = compiled.metadata_text
        elif found.metadata is not None:
            try:
                text = found.metadata.read_text()
            except (OSError, UnicodeDecodeError) as exc:
                raise ModelError(f"{found.metadata}: cannot read it: {exc}") from None
        else:
            raise ModelError(
                f"{source}: no model_metadata (neither inside the file nor a {METADATA_FILE} "
                "beside it)"
            )
    info = parse_metadata(text, str(source))
    info.require_one_camera()
    _check_shapes(source, info, compiled)
    compiled(np.zeros(compiled.input_shape, np.float32))  # warm up: the first call is slow
    return DriveModel(source, found.format, info, compiled)
