"""Read a trained policy's action path into a :class:`~racer.export.layers.PolicyGraph`.

Only the path from observation to action is kept (the value or Q heads are not exported):

* PPO: features extractor -> ``mlp_extractor.policy_net`` -> ``action_net`` -> softmax
  (discrete) or clamp to [-1, 1] (continuous: the mean of the Gaussian, as the car uses it).
* SAC: the actor's features extractor -> ``latent_pi`` -> ``mu`` -> tanh.

Features extractors: racer's camera CNN (a ``convs`` stack then a ``dense`` layer) and the
flatten extractor of vector sensors. Several sensors at once (a Dict observation) cannot be
exported yet.
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
        for child in module:
            shape = _walk(child, shape, layers)
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
    raise ExportError(f"cannot export a {name} layer (known: Conv2d, Linear, ReLU, Tanh, Flatten)")


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


def _numpy(tensor: Any) -> FloatArray:
    """A parameter as a contiguous float32 array (conv weights may be stored channels-last)."""
    return np.ascontiguousarray(tensor.detach().cpu().float().numpy(), dtype=np.float32)


def _bias(module: Any, size: int) -> FloatArray:
    return np.zeros(size, np.float32) if module.bias is None else _numpy(module.bias)
