"""racer.evaluate: DeepRacer's evaluation rules applied to scripted policies, and its files."""

from __future__ import annotations

import json

import cv2
import pytest

from racer.evaluate import (
    ConstantPolicy,
    EvalConfig,
    EvalConfigError,
    PursuitPolicy,
    RandomPolicy,
    eval_config_for_model,
    eval_env_config,
    evaluate,
)
from racer.evaluate.video import HOLD_FRAMES
from racer.logs.simtrace import SIMTRACE_COLUMNS, read_simtrace
from racer.sim.actions import ContinuousActionSpace
from racer.sim.race import BotConfig, ObstacleConfig, RaceError
from racer.train.config import TrainConfig

# The state sensor keeps these tests fast; the video test renders the camera anyway.
STATE_MODEL = TrainConfig(sensors=("STATE",))


@pytest.fixture(scope="module")
def pursuit_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("pursuit")
    report = evaluate(
        PursuitPolicy(), EvalConfig(trials=3), out, model_config=STATE_MODEL, model_name="pp"
    )
    return report, out


def test_pursuit_completes_every_trial_with_plausible_lap_times(pursuit_run):
    report, out = pursuit_run
    assert report.completed == 3 and report.completion_rate == 1.0
    for t in report.trials:
        assert t.status == "lap_complete" and t.completed
        assert 5.0 < t.lap_time < 30.0  # re:Invent 2018 is 17.7 m; the action space tops at 2 m/s
        assert t.lap_splits == (t.lap_time,)
        assert t.progress == 100.0 and t.off_track_count == 0 and t.penalty_time == 0.0
    assert report.best_lap_time == min(t.lap_time for t in report.trials)
    assert {p.name for p in out.iterdir()} >= {"evaluation-simtrace", "metrics.json", "laps.png"}
    assert (out / "laps.png").stat().st_size > 50_000


def test_metrics_json_has_deepracers_shape(pursuit_run):
    report, out = pursuit_run
    doc = json.loads((out / "metrics.json").read_text())
    entries = doc["metrics"]
    assert [m["trial"] for m in entries] == [1, 2, 3]
    for m in entries:
        assert m["phase"] == "evaluation"
        assert m["episode_status"] == "Lap complete"
        assert m["completion_percentage"] == 100
        assert m["metric_time"] == m["start_time"] + m["elapsed_time_in_milliseconds"]
        assert abs(m["lap_time"] - m["elapsed_time_in_milliseconds"]) <= 1
        assert {"reward_score", "off_track_count", "crash_count", "reset_count"} <= set(m)
    # Trials follow one another on the simulated clock.
    assert entries[1]["start_time"] == entries[0]["metric_time"]
    summary = doc["summary"]
    assert summary["completed"] == 3 and summary["completion_rate"] == 1.0
    assert summary["run_id"] == "reinvent_base-time_trial-seed0"
    assert summary["files"]["simtrace"] == "evaluation-simtrace/0-iteration.csv"


def test_simtrace_has_deepracers_columns_and_a_prepare_row_per_trial(pursuit_run):
    report, out = pursuit_run
    path = out / "evaluation-simtrace" / "0-iteration.csv"
    assert path.read_text().splitlines()[0].split(",") == list(SIMTRACE_COLUMNS)
    rows = read_simtrace(path)
    for k, trial in enumerate(report.trials):
        mine = [r for r in rows if r["episode"] == str(k)]
        assert len(mine) == trial.steps + 1
        assert mine[0]["episode_status"] == "prepare" and mine[0]["steps"] == "1"
        assert mine[0]["done"] == "False" and float(mine[0]["progress"]) == 0.0
        assert [r["episode_status"] for r in mine[1:-1]] == ["in_progress"] * (trial.steps - 1)
        assert mine[-1]["episode_status"] == "lap_complete" and mine[-1]["done"] == "True"
        assert float(mine[-1]["tstamp"]) == pytest.approx(trial.lap_time, abs=1e-3)
    assert sum(r["episode_status"] == "prepare" for r in rows) == 3


def test_always_full_left_pays_penalties_and_stops_at_the_time_cap(tmp_path):
    config = EvalConfig(trials=2, max_time=30.0, off_track_penalty=3.0)
    report = evaluate(ConstantPolicy(30.0, 4.0), config, tmp_path, model_config=STATE_MODEL)
    assert report.completed == 0 and report.best_lap_time is None
    for t in report.trials:
        assert t.status == "time_up" and t.lap_time is None
        assert t.off_track_count >= 3
        assert t.penalty_time == pytest.approx(3.0 * t.off_track_count)
        assert t.time <= 30.0 and t.steps < 30 * 15
    rows = read_simtrace(tmp_path / "evaluation-simtrace" / "0-iteration.csv")
    paused = [r for r in rows if float(r["pause_duration"]) > 0]
    assert len(paused) == sum(t.off_track_count for t in report.trials)
    # The run goes on after each penalty: only the last row of a trial is done.
    assert [r["done"] for r in rows].count("True") == 2
    assert rows[-1]["episode_status"] == "time_up"
    assert max(float(r["tstamp"]) for r in rows) <= 30.0
    metrics = json.loads((tmp_path / "metrics.json").read_text())["metrics"]
    assert metrics[0]["episode_status"] == "Time up" and metrics[0]["lap_time"] is None


