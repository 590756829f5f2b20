"""Random-weight camera networks written in the car's formats, for tests and benchmarks.

:func:`random_cnn` builds a DeepRacer-shaped network (conv stack, dense layers, a softmax head
over N actions or a tanh head for (steering, speed)); :func:`write_onnx`,
:func:`write_deepracer` and :func:`write_openvino` save the same weights as ONNX, as a
DeepRacer ``.tar.gz`` (TensorFlow 1 frozen graph) and as OpenVINO IR, so the runtimes can be
checked against each other and against :meth:`RandomCNN.forward` in numpy. Writing needs the
``export`` extra (``onnx``; ``tensorboard`` for its TensorFlow protobufs; ``openvino``).

The default layers are DeepRacer's ``DEEP_CONVOLUTIONAL_NETWORK_SHALLOW``: conv 32 8x8/4,
conv 64 4x4/2, conv 64 3x3/1, dense 512, then the head.
"""

from __future__ import annotations

import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from racer.drive.preprocess import HEIGHT, WIDTH

FloatArray = NDArray[np.float32]

SHALLOW = ((32, 8, 4), (64, 4, 2), (64, 3, 1))
"""DeepRacer's shallow conv stack: (filters, kernel, stride) per layer."""
TINY = ((4, 8, 4), (8, 4, 2))
"""A small stack for fast tests."""
INPUT_NAME = "main_level/agent/main/online/network_0/FRONT_FACING_CAMERA/FRONT_FACING_CAMERA"
OUTPUT_NAME = "main_level/agent/main/online/network_1/ppo_head_0/policy"
"""The names a DeepRacer camera PPO graph uses (the car finds them by name; racer does not)."""


@dataclass(frozen=True)
class Conv:
    """A convolution: weight ``(out, in, k, k)``, bias ``(out,)``, stride; VALID padding, ReLU."""

    weight: FloatArray
    bias: FloatArray
    stride: int


@dataclass(frozen=True)
class Dense:
    """A dense layer: weight ``(in, out)``, bias ``(out,)``."""

    weight: FloatArray
    bias: FloatArray


@dataclass(frozen=True)
class RandomCNN:
    """A camera network: convs (ReLU), NHWC flatten, hidden dense (ReLU), head.

    Attributes:
        convs: The conv stack.
        hidden: Dense layers after the flatten.
        head: The output layer.
        softmax: Softmax head (discrete actions); else tanh (continuous steering, speed).
        channels: Input channels.
    """

    convs: tuple[Conv, ...]
    hidden: tuple[Dense, ...]
    head: Dense
    softmax: bool
    channels: int

    @property
    def outputs(self) -> int:
        """Output values."""
        return int(self.head.bias.shape[0])

    def forward(self, x: FloatArray) -> FloatArray:
        """The output of one NHWC input ``[1, 120, 160, C]`` (raw 0-255), in float64 numpy."""
        h = np.asarray(x, dtype=np.float64)[0] / 255.0  # (H, W, C)
        for conv in self.convs:
            k = conv.weight.shape[2]
            win = np.lib.stride_tricks.sliding_window_view(h, (k, k), axis=(0, 1))
            win = win[:: conv.stride, :: conv.stride]  # (H', W', C, k, k)
            h = np.einsum("ijcab,ocab->ijo", win, conv.weight.astype(np.float64)) + conv.bias
            h = np.maximum(h, 0.0)
        v = h.reshape(1, -1)
        for dense in self.hidden:
            v = np.maximum(v @ dense.weight + dense.bias, 0.0)
        v = v @ self.head.weight + self.head.bias
        if self.softmax:
            e = np.exp(v - v.max())
            return np.asarray(e / e.sum(), dtype=np.float32)
        return np.asarray(np.tanh(v), dtype=np.float32)


