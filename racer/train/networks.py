"""Policy networks: DeepRacer's CNNs as stable-baselines3 features extractors, and the MLP.

DeepRacer's ``DEEP_CONVOLUTIONAL_NETWORK_SHALLOW`` (its default "3-layer CNN"): conv 32 8x8
stride 4, conv 64 4x4 stride 2, conv 64 3x3 stride 1 (ReLU after each), flatten, dense 512 ReLU.
``DEEP_CONVOLUTIONAL_NETWORK_DEEP`` adds a fourth conv layer. Images arrive as uint8
``(C, 120, 160)``; SB3's ``normalize_images`` divides by 255 before the extractor sees them.

Vector sensors (``STATE``, ``LIDAR``, ``SECTOR_LIDAR``) are flattened; the policy and value
heads then carry a 2x64 MLP. Several sensors (a Dict observation) go through
:class:`CombinedExtractor`: each image through the chosen CNN's conv stack, each vector through
a small dense layer, then one dense 512 layer over the concatenation — the shape of DeepRacer's
camera + lidar networks.
"""

from __future__ import annotations

import copy
import functools
import os
import platform
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3.common.preprocessing import is_image_space
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor, FlattenExtractor
from torch import nn

from racer.train.config import IMAGE_POOLINGS

ConvStack = Callable[[int], nn.Sequential]

FEATURES_DIM = 512
"""Width of the dense layer after the conv stack (DeepRacer's middleware)."""

VECTOR_EMBED_DIM = 64
"""Width of the dense layer each vector sensor gets inside :class:`CombinedExtractor`."""

MLP_HEADS = [64, 64]
"""Hidden layers of the policy and value heads over vector observations."""

PRECISIONS = ("auto", "bf16", "fp32")
"""Arithmetic of the CNN: ``auto`` uses bfloat16 where the CPU has native bf16 units."""


@functools.lru_cache(maxsize=1)
def cpu_has_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AMX or AVX-512 BF16); Linux only."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return any(f in flags for f in (" amx_bf16", " avx512_bf16"))


def cpu_description() -> str:
    """This CPU's model name, core count and whether it has bf16 units, for benchmark output.

    Training speed depends on the CPU far more than on anything else: the same run trained
    about three times faster on a CPU with AMX than on one with AVX2 only.
    """
    name = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    units = "bf16 units" if cpu_has_bf16() else "no bf16 units (CNN in float32)"
    return f"{name}, {os.cpu_count()} cores, {units}"


def use_bf16(precision: str) -> bool:
    """Resolve a precision setting (``RACER_PRECISION`` in the environment overrides it)."""
    choice = os.environ.get("RACER_PRECISION", precision)
    if choice not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {choice!r}")
    return choice == "bf16" or (choice == "auto" and cpu_has_bf16())


@contextmanager
def _autocast(enabled: bool) -> Iterator[None]:
    """bfloat16 autocast on the CPU: about twice the convolution throughput on bf16 CPUs.

    Weights stay float32 (exports and checkpoints are unchanged); activations and their
    gradients are computed in bfloat16, and the features leave as float32. Only while
    gradients are on (the policy update, large batches): autocast re-casts the weights on
    every call, which would dominate the tiny batches of rollouts and evaluation.
    """
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=enabled and torch.is_grad_enabled()):
        yield


def shallow_convs(channels: int) -> nn.Sequential:
    """DeepRacer's 3-conv stack (DEEP_CONVOLUTIONAL_NETWORK_SHALLOW)."""
    return nn.Sequential(
        nn.Conv2d(channels, 32, kernel_size=8, stride=4),
        nn.ReLU(),
        nn.Conv2d(32, 64, kernel_size=4, stride=2),
        nn.ReLU(),
        nn.Conv2d(64, 64, kernel_size=3, stride=1),
        nn.ReLU(),
        nn.Flatten(),
    )


def deep_convs(channels: int) -> nn.Sequential:
    """A 4-conv stack (DEEP_CONVOLUTIONAL_NETWORK_DEEP): the shallow one plus a 3x3 layer."""
    return nn.Sequential(
        nn.Conv2d(channels, 32, kernel_size=8, stride=4),
        nn.ReLU(),
        nn.Conv2d(32, 64, kernel_size=4, stride=2),
        nn.ReLU(),
        nn.Conv2d(64, 64, kernel_size=3, stride=1),
        nn.ReLU(),
        nn.Conv2d(64, 128, kernel_size=3, stride=1),
        nn.ReLU(),
        nn.Flatten(),
    )


CONV_STACKS: dict[str, ConvStack] = {
    "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW": shallow_convs,
    "DEEP_CONVOLUTIONAL_NETWORK_DEEP": deep_convs,
}
"""Conv stacks by DeepRacer network name; add an entry to offer another network."""


