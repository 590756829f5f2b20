"""Test helpers for the race server: ONNX models with known, fixed behaviour.

:func:`constant_policy_onnx` writes a camera model that always chooses the same action, the way
racer's exporter writes any discrete model (one input ``observation`` ``[N, 120, 160, 1]``
float32 0-255, one output ``policy``, a softmax over the actions, ``model_metadata`` in the
file's ``metadata_props``). In evaluation mode an off-track only costs a penalty and puts the
car back where it left, so even a constant straight-driving model completes laps: the server's
tests, browser tests and benchmarks use it as a fast, deterministic entry.

Nothing here imports torch; writing the file needs the ``onnx`` package (the ``export`` extra).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from racer.export import synthetic
from racer.export.layers import Dense

DEFAULT_ACTIONS: tuple[tuple[float, float], ...] = (
    (-30.0, 1.0),
    (-15.0, 1.0),
    (0.0, 1.0),
    (0.0, 2.0),
    (15.0, 1.0),
    (30.0, 1.0),
)
"""A small DeepRacer-style action list: (steering degrees, speed m/s)."""

STRAIGHT = 3
"""Index of straight ahead at 2 m/s in :data:`DEFAULT_ACTIONS`."""

LOGIT = 8.0
"""Logit of the chosen action (all others are 0): its probability is about 0.99."""


def constant_policy_onnx(
    path: str | Path,
    action_index: int = STRAIGHT,
    actions: Sequence[tuple[float, float]] = DEFAULT_ACTIONS,
) -> Path:
    """Write an ONNX camera model whose softmax always puts its mass on one action.

    The network is racer's small test stack (two convolutions, a dense layer) whose final
    dense layer has zero weights and a bias that is ``LOGIT`` for the chosen action and 0 for
    the others, so its output does not depend on the image.

    Args:
        path: The ``.onnx`` file to write (its folder is created).
        action_index: The action the model always picks, an index into ``actions``.
        actions: The discrete action list, (steering degrees, speed m/s) pairs.

    Returns:
        The path written.

    Raises:
        ValueError: ``action_index`` is not an index of ``actions``.
    """
    pairs = [(float(s), float(v)) for s, v in actions]
    if not 0 <= action_index < len(pairs):
        raise ValueError(f"action_index must be in 0..{len(pairs) - 1}, got {action_index}")
    graph = synthetic.tiny_graph(len(pairs), metadata=synthetic.discrete_metadata(pairs))
    layers = list(graph.layers)
    last = max(i for i, layer in enumerate(layers) if isinstance(layer, Dense))
    dense = layers[last]
    assert isinstance(dense, Dense)
    bias = np.zeros(len(pairs), np.float32)
    bias[action_index] = LOGIT
    layers[last] = Dense(np.zeros_like(dense.weight), bias)
    constant = dataclasses.replace(graph, layers=tuple(layers))
    return synthetic.write_onnx(constant, Path(path))
