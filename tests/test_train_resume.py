"""Stopping, resuming and cloning runs, and training from a DeepRacer model folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from racer.cli.main import app
from racer.rewards.library import example_path
from racer.train.config import ConfigError, TrainConfig
from racer.train.policy import load_policy
from racer.train.trainer import train
from tests.train_support import SMALL as BASE_SMALL

FIXTURE = Path(__file__).parent / "fixtures" / "deepracer_model"
runner = CliRunner()
SMALL = {**BASE_SMALL, "minutes": 2.0}


def _invoke(*args: str) -> str:
    result = runner.invoke(app, ["train", *args])
    assert result.exit_code == 0, result.output
    return result.output


def _state(run: Path) -> dict[str, object]:
    return json.loads((run / "state.json").read_text())


@pytest.fixture()
def base_run(tmp_path: Path) -> Path:
    train(TrainConfig(name="base", max_steps=400, **SMALL), tmp_path)  # type: ignore[arg-type]
    return tmp_path / "base"


def test_resume_continues_the_run(base_run: Path) -> None:
    before = _state(base_run)
    out = _invoke("--resume", str(base_run), "--max-steps", "200", "--quiet")
    after = _state(base_run)
    assert after["steps"] == 600 and after["iterations"] > before["iterations"]  # type: ignore[operator]
    assert after["episodes_started"] > before["episodes_started"]  # type: ignore[operator]
    assert "600 steps" in out
    files = list((base_run / "training-simtrace").glob("*-iteration.csv"))
    assert len(files) == after["iterations"]


def test_resume_refuses_other_settings(base_run: Path) -> None:
    result = runner.invoke(app, ["train", "--resume", str(base_run), "--lr", "0.1"])
    assert result.exit_code == 1 and "--clone" in result.output


def test_clone_starts_from_the_weights_with_a_new_track_and_reward(base_run: Path) -> None:
    from racer.train.algorithms import build_model
    from racer.train.clone import load_clone_weights
    from racer.train.envs import make_vec_env

    models = base_run.parent
    _invoke(
        "--clone", "base", "--name", "child", "--track", "reinvent_base:reverse",
        "--reward", "follow_centerline", "--max-steps", "200", "--models-dir", str(models),
        "--quiet",
    )  # fmt: skip
    child = TrainConfig.load(models / "child" / "config.yaml")
    assert child.clone_from == "base" and child.track == "reinvent_base:reverse"
    assert child.sensors == ("STATE",) and child.batch_size == 64  # inherited
    copied = (models / "child" / "reward_function.py").read_text()
    assert copied == example_path("follow_centerline").read_text()
    # the weights really are the source's
    venv = make_vec_env(child, "follow_centerline")
    fresh = build_model(child, venv)
    load_clone_weights(fresh, "base", models)
    source = load_policy("base", models_dir=models).model.policy.state_dict()
    for key, value in fresh.policy.state_dict().items():
        assert torch.equal(value, source[key]), key
    venv.close()


def test_clone_refuses_another_action_space(base_run: Path) -> None:
    result = runner.invoke(
        app,
        ["train", "--clone", str(base_run), "--name", "bad", "--action-space", "grid:-30,30x1",
         "--models-dir", str(base_run.parent), "--quiet"],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "action space" in result.output
    with pytest.raises(ConfigError, match="sensors"):
        cfg = TrainConfig(name="bad2", clone_from=str(base_run), **dict(SMALL, sensors=("LIDAR",)))  # type: ignore[arg-type]
        train(cfg, base_run.parent)


def test_the_saved_network_decides_the_image_pooling(tmp_path: Path) -> None:
    camera = dict(SMALL, sensors=("FRONT_FACING_CAMERA",), max_steps=40)
    train(TrainConfig(name="pooled", image_pooling=2, **camera), tmp_path)  # type: ignore[arg-type]
    run = tmp_path / "pooled"
    assert TrainConfig.load(run / "config.yaml").image_pooling == 2
    # the weights fit a pooled network whatever a (stale or hand-edited) config says
    config_file = run / "config.yaml"
    config_file.write_text(config_file.read_text().replace("image_pooling: 2", "image_pooling: 1"))
    policy = load_policy(run, which="latest")
    assert policy.config.image_pooling == 2
    _invoke("--clone", str(run), "--name", "child", "--max-steps", "40", "--models-dir",
            str(tmp_path), "--quiet")  # fmt: skip
    assert TrainConfig.load(tmp_path / "child" / "config.yaml").image_pooling == 2


def test_sigint_saves_a_resumable_model(tmp_path: Path) -> None:
    cmd = [
        sys.executable, "-m", "racer.cli.main", "train", "--name", "int", "--sensor", "STATE",
        "--models-dir", str(tmp_path), "--minutes", "5", "--batch-size", "64",
        "--episodes-per-update", "2", "--max-episode-steps", "100", "--n-envs", "2", "--quiet",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    simtrace = tmp_path / "int" / "training-simtrace"
    deadline = time.monotonic() + 60
    while len(list(simtrace.glob("*.csv"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    run = tmp_path / "int"
    state = _state(run)
    assert state["stopped_by"] == "signal" and state["steps"] > 0  # type: ignore[operator]
    policy = load_policy(run, which="latest")
    assert policy.config.name == "int"
    resumed = train(
        policy.config.merged(max_steps=int(state["steps"]) + 100),  # type: ignore[call-overload]
        tmp_path,
        resume=True,
    )
    assert resumed.steps >= int(state["steps"]) + 100  # type: ignore[call-overload]
    assert resumed.stopped_by == "steps"


@pytest.mark.filterwarnings("ignore:loss_type 'huber'")
def test_from_deepracer_folder(tmp_path: Path) -> None:
    out = _invoke(
        "--from-deepracer", str(FIXTURE), "--name", "dr", "--max-steps", "64",
        "--max-episode-steps", "50", "--n-envs", "1", "--eval-episodes", "1",
        "--models-dir", str(tmp_path), "--quiet",
    )  # fmt: skip
    assert "e_greedy_value ignored" in out
    run = tmp_path / "dr"
    config = TrainConfig.load(run / "config.yaml")
    assert (config.batch_size, config.num_epochs, config.loss_type) == (64, 3, "huber")
    meta = json.loads((run / "model_metadata.json").read_text())
    fixture_meta = json.loads((FIXTURE / "model_metadata.json").read_text())
    assert meta["action_space"] == fixture_meta["action_space"]
    assert meta["sensor"] == ["FRONT_FACING_CAMERA"]
    assert (run / "reward_function.py").read_text() == (FIXTURE / "reward_function.py").read_text()
    policy = load_policy(run)
    assert policy.config.action_space == config.action_space


def test_periodic_checkpoints_keep_the_last_few(tmp_path: Path) -> None:
    config = TrainConfig(name="ck", max_steps=800, checkpoint_every_minutes=0.0005, **SMALL)  # type: ignore[arg-type]
    train(config, tmp_path)
    checkpoints = sorted((tmp_path / "ck" / "checkpoints").glob("step_*.zip"))
    assert 1 <= len(checkpoints) <= 3
    policy = load_policy(checkpoints[-1])  # a checkpoint knows its run's settings
    assert policy.config.name == "ck"
