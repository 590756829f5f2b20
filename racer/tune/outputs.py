"""Writing a study's results into its folder: table rows, CSV, best config, pictures."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import optuna

from racer.tune.config import TuneConfig
from racer.tune.plots import plot_history, plot_importance
from racer.tune.report import TrialRow, best_row, trial_rows, write_best_yaml, write_csv

TRIALS_CSV = "trials.csv"
BEST_YAML = "best.yaml"
HISTORY_PNG = "history.png"
IMPORTANCE_PNG = "importance.png"


@dataclass(frozen=True)
class TuneOutputs:
    """A study's results as written.

    Attributes:
        rows: Every trial, best first.
        best: The best complete trial, if any.
        best_config: ``best.yaml`` (None until a trial completes).
        trials_csv: ``trials.csv``.
        history: ``history.png``.
        importance: ``importance.png``.
        notes: What the user should know about them (a picture that could not be drawn...).
    """

    rows: tuple[TrialRow, ...]
    best: TrialRow | None
    best_config: Path | None
    trials_csv: Path
    history: Path
    importance: Path
    notes: tuple[str, ...]


def write_outputs(study: optuna.Study, tune: TuneConfig) -> TuneOutputs:
    """Write ``trials.csv``, ``best.yaml``, ``history.png`` and ``importance.png``."""
    out = tune.out_dir
    out.mkdir(parents=True, exist_ok=True)
    rows = trial_rows(study)
    best = best_row(rows)
    notes: list[str] = []
    best_config = None
    if best is not None:
        best_config = out / BEST_YAML
        write_best_yaml(tune, best, best_config)
    else:
        notes.append("no trial has completed yet: no best.yaml")
    importance, note = plot_importance(study, tune, out / IMPORTANCE_PNG)
    if note:
        notes.append(note)
    return TuneOutputs(
        rows=tuple(rows),
        best=best,
        best_config=best_config,
        trials_csv=write_csv(rows, tune, out / TRIALS_CSV),
        history=plot_history(rows, tune, out / HISTORY_PNG),
        importance=importance,
        notes=tuple(notes),
    )
