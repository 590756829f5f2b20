"""The race server's upload validation: what it accepts, and why it refuses the rest."""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from racer.export import synthetic as sy  # noqa: E402
from racer.export.layers import Dense  # noqa: E402
from racer.server import onnx_checks  # noqa: E402
from racer.server.uploads import UploadError, ValidatedModel, validate_upload  # noqa: E402

MB = 1024 * 1024
ACTIONS = [(-20.0, 1.0), (-10.0, 1.5), (0.0, 2.0), (10.0, 1.5), (20.0, 1.0)]
META = sy.discrete_metadata(ACTIONS)


def onnx_bytes(tmp_path: Path, graph: Any, *, with_metadata: bool = True) -> bytes:
    return sy.write_onnx(graph, tmp_path / "m.onnx", with_metadata=with_metadata).read_bytes()


def validate(data: bytes, **kw: Any) -> ValidatedModel:
    return validate_upload(data, max_bytes=kw.pop("max_bytes", 10 * MB), **kw)


def refused(data: bytes, status: int, *words: str, **kw: Any) -> str:
    with pytest.raises(UploadError) as info:
        validate(data, **kw)
    exc = info.value
    assert exc.status_code == status, exc.reason
    assert str(exc) == exc.reason
    for word in words:
        assert word in exc.reason, exc.reason
    return exc.reason


def hand_model(
    *,
    extra_nodes: tuple[Any, ...] = (),
    extra_inits: tuple[Any, ...] = (),
    input_shape: tuple[Any, ...] = ("N", 120, 160, 1),
    extra_inputs: tuple[Any, ...] = (),
    last_op: str = "Softmax",
    opsets: tuple[tuple[str, int], ...] = (("", 17),),
    metadata: dict[str, Any] | None = META,
) -> onnx.ModelProto:
    """obs -> Flatten -> Gemm -> LAST_OP -> policy [N, 5], with ``metadata`` inside."""
    features = int(np.prod([d for d in input_shape[1:] if isinstance(d, int)]))
    rng = np.random.default_rng(0)
    weight = (rng.standard_normal((5, features)) * 1e-3).astype(np.float32)
    inits = [
        numpy_helper.from_array(weight, "w"),
        numpy_helper.from_array(np.zeros(5, np.float32), "b"),
    ]
    nodes = [
        helper.make_node("Flatten", ["obs"], ["flat"], axis=1),
        helper.make_node("Gemm", ["flat", "w", "b"], ["logits"], transB=1),
        helper.make_node(last_op, ["logits"], ["policy"]),
        *extra_nodes,
    ]
    inputs = [helper.make_tensor_value_info("obs", TensorProto.FLOAT, list(input_shape))]
    outputs = [helper.make_tensor_value_info("policy", TensorProto.FLOAT, ["N", 5])]
    graph = helper.make_graph(
        nodes, "hand", [*inputs, *extra_inputs], outputs, initializer=[*inits, *extra_inits]
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets])
    model.ir_version = 8
    if metadata is not None:
        helper.set_model_props(model, {"model_metadata": json.dumps(metadata)})
    return model


def test_a_discrete_racer_export_passes(tmp_path: Path) -> None:
    data = onnx_bytes(tmp_path, sy.tiny_graph(5, metadata=META))
    model = validate(data, filename="fast.onnx")
    assert model.sha256 == hashlib.sha256(data).hexdigest()
    assert model.size == len(data) and model.data == data
    assert model.metadata == META
    assert model.sensors == ("FRONT_FACING_CAMERA",)
    assert model.channels == 1
    assert model.action_space_type == "discrete"
    assert model.outputs == 5
    assert "data=b" not in repr(model)


def test_a_continuous_stereo_export_passes(tmp_path: Path) -> None:
    meta = sy.continuous_metadata(25.0, (0.5, 3.0), sensors=("STEREO_CAMERAS",))
    model = validate(onnx_bytes(tmp_path, sy.tiny_graph(2, head="clip", channels=2, metadata=meta)))
    assert (model.channels, model.sensors) == (2, ("STEREO_CAMERAS",))
    assert (model.action_space_type, model.outputs) == ("continuous", 2)