def test_same_seed_gives_identical_files_except_wall_clock(tmp_path):
    config = EvalConfig(
        trials=2,
        race_type="object-avoidance",
        obstacles=ObstacleConfig(count=2, randomize=True),
        max_time=8.0,
        seed=3,
    )
    runs = []
    for name in ("a", "b"):
        evaluate(RandomPolicy(seed=1), config, tmp_path / name, model_config=STATE_MODEL)
        rows = read_simtrace(tmp_path / name / "evaluation-simtrace" / "0-iteration.csv")
        runs.append(([{k: v for k, v in r.items() if k != "wall_clock"} for r in rows], name))
    assert runs[0][0] == runs[1][0]
    assert (tmp_path / "a" / "metrics.json").read_bytes() == (
        tmp_path / "b" / "metrics.json"
    ).read_bytes()


@pytest.mark.parametrize(
    ("race_type", "settings"),
    [
        ("object-avoidance", {"obstacles": ObstacleConfig(count=2)}),
        ("head-to-bot", {"bots": BotConfig(count=2, speed=0.5)}),
    ],
)
def test_races_with_objects_run_to_the_end(tmp_path, race_type, settings):
    config = EvalConfig(trials=1, race_type=race_type, max_time=60.0, **settings)
    report = evaluate(PursuitPolicy(), config, tmp_path, model_config=STATE_MODEL)
    (t,) = report.trials
    assert t.status in ("lap_complete", "time_up")
    # The pure-pursuit driver follows the centre line and ignores the objects.
    assert t.penalty_time == pytest.approx(5.0 * (t.crash_count + t.off_track_count))
    assert len(report.trials[0].trace.objects) == 2
    assert (tmp_path / "laps.png").exists()


def test_generated_reversed_track_and_continuous_actions(tmp_path):
    model = TrainConfig(sensors=("STATE",), action_space=ContinuousActionSpace(-30, 30, 0.5, 2.0))
    config = EvalConfig(track="generated:5", reverse=True, trials=1)
    report = evaluate(PursuitPolicy(), config, tmp_path, model_config=model)
    assert report.trials[0].status == "lap_complete"
    assert config.run_id == "generated-5-reverse-time_trial-seed0"
    rows = read_simtrace(tmp_path / "evaluation-simtrace" / "0-iteration.csv")
    assert rows[5]["action"].startswith("[") and len(rows[5]["action"].split()) == 2


def test_video_is_readable_with_one_frame_per_step(tmp_path):
    config = EvalConfig(trials=1, max_time=4.0)  # 60 steps
    report = evaluate(PursuitPolicy(), config, tmp_path, model_config=STATE_MODEL, video=True)
    cap = cv2.VideoCapture(str(tmp_path / "video.mp4"))
    frames = 0
    ok, first = cap.read()
    while ok:
        frames += 1
        ok, _ = cap.read()
    cap.release()
    assert report.trials[0].status == "time_up"
    assert frames == report.trials[0].steps + 1 + HOLD_FRAMES
    assert first.shape == (720, 1280, 3)
    assert report.files["video"] == tmp_path / "video.mp4"


def test_eval_env_keeps_the_models_sensors_and_actions_but_the_races_rules():
    model = TrainConfig(sensors=("LIDAR",), race_type="head_to_bot", round_robin=True)
    config = eval_config_for_model(model, track="reinvent_base:reverse", boxes=4)
    assert config.race_type == "head_to_bot" and config.obstacles.count == 4
    env = eval_env_config(model, EvalConfig(trials=1, laps=2, off_track_penalty=2.0))
    assert env.sensors == ("LIDAR",) and env.action_space == model.action_space
    rules = env.world.rules
    assert rules.mode == "evaluation" and rules.laps == 2 and rules.off_track_penalty == 2.0
    assert rules.max_steps == 180 * 15
    assert not env.world.start.round_robin and env.world.start.start_fraction == 0.0


def test_invalid_settings_are_refused():
    with pytest.raises(RaceError, match="did you mean"):
        EvalConfig(race_type="time-trail")
    with pytest.raises(RaceError):
        EvalConfig(race_type="head-to-bot", bots=BotConfig(count=9))
    with pytest.raises(EvalConfigError, match="trials"):
        EvalConfig(trials=0)
