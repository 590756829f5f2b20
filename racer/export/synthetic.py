"""Random-weight camera policies written by the exporter's writers, for tests and benchmarks.

:func:`random_graph` builds a DeepRacer-shaped :class:`~racer.export.layers.PolicyGraph` (a
conv stack, dense layers, then a softmax head over N actions or a 2-output tanh/clip head for
steering and speed) and :func:`numpy_forward` computes any such graph in numpy, as the
reference the runtimes are compared with. :func:`write_deepracer`, :func:`write_onnx` and
:func:`write_openvino` save a graph with the export formats' own writers (they need the
``export`` extra). Nothing here imports torch.

The default layers are DeepRacer's ``DEEP_CONVOLUTIONAL_NETWORK_SHALLOW``: conv 32 8x8/4,
conv 64 4x4/2, conv 64 3x3/1, dense 512, then the head.

Example::

    from racer.export import synthetic as sy

    graph = sy.tiny_graph(5, metadata=sy.discrete_metadata([(-20, 1), (-10, 1), ...]))
    sy.write_deepracer(graph, "tiny.tar.gz")
    probs = sy.numpy_forward(graph, frames_nhwc)  # (N, 5)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from racer.export.formats import get_format
from racer.export.layers import (
    Clip,
    Conv,
    Dense,
    Flatten,
    FloatArray,
    Layer,
    PolicyGraph,
    Relu,
    Scale,
    Softmax,
    Tanh,
)

SHALLOW = ((32, 8, 4), (64, 4, 2), (64, 3, 1))
"""DeepRacer's shallow conv stack: (filters, kernel, stride) per layer."""
TINY = ((4, 8, 4), (8, 4, 2))
"""A small stack for fast tests."""
HEIGHT, WIDTH = 120, 160
"""The car's network input, pixels."""
HEADS: dict[str, type[Softmax | Tanh | Clip]] = {"softmax": Softmax, "tanh": Tanh, "clip": Clip}
"""Output layers: ``softmax`` (discrete actions), ``tanh`` (SAC) or ``clip`` (continuous PPO)."""
SENSORS = {1: "FRONT_FACING_CAMERA", 2: "STEREO_CAMERAS"}
"""DeepRacer's sensor name by input channels."""


def discrete_metadata(
    actions: list[tuple[float, float]], sensors: tuple[str, ...] = ("FRONT_FACING_CAMERA",)
) -> dict[str, Any]:
    """A ``model_metadata.json`` mapping of a discrete (steering, speed) list."""
    return {
        "action_space": [{"steering_angle": s, "speed": v} for s, v in actions],
        "action_space_type": "discrete",
        "sensor": list(sensors),
        "neural_network": "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW",
        "training_algorithm": "clipped_ppo",
        "version": "5",
    }


def continuous_metadata(
    steering: float = 30.0,
    speed: tuple[float, float] = (0.5, 2.0),
    sensors: tuple[str, ...] = ("FRONT_FACING_CAMERA",),
    algorithm: str = "clipped_ppo",
) -> dict[str, Any]:
    """A ``model_metadata.json`` mapping of a continuous action space.

    Args:
        steering: Largest steering angle either way, degrees.
        speed: Lowest and highest speed, m/s.
        sensors: The sensor names.
        algorithm: ``clipped_ppo`` or ``sac``.
    """
    return {
        "action_space": {
            "steering_angle": {"low": -steering, "high": steering},
            "speed": {"low": speed[0], "high": speed[1]},
        },
        "action_space_type": "continuous",
        "sensor": list(sensors),
        "neural_network": "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW",
        "training_algorithm": algorithm,
        "version": "5",
    }


def random_graph(
    outputs: int,
    *,
    channels: int = 1,
    convs: tuple[tuple[int, int, int], ...] = SHALLOW,
    hidden: tuple[int, ...] = (512,),
    head: str = "softmax",
    seed: int = 0,
    metadata: dict[str, Any] | None = None,
) -> PolicyGraph:
    """A camera policy with He-initialised random weights.

    Args:
        outputs: Actions (``softmax``) or 2 (``tanh``/``clip``: steering, speed).
        channels: Input channels (1 camera, 2 stereo).
        convs: (filters, kernel, stride) per conv layer.
        hidden: Widths of the dense layers after the flatten.
        head: ``softmax``, ``tanh`` (a SAC policy) or ``clip`` (a continuous PPO policy).
        seed: Seed of the weights.
        metadata: The ``model_metadata.json`` mapping the writers save; by default one that
            fits the head (evenly spread steering angles for ``softmax``).

    Raises:
        ValueError: An unknown head or number of channels.
    """
    if head not in HEADS or channels not in SENSORS:
        raise ValueError(f"head must be one of {sorted(HEADS)} and channels 1 or 2")
    rng = np.random.default_rng(seed)

    def normal(*shape: int, std: float) -> FloatArray:
        return (rng.standard_normal(shape) * std).astype(np.float32)

    layers: list[Layer] = [Scale(255.0)]
    c, h, w = channels, HEIGHT, WIDTH
    for filters, k, s in convs:
        weight = normal(filters, c, k, k, std=np.sqrt(2.0 / (c * k * k)))
        layers += [Conv(weight, normal(filters, std=0.05), s), Relu()]
        c, h, w = filters, (h - k) // s + 1, (w - k) // s + 1
    layers.append(Flatten((c, h, w)))
    width = c * h * w
    for n in hidden:
        weight = normal(n, width, std=np.sqrt(2.0 / width))
        layers += [Dense(weight, np.zeros(n, np.float32)), Relu()]
        width = n
    layers += [Dense(normal(outputs, width, std=np.sqrt(1.0 / width)), normal(outputs, std=0.1))]
    layers.append(HEADS[head]())
    algorithm = "sac" if head == "tanh" else "clipped_ppo"
    sensor = SENSORS[channels]
    if metadata is None:
        if head == "softmax":
            steering = np.linspace(-30.0, 30.0, outputs)
            actions = [(float(a), 1.0 + i % 2) for i, a in enumerate(steering)]
            metadata = discrete_metadata(actions, (sensor,))
        else:
            metadata = continuous_metadata(sensors=(sensor,), algorithm=algorithm)
    return PolicyGraph(
        input_shape=(channels, HEIGHT, WIDTH),
        layers=tuple(layers),
        outputs=outputs,
        sensor=sensor,
        algorithm=algorithm,
        action_space_type="discrete" if head == "softmax" else "continuous",
        metadata=metadata,
    )


