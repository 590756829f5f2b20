"""A policy head as a framework-neutral list of layers with numpy weights.

:func:`racer.export.extract.extract_graph` reads a trained policy into a :class:`PolicyGraph`;
each format's writer turns the same graph into its own file. Layers follow PyTorch's
conventions (conv weights ``(out, in, kh, kw)``, images channels-first, flatten in ``C, H, W``
order, dense weights ``(out, in)``); a writer that works channels-last converts them with
:func:`hwio` and :func:`hwc_dense`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float32]


@dataclass(frozen=True, eq=False)
class Scale:
    """Divide by a constant (images: 0-255 to 0-1, exactly as the trainer does)."""

    divisor: float


@dataclass(frozen=True, eq=False)
class Conv:
    """A 2-D convolution, VALID padding.

    Attributes:
        weight: ``(out, in, kh, kw)`` float32.
        bias: ``(out,)`` float32.
        stride: The same stride along both axes.
    """

    weight: FloatArray
    bias: FloatArray
    stride: int


@dataclass(frozen=True, eq=False)
class Dense:
    """A fully connected layer ``x @ weight.T + bias``.

    Attributes:
        weight: ``(out, in)`` float32.
        bias: ``(out,)`` float32.
    """

    weight: FloatArray
    bias: FloatArray


@dataclass(frozen=True, eq=False)
class Flatten:
    """Flatten each sample; ``chw`` is the ``(C, H, W)`` shape flattened, or None for vectors."""

    chw: tuple[int, int, int] | None = None


@dataclass(frozen=True, eq=False)
class Relu:
    """``max(x, 0)``."""


@dataclass(frozen=True, eq=False)
class Tanh:
    """``tanh(x)``."""


@dataclass(frozen=True, eq=False)
class Softmax:
    """Softmax over the last axis (discrete action probabilities)."""


@dataclass(frozen=True, eq=False)
class Clip:
    """Clamp to ``[low, high]`` (a continuous PPO mean, as the car clamps it)."""

    low: float = -1.0
    high: float = 1.0


Layer = Scale | Conv | Dense | Flatten | Relu | Tanh | Softmax | Clip


@dataclass(frozen=True, eq=False)
class PolicyGraph:
    """Everything a writer needs: the input, the layers, and what the output means.

    Attributes:
        input_shape: One observation, PyTorch layout: ``(C, H, W)`` image or ``(D,)`` vector.
        layers: From the raw observation (0-255 for images) to the policy output.
        outputs: Width of the output (actions for discrete, 2 for continuous).
        sensor: DeepRacer's sensor name (``FRONT_FACING_CAMERA``, ``STEREO_CAMERAS``, ...).
        algorithm: ``clipped_ppo`` or ``sac``.
        action_space_type: ``discrete`` or ``continuous``.
        metadata: The run's ``model_metadata.json`` mapping.
    """

    input_shape: tuple[int, ...]
    layers: tuple[Layer, ...]
    outputs: int
    sensor: str
    algorithm: str
    action_space_type: str
    metadata: dict[str, Any]

    @property
    def is_image(self) -> bool:
        """Whether the input is a camera image (``(C, H, W)``)."""
        return len(self.input_shape) == 3

    @property
    def discrete(self) -> bool:
        """Whether the output is a probability per action."""
        return self.action_space_type == "discrete"

    @property
    def nhwc_shape(self) -> tuple[int, ...]:
        """One observation as the exported model takes it: ``(H, W, C)`` or ``(D,)``."""
        if self.is_image:
            c, h, w = self.input_shape
            return (h, w, c)
        return self.input_shape


def hwio(weight: FloatArray) -> FloatArray:
    """A conv weight ``(out, in, kh, kw)`` as TensorFlow's ``(kh, kw, in, out)``."""
    return np.ascontiguousarray(weight.transpose(2, 3, 1, 0))


def hwc_dense(weight: FloatArray, chw: tuple[int, int, int]) -> FloatArray:
    """Reorder a dense weight's inputs from a ``C, H, W`` flatten to an ``H, W, C`` flatten.

    PyTorch flattens channels-first feature maps; a channels-last graph flattens ``H, W, C``.
    Column ``c*H*W + i*W + j`` of ``weight`` moves to column ``i*W*C + j*C + c``.
    """
    c, h, w = chw
    out = weight.shape[0]
    return np.ascontiguousarray(weight.reshape(out, c, h, w).transpose(0, 2, 3, 1).reshape(out, -1))


def to_nhwc(observations: NDArray[Any]) -> FloatArray:
    """A batch of observations as an exported model takes them: float32, channels-last."""
    batch = np.asarray(observations)
    if batch.ndim == 4:
        batch = batch.transpose(0, 2, 3, 1)
    return np.ascontiguousarray(batch, dtype=np.float32)