def random_cnn(
    outputs: int,
    *,
    channels: int = 1,
    convs: tuple[tuple[int, int, int], ...] = SHALLOW,
    hidden: tuple[int, ...] = (512,),
    softmax: bool = True,
    seed: int = 0,
) -> RandomCNN:
    """A network with He-initialised random weights.

    Args:
        outputs: Actions (softmax) or 2 (tanh: steering, speed).
        channels: Input channels (1 camera, 2 stereo).
        convs: (filters, kernel, stride) per conv layer.
        hidden: Widths of the dense layers after the flatten.
        softmax: Softmax head, else tanh.
        seed: Seed of the weights.
    """
    rng = np.random.default_rng(seed)
    layers = []
    c, h, w = channels, HEIGHT, WIDTH
    for filters, k, s in convs:
        std = np.sqrt(2.0 / (c * k * k))
        layers.append(
            Conv(
                (rng.standard_normal((filters, c, k, k)) * std).astype(np.float32),
                (rng.standard_normal(filters) * 0.05).astype(np.float32),
                s,
            )
        )
        c, h, w = filters, (h - k) // s + 1, (w - k) // s + 1
    width = c * h * w
    dense = []
    for n in hidden:
        weight = rng.standard_normal((width, n)) * np.sqrt(2.0 / width)
        dense.append(Dense(weight.astype(np.float32), np.zeros(n, np.float32)))
        width = n
    head_w = (rng.standard_normal((width, outputs)) * np.sqrt(1.0 / width)).astype(np.float32)
    head = Dense(head_w, (rng.standard_normal(outputs) * 0.1).astype(np.float32))
    return RandomCNN(tuple(layers), tuple(dense), head, softmax, channels)


def tiny_cnn(outputs: int, *, softmax: bool = True, seed: int = 0) -> RandomCNN:
    """A small camera network (2 convs, dense 16) for fast tests."""
    return random_cnn(outputs, convs=TINY, hidden=(16,), softmax=softmax, seed=seed)


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


