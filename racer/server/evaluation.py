"""Evaluate one submitted ONNX model under a race's rules: one run, its standing and its files.

:func:`evaluate_submission` loads the model into an ONNX Runtime CPU session (one thread; the
file is only ever parsed as ONNX), builds the model's environment from its
``model_metadata`` (sensor, action space) and races it once with racer's evaluator, under the
race's track, race type, laps, penalties, time cap and seed. The completed laps (also those of
a run that ended by ``time_up`` before all its laps) are ranked by
:func:`racer.server.ranking.standing`. The same model and rules give the same outcome.

Files written into the output folder (``EvaluationOutcome.files``, relative paths):

* ``simtrace`` — ``evaluation-simtrace/0-iteration.csv``, DeepRacer's step log;
* ``metrics`` — ``metrics.json``, DeepRacer's evaluation metrics and racer's summary;
* ``trajectory`` — ``laps.png`` (1920x1080), the run's path coloured by speed with its lap
  times and score (:func:`plot_run`; it replaces the evaluator's picture, whose "best lap"
  is the time of the whole multi-lap trial);
* ``video`` — ``video.webm`` (VP8, 960x540, 15 fps), which browsers play in a ``<video>``
  tag: the evaluator's MPEG-4 video re-encoded frame by frame (the MPEG-4 file and the camera
  recording are then removed).

Nothing here imports torch, stable-baselines3, FastAPI or SQLAlchemy.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from racer.evaluate.config import EvalConfig, EvalConfigError
from racer.evaluate.runner import LAPS_FILE, METRICS_FILE, SIMTRACE_FILE, evaluate
from racer.server.onnx_policy import (
    CAMERA_SENSORS,
    EvaluationError,
    OnnxPolicy,
    embedded_metadata,
    model_config,
)
from racer.server.ranking import RaceRules, Standing, standing
from racer.server.runplot import plot_run
from racer.server.webm import WEBM_FILE, browser_video
from racer.sim.race import BotConfig, ObstacleConfig, RaceError
from racer.sim.track_registry import get_track
from racer.sim.trackcheck import TrackError


def eval_config(rules: RaceRules) -> EvalConfig:
    """The evaluator's settings for a race: one trial of ``laps`` laps under its rules.

    Also checks a race's settings when it is created (cheap: nothing is simulated).

    Raises:
        EvaluationError: Unknown or invalid obstacle or bot settings, or an invalid rule.
    """
    settings = rules.settings
    unknown = sorted(set(settings) - {"obstacles", "bots"})
    if unknown:
        raise EvaluationError(f"unknown race settings {unknown}; expected obstacles, bots")
    try:
        get_track(rules.track)
        obstacles = dict(settings.get("obstacles") or {})
        if "positions" in obstacles:
            obstacles["positions"] = tuple(
                (float(f), str(lane)) for f, lane in obstacles["positions"]
            )
        return EvalConfig(
            track=rules.track,
            reverse=rules.reverse,
            race_type=rules.race_type,
            obstacles=ObstacleConfig(**obstacles),
            bots=BotConfig(**dict(settings.get("bots") or {})),
            trials=1,
            laps=rules.laps,
            off_track_penalty=rules.off_track_penalty,
            collision_penalty=rules.collision_penalty,
            seed=rules.seed,
            max_time=rules.time_cap,
        )
    except (EvalConfigError, RaceError, TrackError, TypeError, ValueError) as exc:
        raise EvaluationError(f"race settings: {exc}") from None


@dataclass(frozen=True)
class EvaluationOutcome:
    """The result of one submission's run.

    Attributes:
        standing: Its lap times and rank under the race's ranking.
        status: How the run ended: ``lap_complete`` (all laps), ``time_up``,
            ``immobilized`` or ``reversed``.
        sim_time: Simulated seconds the run lasted, penalties included.
        progress: Percent of the race's laps driven, 0-100.
        off_tracks: Times the car left the track.
        crashes: Collisions with boxes or bots.
        penalty_time: Seconds of penalties served.
        steps: Control steps (15 per simulated second).
        track: The track's display name.
        track_length: The centre line's length, metres (one lap).
        optimal_lap_time: The track's physically optimal lap, seconds (the yardstick; None
            where it cannot be computed).
        files: Files written, by kind (``simtrace``, ``metrics``, ``trajectory``, ``video``),
            as POSIX paths relative to the output folder.
    """

    standing: Standing
    status: str
    sim_time: float
    progress: float
    off_tracks: int
    crashes: int
    penalty_time: float
    steps: int
    track: str
    track_length: float
    optimal_lap_time: float | None
    files: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (times rounded to the millisecond)."""
        out = dataclasses.asdict(self)
        out["standing"] = self.standing.to_dict()
        for key in ("sim_time", "penalty_time", "track_length"):
            out[key] = round(out[key], 3)
        out["progress"] = round(self.progress, 2)
        if self.optimal_lap_time is not None:
            out["optimal_lap_time"] = round(self.optimal_lap_time, 3)
        return out


def evaluate_submission(
    model_path: Path,
    metadata: dict[str, Any],
    rules: RaceRules,
    out_dir: Path,
    *,
    video: bool = True,
    title: str | None = None,
) -> EvaluationOutcome:
    """Race one ONNX model once under a race's rules and rank its laps.

    Args:
        model_path: The ``.onnx`` file.
        metadata: Its ``model_metadata`` mapping; empty: the one inside the file.
        rules: The race's rules.
        out_dir: Folder for the files (created; earlier files of the same names are replaced).
        video: Also write the browser video ``video.webm``.
        title: Shown in the picture's and the video's headline (e.g. racer and model name).

    Returns:
        The outcome; the same model and rules give the same outcome.

    Raises:
        EvaluationError: The model, its metadata or the race's settings cannot be raced.
    """
    config = eval_config(rules)
    if not metadata:
        metadata = embedded_metadata(Path(model_path))
    train = model_config(metadata)
    policy = OnnxPolicy(Path(model_path), train.action_space, CAMERA_SENSORS[train.sensors[0]])
    out = Path(out_dir)
    report = evaluate(
        policy,
        config,
        out,
        video=video,
        model_config=train,
        model_name=title,
        reward_function=_no_reward,
    )
    trial = report.trials[0]
    result = standing(trial.lap_splits, rules)
    plot_run(report, result, rules, out / LAPS_FILE, title=title)
    files = {"simtrace": SIMTRACE_FILE, "metrics": METRICS_FILE, "trajectory": LAPS_FILE}
    if video:
        browser_video(report.files, out)
        report.write_metrics(out / METRICS_FILE)  # its file list now names the WebM
        files["video"] = WEBM_FILE
    return EvaluationOutcome(
        standing=result,
        status=trial.status,
        sim_time=trial.time,
        progress=trial.progress,
        off_tracks=trial.off_track_count,
        crashes=trial.crash_count,
        penalty_time=trial.penalty_time,
        steps=trial.steps,
        track=report.track,
        track_length=report.track_length,
        optimal_lap_time=report.optimal_lap_time,
        files=files,
    )


def _no_reward(params: dict[str, Any], step: int) -> float:
    """A race does not know the model's reward function: the simtrace's reward column is 0."""
    return 0.0
