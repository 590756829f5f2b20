"""racer's main job, end to end: train a small camera model, race it, and chart it.

What ``racer demo`` runs after the scripted lap: training on the default camera
configuration until its periodic evaluation laps are clean (or the time budget runs out), a
three-trial evaluation under DeepRacer's rules with a video, and the analysis charts of the
run. Stopping at the first clean evaluation keeps the wait short (three to five minutes
on a 2-core AVX2 laptop, seed 0; at most the budget) without leaving a slower machine
with a model that still leaves the track.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path

from rich.console import Console

from racer.analyze import analyze
from racer.evaluate import evaluate
from racer.evaluate.config import EvalConfig
from racer.evaluate.report import EvalReport
from racer.train.config import TrainConfig
from racer.train.policy import load_policy
from racer.train.trainer import TrainResult, train


@dataclass(frozen=True)
class FirstModel:
    """What the main job produced.

    Attributes:
        training: The training run's result.
        evaluation: The evaluation's report (lap times, files).
        analysis_dir: Folder of the analysis charts.
    """

    training: TrainResult
    evaluation: EvalReport
    analysis_dir: Path


def first_model(
    name: str = "demo",
    track: str = "reinvent_base",
    minutes: float = 10.0,
    models_dir: Path = Path("models"),
    console: Console | None = None,
    trials: int = 3,
    max_time: float = 60.0,
    stop_when_clean: bool = True,
) -> FirstModel:
    """Train, evaluate (with video) and analyse a small camera model.

    Args:
        name: Run name (``models/NAME``; an earlier run of that name is replaced).
        track: Track to train and race on.
        minutes: Training budget.
        models_dir: Folder of run folders.
        console: Where to show live training progress; None is quiet.
        trials: Evaluation trials.
        max_time: Time cap of each trial, simulated seconds.
        stop_when_clean: Stop training at the first periodic evaluation (one a minute) whose
            laps are all clean; False trains the whole budget.

    Returns:
        The training result, the evaluation report and the analysis folder.
    """
    config = TrainConfig(name=name, track=track, minutes=minutes, reward="progress_speed")
    result = train(
        config,
        models_dir,
        console=console,
        force=True,
        on_evaluation=attrgetter("all_clean") if stop_when_clean else None,
    )
    policy = load_policy(result.run_dir, which="best")
    eval_config = EvalConfig(track=track, trials=trials, max_time=max_time)
    report = evaluate(
        policy,
        eval_config,
        result.run_dir / "evaluation" / eval_config.run_id,
        video=True,
        model_config=policy.config,
        model_name=name,
    )
    analysis = result.run_dir / "analysis"
    analyze([result.run_dir], analysis)
    return FirstModel(result, report, analysis)
