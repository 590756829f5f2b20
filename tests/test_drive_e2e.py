"""The car check end to end: the evaluation's camera recording replayed through exports.

``racer evaluate --video`` records every image the policy decided on (``camera.avi``); an
exported model driven over that recording by ``racer drive`` must choose the same actions as
the simulator's policy did (the evaluation simtrace's ``action`` column).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from racer.cli.main import app
from racer.drive import car_gray, open_source
from racer.evaluate import EvalConfig, evaluate
from racer.logs.simtrace import read_simtrace
from racer.train.config import TrainConfig

runner = CliRunner()
SIMTRACE = "evaluation-simtrace/0-iteration.csv"


def _decided_actions(simtrace: Path) -> list[str]:
    """The simtrace's action column, one per decision (the ``prepare`` rows left out)."""
    return [r["action"] for r in read_simtrace(simtrace) if r["episode_status"] != "prepare"]


class _RecordingPolicy:
    """Remembers every observation and picks an action from the image's brightness."""

    def __init__(self) -> None:
        self.seen: list[np.ndarray] = []

    def predict(self, obs: Any) -> int:
        self.seen.append(np.array(obs, copy=True))
        return int(np.asarray(obs).mean()) % 10


def test_evaluate_video_records_the_frames_the_policy_decided_on(tmp_path: Path) -> None:
    policy = _RecordingPolicy()
    model = TrainConfig(sensors=("FRONT_FACING_CAMERA",))
    config = EvalConfig(track="reinvent_base", trials=2, max_time=1.0)
    report = evaluate(policy, config, tmp_path, video=True, model_config=model)
    camera = report.files["camera"]
    assert camera == tmp_path / "camera.avi" and camera.is_file()
    frames = [car_gray(f) for f in open_source(camera)]
    assert len(frames) == len(policy.seen) == sum(t.steps for t in report.trials)
    for got, seen in zip(frames, policy.seen, strict=True):
        np.testing.assert_array_equal(got, seen[0])
    actions = _decided_actions(tmp_path / SIMTRACE)
    assert actions == [str(int(s.mean()) % 10) for s in policy.seen]
    # no camera recording for a model without a mono camera
    state = evaluate(
        _RecordingPolicy(),
        config,
        tmp_path / "state",
        video=True,
        model_config=TrainConfig(sensors=("STATE",)),
    )
    assert "camera" not in state.files and not (tmp_path / "state" / "camera.avi").exists()


def _drive_actions(model: Path, camera: Path, log: Path) -> list[str]:
    result = runner.invoke(
        app, ["drive", str(model), "--source", str(camera), "--log", str(log), "--quiet"]
    )
    assert result.exit_code == 0, result.output
    with log.open() as f:
        return [row["action"] for row in csv.DictReader(f)]


def _spread_the_decisions(run: Path) -> None:
    """Give a barely trained policy a random action head, so its choice changes with the image.

    A few training steps leave the head near zero: one action wins on every frame, which would
    make "the same actions" an empty check.
    """
    import torch

    from racer.train.policy import load_policy

    policy = load_policy(run)
    head = policy.model.policy.action_net
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        head.weight.copy_(torch.randn(head.weight.shape, generator=generator) * 0.5)
        head.bias.zero_()
    for name in ("best_model.zip", "model.zip"):
        policy.model.save(run / name)


def test_an_export_drives_the_recording_like_the_simulator(tmp_path: Path) -> None:
    from racer.train.trainer import train

    export = pytest.importorskip("racer.export")
    if not hasattr(export, "export_policy"):
        pytest.skip("racer.export has no export_policy yet")
    config = TrainConfig(
        name="cam",
        max_steps=128,
        batch_size=32,
        num_epochs=1,
        num_episodes_between_training=2,
        max_episode_steps=40,
        eval_episodes=1,
        n_envs=1,
        minutes=2.0,
    )
    models = tmp_path / "models"
    train(config, models)
    _spread_the_decisions(models / "cam")
    out = tmp_path / "eval"
    result = runner.invoke(
        app,
        ["evaluate", str(models / "cam"), "--trials", "2", "--max-time", "4", "--video",
         "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    camera = out / "camera.avi"
    expected = _decided_actions(out / SIMTRACE)
    assert camera.is_file() and len(expected) > 10
    assert len(set(expected)) > 1  # the images, not a constant, choose the actions
    for fmt in ("deepracer", "onnx", "openvino"):
        exported = export.export_policy("cam", fmt, models_dir=models, frames=32).path
        actions = _drive_actions(exported, camera, tmp_path / f"{fmt}.csv")
        assert actions == expected, fmt
