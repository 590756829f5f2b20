"""Randomisation settings in TrainConfig / EvalConfig: YAML, options, which envs get them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from typer.testing import CliRunner

from racer.cli.main import app
from racer.env import RacingEnv
from racer.evaluate.config import EvalConfig, EvalConfigError, randomization_from_settings
from racer.sim.randomize import RandomizationConfig
from racer.train.config import ConfigError, TrainConfig
from racer.train.options import parse_randomize_option, resolve_run

runner = CliRunner()


def test_yaml_round_trip_and_saved_with_the_run(tmp_path: Path) -> None:
    file = tmp_path / "run.yaml"
    file.write_text("randomization:\n  preset: sim2real\n  strength: 0.5\n  latency_steps: 2\n")
    config = TrainConfig.load(file)
    expected = RandomizationConfig.sim2real(0.5)
    assert config.randomization.brightness == expected.brightness
    assert config.randomization.latency_steps == 2
    saved = config.save(tmp_path / "config.yaml")
    assert "randomization:" in saved.read_text() and "latency_steps: 2" in saved.read_text()
    assert TrainConfig.load(saved) == config
    assert TrainConfig.from_dict(config.to_dict()) == config


def test_default_config_is_off_and_old_configs_load(tmp_path: Path) -> None:
    assert not TrainConfig().randomization.enabled
    data = TrainConfig().to_dict()
    del data["randomization"]  # a config.yaml written before randomisation existed
    assert TrainConfig.from_dict(data) == TrainConfig()
    assert TrainConfig.from_dict({"randomization": None}).randomization == RandomizationConfig()
    assert TrainConfig.from_dict({"randomization": "sim2real"}).randomization.enabled


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("randomization:\n  brigthness: 0.1\n", "did you mean 'brightness'"),
        ("randomization:\n  noise: lots\n", "noise must be a float"),
        ("randomization:\n  blur_prob: 2\n", "blur_prob must be within 0-1"),
        ("randomization: [1, 2]\n", "expected a mapping"),
        ("randomisation:\n  noise: 1\n", "did you mean 'randomization'"),
    ],
)
def test_bad_yaml_is_refused_naming_the_key(tmp_path: Path, yaml_text: str, message: str) -> None:
    file = tmp_path / "run.yaml"
    file.write_text(yaml_text)
    with pytest.raises(ConfigError, match=message):
        TrainConfig.load(file)


def test_training_envs_randomise_evaluation_envs_do_not() -> None:
    config = TrainConfig(randomization=RandomizationConfig.sim2real())
    assert config.env_config().randomization == RandomizationConfig.sim2real()
    assert not config.env_config(evaluation=True).randomization.enabled
    from racer.evaluate.config import eval_env_config

    clean = EvalConfig()
    assert not eval_env_config(config, clean).randomization.enabled
    noisy = EvalConfig(randomization=RandomizationConfig(noise=3.0))
    assert eval_env_config(config, noisy).randomization == RandomizationConfig(noise=3.0)
    assert clean.run_id == "reinvent_base-time_trial-seed0"
    assert noisy.run_id == "reinvent_base-time_trial-seed0-randomized"


def test_env_accepts_a_mapping_override() -> None:
    env = RacingEnv(sensors=("STATE",), randomization={"speed_gain": 0.2})
    assert env.config.randomization == RandomizationConfig(speed_gain=0.2)
    env.close()


def test_randomize_option_parsing() -> None:
    assert parse_randomize_option(None) is None
    assert parse_randomize_option(None, sim2real=True) == {"preset": "sim2real"}
    got = parse_randomize_option(["brightness=0.2, noise=4", "latency_steps=1"])
    assert got == {"brightness": "0.2", "noise": "4", "latency_steps": "1"}
    assert parse_randomize_option(["sim2real,strength=0.5"]) == {
        "preset": "sim2real",
        "strength": "0.5",
    }
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_randomize_option(["brightness"])
    with pytest.raises(EvalConfigError, match="did you mean 'noise'"):
        randomization_from_settings({"nosie": "1"})


def test_options_update_the_file_key_by_key(tmp_path: Path) -> None:
    file = tmp_path / "run.yaml"
    file.write_text("randomization:\n  brightness: 0.3\n  noise: 2\n")
    options = {"randomization": parse_randomize_option(["noise=5,speed_gain=0.1"])}
    config = resolve_run(options, config_file=file).config
    assert config.randomization == RandomizationConfig(brightness=0.3, noise=5.0, speed_gain=0.1)
    preset = resolve_run({"randomization": parse_randomize_option(["latency_steps=0"], True)})
    expected = dataclasses.replace(RandomizationConfig.sim2real(), latency_steps=0)
    assert preset.config.randomization == expected
    untouched = resolve_run({"randomization": None}, config_file=file).config
    assert untouched.randomization == RandomizationConfig(brightness=0.3, noise=2.0)


def test_train_cli_refuses_an_unknown_randomize_key(tmp_path: Path) -> None:
    args = ["train", "--models-dir", str(tmp_path), "--randomize", "brigthness=0.1"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    output = " ".join(result.output.split())
    assert output.startswith("error:") and "did you mean 'brightness'" in output
    assert not (tmp_path / "my-model").exists()


def test_train_cli_passes_randomisation_to_the_trainer(monkeypatch, tmp_path: Path) -> None:
    import racer.train.trainer as trainer

    seen: list[TrainConfig] = []

    def fake_train(config: TrainConfig, models_dir: Path, **kwargs: object) -> object:
        seen.append(config)
        raise ConfigError("stop here")  # the CLI prints it and exits 1

    monkeypatch.setattr(trainer, "train", fake_train)
    args = ["train", "--models-dir", str(tmp_path), "--sim2real", "--randomize", "noise=7"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1 and "stop here" in result.output
    assert seen[0].randomization.noise == 7.0
    assert seen[0].randomization.brightness == RandomizationConfig.sim2real().brightness
