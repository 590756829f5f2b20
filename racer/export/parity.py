"""Comparing an exported model's outputs with the trained policy's: figures and thresholds.

Each check runs the exported file in the runtime that will load it and compares its outputs
with PyTorch's on the same frames:

* every output: max ``|exported - pytorch|`` at most :data:`TOLERANCE` for the precision
  (1e-5 for float32 weights, 1e-3 for float16 weights);
* discrete models also: the chosen action (argmax) agrees on at least
  :data:`MIN_AGREEMENT` of the frames. A frame whose two best actions are closer than the
  tolerance is a tie at that precision: either choice counts as agreeing (``ties``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

TOLERANCE = {"fp32": 1e-5, "fp16": 1e-3}
"""Largest allowed absolute difference of any output, by weight precision."""
MIN_AGREEMENT = 0.999
"""Smallest allowed share of frames where the exported model picks PyTorch's action."""


@dataclass(frozen=True)
class ParityCheck:
    """One runtime, one precision, compared on every frame.

    Attributes:
        runtime: What ran the exported file (e.g. ``onnxruntime``).
        precision: ``fp32`` or ``fp16`` (the weights' precision in that runtime).
        frames: Frames compared.
        max_abs_diff: Largest absolute difference of any output on any frame.
        mean_abs_diff: Mean absolute difference over all outputs and frames.
        tolerance: The allowed ``max_abs_diff``.
        agreement: Share of frames with the same argmax (discrete), or None.
        ties: Frames whose argmax differed within the tolerance (counted as agreeing).
        note: What went wrong beyond the figures (wrong output shape, non-finite outputs).
    """

    runtime: str
    precision: str
    frames: int
    max_abs_diff: float
    mean_abs_diff: float
    tolerance: float
    agreement: float | None = None
    ties: int = 0
    note: str = ""

    @property
    def passed(self) -> bool:
        """Whether both thresholds hold (and every output is a finite number)."""
        close = bool(np.isfinite(self.max_abs_diff)) and self.max_abs_diff <= self.tolerance
        return close and (self.agreement is None or self.agreement >= MIN_AGREEMENT)

    def describe(self) -> str:
        """One line of figures, e.g. for an error message."""
        text = (
            f"{self.runtime} {self.precision}: max |diff| {self.max_abs_diff:.2e} "
            f"(allowed {self.tolerance:.0e})"
        )
        if self.agreement is not None:
            text += f", argmax agreement {100 * self.agreement:.2f} % (needed "
            text += f"{100 * MIN_AGREEMENT:.1f} %, {self.ties} ties)"
        text += f" over {self.frames} frames"
        return f"{text} ({self.note})" if self.note else text

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping, ``passed`` included."""
        return {**asdict(self), "passed": self.passed}


@dataclass(frozen=True)
class ParityReport:
    """All checks of one exported file.

    Attributes:
        format: The export format.
        frames: Frames each check compared.
        checks: One per runtime and precision.
    """

    format: str
    frames: int
    checks: tuple[ParityCheck, ...]

    @property
    def passed(self) -> bool:
        """Whether every check passed."""
        return bool(self.checks) and all(c.passed for c in self.checks)

    @property
    def max_abs_diff(self) -> float:
        """The largest difference over all checks."""
        return max((c.max_abs_diff for c in self.checks), default=float("nan"))

    @property
    def agreement(self) -> float | None:
        """The lowest argmax agreement over all checks (None for continuous models)."""
        values = [c.agreement for c in self.checks if c.agreement is not None]
        return min(values) if values else None

    def describe(self) -> str:
        """The figures of every check, one per line."""
        return "\n".join(f"  {'ok' if c.passed else 'FAILED'}: {c.describe()}" for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "format": self.format,
            "frames": self.frames,
            "passed": self.passed,
            "max_abs_diff": self.max_abs_diff,
            "agreement": self.agreement,
            "checks": [c.to_dict() for c in self.checks],
        }


def compare(
    runtime: str,
    precision: str,
    exported: NDArray[Any],
    reference: NDArray[Any],
    *,
    discrete: bool,
) -> ParityCheck:
    """Compare an exported model's outputs with the reference outputs.

    Args:
        runtime: Name of the runtime that produced ``exported``.
        precision: ``fp32`` or ``fp16``.
        exported: ``(N, outputs)`` from the exported model.
        reference: ``(N, outputs)`` from the trained policy.
        discrete: Also compare the argmax.
    """
    tolerance = TOLERANCE[precision]
    want = np.asarray(reference, dtype=np.float64)
    got = np.asarray(exported, dtype=np.float64)
    if got.shape != want.shape:  # e.g. another model's file
        return ParityCheck(
            runtime,
            precision,
            len(want),
            max_abs_diff=float("inf"),
            mean_abs_diff=float("inf"),
            tolerance=tolerance,
            agreement=0.0 if discrete else None,
            note=f"outputs {got.shape[1:]} per frame where the policy gives {want.shape[1:]}",
        )
    finite = bool(np.all(np.isfinite(got)))
    diff = np.abs(got - want) if finite else np.full(want.shape, np.inf)
    agreement, ties = None, 0
    if discrete:
        chosen, best = np.nan_to_num(got, nan=-np.inf).argmax(axis=1), want.argmax(axis=1)
        rows = np.arange(len(want))
        tie = (chosen != best) & (want[rows, chosen] >= want[rows, best] - tolerance)
        agreement = float(np.mean((chosen == best) | tie)) if len(want) else 0.0
        ties = int(tie.sum())
    return ParityCheck(
        runtime,
        precision,
        len(want),
        max_abs_diff=float(diff.max()) if diff.size else float("inf"),
        mean_abs_diff=float(diff.mean()) if diff.size else float("inf"),
        tolerance=tolerance,
        agreement=agreement,
        ties=ties,
        note="" if finite else "some outputs are not finite numbers",
    )
