"""The physical DeepRacer car's model archive: ``model_metadata.json`` + ``agent/model.pb``.

The car converts the frozen graph to FP16 with OpenVINO each time it loads a model, feeds it
raw 0-255 gray frames ``[1, 120, 160, C]`` and reads one output by name. Tensor names:

=============  =====================================================================
PPO input      ``main_level/agent/main/online/network_0/<SENSOR>/<SENSOR>``
PPO output     ``main_level/agent/main/online/network_1/ppo_head_0/policy``
SAC input      ``main_level/agent/policy/online/network_0/<SENSOR>/<SENSOR>``
SAC output     ``main_level/agent/policy/online/network_0/sac_policy_head_0/policy``
=============  =====================================================================

``<SENSOR>`` is ``FRONT_FACING_CAMERA`` or ``STEREO_CAMERAS``. The check reads the ``.pb``
with OpenVINO's TensorFlow frontend, as the car does, once with float32 weights and once with
the weights compressed to float16.
"""

from __future__ import annotations

import io
import json
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

from numpy.typing import NDArray

from racer.export.errors import ExportError
from racer.export.formats import ExportFormat, image_only
from racer.export.layers import PolicyGraph
from racer.export.parity import ParityCheck, compare

METADATA_MEMBER = "model_metadata.json"
MODEL_MEMBER = "agent/model.pb"
NAMES = {
    "clipped_ppo": (
        "main_level/agent/main/online/network_0/{sensor}/{sensor}",
        "main_level/agent/main/online/network_1/ppo_head_0/policy",
        "main_level/agent/main/online/network_1",
    ),
    "sac": (
        "main_level/agent/policy/online/network_0/{sensor}/{sensor}",
        "main_level/agent/policy/online/network_0/sac_policy_head_0/policy",
        "main_level/agent/policy/online/network_0",
    ),
}
"""Algorithm -> (input name, output name, scope of the internal nodes)."""


def tensor_names(graph: PolicyGraph) -> tuple[str, str]:
    """The input and output names the car looks up for this policy."""
    input_name, output_name, _ = NAMES[graph.algorithm]
    return input_name.format(sensor=graph.sensor), output_name


def write(graph: PolicyGraph, dest: Path, precision: str = "fp32") -> None:
    """Write the archive (the ``.pb`` always holds float32 weights; the car converts them)."""
    from racer.export.graphdef import build_graph

    input_name, output_name = tensor_names(graph)
    scope = NAMES[graph.algorithm][2]
    pb = build_graph(graph, input_name, output_name, scope).SerializeToString()
    meta = (json.dumps(graph.metadata, indent=2) + "\n").encode()
    with tarfile.open(dest, "w:gz") as tar:
        for member, data in ((METADATA_MEMBER, meta), (MODEL_MEMBER, pb)):
            info = tarfile.TarInfo(member)
            info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
            tar.addfile(info, io.BytesIO(data))


def read_archive(path: Path) -> tuple[dict[str, Any], bytes]:
    """The metadata mapping and the ``.pb`` bytes of an archive, as the car finds them.

    Raises:
        ExportError: No ``model_metadata.json`` at the root, or not exactly one ``.pb``.
    """
    try:
        with tarfile.open(path, "r:gz") as tar:
            members = {m.name.lstrip("./"): m for m in tar.getmembers() if m.isfile()}
            pbs = [name for name in members if name.endswith(".pb")]
            if METADATA_MEMBER not in members or len(pbs) != 1:
                raise ExportError(
                    f"{path}: a car archive needs {METADATA_MEMBER} at its root and exactly one "
                    f".pb file; found {sorted(members)}"
                )
            meta_file, pb_file = (
                tar.extractfile(members[METADATA_MEMBER]),
                tar.extractfile(members[pbs[0]]),
            )
            assert meta_file is not None and pb_file is not None
            meta, pb = json.loads(meta_file.read()), pb_file.read()
    except (tarfile.TarError, OSError, EOFError, json.JSONDecodeError) as exc:
        raise ExportError(f"{path}: not a readable model archive ({exc})") from exc
    return meta, pb


def check_metadata(meta: Any, outputs: int, path: Path) -> None:
    """The archive's action space must have one entry per policy output (the car maps them).

    Raises:
        ExportError: Not a mapping, or an action space of another size.
    """
    space = meta.get("action_space") if isinstance(meta, dict) else None
    size = len(space) if isinstance(space, list) else 2 if isinstance(space, dict) else None
    if size != outputs:
        raise ExportError(
            f"{path}: {METADATA_MEMBER} describes {size} action outputs, the policy has {outputs}"
        )


def check_graph(pb: bytes, path: Path) -> Any:
    """Parse the ``.pb`` and check its operators and its input/output names.

    Raises:
        ExportError: An operator outside the allowed set, or unknown tensor names.
    """
    from google.protobuf.message import DecodeError
    from tensorboard.compat.proto import graph_pb2

    from racer.export.graphdef import ALLOWED_OPS

    graph = graph_pb2.GraphDef()
    try:
        graph.ParseFromString(pb)
    except DecodeError as exc:
        raise ExportError(f"{path}: the .pb is not a GraphDef ({exc})") from exc
    ops = {node.op for node in graph.node}
    if ops - ALLOWED_OPS:
        raise ExportError(f"{path}: operators the car cannot convert: {sorted(ops - ALLOWED_OPS)}")
    placeholders = [node.name for node in graph.node if node.op == "Placeholder"]
    if len(placeholders) != 1:
        raise ExportError(f"{path}: the car feeds one input; the graph has {placeholders}")
    names = {node.name for node in graph.node}
    outputs = {o for _, o, _ in NAMES.values()}
    if not names & outputs:
        raise ExportError(f"{path}: no output named {' or '.join(sorted(outputs))}")
    return graph


def verify(
    path: Path, inputs: NDArray[Any], reference: NDArray[Any], discrete: bool
) -> tuple[ParityCheck, ...]:
    """Unpack the archive, read the ``.pb`` with OpenVINO, compare at FP32 and FP16 weights."""
    from racer.export.runtimes import fp16_copy, openvino_core, run_openvino

    meta, pb = read_archive(path)
    check_metadata(meta, reference.shape[1], path)
    check_graph(pb, path)
    with tempfile.TemporaryDirectory(prefix="racer-export-") as tmp:
        pb_path = Path(tmp) / "model.pb"
        pb_path.write_bytes(pb)
        try:
            model = openvino_core().read_model(str(pb_path))
        except RuntimeError as exc:
            raise ExportError(f"{path}: OpenVINO cannot read the .pb ({exc})") from exc
        fp32 = run_openvino(model, inputs)
        fp16 = run_openvino(fp16_copy(model, Path(tmp)), inputs)
    runtime = "openvino (tensorflow .pb)"
    return (
        compare(runtime, "fp32", fp32, reference, discrete=discrete),
        compare(runtime, "fp16", fp16, reference, discrete=discrete),
    )


FORMAT = ExportFormat(
    name="deepracer",
    description="the physical car's .tar.gz (model_metadata.json + agent/model.pb)",
    default_name=lambda run: f"{run}.tar.gz",
    write=write,
    verify=verify,
    refuses=image_only,
    recognises=lambda p: p.name.endswith((".tar.gz", ".tgz")),
)
