"""``racer tune`` settings: --param parsing and checks, objectives, sweep config (no training)."""

from __future__ import annotations

from pathlib import Path

import pytest

from racer.sim.actions import DiscreteActionSpace
from racer.train.config import TrainConfig
from racer.train.evaluation import EvalEpisode, EvalSummary
from racer.tune.config import EVALS_PER_TRIAL, TuneConfig
from racer.tune.distributions import ParamSpec
from racer.tune.objectives import OBJECTIVES, laps
from racer.tune.params import TuneError, parse_param, parse_params, trial_settings

BASE = TrainConfig(sensors=("STATE",))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("lr=loguniform:1e-5:1e-3", ParamSpec("lr", "loguniform", 1e-5, 1e-3)),
        ("beta_entropy=uniform:0:0.05", ParamSpec("beta_entropy", "uniform", 0.0, 0.05)),
        ("num_epochs=int:1:10", ParamSpec("num_epochs", "int", 1, 10)),
        ("num_episodes_between_training=int:5:40:5",
         ParamSpec("num_episodes_between_training", "int", 5, 40, step=5)),
        ("batch_size=choice:64,128,256", ParamSpec("batch_size", "choice", choices=(64, 128, 256))),
        ("discount_factor=choice:0.9,0.99,1", ParamSpec("discount_factor", "choice",
                                                        choices=(0.9, 0.99, 1.0))),
        ("loss_type=choice:huber,mean squared error",
         ParamSpec("loss_type", "choice", choices=("huber", "mean squared error"))),
        ("round_robin=choice:true,false",
         ParamSpec("round_robin", "choice", choices=(True, False))),
        ("discount_factor=int:0:1", ParamSpec("discount_factor", "int", 0, 1)),
    ],
)  # fmt: skip
def test_params_parse_into_specs(text: str, expected: ParamSpec) -> None:
    spec = parse_param(text)
    assert spec == expected
    assert parse_param(spec.describe()) == spec  # the description reads back
    parse_params([text], BASE)  # every value is valid


def test_choice_values_keep_their_types() -> None:
    (spec,) = parse_params(["num_epochs=choice:1,2,3"], BASE)
    assert all(type(c) is int for c in spec.choices)
    (spec,) = parse_params(["lr=choice:1e-4,3e-4"], BASE)
    assert spec.choices == (1e-4, 3e-4)


def test_action_spaces_are_choices_in_the_grid_syntax() -> None:
    text = "action_space=choice:grid:-30,0,30x1,2|grid:-30,-15,0,15,30x1,2,3"
    (spec,) = parse_params([text], BASE)
    assert spec.choices == ("grid:-30,0,30x1,2", "grid:-30,-15,0,15,30x1,2,3")
    assert parse_param(spec.describe()) == spec
    settings = trial_settings((spec,), {"action_space": spec.choices[1]})
    space = settings["action_space"]
    assert isinstance(space, DiscreteActionSpace) and len(space) == 15
    assert len(BASE.merged(**settings).action_space) == 15  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lrr=loguniform:1e-5:1e-3", "did you mean 'lr'"),
        ("bach_size=choice:32,64", "did you mean 'batch_size'"),
        ("seed=int:0:5", "--seeds"),
        ("sensors=choice:STATE,LIDAR", "not a single value"),
        ("lr=logunifrom:1e-5:1e-3", "did you mean 'loguniform'"),
        ("lr", "expected NAME=DIST:ARGS"),
        ("lr=loguniform", "expected NAME=DIST:ARGS"),
        ("lr=loguniform:1e-3", "expected LOW:HIGH"),
        ("lr=loguniform:0:1e-3", "LOW > 0"),
        ("lr=uniform:1e-3:1e-4", "LOW must be below HIGH"),
        ("lr=loguniform:1e-5:0.5", "lr must be within"),
        ("batch_size=uniform:32:256", "whole numbers; use int:LOW:HIGH"),
        ("batch_size=int:32:256", "batch_size=33: batch_size must be 32-1024 (a power of 2)"),
        ("batch_size=choice:64,100", "batch_size=100"),
        ("num_epochs=choice:1,2.5", "'2.5' is not one of the whole numbers"),
        ("num_epochs=int:1:10:0", "STEP must be at least 1"),
        ("lr=choice:1e-4", "at least two values"),
        ("lr=choice:1e-4,fast", "'fast' is not one of the numbers"),
        ("loss_type=choice:huber,hubber", "loss_type must be one of"),
        ("network=choice:MLP,RESNET", "unknown network"),
        ("round_robin=choice:true,maybe", "'maybe' is not true or false"),
        ("reward=choice:progress_speed,no_such_reward", "no_such_reward"),
        ("action_space=choice:grid:-30,30x1|grid:-45,45x1", "steering_angle -45"),
        ("action_space=uniform:0:1", "action_space takes action spaces; use choice:A,B,C"),
    ],
)
def test_bad_params_are_refused_before_training(text: str, message: str) -> None:
    with pytest.raises(TuneError, match="--param") as info:
        parse_params([text], BASE)
    assert message in str(info.value)