class BlockMean(nn.AvgPool2d):
    """Average over non-overlapping ``k`` x ``k`` blocks: an ``AvgPool2d(k)`` that runs faster.

    PyTorch's CPU pooling kernel took about as long as the three convolutions after it on
    racer's one-channel images; summing ``k * k`` strided views of the image is three to four
    times faster and gives the same means (to float rounding). It stays an ``AvgPool2d``, so
    exports fold it into the next convolution as before and saved models load unchanged.

    Args:
        k: Block size (the kernel and the stride).
    """

    def __init__(self, k: int) -> None:
        super().__init__(k)
        self.k = k

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Mean of each block; rows and columns beyond the last whole block are dropped."""
        k = self.k
        h, w = x.shape[-2] // k * k, x.shape[-1] // k * k
        views = [x[..., i:h:k, j:w:k] for i in range(k) for j in range(k)]
        total = views[0] + views[1]
        for view in views[2:]:
            total += view
        return total.div_(k * k)


def image_branch(network: str, channels: int, pooling: int = 1) -> nn.Sequential:
    """The named conv stack, behind an average pooling of the image when ``pooling`` > 1.

    Pooling 2 lets the convolutions see 80x60 instead of 160x120: about a sixth of the
    arithmetic per frame, while the model still takes the camera's full image. An export
    folds the pooling into the first convolution (a 16x16 stride-8 kernel for DeepRacer's
    8x8 stride-4 one), so the exported graph has the same layers as DeepRacer's.

    Raises:
        ValueError: A pooling factor outside :data:`IMAGE_POOLINGS`.
    """
    if pooling not in IMAGE_POOLINGS:
        raise ValueError(f"image pooling must be one of {IMAGE_POOLINGS}, got {pooling!r}")
    convs = CONV_STACKS[network](channels)
    if pooling == 1:
        return convs
    return nn.Sequential(BlockMean(pooling), *convs)


def _flat_size(convs: nn.Sequential, space: gym.spaces.Box) -> int:
    with torch.no_grad():
        sample = torch.as_tensor(np.zeros((1, *space.shape), dtype=np.float32))
        return int(convs(sample).shape[1])


class DeepRacerCNN(BaseFeaturesExtractor):
    """A DeepRacer conv stack followed by a dense 512 ReLU layer.

    Args:
        observation_space: An image Box ``(C, H, W)``.
        network: A key of :data:`CONV_STACKS`.
        features_dim: Width of the dense layer.
        precision: One of :data:`PRECISIONS`.
        pooling: Average the image over ``pooling`` x ``pooling`` blocks first (see
            :func:`image_branch`). 1, the default, is what models saved without it used.
    """

    def __init__(
        self,
        observation_space: gym.spaces.Box,
        network: str = "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW",
        features_dim: int = FEATURES_DIM,
        precision: str = "auto",
        pooling: int = 1,
    ) -> None:
        super().__init__(observation_space, features_dim)
        self.bf16 = use_bf16(precision)
        self.convs = image_branch(network, observation_space.shape[0], pooling)
        self.dense = nn.Sequential(
            nn.Linear(_flat_size(self.convs, observation_space), features_dim), nn.ReLU()
        )

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        """Features of a batch of (already /255-scaled) images."""
        shadow = _rollout_shadow(self)
        if shadow is not None:
            return shadow(observations.to(torch.bfloat16))
        _channels_last_weights(self)
        with _autocast(self.bf16):
            features = self.dense(self.convs(_maybe_channels_last(observations)))
        return features.float()


class CombinedExtractor(BaseFeaturesExtractor):
    """Dict observations: images through the conv stack, vectors through dense layers, then 512.

    Args:
        observation_space: A Dict of image and vector Boxes.
        network: A key of :data:`CONV_STACKS` for the image inputs.
        features_dim: Width of the final dense layer.
        precision: One of :data:`PRECISIONS`.
        pooling: Image pooling factor of the image inputs (see :func:`image_branch`).
    """

    def __init__(
        self,
        observation_space: gym.spaces.Dict,
        network: str = "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW",
        features_dim: int = FEATURES_DIM,
        precision: str = "auto",
        pooling: int = 1,
    ) -> None:
        super().__init__(observation_space, features_dim)
        self.bf16 = use_bf16(precision)
        branches: dict[str, nn.Module] = {}
        total = 0
        for key, space in observation_space.spaces.items():
            assert isinstance(space, gym.spaces.Box)
            if is_image_space(space):
                convs = image_branch(network, space.shape[0], pooling)
                total += _flat_size(convs, space)
                branches[key] = convs
            else:
                size = int(np.prod(space.shape))
                branches[key] = nn.Sequential(
                    nn.Flatten(), nn.Linear(size, VECTOR_EMBED_DIM), nn.ReLU()
                )
                total += VECTOR_EMBED_DIM
        self.branches = nn.ModuleDict(branches)
        self.dense = nn.Sequential(nn.Linear(total, features_dim), nn.ReLU())

    def forward(self, observations: dict[str, torch.Tensor]) -> torch.Tensor:
        """Features of a batch of Dict observations."""
        shadow = _rollout_shadow(self)
        if shadow is not None:
            return shadow({key: value.to(torch.bfloat16) for key, value in observations.items()})
        _channels_last_weights(self)
        with _autocast(self.bf16):
            parts = [
                branch(_maybe_channels_last(observations[key]))
                for key, branch in self.branches.items()
            ]
            features = self.dense(torch.cat(parts, dim=1))
        return features.float()


def _rollout_shadow(extractor: nn.Module) -> nn.Module | None:
    """The bfloat16 copy that runs an extractor's rollout batches, or None (normal path)."""
    if torch.is_grad_enabled():
        return None
    shadow: nn.Module | None = extractor.__dict__.get("_shadow")
    return shadow


