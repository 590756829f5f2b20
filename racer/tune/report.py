"""A study's results: ranked rows, ``trials.csv``, ``best.yaml`` and the terminal table."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
import yaml
from optuna.trial import FrozenTrial, TrialState
from rich.table import Table

from racer.train.config import TrainConfig
from racer.tune.config import TuneConfig
from racer.tune.distributions import ParamValue
from racer.tune.params import trial_settings

STATE_ORDER = {TrialState.COMPLETE: 0, TrialState.PRUNED: 1, TrialState.RUNNING: 2}
"""Ranking: complete trials by score, then pruned ones by their last score, then the rest."""
TABLE_ROWS = 20
"""Rows the terminal table shows (all of them are in ``trials.csv``)."""


@dataclass(frozen=True)
class TrialRow:
    """One trial, as the table and ``trials.csv`` show it.

    Attributes:
        rank: 1 for the best.
        number: The study's trial number.
        state: ``complete``, ``pruned``, ``fail``, ``running`` or ``waiting``.
        value: Its score (a pruned trial: its last reported one; a failed one: none).
        completion_rate: Mean over seeds of the best evaluation's lap completion rate.
        mean_lap_time: Mean lap time of those evaluations (s), if any lap was completed.
        mean_progress: Their mean progress (%).
        steps: Env steps trained, all seeds.
        duration_s: Wall-clock seconds the trial took.
        params: The drawn settings, as the study stores them.
        run_dirs: Its run folders.
    """

    rank: int
    number: int
    state: str
    value: float | None
    completion_rate: float | None
    mean_lap_time: float | None
    mean_progress: float | None
    steps: int | None
    duration_s: float | None
    params: dict[str, ParamValue]
    run_dirs: tuple[str, ...]


def trial_rows(study: optuna.Study) -> list[TrialRow]:
    """Every trial of ``study``, best first."""
    trials = sorted(study.get_trials(deepcopy=False), key=_sort_key)
    return [_row(rank, t) for rank, t in enumerate(trials, start=1)]


def _value(t: FrozenTrial) -> float | None:
    if t.value is not None:
        return float(t.value)
    if t.state == TrialState.PRUNED and t.intermediate_values:
        return float(t.intermediate_values[max(t.intermediate_values)])
    return None


def _sort_key(t: FrozenTrial) -> tuple[int, float, int]:
    value = _value(t)
    return (STATE_ORDER.get(t.state, 3), -value if value is not None else math.inf, t.number)


def _row(rank: int, t: FrozenTrial) -> TrialRow:
    attrs = t.user_attrs
    duration = t.duration.total_seconds() if t.duration is not None else None
    return TrialRow(
        rank=rank,
        number=t.number,
        state=t.state.name.lower(),
        value=_value(t),
        completion_rate=attrs.get("completion_rate"),
        mean_lap_time=attrs.get("mean_lap_time"),
        mean_progress=attrs.get("mean_progress"),
        steps=attrs.get("steps"),
        duration_s=duration,
        params=dict(t.params),
        run_dirs=tuple(attrs.get("run_dirs", ())),
    )


def best_row(rows: list[TrialRow]) -> TrialRow | None:
    """The best complete trial, if any."""
    complete = [r for r in rows if r.state == "complete" and r.value is not None]
    return complete[0] if complete else None


def write_csv(rows: list[TrialRow], tune: TuneConfig, path: Path) -> Path:
    """``trials.csv``: one row per trial, best first, one column per tuned setting."""
    names = [p.name for p in tune.params]
    head = ["rank", "trial", "state", tune.objective, "completion_rate", "mean_lap_time_s",
            "mean_progress", "steps", "duration_s", *names, "run_dirs"]  # fmt: skip
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(head)
        for r in rows:
            writer.writerow(
                [
                    r.rank,
                    r.number,
                    r.state,
                    _blank(r.value),
                    _blank(r.completion_rate),
                    _blank(r.mean_lap_time),
                    _blank(r.mean_progress),
                    _blank(r.steps),
                    _blank(r.duration_s),
                    *(_blank(r.params.get(n)) for n in names),
                    ";".join(r.run_dirs),
                ]  # fmt: skip
            )
    return path


def _blank(value: Any) -> Any:
    return "" if value is None else value


def write_best_yaml(tune: TuneConfig, best: TrialRow, path: Path) -> TrainConfig:
    """``best.yaml``: the base run with the best trial's settings, for ``racer train --config``.

    Returns:
        The configuration written (it loads back with ``TrainConfig.load``).
    """
    config = tune.best_config(trial_settings(tune.params, best.params))
    drawn = ", ".join(f"{k}={_fmt(v)}" for k, v in best.params.items())
    header = (
        f"# Best of study {tune.name!r}: trial {best.number}, {tune.objective} "
        f"{_fmt(best.value)} ({drawn}).\n"
        f"# Train it: racer train --config {path}\n"
        f"# Its trial runs: {', '.join(best.run_dirs)}\n"
    )
    path.write_text(header + yaml.safe_dump(config.to_dict(), sort_keys=False))
    return config


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1 else f"{value:,.2f}".rstrip("0").rstrip(".")
    return "-" if value is None else str(value)


def ranked_table(rows: list[TrialRow], tune: TuneConfig, limit: int = TABLE_ROWS) -> Table:
    """The terminal table: rank, trial, score, completion, lap time, progress, settings, state."""
    table = Table(title=f"study {tune.name}: {len(rows)} trials, best first", title_justify="left")
    for name, justify in (("rank", "right"), ("trial", "right"), (tune.objective, "right"),
                          ("completion", "right"), ("lap time", "right"), ("progress", "right"),
                          ("settings", "left"), ("state", "left")):  # fmt: skip
        table.add_column(name, justify=justify, no_wrap=name != "settings")  # type: ignore[arg-type]
    styles = {"complete": "", "pruned": "dim", "fail": "red", "running": "yellow"}
    for r in rows[:limit]:
        table.add_row(
            str(r.rank),
            str(r.number),
            "-" if r.value is None else f"{r.value:,.1f}",
            "-" if r.completion_rate is None else f"{r.completion_rate:.0%}",
            "-" if r.mean_lap_time is None else f"{r.mean_lap_time:.2f} s",
            "-" if r.mean_progress is None else f"{r.mean_progress:.0f} %",
            " ".join(f"{k}={_fmt(v)}" for k, v in r.params.items()),
            r.state,
            style="bold green" if r.rank == 1 and r.state == "complete" else styles.get(r.state),
        )
    if len(rows) > limit:
        table.caption = f"{len(rows) - limit} more in trials.csv"
    return table
