"""``racer evaluate --robustness``: one evaluation per perturbation, same seeds, one table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from racer.cli.main import app
from racer.evaluate import EvalConfig, PursuitPolicy, evaluate
from racer.evaluate.robustness import (
    PERTURBATIONS,
    ROBUSTNESS_FILE,
    evaluate_robustness,
    perturbation_config,
    robustness_randomization,
)
from racer.sim.randomize import RandomizationConfig
from racer.train.config import TrainConfig

runner = CliRunner()
STATE_MODEL = TrainConfig(name="pp", sensors=("STATE",))
ACTION_ROWS = ["clean", "steering", "speed", "latency", "all"]


class ImagePolicy:
    """Steers by which half of the camera image is brighter (image perturbations matter)."""

    def predict(self, obs: Any) -> int:
        img = np.asarray(obs, dtype=np.float64)[0]
        left, right = img[60:, :80].mean(), img[60:, 80:].mean()
        return 6 if left > right + 1.0 else 2 if right > left + 1.0 else 4


def test_test_strength_is_the_sim2real_preset_at_its_extremes() -> None:
    full = robustness_randomization()
    preset = RandomizationConfig.sim2real()
    assert full.sampling == "extreme" and full.blur_prob == full.jpeg_prob == 1.0
    assert full.brightness == preset.brightness and full.latency_steps == preset.latency_steps
    assert not robustness_randomization(0.0).enabled
    noise = perturbation_config(PERTURBATIONS["noise"], 2.0)
    assert noise.changes() == {"noise": 2 * preset.noise, "sampling": "extreme"}
    assert perturbation_config(PERTURBATIONS["clean"]) == RandomizationConfig()
    assert list(PERTURBATIONS)[0] == "clean" and list(PERTURBATIONS)[-1] == "all"


def test_state_model_rows_same_seeds_and_clean_baseline(tmp_path: Path) -> None:
    config = EvalConfig(trials=1, max_time=20.0, seed=3)
    report = evaluate_robustness(
        PursuitPolicy(), config, tmp_path / "rob", model_config=STATE_MODEL, model_name="pp"
    )
    assert [r.perturbation for r in report.rows] == ACTION_ROWS
    assert set(report.skipped) == {p.name for p in PERTURBATIONS.values() if p.camera}
    plain = evaluate(PursuitPolicy(), config, tmp_path / "plain", model_config=STATE_MODEL)
    clean = report.baseline
    assert (clean.completed, clean.mean_lap_time) == (plain.completed, plain.mean_lap_time)
    assert report.rows[2].mean_lap_time != clean.mean_lap_time  # the speed gain shows
    data = json.loads((tmp_path / "rob" / ROBUSTNESS_FILE).read_text())
    assert [r["perturbation"] for r in data["rows"]] == ACTION_ROWS
    assert data["rows"][3]["settings"] == {"latency_steps": 1}
    assert data["rows"][3]["folder"] == "robustness/latency"
    latency = json.loads((tmp_path / "rob/robustness/latency/metrics.json").read_text())
    assert latency["summary"]["config"]["randomization"]["latency_steps"] == 1
    assert (tmp_path / "rob" / "metrics.json").exists()  # the clean run at the top
    again = evaluate_robustness(
        PursuitPolicy(), config, tmp_path / "again", model_config=STATE_MODEL, model_name="pp"
    )
    assert again.to_dict() == report.to_dict()


def test_camera_model_gets_every_row_and_images_matter(tmp_path: Path) -> None:
    config = EvalConfig(trials=1, max_time=4.0)
    report = evaluate_robustness(
        ImagePolicy(), config, tmp_path, model_config=TrainConfig(), model_name="img"
    )
    assert [r.perturbation for r in report.rows] == list(PERTURBATIONS) and not report.skipped
    progress = {r.perturbation: r.mean_progress for r in report.rows}
    assert progress["all"] != progress["clean"]
    image_rows = ("exposure", "colors", "camera_pose", "noise", "blur", "jpeg")
    assert any(progress[name] != progress["clean"] for name in image_rows)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny state-vector model trained through the CLI with action randomisation."""
    models = tmp_path_factory.mktemp("models")
    args = [
        "train", "--models-dir", str(models), "--name", "tiny", "--sensor", "STATE",
        "--batch-size", "64", "--episodes-per-update", "2", "--max-episode-steps", "100",
        "--eval-episodes", "1", "--n-envs", "2", "--max-steps", "256", "--quiet",
        "--randomize", "steering_offset_deg=2,speed_gain=0.1", "--randomize", "latency_steps=1",
    ]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return models / "tiny"


def test_training_saves_its_randomisation(tiny_run: Path) -> None:
    config = TrainConfig.load(tiny_run / "config.yaml")
    assert config.randomization == RandomizationConfig(
        steering_offset_deg=2.0, speed_gain=0.1, latency_steps=1
    )


def test_evaluate_robustness_cli_on_a_trained_model(tiny_run: Path) -> None:
    args = ["evaluate", str(tiny_run), "--robustness", "--trials", "1", "--max-time", "8"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    out = tiny_run / "evaluation" / "reinvent_base-time_trial-seed0"
    data = json.loads((out / ROBUSTNESS_FILE).read_text())
    assert [r["perturbation"] for r in data["rows"]] == ACTION_ROWS
    assert data["model"] == "tiny" and data["strength"] == 1.0
    text = " ".join(result.output.split())
    for word in ("Robustness", "Completed", "latency", "all", "Skipped (no camera)"):
        assert word in text, word
    assert (out / "metrics.json").exists() and (out / "robustness" / "speed").is_dir()


def test_robustness_refuses_randomize(tiny_run: Path) -> None:
    args = ["evaluate", str(tiny_run), "--robustness", "--randomize", "noise=2"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1 and "--robustness" in result.output


def test_evaluate_randomize_writes_a_randomized_run(tiny_run: Path) -> None:
    args = ["evaluate", str(tiny_run), "--trials", "1", "--max-time", "5"]
    result = runner.invoke(app, [*args, "--randomize", "speed_gain=0.2,latency_steps=2"])
    assert result.exit_code == 0, result.output
    out = tiny_run / "evaluation" / "reinvent_base-time_trial-seed0-randomized"
    summary = json.loads((out / "metrics.json").read_text())["summary"]
    assert summary["config"]["randomization"]["latency_steps"] == 2
    bad = runner.invoke(app, [*args, "--randomize", "latncy_steps=2"])
    assert bad.exit_code == 1 and "latency_steps" in bad.output
