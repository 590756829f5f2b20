"""The registry of export formats; each format module registers one :class:`ExportFormat`.

Format modules import their libraries (onnx, openvino, protobuf) only when used, through
:func:`get_format`, so ``import racer.export`` stays light.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from numpy.typing import NDArray

from racer.export.errors import ExportError
from racer.export.layers import PolicyGraph
from racer.export.parity import ParityCheck

PRECISIONS = ("fp32", "fp16")

Writer = Callable[[PolicyGraph, Path, str], None]
"""``write(graph, dest, precision)``: write the export at ``dest``."""
Verifier = Callable[[Path, NDArray[Any], NDArray[Any], bool], tuple[ParityCheck, ...]]
"""``verify(path, observations_nhwc, reference, discrete)``: load and compare."""


@dataclass(frozen=True)
class ExportFormat:
    """One kind of exported file.

    Attributes:
        name: The ``--format`` name.
        description: One line for help texts.
        default_name: The file or folder name for a run name (under ``models/NAME/export/``).
        write: Writes the export (see :data:`Writer`).
        verify: Loads it with its runtime and compares (see :data:`Verifier`).
        refuses: Why a graph cannot take this format, or None when it can.
        recognises: Whether a path looks like this format (for checking an existing file).
        precisions: The ``precision`` values the writer accepts.
    """

    name: str
    description: str
    default_name: Callable[[str], str]
    write: Writer
    verify: Verifier
    refuses: Callable[[PolicyGraph], str | None]
    recognises: Callable[[Path], bool]
    precisions: tuple[str, ...] = ("fp32",)


FORMAT_MODULES = {
    "deepracer": "racer.export.deepracer",
    "onnx": "racer.export.onnx_model",
    "openvino": "racer.export.openvino_ir",
}
"""Format name -> module defining ``FORMAT``; add an entry to offer another format."""


def get_format(name: str) -> ExportFormat:
    """The format called ``name``.

    Raises:
        ExportError: An unknown name, with a suggestion.
    """
    key = name.strip().lower()
    if key not in FORMAT_MODULES:
        close = difflib.get_close_matches(key, list(FORMAT_MODULES), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ExportError(
            f"unknown export format {name!r}{hint} (known: {', '.join(FORMAT_MODULES)})"
        )
    fmt: ExportFormat = importlib.import_module(FORMAT_MODULES[key]).FORMAT
    return fmt


def format_of(path: Path) -> ExportFormat:
    """The format an existing export at ``path`` is in.

    Raises:
        ExportError: No format recognises it.
    """
    for name in FORMAT_MODULES:
        fmt = get_format(name)
        if fmt.recognises(path):
            return fmt
    raise ExportError(
        f"{path}: not an export racer knows (a .tar.gz, a .onnx, or a folder with model.xml)"
    )


def image_only(graph: PolicyGraph) -> str | None:
    """A ``refuses`` rule for formats that take camera models only."""
    if graph.is_image:
        return None
    return (
        f"a {graph.sensor} model has no camera input; the car's model format takes camera "
        "models only (FRONT_FACING_CAMERA or STEREO_CAMERAS). Export it as onnx or openvino."
    )


def any_model(graph: PolicyGraph) -> str | None:
    """A ``refuses`` rule that takes every single-sensor model."""
    return None
