"""racer.export without training: layer conversions, writers on synthetic graphs, parity figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from racer.export import ExportError
from racer.export.deepracer import check_graph, read_archive
from racer.export.extract import extract_graph
from racer.export.formats import format_of, get_format
from racer.export.graphdef import ALLOWED_OPS
from racer.export.layers import (
    Clip,
    Conv,
    Dense,
    Flatten,
    PolicyGraph,
    Relu,
    Scale,
    Softmax,
    Tanh,
    hwc_dense,
    to_nhwc,
)
from racer.export.parity import compare
from racer.export.synthetic import numpy_forward, tiny_graph

SHAPE = (2, 30, 40)  # a small stereo-like image keeps these tests fast
RNG = np.random.default_rng(7)


def _weights(*shape: int, scale: float) -> np.ndarray:
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


def _graph(tail: object, outputs: int, algorithm: str = "clipped_ppo") -> PolicyGraph:
    """A camera policy: two convs, a dense layer, a head, with weights that make outputs O(1)."""
    conv1 = Conv(_weights(8, 2, 4, 4, scale=0.3), _weights(8, scale=0.1), 2)
    conv2 = Conv(_weights(6, 8, 3, 3, scale=0.2), _weights(6, scale=0.1), 1)
    flat = 6 * 12 * 17
    layers = (
        Scale(255.0), conv1, Relu(), conv2, Relu(), Flatten((6, 12, 17)),
        Dense(_weights(16, flat, scale=0.05), _weights(16, scale=0.1)), Relu(),
        Dense(_weights(outputs, 16, scale=0.8), _weights(outputs, scale=0.5)), tail,
    )  # fmt: skip
    kind = "discrete" if isinstance(tail, Softmax) else "continuous"
    space: Any = [{"steering_angle": 0.0, "speed": 1.0}] * outputs
    if kind == "continuous":
        space = {"steering_angle": {"low": -30, "high": 30}, "speed": {"low": 0.5, "high": 2}}
    meta = {"action_space": space, "action_space_type": kind, "sensor": ["STEREO_CAMERAS"]}
    return PolicyGraph(SHAPE, layers, outputs, "STEREO_CAMERAS", algorithm, kind, meta)  # type: ignore[arg-type]


def _torch_forward(graph: PolicyGraph, images: np.ndarray) -> np.ndarray:
    """The graph computed the way the trainer computes it (channels-first, CHW flatten)."""
    x = torch.as_tensor(images).float()
    for layer in graph.layers:
        if isinstance(layer, Scale):
            x = x / layer.divisor
        elif isinstance(layer, Conv):
            x = F.conv2d(
                x, torch.as_tensor(layer.weight), torch.as_tensor(layer.bias), layer.stride
            )
        elif isinstance(layer, Dense):
            x = F.linear(x, torch.as_tensor(layer.weight), torch.as_tensor(layer.bias))
        elif isinstance(layer, Flatten):
            x = x.flatten(1)
        elif isinstance(layer, Relu):
            x = torch.relu(x)
        elif isinstance(layer, Tanh):
            x = torch.tanh(x)
        elif isinstance(layer, Softmax):
            x = torch.softmax(x, dim=-1)
        elif isinstance(layer, Clip):
            x = torch.clamp(x, layer.low, layer.high)
    return x.numpy()


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return RNG.integers(0, 256, size=(64, *SHAPE), dtype=np.uint8)


def test_hwc_dense_matches_a_channels_first_flatten() -> None:
    features = RNG.standard_normal((3, 4, 5, 6)).astype(np.float32)  # N, C, H, W
    weight = _weights(7, 4 * 5 * 6, scale=1.0)
    torch_order = features.reshape(3, -1) @ weight.T
    tf_order = features.transpose(0, 2, 3, 1).reshape(3, -1) @ hwc_dense(weight, (4, 5, 6)).T
    np.testing.assert_allclose(tf_order, torch_order, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("fmt", "tail", "outputs"),
    [
        ("deepracer", Softmax(), 5),
        ("deepracer", Clip(), 2),
        ("deepracer", Tanh(), 2),
        ("onnx", Softmax(), 5),
        ("onnx", Clip(), 2),
        ("openvino", Tanh(), 2),
    ],
)
def test_writers_reproduce_the_layers(
    fmt: str, tail: object, outputs: int, images: np.ndarray, tmp_path: Path
) -> None:
    graph = _graph(tail, outputs, "sac" if isinstance(tail, Tanh) else "clipped_ppo")
    reference = _torch_forward(graph, images)
    if isinstance(tail, Clip):  # the clamp is exercised on both sides
        assert (np.abs(reference) == 1.0).any() and (np.abs(reference) < 1.0).any()
    form = get_format(fmt)
    dest = tmp_path / form.default_name("synthetic")
    form.write(graph, dest, "fp32")
    assert format_of(dest) is form
    checks = form.verify(dest, to_nhwc(images), reference, isinstance(tail, Softmax))
    for check in checks:
        if check.precision == "fp32":
            assert check.passed, check.describe()
        else:  # random weights lose more to float16 than trained ones; the tests below use those
            assert check.max_abs_diff < 1e-2, check.describe()


@pytest.mark.parametrize("tail", [Softmax(), Clip(), Tanh()])
def test_the_numpy_reference_matches_the_trainers_arithmetic(
    tail: object, images: np.ndarray
) -> None:
    graph = _graph(tail, 5 if isinstance(tail, Softmax) else 2)
    got = numpy_forward(graph, to_nhwc(images))
    np.testing.assert_allclose(got, _torch_forward(graph, images), atol=1e-5)


def test_synthetic_graphs_have_the_cars_shape_and_import_no_torch() -> None:
    graph = tiny_graph(3, head="clip", channels=2)
    assert graph.nhwc_shape == (120, 160, 2) and graph.sensor == "STEREO_CAMERAS"
    assert graph.metadata["action_space_type"] == "continuous" == graph.action_space_type
    assert numpy_forward(graph, np.full((4, 120, 160, 2), 255.0)).shape == (4, 3)
    code = "import sys, racer.export.synthetic; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False", out.stdout + out.stderr


def test_the_car_graph_uses_only_plain_operators(tmp_path: Path) -> None:
    graph = _graph(Clip(), 2)
    dest = tmp_path / "m.tar.gz"
    get_format("deepracer").write(graph, dest, "fp32")
    meta, pb = read_archive(dest)
    assert meta == graph.metadata
    nodes = check_graph(pb, dest).node
    assert {n.op for n in nodes} <= ALLOWED_OPS
    (placeholder,) = [n for n in nodes if n.op == "Placeholder"]
    assert [d.size for d in placeholder.attr["shape"].shape.dim] == [-1, 30, 40, 2]
    assert placeholder.name.endswith("/STEREO_CAMERAS/STEREO_CAMERAS")
    assert nodes[-1].name == "main_level/agent/main/online/network_1/ppo_head_0/policy"


def test_an_archive_without_metadata_is_refused(tmp_path: Path) -> None:
    import tarfile

    bad = tmp_path / "bad.tar.gz"
    pb = tmp_path / "model.pb"
    pb.write_bytes(b"")
    with tarfile.open(bad, "w:gz") as tar:
        tar.add(pb, arcname="agent/model.pb")
    with pytest.raises(ExportError, match="model_metadata.json"):
        read_archive(bad)


def test_compare_counts_near_ties_as_agreeing() -> None:
    reference = np.array([[0.5, 0.5 - 1e-7, 0.0], [0.1, 0.2, 0.7]], np.float32)
    exported = np.array([[0.5 - 2e-7, 0.5, 0.0], [0.1, 0.2, 0.7]], np.float32)
    check = compare("rt", "fp32", exported, reference, discrete=True)
    assert check.agreement == 1.0 and check.ties == 1 and check.passed
    flipped = compare("rt", "fp32", reference[:, ::-1], reference, discrete=True)
    assert not flipped.passed and flipped.agreement == 0.0


def test_compare_fails_on_nan_and_on_another_shape() -> None:
    reference = np.zeros((4, 2), np.float32)
    nan = compare("rt", "fp16", np.full((4, 2), np.nan), reference, discrete=False)
    assert not nan.passed and "finite" in nan.describe()
    other = compare("rt", "fp32", np.zeros((4, 5)), reference, discrete=False)
    assert not other.passed and "(5,)" in other.describe()
    assert json.dumps(other.to_dict())  # JSON-ready (inf is written as Infinity)


def test_unknown_format_suggests_a_name() -> None:
    with pytest.raises(ExportError, match="did you mean 'openvino'"):
        get_format("openvno")


def test_several_sensors_are_refused() -> None:
    space = gym.spaces.Dict({"STATE": gym.spaces.Box(-1, 1, (4,))})
    policy = SimpleNamespace(
        model=SimpleNamespace(policy=SimpleNamespace(observation_space=space)),
        config=SimpleNamespace(sensors=("FRONT_FACING_CAMERA", "LIDAR")),
    )
    with pytest.raises(ExportError, match="several sensors"):
        extract_graph(policy)
