"""``racer evaluate``: options, output folder, table and exit status."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import racer.cli.evaluate as cli_evaluate
from racer.cli.main import app
from racer.evaluate import PursuitPolicy
from racer.train.config import TrainConfig

runner = CliRunner()


class ScriptedModel(PursuitPolicy):
    """Stands in for a loaded model: a policy with the model's TrainConfig."""

    def __init__(self, config: TrainConfig) -> None:
        super().__init__()
        self.config = config
        self.metadata: dict[str, object] = {}


@pytest.fixture
def scripted_model(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    model = TrainConfig(name="pp", sensors=("STATE",), track="reinvent_base")
    loads = []

    def fake_load(name, which):
        loads.append((name, which))
        return ScriptedModel(model)

    monkeypatch.setattr(cli_evaluate, "_load", fake_load)
    return loads


def test_evaluate_writes_the_run_folder_and_prints_the_table(scripted_model, tmp_path):
    result = runner.invoke(app, ["evaluate", "pp", "--trials", "2", "--seed", "4"])
    assert result.exit_code == 0, result.output
    assert scripted_model == [("pp", "best")]
    out = tmp_path / "models" / "pp" / "evaluation" / "reinvent_base-time_trial-seed4"
    assert (out / "evaluation-simtrace" / "0-iteration.csv").exists()
    assert (out / "laps.png").exists() and not (out / "video.mp4").exists()
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics["metrics"]) == 2 and metrics["summary"]["model"] == "pp"
    assert "lap complete" in result.output and "completed 2/2" in result.output


def test_evaluate_options_reach_the_race(scripted_model, tmp_path):
    args = ["evaluate", "models/pp", "--track", "generated:3", "--reverse", "--trials", "1",
            "--race-type", "head-to-bot", "--bots", "1", "--bot-speed", "0.4",
            "--collision-penalty", "2", "--max-time", "20", "--video",
            "--which", "final"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    out = tmp_path / "models" / "pp" / "evaluation" / "generated-3-reverse-head_to_bot-seed0"
    summary = json.loads((out / "metrics.json").read_text())["summary"]
    assert summary["config"]["bots"]["count"] == 1 and summary["config"]["bots"]["speed"] == 0.4
    assert summary["config"]["collision_penalty"] == 2.0
    assert (out / "video.mp4").stat().st_size > 10_000


def test_evaluate_refuses_a_bad_race_type(scripted_model):
    result = runner.invoke(app, ["evaluate", "pp", "--race-type", "time-trail"])
    assert result.exit_code == 1
    assert "did you mean" in result.output and "Traceback" not in result.output


def test_evaluate_says_when_a_model_is_missing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["evaluate", "no-such-model"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "no-such-model" in result.output


def test_evaluate_loads_a_saved_sb3_model(tmp_path, monkeypatch):
    from stable_baselines3 import PPO

    from racer.env import RacingEnv

    monkeypatch.chdir(tmp_path)
    config = TrainConfig(name="tiny", sensors=("STATE",), network="MLP")
    run = tmp_path / "models" / "tiny"
    config.save(run / "config.yaml")
    metadata = {
        "action_space": config.action_space.to_metadata(),
        "sensor": list(config.sensors),
        "neural_network": config.network,
        "training_algorithm": config.algorithm,
        "action_space_type": config.action_space.kind,
        "version": "5",
    }
    (run / "model_metadata.json").write_text(json.dumps(metadata))
    env = RacingEnv(config.env_config())
    model = PPO("MlpPolicy", env, seed=0, n_steps=64, batch_size=32)
    model.save(run / "model.zip")
    model.save(run / "best_model.zip")
    env.close()
    result = runner.invoke(app, ["evaluate", "tiny", "--trials", "1", "--max-time", "10"])
    assert result.exit_code == 0, result.output
    assert (run / "evaluation" / "reinvent_base-time_trial-seed0" / "metrics.json").exists()
