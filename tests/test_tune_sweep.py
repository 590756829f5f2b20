"""``racer tune`` end to end: a small local sweep, resuming, pruning, Ctrl-C and the CLI."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

import optuna
import pytest
import yaml
from typer.testing import CliRunner

from racer.cli.main import app
from racer.train.config import TrainConfig
from racer.train.trainer import TrainResult
from racer.tune import executors, objective
from racer.tune.config import TuneConfig
from racer.tune.executors import create_study, tune_study
from racer.tune.params import TuneError, parse_params
from tests.train_support import SMALL

runner = CliRunner()
BASE = TrainConfig(name="base", max_steps=200, **SMALL)


def _sweep(tmp_path: Path, trials: int, *params: str, **kw: Any) -> TuneConfig:
    base = kw.pop("base", BASE)
    return TuneConfig(
        name="sweep",
        base=base,
        params=parse_params(list(params) or ["lr=loguniform:1e-4:1e-3"], base),
        trials=trials,
        minutes_per_trial=kw.pop("minutes_per_trial", 1.0),
        out_dir=tmp_path / "sweep",
        **kw,
    )


def test_a_small_sweep_writes_its_results_and_resumes(tmp_path: Path) -> None:
    params = ("lr=loguniform:1e-4:1e-3", "num_epochs=choice:1,2")
    first = tune_study(_sweep(tmp_path, 2, *params, pruning=False))
    assert (first.new_trials, first.finished, first.interrupted) == (2, 2, False)
    out = tmp_path / "sweep"
    assert (out / "study.db").is_file()

    again = tune_study(_sweep(tmp_path, 3, *params, pruning=False))  # the same study, one more
    assert (again.new_trials, again.finished) == (1, 3)
    rows = again.outputs.rows
    assert [r.number for r in rows if r.state == "complete"] != []
    assert sorted(r.number for r in rows) == [0, 1, 2] and rows[0].rank == 1
    values = [r.value for r in rows]
    assert values == sorted(values, reverse=True)  # type: ignore[type-var]

    best = again.outputs.best
    assert best is not None and best.number == rows[0].number
    for row in rows:  # every trial run is an ordinary run folder
        (run_dir,) = row.run_dirs
        assert Path(run_dir) == out / "trials" / f"{row.number}-seed0"
        assert (Path(run_dir) / "best.json").is_file() and (Path(run_dir) / "model.zip").is_file()
        assert row.steps == 200 and row.completion_rate is not None

    config = TrainConfig.load(out / "best.yaml")  # ready for racer train --config
    assert config.name == "sweep-best" and config.max_steps == 200
    assert config.lr == pytest.approx(best.params["lr"])
    assert config.num_epochs == best.params["num_epochs"]
    assert config.sensors == ("STATE",) and config.minutes == BASE.minutes

    with (out / "trials.csv").open() as f:
        table = list(csv.DictReader(f))
    assert [int(r["trial"]) for r in table] == [r.number for r in rows]
    assert {"laps", "lr", "num_epochs", "completion_rate", "run_dirs"} <= set(table[0])
    for png in ("history.png", "importance.png"):
        assert (out / png).stat().st_size > 20_000


def test_a_resumed_study_must_keep_its_settings(tmp_path: Path) -> None:
    create_study(_sweep(tmp_path, 2, storage=f"sqlite:///{tmp_path / 'db.sqlite'}"))
    other = _sweep(tmp_path, 2, "lr=loguniform:1e-5:1e-3",
                   storage=f"sqlite:///{tmp_path / 'db.sqlite'}")  # fmt: skip
    with pytest.raises(TuneError, match=r"other settings \(params\)"):
        create_study(other)


class _AlwaysPrune(optuna.pruners.BasePruner):
    def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        return True


def test_the_pruner_stops_a_trial_during_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(executors, "make_pruner", lambda tune: _AlwaysPrune())
    base = TrainConfig(name="base", max_steps=None, **SMALL)
    # 12 s per trial, an evaluation every 3 s: the first one prunes the trial
    result = tune_study(_sweep(tmp_path, 1, base=base, minutes_per_trial=0.2))
    (row,) = result.outputs.rows
    assert row.state == "pruned" and result.finished == 1
    state = json.loads((Path(row.run_dirs[0]) / "state.json").read_text())
    assert state["stopped_by"] == "early" and state["elapsed_s"] < 10
    assert result.outputs.best is None and result.outputs.best_config is None
    assert any("best.yaml" in n for n in result.outputs.notes)
    assert (tmp_path / "sweep" / "history.png").is_file()


def _fake_trial(trial: optuna.Trial, tune: TuneConfig) -> float:
    lr = trial.suggest_float("lr", 1e-4, 1e-3, log=True)
    if trial.number == 2:
        raise KeyboardInterrupt  # Ctrl-C in the third trial
    return 1000 * lr


def test_ctrl_c_stops_cleanly_and_the_rerun_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(executors, "run_trial", _fake_trial)
    first = tune_study(_sweep(tmp_path, 4))
    assert first.interrupted and first.finished == 2
    assert [r.state for r in first.outputs.rows][-1] == "fail"
    assert (tmp_path / "sweep" / "best.yaml").is_file()
    second = tune_study(_sweep(tmp_path, 4))
    assert not second.interrupted and (second.new_trials, second.finished) == (2, 4)
    drawn = [r.params["lr"] for r in second.outputs.rows]
    assert len(set(drawn)) == len(drawn)  # the resumed sampler draws new values


def test_a_stopped_run_interrupts_the_trial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def stopped(config: TrainConfig, models_dir: Path, **kw: Any) -> TrainResult:
        return TrainResult(models_dir / config.name, Path(), None, 10, 0, 0, 1.0, 10.0,
                           "signal", 0.0, 0.0)  # fmt: skip

    monkeypatch.setattr(objective, "train", stopped)
    result = tune_study(_sweep(tmp_path, 2))
    assert result.interrupted and result.finished == 0
    assert [r.state for r in result.outputs.rows] == ["fail"]


def test_racer_tune_runs_a_sweep_from_a_config_file(tmp_path: Path) -> None:
    config = tmp_path / "base.yaml"
    config.write_text(yaml.safe_dump({**SMALL, "sensors": ["STATE"], "max_steps": 200}))
    out = tmp_path / "cli"
    args = ["tune", "--config", str(config), "--param", "lr=loguniform:1e-4:1e-3",
            "--param", "beta_entropy=uniform:0:0.02", "--trials", "1", "--minutes-per-trial",
            "1", "--out", str(out), "--no-pruning", "--max-steps", "150", "--quiet"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "rank" in result.output and "complete" in result.output
    assert "racer train --config" in result.output and "best.yaml" in result.output
    assert "2 complete trials" in result.output  # importance needs two: said so
    best = TrainConfig.load(out / "best.yaml")
    assert best.name == "base-best" and best.max_steps == 150  # the option overrides the file
    state = json.loads((out / "trials" / "0-seed0" / "state.json").read_text())
    assert state["steps"] == 150


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--param", "lrr=loguniform:1e-4:1e-3"], "did you mean 'lr'"),
        ([], "at least one --param"),
        (["--param", "lr=uniform:1e-4:1e-3", "--seeds", "0,x"], "--seeds"),
        (["--param", "lr=uniform:1e-4:1e-3", "--objective", "time"], "unknown objective"),
        (["--param", "lr=uniform:1e-4:1e-3", "--workers", "2"], "need --ray"),
    ],
)
def test_racer_tune_refuses_bad_options(tmp_path: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["tune", "--out", str(tmp_path / "x"), *args])
    assert result.exit_code != 0 and message in result.output, result.output
    assert not (tmp_path / "x" / "trials").exists()  # nothing trained


def test_racer_tune_ray_without_the_backend_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "racer.tune.ray_backend", None)  # import fails
    args = ["tune", "--param", "lr=uniform:1e-4:1e-3", "--sensor", "STATE",
            "--out", str(tmp_path / "r"), "--ray", "auto"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "ray executor is not available" in result.output and "scaling.md" in result.output
