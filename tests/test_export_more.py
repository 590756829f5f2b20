"""racer export of stereo-camera PPO, SAC and vector-sensor (STATE) models."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

import onnx
import openvino as ov
import pytest
from tensorboard.compat.proto import graph_pb2
from test_export_helpers import decisive, train_tiny
from typer.testing import CliRunner

from racer.cli.main import app
from racer.export import ExportError, export_loaded, export_policy
from racer.sim.actions import ContinuousActionSpace
from racer.train.policy import load_policy

SAC_INPUT = "main_level/agent/policy/online/network_0/FRONT_FACING_CAMERA/FRONT_FACING_CAMERA"
SAC_OUTPUT = "main_level/agent/policy/online/network_0/sac_policy_head_0/policy"
runner = CliRunner()


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("models")
    train_tiny(root, "stereo", sensors=("STEREO_CAMERAS",))
    train_tiny(root, "sac", algorithm="sac", action_space=ContinuousActionSpace())
    train_tiny(root, "state", sensors=("STATE",), max_steps=64)
    train_tiny(root, "pooled", image_pooling=2)
    return root


def _nodes(path: Path) -> dict[str, Any]:
    """The nodes of a car archive's graph by name."""
    with tarfile.open(path) as tar:
        member = tar.extractfile("agent/model.pb")
        assert member is not None
        graph = graph_pb2.GraphDef.FromString(member.read())
    return {n.name: n for n in graph.node}


def test_stereo_car_archive_takes_two_channels(models: Path) -> None:
    policy = decisive(load_policy("stereo", models_dir=models))
    result = export_loaded(policy, "deepracer", frames=60)
    assert result.report.passed and len(result.report.checks) == 2
    stereo = "main_level/agent/main/online/network_0/STEREO_CAMERAS/STEREO_CAMERAS"
    placeholder = _nodes(result.path)[stereo]
    assert placeholder.op == "Placeholder"
    assert [d.size for d in placeholder.attr["shape"].shape.dim] == [-1, 120, 160, 2]


def test_stereo_openvino_ir_with_fp16_weights(models: Path, tmp_path: Path) -> None:
    policy = decisive(load_policy("stereo", models_dir=models))
    fp16 = export_loaded(policy, "openvino", tmp_path / "ir16", frames=60, precision="fp16")
    (check,) = fp16.report.checks
    assert check.passed and check.precision == "fp16" and check.max_abs_diff <= 1e-3
    assert check.agreement is not None and check.agreement >= 0.999
    model = ov.Core().read_model(str(fp16.path / "model.xml"))
    assert model.input().get_any_name() == "observation"
    assert str(model.input().get_partial_shape()) == "[?,120,160,2]"
    assert fp16.size_bytes < 14_000_000  # float32 weights take ~23 MB


def test_sac_car_archive_uses_the_sac_names(models: Path) -> None:
    result = export_policy("sac", "deepracer", models_dir=models, frames=60)
    nodes = _nodes(result.path)
    assert nodes[SAC_INPUT].op == "Placeholder" and nodes[SAC_OUTPUT].op == "Tanh"
    assert result.report.passed and result.report.agreement is None


def test_sac_onnx_and_openvino(models: Path, tmp_path: Path) -> None:
    onnx_result = export_policy("sac", "onnx", tmp_path / "sac.onnx", models_dir=models, frames=60)
    ir_result = export_policy("sac", "openvino", tmp_path / "ir", models_dir=models, frames=60)
    assert onnx_result.report.passed and ir_result.report.passed
    model = onnx.load(str(onnx_result.path))
    assert model.graph.node[-1].op_type == "Tanh"
    props = {p.key: p.value for p in model.metadata_props}
    assert json.loads(props["model_metadata"])["training_algorithm"] == "sac"
    assert props["action_space_type"] == "continuous"


def test_state_model_to_onnx_and_openvino(models: Path, tmp_path: Path) -> None:
    policy = load_policy("state", models_dir=models)
    result = export_loaded(policy, "onnx", tmp_path / "state.onnx", frames=200)
    assert result.report.passed and result.report.frames == 200
    model = onnx.load(str(result.path))
    dims = [d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    width = policy.model.policy.observation_space.shape[0]
    assert dims == ["N", width]
    assert {n.op_type for n in model.graph.node} >= {"Gemm", "Tanh", "Softmax"}  # PPO's MLP
    ir = export_loaded(policy, "openvino", tmp_path / "ir", frames=200, precision="fp16")
    assert ir.report.passed and ir.report.checks[0].precision == "fp16"


def test_state_model_cannot_become_a_car_archive(models: Path) -> None:
    with pytest.raises(ExportError, match="camera"):
        export_policy("state", "deepracer", models_dir=models)
    result = runner.invoke(app, ["export", "state", "--models-dir", str(models)])
    assert result.exit_code == 1 and "onnx or openvino" in result.output
    assert not (models / "state" / "export").exists()


def test_pooled_camera_model_exports_as_a_plain_three_conv_network(models: Path) -> None:
    policy = decisive(load_policy("pooled", models_dir=models))
    assert policy.config.image_pooling == 2
    result = export_loaded(policy, "deepracer", frames=100)
    assert result.report.passed  # OpenVINO on the .pb against the trained torch policy
    nodes = _nodes(result.path)
    assert not [n for n in nodes.values() if "Pool" in n.op]
    convs = [n for n in nodes.values() if n.op == "Conv2D"]
    assert len(convs) == 3
    strides = sorted(list(n.attr["strides"].list.i) for n in convs)
    assert strides == [[1, 1, 1, 1], [1, 2, 2, 1], [1, 8, 8, 1]]  # 8: pooling 2 x stride 4
    placeholder = [n for n in nodes.values() if n.op == "Placeholder"][0]
    assert [d.size for d in placeholder.attr["shape"].shape.dim] == [-1, 120, 160, 1]


def test_pooled_camera_model_to_onnx(models: Path, tmp_path: Path) -> None:
    policy = decisive(load_policy("pooled", models_dir=models))
    result = export_loaded(policy, "onnx", tmp_path / "pooled.onnx", frames=100)
    assert result.report.passed and result.report.agreement is not None
    model = onnx.load(str(result.path))
    kernels = [
        list(a.ints)
        for n in model.graph.node
        if n.op_type == "Conv"
        for a in n.attribute
        if a.name == "kernel_shape"
    ]
    assert kernels[0] == [16, 16]
