"""The self-check of racer export: corrupted and mismatched exports refused, nothing written."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from tensorboard.compat.proto import tensor_pb2
from test_export_helpers import car_graph, decisive, train_tiny
from typer.testing import CliRunner

from racer.cli.main import app
from racer.export import ExportError, ParityError, export_loaded, export_policy, verify_export
from racer.sim.actions import ContinuousActionSpace
from racer.train.policy import LoadedPolicy, load_policy

runner = CliRunner()


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("models")
    train_tiny(root, "disc")
    train_tiny(root, "cont", action_space=ContinuousActionSpace())
    train_tiny(root, "other", seed=1)
    return root


@pytest.fixture(scope="module")
def discrete(models: Path) -> LoadedPolicy:
    return decisive(load_policy("disc", models_dir=models))


@pytest.fixture(scope="module")
def archive(discrete: LoadedPolicy) -> Any:
    return export_loaded(discrete, "deepracer", frames=50)


def test_a_corrupted_archive_is_refused(archive: Any, discrete: LoadedPolicy, tmp_path) -> None:
    graph = car_graph(archive.path)
    (kernel,) = [n for n in graph.node if n.name.endswith("Dense_1/kernel")]
    values = np.frombuffer(kernel.attr["value"].tensor.tensor_content, np.float32).copy()
    values[: len(values) // 2] *= -1.0  # flip the sign of half the action layer's weights
    tensor = tensor_pb2.TensorProto()
    tensor.CopyFrom(kernel.attr["value"].tensor)
    tensor.tensor_content = values.tobytes()
    kernel.attr["value"].tensor.CopyFrom(tensor)
    bad = tmp_path / "bad.tar.gz"
    with tarfile.open(archive.path) as src, tarfile.open(bad, "w:gz") as dst:
        meta = src.getmember("model_metadata.json")
        dst.addfile(meta, src.extractfile(meta))
        data = graph.SerializeToString()
        info = tarfile.TarInfo("agent/model.pb")
        info.size = len(data)
        dst.addfile(info, io.BytesIO(data))
    with pytest.raises(ParityError, match="max \\|diff\\|") as caught:
        verify_export(bad, discrete, frames=50)
    assert not caught.value.report.passed


def test_an_onnx_file_with_one_action_flipped_is_refused(discrete, tmp_path: Path) -> None:
    path = export_loaded(discrete, "onnx", tmp_path / "m.onnx", frames=20).path
    model = onnx.load(str(path))
    gemm = [n for n in model.graph.node if n.op_type == "Gemm"][-1]
    init = next(i for i in model.graph.initializer if i.name == gemm.input[1])
    weights = onnx.numpy_helper.to_array(init).copy()
    weights[0] *= -1.0  # the weights of action 0
    init.CopyFrom(onnx.numpy_helper.from_array(weights, init.name))
    onnx.save_model(model, str(path))
    with pytest.raises(ParityError, match="onnxruntime fp32"):
        verify_export(path, discrete, frames=50)


def test_an_export_paired_with_another_policy_is_refused(
    archive: Any, models: Path, discrete: LoadedPolicy
) -> None:
    other = decisive(load_policy("other", models_dir=models))
    with pytest.raises(ParityError, match="FAILED"):
        verify_export(archive.path, other, frames=50)
    continuous = load_policy("cont", models_dir=models)
    outputs = len(discrete.metadata["action_space"])
    with pytest.raises(ExportError, match=f"{outputs} action outputs, the policy has 2"):
        verify_export(archive.path, continuous, frames=20)


def test_a_failed_check_writes_nothing(discrete, tmp_path: Path, monkeypatch) -> None:
    import racer.export.exporter as exporter

    real = exporter.reference_outputs
    monkeypatch.setattr(exporter, "reference_outputs", lambda p, obs: real(p, obs) + 0.01)
    dest = tmp_path / "export" / "disc.onnx"
    with pytest.raises(ParityError, match="nothing was written"):
        export_loaded(discrete, "onnx", dest, frames=20)
    assert not dest.parent.exists()


def test_cli_exports_and_prints_the_figures(models: Path, tmp_path: Path) -> None:
    args = ["export", "cont", "--format", "onnx", "--models-dir", str(models)]
    result = runner.invoke(app, [*args, "--out", str(tmp_path)])  # an existing folder
    assert result.exit_code == 0, result.output
    assert (tmp_path / "cont.onnx").is_file()
    for text in ("onnxruntime", "fp32", "1000", "Max |diff|", "Wrote", "checked in"):
        assert text in result.output
    too_few = runner.invoke(app, [*args, "--frames", "30"])
    assert too_few.exit_code == 2 and "1000" in too_few.output
    refused = runner.invoke(
        app, ["export", "cont", "--models-dir", str(models), "--precision", "fp16"]
    )
    assert refused.exit_code == 1 and "precision fp32" in refused.output


def test_unknown_run_and_format_fail_cleanly(models: Path) -> None:
    missing = runner.invoke(app, ["export", "nope", "--models-dir", str(models)])
    assert missing.exit_code == 1 and "no run 'nope'" in missing.output
    with pytest.raises(ExportError, match="did you mean 'onnx'"):
        export_policy("disc", "onx", models_dir=models)


def test_a_file_of_another_kind_is_not_replaced(discrete: LoadedPolicy, tmp_path: Path) -> None:
    precious = tmp_path / "model.zip"
    precious.write_bytes(b"weights")
    with pytest.raises(ExportError, match="left as it is"):
        export_loaded(discrete, "onnx", precious, frames=10)
    assert precious.read_bytes() == b"weights"
