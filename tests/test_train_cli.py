"""End-to-end ``racer train`` runs (tiny budgets) and the files every run folder holds."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from racer.cli.main import app
from racer.logs.simtrace import SIMTRACE_COLUMNS
from racer.train.algorithms import rollout_steps
from racer.train.config import TrainConfig
from racer.train.policy import load_policy

FIXTURE = Path(__file__).parent / "fixtures" / "deepracer_model"
TINY = [
    "--batch-size", "64", "--episodes-per-update", "2", "--max-episode-steps", "100",
    "--eval-episodes", "1", "--n-envs", "2", "--minutes", "2", "--quiet",
]  # fmt: skip

runner = CliRunner()


def _train(models: Path, *args: str) -> str:
    result = runner.invoke(app, ["train", "--models-dir", str(models), *args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def state_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ~600-step state-vector run shared by the tests that only read it."""
    models = tmp_path_factory.mktemp("models")
    _train(models, "--name", "state", "--sensor", "STATE", "--max-steps", "600", *TINY)
    return models / "state"


def _simtrace_files(run: Path) -> list[Path]:
    files = sorted(
        (run / "training-simtrace").glob("*-iteration.csv"), key=lambda p: int(p.name.split("-")[0])
    )
    assert [int(p.name.split("-")[0]) for p in files] == list(range(len(files)))
    return files


def check_run_folder(run: Path) -> None:
    """Every file a run folder must hold, in the formats DeepRacer's tools read."""
    config = TrainConfig.load(run / "config.yaml")
    meta = json.loads((run / "model_metadata.json").read_text())
    assert set(meta) >= {
        "action_space",
        "action_space_type",
        "training_algorithm",
        "sensor",
        "neural_network",
        "version",
    }
    assert meta["version"] == "5"
    assert meta["action_space"] == config.action_space.to_metadata()
    assert meta["sensor"] == list(config.sensors)
    assert (run / "reward_function.py").read_text().count("def reward_function") >= 1
    for name in ("model.zip", "best_model.zip", "best.json", "state.json", "logs/progress.csv"):
        assert (run / name).is_file(), name
    best = json.loads((run / "best.json").read_text())
    assert set(best) >= {"step", "completion_rate", "mean_lap_time"}
    state = json.loads((run / "state.json").read_text())
    files = _simtrace_files(run)
    assert len(files) == state["iterations"] >= 1
    episodes_seen: set[int] = set()
    for path in files:
        with path.open(newline="") as f:
            rows = list(csv.reader(f))
        assert tuple(rows[0]) == SIMTRACE_COLUMNS
        for row in rows[1:]:
            episode = int(row[0])
            if episode not in episodes_seen:  # an episode's first row is its prepare row
                assert row[SIMTRACE_COLUMNS.index("episode_status")] == "prepare", row
                assert row[1] == "1"
                episodes_seen.add(episode)
    metrics = json.loads((run / "training_metrics.json").read_text())["metrics"]
    keys = {
        "reward_score",
        "metric_time",
        "start_time",
        "elapsed_time_in_milliseconds",
        "episode",
        "trial",
        "phase",
        "completion_percentage",
        "episode_status",
    }
    assert metrics and all(set(m) == keys for m in metrics)
    assert {m["phase"] for m in metrics} == {"training", "evaluation"}
    training = [m for m in metrics if m["phase"] == "training"]
    assert len(training) == state["episodes"]


def test_state_vector_run_writes_every_file(state_run: Path) -> None:
    check_run_folder(state_run)
    state = json.loads((state_run / "state.json").read_text())
    assert state["steps"] == 600 and state["stopped_by"] == "steps"
    assert json.loads((state_run / "model_metadata.json").read_text())["neural_network"] == "MLP"


def test_camera_run_writes_every_file(tmp_path: Path) -> None:
    _train(
        tmp_path,
        "--name", "cam", "--max-steps", "160", *TINY,
        "--batch-size", "32", "--episodes-per-update", "1", "--epochs", "1", "--n-envs", "1",
    )  # fmt: skip
    run = tmp_path / "cam"
    check_run_folder(run)
    meta = json.loads((run / "model_metadata.json").read_text())
    assert meta["sensor"] == ["FRONT_FACING_CAMERA"]
    assert meta["neural_network"] == "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW"
    per_update = rollout_steps(TrainConfig.load(run / "config.yaml"), 1)
    assert len(_simtrace_files(run)) == math.ceil(160 / per_update)  # one file per iteration


def test_existing_run_is_not_overwritten(state_run: Path) -> None:
    result = runner.invoke(
        app, ["train", "--models-dir", str(state_run.parent), "--name", "state", "--quiet"]
    )
    assert result.exit_code == 1
    assert "--resume" in result.output and "--force" in result.output


def test_load_policy_round_trip(state_run: Path) -> None:
    import gymnasium as gym

    by_name = load_policy("state", models_dir=state_run.parent)
    by_folder = load_policy(state_run, which="latest")
    by_zip = load_policy(state_run / "model.zip")
    assert by_name.path.name == "best_model.zip" and by_folder.path.name == "model.zip"
    assert by_zip.config == TrainConfig.load(state_run / "config.yaml")
    assert by_name.metadata == json.loads((state_run / "model_metadata.json").read_text())
    env = gym.make("racer/TimeTrial-v0", config=by_name.config.env_config(evaluation=True))
    obs, _ = env.reset(seed=0)
    action = by_name.predict(obs)
    assert isinstance(action, int) and 0 <= action < len(by_name.config.action_space)
    assert by_folder.predict(obs) == by_zip.predict(obs)
    env.step(action)


@pytest.mark.parametrize(
    "args",
    [
        ["--sensor", "STATE", "--algorithm", "sac", "--action-space", "continuous:-30,30x0.5,2"],
        [
            "--sensor",
            "CAMERA",
            "--sensor",
            "LIDAR",
            "--batch-size",
            "32",
            "--epochs",
            "1",
            "--episodes-per-update",
            "1",
            "--n-envs",
            "1",
        ],
    ],  # fmt: skip
    ids=["sac-continuous", "camera+lidar"],
)
def test_other_algorithms_and_sensors(tmp_path: Path, args: list[str]) -> None:
    _train(tmp_path, "--name", "x", "--max-steps", "300", *TINY, *args)
    check_run_folder(tmp_path / "x")
    policy = load_policy(tmp_path / "x")
    meta = policy.metadata
    if policy.config.algorithm == "sac":
        assert meta["action_space_type"] == "continuous"
        rows = (tmp_path / "x" / "training-simtrace" / "0-iteration.csv").read_text().splitlines()
        assert rows[2].split(",")[7].startswith("[")  # continuous action cell: [steer speed]
    else:
        assert meta["lidar_config"]["num_sectors"] == 64
