"""Resolving a run's settings: config file and options, action-space forms, DeepRacer mapping."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

from racer.cli.main import app
from racer.sim.actions import ActionSpaceError, ContinuousActionSpace, DiscreteActionSpace
from racer.train.config import ConfigError, TrainConfig
from racer.train.deepracer_import import import_deepracer
from racer.train.metadata import config_fields, metadata_from_config
from racer.train.options import parse_action_space_option, resolve_run

FIXTURE = Path(__file__).parent / "fixtures" / "deepracer_model"
runner = CliRunner()


def test_options_override_the_config_file(tmp_path: Path) -> None:
    file = tmp_path / "run.yaml"
    file.write_text("name: from-file\ntrack: reinvent_base\nbatch_size: 128\nlr: 0.001\n")
    run = resolve_run({"lr": 0.0005, "sensors": ("STATE",), "track": None}, config_file=file)
    c = run.config
    assert (c.name, c.batch_size, c.lr, c.sensors) == ("from-file", 128, 0.0005, ("STATE",))
    assert c.num_epochs == TrainConfig().num_epochs  # untouched default


def test_unknown_config_key_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    file = tmp_path / "run.yaml"
    file.write_text("batchsize: 64\n")
    result = runner.invoke(app, ["train", "--config", str(file), "--models-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "batchsize" in result.output and "batch_size" in result.output
    assert not (tmp_path / "my-model").exists()


def test_bad_option_values_are_one_line_errors(tmp_path: Path) -> None:
    for args in (
        ["--batch-size", "48"],
        ["--sensor", "CAMRA"],
        ["--action-space", "grid:x"],
        ["--image-pooling", "3"],
    ):
        result = runner.invoke(app, ["train", "--models-dir", str(tmp_path), *args])
        assert result.exit_code == 1, args
        assert result.output.startswith("error:"), result.output


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("grid:-30,0,30x1,2", DiscreteActionSpace.grid([-30, 0, 30], [1, 2])),
        ("continuous:-20,20x0.5,3", ContinuousActionSpace(-20, 20, 0.5, 3)),
        (
            '[{"steering_angle": -10, "speed": 1}, {"steering_angle": 10, "speed": 1}]',
            DiscreteActionSpace.grid([-10, 10], [1]),
        ),
        ("{type: discrete, steering: [-5, 5], speed: [2]}", DiscreteActionSpace.grid([-5, 5], [2])),
        ("grip-matched", DiscreteActionSpace.grip_matched()),
        ("DeepRacer-Default", DiscreteActionSpace.default()),
    ],
)
def test_action_space_option_forms(text: str, expected: object) -> None:
    assert parse_action_space_option(text) == expected


def test_unknown_action_space_name_suggests_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ActionSpaceError, match="did you mean 'grip-matched'"):
        parse_action_space_option("grip")
    file = tmp_path / "run.yaml"
    file.write_text("action_space: deepracer-default\n")
    assert TrainConfig.load(file).action_space == DiscreteActionSpace.default()
    file.write_text("action_space: fastest\n")
    result = runner.invoke(app, ["train", "--config", str(file), "--models-dir", str(tmp_path)])
    assert result.exit_code == 1 and "grip-matched, deepracer-default" in result.output


def test_action_space_option_reads_model_metadata() -> None:
    space = parse_action_space_option(str(FIXTURE / "model_metadata.json"))
    assert isinstance(space, DiscreteActionSpace) and len(space) == 6
    with pytest.raises(ActionSpaceError):
        parse_action_space_option("grid:-30,30x9")  # speed out of range


def test_metadata_round_trip() -> None:
    c = TrainConfig(
        action_space=ContinuousActionSpace(), algorithm="sac", sensors=("CAMERA", "LIDAR")
    )
    meta = metadata_from_config(c)
    assert meta["action_space_type"] == "continuous" and meta["training_algorithm"] == "sac"
    assert meta["lidar_config"]["num_sectors"] == 64
    fields = config_fields(json.loads(json.dumps(meta)))
    assert fields["action_space"] == c.action_space
    assert fields["sensors"] == ("FRONT_FACING_CAMERA", "LIDAR")


def test_deepracer_import_honours_and_reports(tmp_path: Path) -> None:
    folder = tmp_path / "dr"
    shutil.copytree(FIXTURE, folder)
    hp = json.loads((folder / "hyperparameters.json").read_text())
    (folder / "hyperparameters.json").write_text(json.dumps(dict(hp, shiny_new_key=1)))
    imported = import_deepracer(folder, minutes=3)
    c = imported.config
    assert (c.batch_size, c.num_epochs, c.discount_factor, c.loss_type) == (64, 3, 0.999, "huber")
    assert c.num_episodes_between_training == 5 and c.minutes == 3 and c.name == "dr"
    assert len(c.action_space) == 6 and c.sensors == ("FRONT_FACING_CAMERA",)
    assert Path(c.reward) == (folder / "reward_function.py").resolve()
    notes = "\n".join(imported.notes)
    for key in ("e_greedy_value", "stack_size", "term_cond_max_episodes", "shiny_new_key", "huber"):
        assert key in notes


def test_deepracer_import_notes_the_cost_of_deepracers_epochs(tmp_path: Path) -> None:
    folder = tmp_path / "dr"
    shutil.copytree(FIXTURE, folder)
    hp = json.loads((folder / "hyperparameters.json").read_text())
    (folder / "hyperparameters.json").write_text(json.dumps(dict(hp, num_epochs=10)))
    imported = import_deepracer(folder)
    default = TrainConfig().num_epochs
    assert imported.config.num_epochs == 10
    assert f"{10 / default:.1f}x racer's default of {default}" in "\n".join(imported.notes)


def test_deepracer_import_needs_metadata(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="model_metadata.json"):
        import_deepracer(tmp_path)


def test_rollout_steps_fill_whole_minibatches() -> None:
    from racer.train.algorithms import expected_episode_steps, rollout_steps

    for n_envs in (1, 2, 3, 8):
        for batch in (32, 64, 512):
            c = TrainConfig(batch_size=batch, num_episodes_between_training=7, n_envs=n_envs)
            n = rollout_steps(c, n_envs)
            assert (n * n_envs) % batch == 0
            assert n * n_envs >= 7 * expected_episode_steps(c)


def test_huber_is_warned_about() -> None:
    import gymnasium as gym
    from stable_baselines3.common.vec_env import DummyVecEnv

    from racer.train.algorithms import build_model

    c = TrainConfig(sensors=("STATE",), loss_type="huber", n_envs=1, batch_size=32)
    env = DummyVecEnv([lambda: gym.make("racer/TimeTrial-v0", config=c.env_config())])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = build_model(c, env)
    assert any("huber" in str(w.message) for w in caught)
    assert model.n_epochs == c.num_epochs and model.gamma == c.discount_factor  # type: ignore[attr-defined]
    assert model.clip_range(1.0) == 0.2 and model.gae_lambda == 0.95  # type: ignore[attr-defined]
    env.close()
