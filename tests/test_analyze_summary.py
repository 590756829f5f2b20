"""Summary numbers of `racer analyze` against hand-computed values, and track choice."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from racer.analyze import episodes, read_source, summarise
from racer.analyze.trackguess import choose_track
from racer.sim.trackio import TrackError

HEADER = (
    "episode,steps,X,Y,yaw,steer,throttle,action,reward,done,all_wheels_on_track,progress,"
    "closest_waypoint,track_len,tstamp,episode_status,pause_duration"
)
# (episode, steps, reward, done, on_track, progress, tstamp, status)
ITERATION_0 = [
    (0, 1, 0.0, False, True, 0.0, 0.0, "prepare"),
    (0, 2, 1.0, False, True, 50.0, 0.5, "in_progress"),
    (0, 3, 2.0, True, True, 100.0, 10.0, "lap_complete"),  # lap 10.0 s, reward 3
    (1, 1, 0.0, False, True, 0.0, 20.0, "prepare"),
    (1, 2, 0.5, True, False, 20.0, 20.5, "off_track"),  # reward 0.5
]
ITERATION_1 = [
    (2, 1, 0.0, False, True, 0.0, 100.0, "prepare"),
    (2, 2, 1.0, False, True, 40.0, 104.0, "in_progress"),
    (2, 3, 1.0, True, True, 100.0, 108.0, "lap_complete"),  # lap 8.0 s, reward 2
    (3, 1, 0.0, False, True, 0.0, 120.0, "prepare"),  # cut off by the end of the log
    (3, 2, 1.0, False, True, 5.0, 120.5, "in_progress"),
]


def _write(path: Path, rows: list[tuple[object, ...]], track_len: float = 17.709) -> None:
    lines = [HEADER]
    for ep, step, reward, done, on, progress, t, status in rows:
        lines.append(
            f"{ep},{step},1.0,2.0,0.0,0.0,1.0,3,{reward},{done},{on},{progress},5,"
            f"{track_len},{t},{status},0.0"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def tiny_run(tmp_path: Path) -> Path:
    run = tmp_path / "tiny"
    _write(run / "training-simtrace" / "0-iteration.csv", ITERATION_0)
    _write(run / "training-simtrace" / "1-iteration.csv", ITERATION_1)
    return run


def test_summary_matches_hand_computed_values(tiny_run: Path) -> None:
    table = episodes(read_source(tiny_run).steps)
    assert table.unfinished == 1
    assert table.reward.tolist() == [3.0, 0.5, 2.0]
    assert table.steps.tolist() == [3, 2, 3]
    (s,) = summarise(table)
    assert (s.phase, s.episodes, s.unfinished, s.iterations) == ("training", 3, 1, 2)
    assert s.completion_rate == pytest.approx(2 / 3)
    assert s.mean_progress == pytest.approx(220 / 3)
    assert s.mean_reward == pytest.approx(5.5 / 3)
    assert (s.laps, s.best_lap, s.mean_lap, s.median_lap) == (2, 8.0, 9.0, 9.0)
    assert s.offtrack_rate == pytest.approx(1 / 3)
    assert s.steps_per_episode == pytest.approx(8 / 3)
    it0, it1 = s.per_iteration
    assert (it0.iteration, it0.episodes, it0.reward_mean, it0.reward_std) == (0, 2, 1.75, 1.25)
    assert (it0.progress_mean, it0.progress_std, it0.completion_rate) == (60.0, 40.0, 0.5)
    assert (it1.iteration, it1.episodes, it1.reward_mean, it1.reward_std) == (1, 1, 2.0, 0.0)
    assert it1.completion_rate == 1.0


def test_no_laps_gives_nan_lap_times(tmp_path: Path) -> None:
    path = tmp_path / "0-iteration.csv"
    _write(path, ITERATION_0[3:])
    (s,) = summarise(episodes(read_source(path).steps))
    assert s.laps == 0 and math.isnan(s.best_lap) and math.isnan(s.median_lap)
    assert s.offtrack_rate == 1.0


def test_track_from_length_config_and_option(tiny_run: Path, tmp_path: Path) -> None:
    guessed = choose_track(read_source(tiny_run))
    assert guessed.name == "reinvent_base" and "guessed from track_len 17.709" in guessed.how
    (tiny_run / "config.yaml").write_text("track: Oval_track\n")
    configured = choose_track(read_source(tiny_run))
    assert configured.name == "Oval_track" and "config.yaml" in configured.how
    given = choose_track(read_source(tiny_run), "Bowtie_track")
    assert given.name == "Bowtie_track" and "--track" in given.how
    with pytest.raises(TrackError):
        choose_track(read_source(tiny_run), "no_such_track")
    odd = tmp_path / "odd.csv"
    _write(odd, ITERATION_0, track_len=99.0)
    unknown = choose_track(read_source(odd))
    assert unknown.track is None and "no built-in track is 99.00 m long" in unknown.how


def test_an_episode_running_on_into_the_next_iteration_file_is_one_episode(tmp_path: Path) -> None:
    run = tmp_path / "split"
    # racer's trainer cuts its logs at policy updates, not at episode ends.
    _write(run / "training-simtrace" / "0-iteration.csv", [
        (7, 1, 0.0, False, True, 0.0, 0.0, "prepare"),
        (7, 2, 1.0, False, True, 30.0, 3.0, "in_progress"),
    ])  # fmt: skip
    _write(run / "training-simtrace" / "1-iteration.csv", [
        (7, 3, 1.0, True, True, 100.0, 9.0, "lap_complete"),
        (8, 1, 0.0, False, True, 0.0, 0.0, "prepare"),
        (8, 2, 0.5, True, False, 10.0, 1.0, "off_track"),
    ])  # fmt: skip
    # The same episode number in a file further away is another episode (several workers).
    _write(run / "training-simtrace" / "3-iteration.csv", [
        (7, 1, 0.0, False, True, 0.0, 0.0, "prepare"),
        (7, 2, 1.0, True, False, 5.0, 0.5, "off_track"),
    ])  # fmt: skip
    table = episodes(read_source(run).steps)
    assert list(table.episode) == [7, 8, 7]
    assert table.lap_time[0] == pytest.approx(9.0)
    assert table.reward[0] == pytest.approx(2.0) and table.steps[0] == 3
    assert list(table.status) == ["lap_complete", "off_track", "off_track"]