def test_a_hand_built_model_passes() -> None:
    assert validate(hand_model().SerializeToString()).outputs == 5


def test_metadata_may_come_beside_the_file(tmp_path: Path) -> None:
    data = onnx_bytes(tmp_path, sy.tiny_graph(5, metadata=META), with_metadata=False)
    assert validate(data, metadata_text=json.dumps(META)).metadata == META
    refused(data, 422, "no model metadata", "model_metadata.json", filename="mine.onnx")
    refused(data, 422, "not valid JSON", metadata_text="{not json")


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", ("empty",)),
        (np.random.default_rng(1).bytes(5000), ("not an ONNX model",)),
        (b"action_space: [left, right]\n" * 20, ("not an ONNX model",)),
        (pickle.dumps({"weights": [1.0, 2.0]}), ("pickle",)),
    ],
    ids=["empty", "random", "text", "pickle"],
)
def test_files_that_are_not_onnx_are_415(data: bytes, words: tuple[str, ...]) -> None:
    refused(data, 415, *words)


class _Evil:
    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self) -> Any:
        return (open, (str(self.target), "w"))


def test_a_hostile_pickle_is_never_loaded(tmp_path: Path) -> None:
    target = tmp_path / "pwned"
    refused(pickle.dumps(_Evil(target)), 415, "pickle")
    assert not target.exists()


def test_a_zip_is_415() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("policy.pth", b"weights")
    refused(buffer.getvalue(), 415, "zip", "racer export")


