"""``export_policy``: a trained model to a file a car loads, checked before it is written.

Every export is written to a temporary folder first, loaded there by the runtime that will load
it (OpenVINO for the car's ``.pb`` and for IR, ONNX Runtime for ONNX) and compared with the
PyTorch policy on simulator frames (:mod:`racer.export.parity`). Only an export that passes
is moved to its destination; a failing one raises :class:`ParityError` with the figures and
leaves the destination untouched.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from racer.export.errors import ExportError
from racer.export.extract import extract_graph
from racer.export.formats import ExportFormat, format_of, get_format
from racer.export.frames import collect_observations, reference_outputs
from racer.export.layers import to_nhwc
from racer.export.parity import ParityReport

EXPORT_DIR = "export"
"""Sub-folder of a run folder that exports go to by default."""


class ParityError(ExportError):
    """An exported file's outputs differ from the trained policy's beyond the thresholds."""

    def __init__(self, message: str, report: ParityReport) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote and how well it matched the trained policy.

    Attributes:
        path: The written file (``.tar.gz``, ``.onnx``) or folder (OpenVINO IR).
        format: The format name.
        report: The parity figures.
        size_bytes: Size on disk (a folder: all its files).
        seconds: Wall-clock time of the whole export, check included.
    """

    path: Path
    format: str
    report: ParityReport
    size_bytes: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "path": str(self.path),
            "format": self.format,
            "size_bytes": self.size_bytes,
            "seconds": self.seconds,
            "report": self.report.to_dict(),
        }


def export_policy(
    model: str | Path,
    fmt: str,
    out: Path | None = None,
    *,
    models_dir: Path = Path("models"),
    which: str = "best",
    frames: int = 1000,
    seed: int = 0,
    precision: str = "fp32",
) -> ExportResult:
    """Export a trained model and check it with the runtime that will load it.

    Args:
        model: A run name under ``models_dir``, a run folder, or a model ``.zip``.
        fmt: ``deepracer``, ``onnx`` or ``openvino`` (the registry: ``FORMAT_MODULES``).
        out: Destination; default ``<run folder>/export/`` + the format's default name.
        models_dir: Where run names are looked up.
        which: ``best`` or ``latest`` weights of a run.
        frames: Simulator frames the check compares on.
        seed: Seeds the frames' start places and random actions.
        precision: ``fp32`` or ``fp16`` weights (OpenVINO IR only).

    Raises:
        ExportError: The model cannot take this format, or the check failed (:class:`ParityError`).
        RunError: No such run or model.
    """
    from racer.train.policy import load_policy

    get_format(fmt)  # an unknown name fails before the model is loaded
    policy = load_policy(model, which=which, models_dir=Path(models_dir))
    return export_loaded(policy, fmt, out, frames=frames, seed=seed, precision=precision)


def export_loaded(
    policy: Any,
    fmt: str,
    out: Path | None = None,
    *,
    frames: int = 1000,
    seed: int = 0,
    precision: str = "fp32",
) -> ExportResult:
    """:func:`export_policy` for an already loaded :class:`~racer.train.policy.LoadedPolicy`."""
    start = time.monotonic()
    form = get_format(fmt)
    if precision not in form.precisions:
        raise ExportError(
            f"the {form.name} format takes precision {' or '.join(form.precisions)}, "
            f"not {precision!r}"
        )
    if frames < 1:
        raise ExportError(f"the check needs at least 1 frame, got {frames}")
    graph = extract_graph(policy)
    refusal = form.refuses(graph)
    if refusal:
        raise ExportError(f"cannot export as {form.name}: {refusal}")
    dest = destination(policy, form, out)
    with tempfile.TemporaryDirectory(prefix="racer-export-") as tmp:
        staged = Path(tmp) / dest.name
        form.write(graph, staged, precision)
        report = check(form, staged, policy, frames, seed, shown_as=dest)
        _install(staged, dest)
    return ExportResult(dest, form.name, report, _size(dest), time.monotonic() - start)


def verify_export(path: Path, policy: Any, frames: int = 1000, *, seed: int = 0) -> ParityReport:
    """Check an existing export against a loaded policy, as :func:`export_policy` does.

    Raises:
        ExportError: ``path`` is not an export, or is malformed.
        ParityError: Its outputs differ from the policy's beyond the thresholds.
    """
    path = Path(path)
    if not path.exists():
        raise ExportError(f"no such export: {path}")
    return check(format_of(path), path, policy, frames, seed)


def check(
    form: ExportFormat,
    path: Path,
    policy: Any,
    frames: int,
    seed: int,
    *,
    shown_as: Path | None = None,
) -> ParityReport:
    """Run ``path`` on ``frames`` simulator frames and compare with the policy.

    Raises:
        ParityError: A check failed; the message has every figure.
    """
    observations = collect_observations(policy, frames, seed)
    reference = reference_outputs(policy, observations)
    checks = form.verify(path, to_nhwc(observations), reference, policy.discrete)
    report = ParityReport(form.name, len(observations), checks)
    if not report.passed:
        where = f"nothing was written to {shown_as}" if shown_as is not None else f"checked {path}"
        raise ParityError(
            f"the {form.name} export does not match the trained policy ({where}):\n"
            f"{report.describe()}",
            report,
        )
    return report


def default_path(policy: Any, form: ExportFormat) -> Path:
    """``<run folder>/export/<name>`` for the model's run (a loose ``.zip``: beside it)."""
    from racer.train.run import run_folder_of

    zip_path = Path(policy.path)
    run = run_folder_of(zip_path)
    name = run.name if run is not None else zip_path.stem
    return (run if run is not None else zip_path.parent) / EXPORT_DIR / form.default_name(name)


def destination(policy: Any, form: ExportFormat, out: Path | None) -> Path:
    """Where an export goes: ``out``, inside ``out`` when it is a folder, or the default.

    Raises:
        ExportError: ``out`` exists and is not an export of this format (it is not replaced).
    """
    if out is None:
        return default_path(policy, form)
    out = Path(out)
    if out.is_dir() and not form.recognises(out):
        out = out / default_path(policy, form).name
    if out.exists() and not form.recognises(out):
        raise ExportError(f"{out} exists and is not a {form.name} export; it is left as it is")
    return out


def _install(staged: Path, dest: Path) -> None:
    """Move a checked export into place, replacing an older one."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.is_dir():
        shutil.rmtree(dest)
    elif dest.exists():
        dest.unlink()
    shutil.move(str(staged), str(dest))


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size
