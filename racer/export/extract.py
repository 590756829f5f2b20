"""Read a trained policy's action path into a :class:`~racer.export.layers.PolicyGraph`.

Only the path from observation to action is kept (the value or Q heads are not exported):

* PPO: features extractor -> ``mlp_extractor.policy_net`` -> ``action_net`` -> softmax
  (discrete) or clamp to [-1, 1] (continuous: the mean of the Gaussian, as the car uses it).
* SAC: the actor's features extractor -> ``latent_pi`` -> ``mu`` -> tanh.

Features extractors: racer's camera CNN (a ``convs`` stack, whose optional image pooling is
folded into its first convolution, then a ``dense`` layer) and the flatten extractor of vector
sensors. Several sensors at once (a Dict observation) cannot be exported yet.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from racer.export.errors import ExportError
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

IMAGE_SCALE = 255.0
"""The trainer divides uint8 camera images by this before the network sees them."""


def extract_graph(policy: Any) -> PolicyGraph:
    """The action path of a loaded policy as framework-neutral layers.

    Args:
        policy: A :class:`racer.train.policy.LoadedPolicy`.

    Raises:
        ExportError: Several sensors (a Dict observation), or a layer type no writer knows.
    """
    sb3 = policy.model.policy
    space = sb3.observation_space
    config = policy.config
    if hasattr(space, "spaces") or len(config.sensors) != 1:
        raise ExportError(
            f"models with several sensors ({', '.join(config.sensors)}) cannot be exported yet; "
            "only single-sensor models (one camera, stereo cameras, or one vector sensor)"
        )
    shape = tuple(int(d) for d in space.shape)
    layers: list[Layer] = []
    if len(shape) == 3 and getattr(sb3, "normalize_images", True):
        layers.append(Scale(IMAGE_SCALE))
    discrete = policy.discrete
    if config.algorithm == "sac":
        actor = sb3.actor
        modules = [actor.features_extractor, actor.latent_pi, actor.mu]
        tail: Layer = Tanh()
    else:
        modules = [sb3.pi_features_extractor, sb3.mlp_extractor.policy_net, sb3.action_net]
        tail = Softmax() if discrete else Clip(-1.0, 1.0)
    current: tuple[int, ...] = shape
    for module in modules:
        current = _walk(module, current, layers)
    layers.append(tail)
    return PolicyGraph(
        input_shape=shape,
        layers=tuple(layers),
        outputs=int(current[0]),
        sensor=config.sensors[0],
        algorithm=config.algorithm,
        action_space_type=config.action_space.kind,
        metadata=dict(policy.metadata),
    )


def _walk(module: Any, shape: tuple[int, ...], layers: list[Layer]) -> tuple[int, ...]:
    """Append a module's layers; return the shape of one sample after them."""
    from torch import nn

    name = type(module).__name__
    if hasattr(module, "convs") and hasattr(module, "dense"):  # racer's camera CNN
        shape = _walk(module.convs, shape, layers)
        return _walk(module.dense, shape, layers)
    if name == "FlattenExtractor":
        return _walk(module.flatten, shape, layers)
    if isinstance(module, nn.Sequential):
        children = list(module)
        index = 0
        while index < len(children):
            child = children[index]
            if isinstance(child, nn.AvgPool2d):
                following = children[index + 1] if index + 1 < len(children) else None
                shape = _pooled_conv(child, following, shape, layers)
                index += 2
                continue
            shape = _walk(child, shape, layers)
            index += 1
        return shape
    if isinstance(module, nn.Conv2d):
        return _conv(module, shape, layers)
    if isinstance(module, nn.Linear):
        layers.append(Dense(_numpy(module.weight), _bias(module, module.out_features)))
        return (int(module.out_features),)
    if isinstance(module, nn.Flatten):
        chw = (shape[0], shape[1], shape[2]) if len(shape) == 3 else None
        layers.append(Flatten(chw))
        return (int(np.prod(shape)),)
    if isinstance(module, nn.ReLU):
        layers.append(Relu())
        return shape
    if isinstance(module, nn.Tanh):
        layers.append(Tanh())
        return shape
    raise ExportError(
        f"cannot export a {name} layer (known: Conv2d, AvgPool2d, Linear, ReLU, Tanh, Flatten)"
    )


def _conv(module: Any, shape: tuple[int, ...], layers: list[Layer]) -> tuple[int, ...]:
    """A VALID, square-stride, ungrouped convolution."""
    stride = tuple(module.stride)
    plain = (
        tuple(module.padding) in ((0, 0), "valid")
        and tuple(module.dilation) == (1, 1)
        and module.groups == 1
        and stride[0] == stride[1]
    )
    if not plain:
        raise ExportError(f"cannot export {module}: only VALID, ungrouped, square-stride convs")
    layers.append(Conv(_numpy(module.weight), _bias(module, module.out_channels), int(stride[0])))
    kh, kw = module.kernel_size
    _, h, w = shape
    return (int(module.out_channels), (h - kh) // stride[0] + 1, (w - kw) // stride[1] + 1)


def _pooled_conv(
    pool: Any, conv: Any, shape: tuple[int, ...], layers: list[Layer]
) -> tuple[int, ...]:
    """An average pooling and the convolution after it, as one equivalent convolution.

    Pooling k x k blocks and then convolving with an (h, w) kernel at stride s is the same
    linear map as convolving the unpooled image with a (k*h, k*w) kernel at stride k*s whose
    every weight is the original one spread over its k x k block and divided by k*k; the
    output sizes agree too (both drop the same trailing rows and columns). The exported graph
    then has exactly the layers of a network without pooling, which every runtime knows.
    """
    from torch import nn

    k = _single(pool.kernel_size)
    plain = (
        _single(pool.stride) == k
        and _single(pool.padding) == 0
        and not pool.ceil_mode
        and isinstance(conv, nn.Conv2d)
    )
    if not plain:
        raise ExportError(
            f"cannot export {pool}: only a non-overlapping average pooling right before a "
            "convolution"
        )
    _, h, w = shape
    pooled = (shape[0], h // k, w // k)
    inner: list[Layer] = []
    out_shape = _conv(conv, pooled, inner)
    (small,) = inner
    assert isinstance(small, Conv)
    weight = np.repeat(np.repeat(small.weight, k, axis=2), k, axis=3) / np.float32(k * k)
    layers.append(Conv(weight.astype(np.float32), small.bias, small.stride * k))
    return out_shape


def _single(value: Any) -> int:
    """A pooling size given as an int or a pair of equal ints."""
    if isinstance(value, tuple | list):
        if len(set(value)) != 1:
            raise ExportError(f"cannot export a non-square pooling {value}")
        return int(value[0])
    return int(value)


def _numpy(tensor: Any) -> FloatArray:
    """A parameter as a contiguous float32 array (conv weights may be stored channels-last)."""
    return np.ascontiguousarray(tensor.detach().cpu().float().numpy(), dtype=np.float32)


def _bias(module: Any, size: int) -> FloatArray:
    return np.zeros(size, np.float32) if module.bias is None else _numpy(module.bias)