def test_too_large_is_413_with_both_sizes(tmp_path: Path) -> None:
    data = onnx_bytes(tmp_path, sy.tiny_graph(5, metadata=META))
    reason = refused(data, 413, "MB", max_bytes=len(data) // 2)
    assert f"{len(data):,} bytes" in reason and f"{len(data) // 2:,} bytes" in reason
    big = b"\x08" * (3 * MB)
    refused(big, 413, "is 3.0 MB", "up to 2.0 MB", max_bytes=2 * MB)
    refused(b"x", 413, "metadata", metadata_text="x" * (2 * MB))


def test_a_truncated_model_is_refused(tmp_path: Path) -> None:
    data = onnx_bytes(tmp_path, sy.tiny_graph(5, metadata=META))
    refused(data[: len(data) // 2], 415, "truncated")


def test_external_data_is_refused_before_anything_reads_it() -> None:
    model = hand_model()
    weight = model.graph.initializer[0]
    weight.ClearField("raw_data")
    weight.data_location = TensorProto.EXTERNAL
    for key, value in (("location", "/etc/passwd"), ("offset", "0"), ("length", "384000")):
        entry = weight.external_data.add()
        entry.key, entry.value = key, value
    refused(model.SerializeToString(), 422, "external file", "'w'")


def test_custom_operators_are_refused() -> None:
    node = helper.make_node("Pwn", ["logits"], ["pwned"], domain="com.evil")
    model = hand_model(extra_nodes=(node,), opsets=(("", 17), ("com.evil", 1)))
    refused(model.SerializeToString(), 422, "com.evil", "standard ONNX operators")
    ml = hand_model(opsets=(("", 17), ("ai.onnx.ml", 3)))
    refused(ml.SerializeToString(), 422, "ai.onnx.ml")


def test_operators_outside_the_allow_list_are_refused() -> None:
    reason = refused(hand_model(last_op="Exp").SerializeToString(), 422, "operators Exp")
    assert "Conv" in reason  # the allowed ones are listed


def test_racer_exports_use_only_allowed_operators(tmp_path: Path) -> None:
    for head in ("softmax", "tanh", "clip"):
        graph = sy.tiny_graph(5 if head == "softmax" else 2, head=head)
        model = onnx.load_from_string(onnx_bytes(tmp_path, graph))
        assert {n.op_type for n in model.graph.node} <= onnx_checks.ALLOWED_OPS


def test_a_wrong_input_shape_is_refused() -> None:
    model = hand_model(input_shape=(1, 84, 84, 1))
    refused(model.SerializeToString(), 422, "[1, 84, 84, 1]", "[batch, 120, 160, C]")
    nchw = hand_model(input_shape=("N", 1, 120, 160))
    refused(nchw.SerializeToString(), 422, "[N, 1, 120, 160]", "channels last")


def test_two_inputs_are_refused() -> None:
    speed = helper.make_tensor_value_info("speed", TensorProto.FLOAT, ["N", 1])
    model = hand_model(extra_inputs=(speed,))
    refused(model.SerializeToString(), 422, "2 inputs", "'speed'")


def test_outputs_must_match_the_action_space(tmp_path: Path) -> None:
    meta = sy.discrete_metadata(ACTIONS[:3])
    data = onnx_bytes(tmp_path, sy.tiny_graph(5, metadata=meta))
    refused(data, 422, "[N, 5]", "3 values per frame", "discrete")
    cont = onnx_bytes(tmp_path, sy.tiny_graph(3, head="tanh", metadata=sy.continuous_metadata()))
    refused(cont, 422, "2 values per frame", "continuous")


def test_lidar_and_mismatched_sensors_are_refused(tmp_path: Path) -> None:
    lidar = sy.discrete_metadata(ACTIONS, sensors=("FRONT_FACING_CAMERA", "LIDAR"))
    refused(onnx_bytes(tmp_path, sy.tiny_graph(5, metadata=lidar)), 422, "LIDAR", "camera models")
    stereo = sy.discrete_metadata(ACTIONS, sensors=("STEREO_CAMERAS",))
    refused(onnx_bytes(tmp_path, sy.tiny_graph(5, metadata=stereo)), 422, "1 channel")


def test_action_space_limits_are_enforced(tmp_path: Path) -> None:
    steep = sy.discrete_metadata([(-45.0, 1.0), *ACTIONS[1:]])
    refused(onnx_bytes(tmp_path, sy.tiny_graph(5, metadata=steep)), 422, "steering_angle -45")
    fast = sy.continuous_metadata(30.0, (0.5, 6.0))
    graph = sy.tiny_graph(2, head="clip", metadata=fast)
    refused(onnx_bytes(tmp_path, graph), 422, "speed 6.0 is outside")


def test_nan_outputs_are_refused(tmp_path: Path) -> None:
    graph = sy.tiny_graph(5, metadata=META)
    last = [layer for layer in graph.layers if isinstance(layer, Dense)][-1]
    last.bias[:] = np.nan
    refused(onnx_bytes(tmp_path, graph), 422, "NaN or infinite", "all-black")


def test_a_tensor_bomb_is_refused_before_it_runs() -> None:
    column = numpy_helper.from_array(np.ones((8000, 1), np.float32), "column")
    row = numpy_helper.from_array(np.ones((1, 8000), np.float32), "row")
    bomb = helper.make_node("Add", ["column", "row"], ["bomb"])  # 64 million values
    model = hand_model(extra_nodes=(bomb,), extra_inits=(column, row))
    assert len(model.SerializeToString()) < MB
    refused(model.SerializeToString(), 422, "'bomb'", "64,000,000")


def test_a_concat_doubling_bomb_is_refused() -> None:
    nodes, name = [], "logits"
    for i in range(24):  # 5 * 2**24 values: 84 million
        nodes.append(helper.make_node("Concat", [name, name], [f"d{i}"], axis=1))
        name = f"d{i}"
    refused(hand_model(extra_nodes=tuple(nodes)).SerializeToString(), 422, "per tensor")


def test_compute_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(onnx_checks, "MAX_MACS", 1000)
    refused(onnx_bytes(tmp_path, sy.tiny_graph(5, metadata=META)), 422, "multiply-adds")


def test_the_checker_rejects_broken_graphs() -> None:
    model = hand_model()
    model.graph.node[1].input[1] = "missing"
    refused(model.SerializeToString(), 422, "ONNX checker")
