"""racer export: camera PPO models (discrete and continuous) to the car's archive, ONNX and IR."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

import onnx
import openvino as ov
import pytest
from test_export_helpers import car_graph, decisive, train_tiny

from racer.export import export_loaded, export_policy
from racer.export.graphdef import ALLOWED_OPS
from racer.sim.actions import ContinuousActionSpace
from racer.train.policy import LoadedPolicy, load_policy

PPO_INPUT = "main_level/agent/main/online/network_0/FRONT_FACING_CAMERA/FRONT_FACING_CAMERA"
PPO_OUTPUT = "main_level/agent/main/online/network_1/ppo_head_0/policy"


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("models")
    train_tiny(root, "disc")
    train_tiny(root, "cont", action_space=ContinuousActionSpace())
    return root


@pytest.fixture(scope="module")
def discrete(models: Path) -> LoadedPolicy:
    return decisive(load_policy("disc", models_dir=models))


@pytest.fixture(scope="module")
def archive(discrete: LoadedPolicy) -> Any:
    return export_loaded(discrete, "deepracer", frames=100)


def test_car_archive_layout_names_and_operators(archive: Any, models: Path, discrete) -> None:
    assert archive.path == models / "disc" / "export" / "disc.tar.gz"
    with tarfile.open(archive.path) as tar:
        assert tar.getnames() == ["model_metadata.json", "agent/model.pb"]
        meta_file = tar.extractfile("model_metadata.json")
        assert meta_file is not None
        assert json.loads(meta_file.read()) == discrete.metadata
    graph = car_graph(archive.path)
    assert {n.op for n in graph.node} <= ALLOWED_OPS
    assert "RealDiv" in {n.op for n in graph.node}  # the /255 is inside the graph
    names = {n.name for n in graph.node}
    assert {PPO_INPUT, PPO_OUTPUT} <= names
    pb = archive.path.parent / "model.pb"
    pb.write_bytes(graph.SerializeToString())
    model = ov.Core().read_model(str(pb))  # what the car's converter reads
    pb.unlink()
    assert model.input().get_any_name().startswith(PPO_INPUT)
    assert str(model.input().get_partial_shape()) == "[?,120,160,1]"
    assert model.output().get_any_name().startswith(PPO_OUTPUT)
    actions = len(discrete.metadata["action_space"])
    assert str(model.output().get_partial_shape()) == f"[?,{actions}]"


def test_car_archive_matches_at_fp32_and_fp16(archive: Any) -> None:
    report = archive.report
    assert report.passed and report.frames == 100 and report.format == "deepracer"
    assert [c.precision for c in report.checks] == ["fp32", "fp16"]
    fp32, fp16 = report.checks
    assert fp32.max_abs_diff <= 1e-5 and fp16.max_abs_diff <= 1e-3
    assert fp32.agreement is not None and fp32.agreement >= 0.999
    assert json.loads(json.dumps(archive.to_dict()))["report"]["passed"] is True


def test_continuous_car_archive_through_the_api(models: Path) -> None:
    result = export_policy("cont", "deepracer", models_dir=models, frames=100)
    assert result.path.name == "cont.tar.gz" and result.report.passed
    assert all(c.agreement is None for c in result.report.checks)
    ops = [n.op for n in car_graph(result.path).node]
    assert {"Relu", "Mul", "Add"} <= set(ops) and "Softmax" not in ops  # the clamp to [-1, 1]


def test_onnx_carries_names_shapes_and_metadata(discrete: LoadedPolicy, tmp_path: Path) -> None:
    result = export_loaded(discrete, "onnx", tmp_path / "disc.onnx", frames=100)
    assert result.report.passed
    model = onnx.load(str(result.path))
    onnx.checker.check_model(model)
    assert model.opset_import[0].version == 17
    (inp,), (out,) = model.graph.input, model.graph.output
    dims = [d.dim_param or d.dim_value for d in inp.type.tensor_type.shape.dim]
    assert (inp.name, dims) == ("observation", ["N", 120, 160, 1])
    assert out.name == "policy"
    props = {p.key: p.value for p in model.metadata_props}
    assert json.loads(props["model_metadata"]) == discrete.metadata
    assert props["sensor"] == "FRONT_FACING_CAMERA" and props["action_space_type"] == "discrete"
    assert json.loads(props["action_space"]) == discrete.metadata["action_space"]


def test_openvino_ir_of_a_continuous_model(models: Path, tmp_path: Path) -> None:
    out = tmp_path / "ir"
    result = export_policy("cont", "openvino", out, models_dir=models, frames=100)
    assert sorted(p.name for p in out.iterdir()) == [
        "model.bin",
        "model.xml",
        "model_metadata.json",
    ]
    (check,) = result.report.checks
    assert check.passed and check.precision == "fp32" and check.agreement is None