def tiny_graph(
    outputs: int,
    *,
    head: str = "softmax",
    channels: int = 1,
    seed: int = 0,
    metadata: dict[str, Any] | None = None,
) -> PolicyGraph:
    """A small camera policy (2 convs, dense 16) for fast tests; see :func:`random_graph`."""
    return random_graph(
        outputs,
        channels=channels,
        convs=TINY,
        hidden=(16,),
        head=head,
        seed=seed,
        metadata=metadata,
    )


def numpy_forward(graph: PolicyGraph, observations: NDArray[Any]) -> FloatArray:
    """The graph's outputs computed in float64 numpy, as the reference for the runtimes.

    Args:
        graph: Any policy graph (the layers' PyTorch conventions are followed).
        observations: A batch as the exported model takes it: ``(N, H, W, C)`` raw 0-255
            images (e.g. the car's preprocessed frame ``[1, 120, 160, 1]``) or ``(N, D)``.

    Returns:
        ``(N, outputs)`` float32.
    """
    x = np.asarray(observations, dtype=np.float64)
    if graph.is_image:
        x = x.transpose(0, 3, 1, 2)  # NHWC -> NCHW
    for layer in graph.layers:
        if isinstance(layer, Scale):
            x = x / layer.divisor
        elif isinstance(layer, Conv):
            kh, kw = layer.weight.shape[2:]
            s = layer.stride
            win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::s, ::s]
            x = np.einsum("ncijab,ocab->noij", win, layer.weight.astype(np.float64))
            x = x + layer.bias[:, None, None]
        elif isinstance(layer, Dense):
            x = x @ layer.weight.T.astype(np.float64) + layer.bias
        elif isinstance(layer, Flatten):
            x = x.reshape(len(x), -1)
        elif isinstance(layer, Relu):
            x = np.maximum(x, 0.0)
        elif isinstance(layer, Tanh):
            x = np.tanh(x)
        elif isinstance(layer, Softmax):
            e = np.exp(x - x.max(axis=-1, keepdims=True))
            x = e / e.sum(axis=-1, keepdims=True)
        elif isinstance(layer, Clip):
            x = np.clip(x, layer.low, layer.high)
    return np.asarray(x, dtype=np.float32)


def write_deepracer(graph: PolicyGraph, path: str | Path) -> Path:
    """Save as the car's archive (``model_metadata.json`` + ``agent/model.pb``) at ``path``."""
    return _write("deepracer", graph, Path(path), "fp32")


def write_onnx(graph: PolicyGraph, path: str | Path, *, with_metadata: bool = True) -> Path:
    """Save as ONNX (input ``observation``, output ``policy``).

    Args:
        graph: The policy; its metadata goes into ``metadata_props``.
        path: The ``.onnx`` file (its folder is created).
        with_metadata: False leaves ``metadata_props`` empty (a file whose metadata the car
            must find elsewhere).
    """
    if with_metadata:
        return _write("onnx", graph, Path(path), "fp32")
    import onnx

    from racer.export.onnx_model import build_model

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    model = build_model(graph)
    del model.metadata_props[:]
    onnx.save_model(model, str(out))
    return out


def write_openvino(graph: PolicyGraph, folder: str | Path, *, fp16: bool = False) -> Path:
    """Save as an OpenVINO IR folder (``model.xml``, ``model.bin``, ``model_metadata.json``).

    Args:
        graph: The policy.
        folder: The IR folder; it must not exist yet.
        fp16: Store the weights as float16 (as the car's converter does).
    """
    return _write("openvino", graph, Path(folder), "fp16" if fp16 else "fp32")


def _write(fmt: str, graph: PolicyGraph, dest: Path, precision: str) -> Path:
    """Write with the format's own writer (no parity check: there is no trained policy)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    get_format(fmt).write(graph, dest, precision)
    return dest