def write_onnx(cnn: RandomCNN, path: str | Path, metadata: dict[str, Any] | None = None) -> Path:
    """Save as ONNX: input ``observation`` ``[N, 120, 160, C]``, output ``policy``.

    ``metadata`` goes into ``metadata_props`` under ``model_metadata``.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits = [], [numpy_helper.from_array(np.array(1 / 255, np.float32), "scale")]
    nodes.append(helper.make_node("Mul", ["observation", "scale"], ["scaled"]))
    nodes.append(helper.make_node("Transpose", ["scaled"], ["x0"], perm=[0, 3, 1, 2]))
    x = "x0"
    for i, conv in enumerate(cnn.convs):
        inits += [
            numpy_helper.from_array(conv.weight, f"conv{i}_w"),
            numpy_helper.from_array(conv.bias, f"conv{i}_b"),
        ]
        s = conv.stride
        nodes.append(
            helper.make_node("Conv", [x, f"conv{i}_w", f"conv{i}_b"], [f"c{i}"], strides=[s, s])
        )
        nodes.append(helper.make_node("Relu", [f"c{i}"], [f"r{i}"]))
        x = f"r{i}"
    nodes.append(helper.make_node("Transpose", [x], ["nhwc"], perm=[0, 2, 3, 1]))
    nodes.append(helper.make_node("Flatten", ["nhwc"], ["flat"], axis=1))
    x = "flat"
    for i, dense in enumerate((*cnn.hidden, cnn.head)):
        inits += [
            numpy_helper.from_array(dense.weight, f"dense{i}_w"),
            numpy_helper.from_array(dense.bias, f"dense{i}_b"),
        ]
        nodes.append(helper.make_node("Gemm", [x, f"dense{i}_w", f"dense{i}_b"], [f"d{i}"]))
        x = f"d{i}"
        if i < len(cnn.hidden):
            nodes.append(helper.make_node("Relu", [x], [f"dr{i}"]))
            x = f"dr{i}"
    if cnn.softmax:
        nodes.append(helper.make_node("Softmax", [x], ["policy"], axis=-1))
    else:
        nodes.append(helper.make_node("Tanh", [x], ["policy"]))
    graph = helper.make_graph(
        nodes,
        "policy",
        [
            helper.make_tensor_value_info(
                "observation", TensorProto.FLOAT, ["N", HEIGHT, WIDTH, cnn.channels]
            )
        ],
        [helper.make_tensor_value_info("policy", TensorProto.FLOAT, ["N", cnn.outputs])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    if metadata is not None:
        model.metadata_props.add(key="model_metadata", value=json.dumps(metadata))
    onnx.checker.check_model(model)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(out))
    return out


def graphdef_bytes(cnn: RandomCNN) -> bytes:
    """The network as a TensorFlow 1 frozen ``GraphDef`` (NHWC), serialised.

    Only the operators DeepRacer's converter knows: Placeholder, Const, Mul, Conv2D, BiasAdd,
    Relu, Reshape, MatMul, Softmax/Tanh. Input and output carry DeepRacer's names.
    """
    from tensorboard.compat.proto import (  # type: ignore[import-not-found,unused-ignore]
        attr_value_pb2,
        graph_pb2,
        tensor_shape_pb2,
        types_pb2,
    )

    def shape(dims: tuple[int, ...]) -> Any:
        return tensor_shape_pb2.TensorShapeProto(
            dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=d) for d in dims]
        )

    graph = graph_pb2.GraphDef()

    def node(name: str, op: str, inputs: list[str], **attrs: Any) -> Any:
        n = graph.node.add(name=name, op=op, input=inputs)  # appending would copy
        for key, value in attrs.items():
            n.attr[key].CopyFrom(value)
        return n

    def const(name: str, value: NDArray[Any]) -> str:
        dtype = types_pb2.DT_FLOAT if value.dtype == np.float32 else types_pb2.DT_INT32
        n = node(name, "Const", [], dtype=attr_value_pb2.AttrValue(type=dtype))
        n.attr["value"].tensor.dtype = dtype
        n.attr["value"].tensor.tensor_shape.CopyFrom(shape(value.shape))
        n.attr["value"].tensor.tensor_content = np.ascontiguousarray(value).tobytes()
        return name

    f32 = attr_value_pb2.AttrValue(type=types_pb2.DT_FLOAT)
    node(
        INPUT_NAME,
        "Placeholder",
        [],
        dtype=f32,
        shape=attr_value_pb2.AttrValue(shape=shape((-1, HEIGHT, WIDTH, cnn.channels))),
    )
    scale = const("main_level/scale", np.array(1 / 255, np.float32))
    node("main_level/scaled", "Mul", [INPUT_NAME, scale], T=f32)
    x = "main_level/scaled"
    for i, conv in enumerate(cnn.convs):
        w = const(f"conv{i}/w", conv.weight.transpose(2, 3, 1, 0).copy())  # OIHW -> HWIO
        s = conv.stride
        strides = attr_value_pb2.AttrValue(list=attr_value_pb2.AttrValue.ListValue(i=[1, s, s, 1]))
        node(
            f"conv{i}/conv",
            "Conv2D",
            [x, w],
            T=f32,
            strides=strides,
            padding=attr_value_pb2.AttrValue(s=b"VALID"),
            data_format=attr_value_pb2.AttrValue(s=b"NHWC"),
        )
        node(f"conv{i}/add", "BiasAdd", [f"conv{i}/conv", const(f"conv{i}/b", conv.bias)], T=f32)
        node(f"conv{i}/relu", "Relu", [f"conv{i}/add"], T=f32)
        x = f"conv{i}/relu"
    flat = int(cnn.hidden[0].weight.shape[0] if cnn.hidden else cnn.head.weight.shape[0])
    node(
        "flatten",
        "Reshape",
        [x, const("flatten/shape", np.array([-1, flat], np.int32))],
        T=f32,
        Tshape=attr_value_pb2.AttrValue(type=types_pb2.DT_INT32),
    )
    x = "flatten"
    no = attr_value_pb2.AttrValue(b=False)
    for i, dense in enumerate((*cnn.hidden, cnn.head)):
        w = const(f"dense{i}/w", dense.weight)
        node(f"dense{i}/mm", "MatMul", [x, w], T=f32, transpose_a=no, transpose_b=no)
        node(f"dense{i}/add", "BiasAdd", [f"dense{i}/mm", const(f"dense{i}/b", dense.bias)], T=f32)
        x = f"dense{i}/add"
        if i < len(cnn.hidden):
            node(f"dense{i}/relu", "Relu", [x], T=f32)
            x = f"dense{i}/relu"
    node(OUTPUT_NAME, "Softmax" if cnn.softmax else "Tanh", [x], T=f32)
    return bytes(graph.SerializeToString())


def write_deepracer(cnn: RandomCNN, path: str | Path, metadata: dict[str, Any]) -> Path:
    """Save as the car's archive: ``model_metadata.json`` at the root, ``agent/model.pb``."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    members = {
        "model_metadata.json": json.dumps(metadata, indent=2).encode(),
        "agent/model.pb": graphdef_bytes(cnn),
    }
    with tarfile.open(out, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out


def write_openvino(
    onnx_path: str | Path, folder: str | Path, metadata: dict[str, Any], *, fp16: bool = False
) -> Path:
    """Convert an ONNX file to an OpenVINO IR folder (``model.xml``, ``model.bin``, metadata).

    Args:
        onnx_path: The ONNX file.
        folder: The IR folder (created).
        metadata: Written as ``model_metadata.json``.
        fp16: Store the weights in FP16 (as the car's converter does).
    """
    import openvino as ov

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    model = ov.convert_model(str(onnx_path))
    ov.save_model(model, str(out / "model.xml"), compress_to_fp16=fp16)
    (out / "model_metadata.json").write_text(json.dumps(metadata, indent=2) + "\n")
    return out