def test_a_setting_given_twice_or_none_is_refused() -> None:
    with pytest.raises(TuneError, match="more than once"):
        parse_params(["lr=loguniform:1e-5:1e-3", "lr=uniform:1e-5:1e-3"], BASE)
    with pytest.raises(TuneError, match="at least one --param"):
        parse_params([], BASE)


def test_specs_draw_their_values_from_an_optuna_trial() -> None:
    import optuna

    specs = parse_params(["lr=loguniform:1e-5:1e-3", "batch_size=choice:64,128",
                          "num_epochs=int:1:10"], BASE)  # fmt: skip
    trial = optuna.trial.FixedTrial({"lr": 2e-4, "batch_size": 128, "num_epochs": 4})
    drawn = {s.name: s.suggest(trial) for s in specs}
    assert drawn == {"lr": 2e-4, "batch_size": 128, "num_epochs": 4}


def _summary(*laps_: tuple[float, float | None]) -> EvalSummary:
    episodes = tuple(
        EvalEpisode(progress=p, status="x", lap_time=t, reward=1.0, steps=1, info={})
        for p, t in laps_
    )
    return EvalSummary(step=0, episodes=episodes)


def test_laps_objective_ranks_completion_then_lap_time() -> None:
    none = laps(_summary((45.0, None), (45.0, None)), Path())
    assert none == pytest.approx(-55.0)
    all_fast = laps(_summary((100.0, 12.0), (100.0, 12.0)), Path())
    all_slow = laps(_summary((100.0, 30.0), (100.0, 30.0)), Path())
    one_in_ten = laps(_summary((100.0, 99.0), *[(99.0, None)] * 9), Path())
    assert all_fast == pytest.approx(988.0)
    assert all_fast > all_slow > one_in_ten > laps(_summary((99.9, None)), Path())
    assert OBJECTIVES["progress"].value(_summary((40.0, None), (60.0, None)), Path()) == 50.0


def test_reward_objective_reads_the_recent_training_episodes(tmp_path: Path) -> None:
    import json

    entries = [{"phase": "training", "reward_score": r} for r in range(30)]
    entries.append({"phase": "evaluation", "reward_score": 1000})
    (tmp_path / "training_metrics.json").write_text(json.dumps({"metrics": entries}))
    value = OBJECTIVES["reward"].value(_summary((10.0, None)), tmp_path)
    assert value == pytest.approx(sum(range(10, 30)) / 20)
    assert OBJECTIVES["reward"].value(_summary((10.0, None)), tmp_path / "none") == 1.0


def test_tune_config_defaults_and_trial_runs(tmp_path: Path) -> None:
    specs = parse_params(["lr=loguniform:1e-5:1e-3"], BASE)
    tune = TuneConfig(name="s1", base=BASE, params=specs, minutes_per_trial=2.0, seeds=(3, 4))
    assert tune.out_dir == Path("tune/s1")
    assert tune.storage_url == f"sqlite:///{Path('tune/s1/study.db').resolve()}"
    run = tune.trial_config({"lr": 1e-4}, 7, 4)
    assert (run.name, run.seed, run.lr, run.minutes) == ("7-seed4", 4, 1e-4, 2.0)
    assert run.eval_every_minutes == pytest.approx(2.0 / EVALS_PER_TRIAL)
    assert run.sensors == ("STATE",)
    assert tune.best_config({"lr": 1e-4}).name == "s1-best"
    custom = TuneConfig(name="s2", base=BASE, params=specs, out_dir=tmp_path, storage="sqlite://")
    assert custom.trials_dir == tmp_path / "trials" and custom.storage == "sqlite://"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"objective": "lap"}, "did you mean 'laps'"),
        ({"name": "a/b"}, "study name"),
        ({"trials": 0}, "trials must be at least 1"),
        ({"minutes_per_trial": 0}, "minutes per trial must be positive"),
        ({"seeds": (1, 1)}, "a seed is given twice"),
        ({"params": ()}, "at least one --param"),
    ],
)
def test_tune_config_refuses_bad_settings(changes: dict[str, object], message: str) -> None:
    settings: dict[str, object] = {
        "name": "s",
        "base": BASE,
        "params": parse_params(["lr=uniform:1e-5:1e-3"], BASE),
    }
    settings.update(changes)
    with pytest.raises(TuneError, match=message):
        TuneConfig(**settings)  # type: ignore[arg-type]
