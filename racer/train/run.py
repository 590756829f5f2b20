"""A run folder, ``models/NAME/``: its files, its saved progress, and finding one by name.

Layout::

    models/NAME/
      config.yaml                 the resolved TrainConfig
      model_metadata.json         DeepRacer's schema (racer.train.metadata)
      reward_function.py          a copy of the reward function
      model.zip                   the SB3 model, optimiser state included (resumable)
      best_model.zip, best.json   the best model by periodic evaluation, and its scores
      state.json                  steps, episodes, iterations, elapsed time, why it stopped
      checkpoints/step_<n>.zip    the last few periodic checkpoints
      training-simtrace/<k>-iteration.csv
      training_metrics.json       DeepRacer's training metrics shape
      logs/                       SB3's progress.csv / progress.json (+ TensorBoard events)
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

CONFIG_FILE = "config.yaml"
MODEL_FILE = "model.zip"
BEST_MODEL_FILE = "best_model.zip"
BEST_FILE = "best.json"
STATE_FILE = "state.json"
REWARD_FILE = "reward_function.py"
CHECKPOINT_DIR = "checkpoints"
SIMTRACE_DIR = "training-simtrace"
METRICS_FILE = "training_metrics.json"
LOG_DIR = "logs"


class RunError(ValueError):
    """A run folder is missing, already exists, or cannot be used as asked."""


@dataclass
class RunState:
    """What a run has done so far; saved as ``state.json`` so that a resume continues it.

    Attributes:
        steps: Env steps taken (all sessions).
        episodes: Training episodes finished.
        episodes_started: Training episodes started (the next simtrace episode number).
        iterations: Policy-update iterations started (the next simtrace file's number).
        elapsed_s: Wall-clock seconds spent training (all sessions).
        stopped_by: Why the last session stopped: ``time``, ``steps``, ``signal``, ``early``,
            ``error``.
    """

    steps: int = 0
    episodes: int = 0
    episodes_started: int = 0
    iterations: int = 0
    elapsed_s: float = 0.0
    stopped_by: str = "running"

    def save(self, folder: Path) -> None:
        """Write ``state.json``."""
        (folder / STATE_FILE).write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, folder: Path) -> RunState:
        """Read ``state.json``; a fresh state when there is none."""
        path = folder / STATE_FILE
        if not path.exists():
            return cls()
        data: dict[str, Any] = json.loads(path.read_text())
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def find_run(ref: str | Path, models_dir: Path = Path("models")) -> Path:
    """The run folder named by ``ref``: a folder path, or a run name under ``models_dir``.

    Raises:
        RunError: Neither exists.
    """
    path = Path(ref).expanduser()
    for candidate in (path, models_dir / str(ref)):
        if candidate.is_dir() and (candidate / CONFIG_FILE).exists():
            return candidate
    raise RunError(
        f"no run {str(ref)!r}: expected a folder with {CONFIG_FILE} at {path} or "
        f"{models_dir / str(ref)}"
    )


def find_model(ref: str | Path, models_dir: Path = Path("models"), which: str = "best") -> Path:
    """A model ``.zip``: ``ref`` itself, or the best (else latest) model of a run folder.

    Args:
        ref: A ``.zip`` path, a run folder, or a run name under ``models_dir``.
        models_dir: Where run names are looked up.
        which: ``best`` (falls back to ``latest`` when no evaluation chose one) or ``latest``.
    """
    path = Path(ref).expanduser()
    if path.suffix == ".zip":
        if not path.is_file():
            raise RunError(f"no model file {path}")
        return path
    if which not in ("best", "latest"):
        raise RunError(f"which must be 'best' or 'latest', got {which!r}")
    run = find_run(ref, models_dir)
    names = [BEST_MODEL_FILE, MODEL_FILE] if which == "best" else [MODEL_FILE]
    for name in names:
        if (run / name).is_file():
            return run / name
    raise RunError(f"run {run} has no {MODEL_FILE} yet")


def run_folder_of(model_zip: Path) -> Path | None:
    """The run folder a model file belongs to (its folder, or the parent of checkpoints/)."""
    for folder in (model_zip.parent, model_zip.parent.parent):
        if (folder / CONFIG_FILE).exists():
            return folder
    return None