def set_rollout_bf16(policy: nn.Module, enabled: bool) -> None:
    """Run the CNN extractors of ``policy`` in pure bfloat16 while collecting rollouts.

    Rollout batches are tiny (one frame per env), and autocast would cast all the weights on
    every call; a bfloat16 copy of the extractor (weights converted once, here) runs them
    about twice as fast on CPUs with bf16 units. Call with ``enabled=True`` at the start of
    each rollout, after the policy update, so the copy holds the current weights, and with
    ``False`` at its end: evaluation laps, exports and the update itself use the float32
    weights. Only extractors whose precision resolved to bf16 are affected.
    """
    for module in list(policy.modules()):
        if not isinstance(module, (DeepRacerCNN, CombinedExtractor)) or not module.bf16:
            continue
        # Kept outside nn.Module's registry: not a submodule, not in the state dict.
        state = module.__dict__
        state.pop("_shadow", None)
        if not enabled:
            continue
        shadow = state.get("_bf16_copy")
        if shadow is None:
            shadow = copy.deepcopy(module)
            shadow.bf16 = False
            shadow.to(torch.bfloat16)
            shadow.requires_grad_(False)
            state["_bf16_copy"] = shadow
        else:
            with torch.no_grad():
                for target, source in zip(shadow.parameters(), module.parameters(), strict=True):
                    target.copy_(source)
        state["_shadow"] = shadow


@contextmanager
def exact_inference(policy: nn.Module) -> Iterator[None]:
    """Inside this block the policy runs its float32 weights even during a rollout."""
    stash = {
        module: module.__dict__.pop("_shadow")
        for module in policy.modules()
        if "_shadow" in module.__dict__
    }
    try:
        yield
    finally:
        for module, shadow in stash.items():
            module.__dict__["_shadow"] = shadow


def _channels_last_weights(module: nn.Module) -> None:
    """Store conv weights channels-last, once, on the first forward pass.

    Not in ``__init__``: SB3's orthogonal initialisation runs after it and needs plain
    contiguous weights. The parameters stay the same objects (the optimiser keeps them).
    ``Module.to`` does it: replacing each weight's ``.data`` by hand gave the same layout but
    a policy update about a third slower, measured.
    """
    if getattr(module, "_channels_last", False):
        return
    module.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    module._channels_last = True  # type: ignore[assignment]


def _maybe_channels_last(x: torch.Tensor) -> torch.Tensor:
    """Images in channels-last memory order: ~25 % faster convolutions on CPU, same values."""
    return x.contiguous(memory_format=torch.channels_last) if x.dim() == 4 else x


def has_image(space: gym.Space[Any]) -> bool:
    """Whether an observation space holds a camera image (alone or in a Dict)."""
    if isinstance(space, gym.spaces.Dict):
        return any(is_image_space(s) for s in space.spaces.values())
    return is_image_space(space)


def policy_kwargs(
    network: str, space: gym.Space[Any], precision: str = "auto", pooling: int = 1
) -> dict[str, Any]:
    """SB3 ``policy_kwargs`` for a DeepRacer network name and an observation space.

    Image observations get the named CNN with linear heads on its 512 features (DeepRacer's
    layout), behind an average pooling when ``pooling`` > 1; vector observations get SB3's
    flatten extractor with 2x64 MLP heads, whatever the name (DeepRacer always had a camera,
    so its names describe image networks) and whatever the pooling.

    Raises:
        ValueError: ``MLP`` asked for camera observations.
    """
    image = has_image(space)
    if network == "MLP" or not image:
        if image:
            raise ValueError(
                "network MLP cannot read camera images; choose "
                "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW or use vector sensors (STATE, LIDAR)"
            )
        return {
            "features_extractor_class": FlattenExtractor,
            "net_arch": {"pi": list(MLP_HEADS), "vf": list(MLP_HEADS)},
        }
    if network not in CONV_STACKS:
        raise ValueError(f"unknown network {network!r} (known: {', '.join(CONV_STACKS)})")
    extractor = CombinedExtractor if isinstance(space, gym.spaces.Dict) else DeepRacerCNN
    return {
        "features_extractor_class": extractor,
        "features_extractor_kwargs": {
            "network": network,
            "precision": precision,
            "pooling": pooling,
        },
        "net_arch": {"pi": [], "vf": []},
    }
