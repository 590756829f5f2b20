"""``racer reward check``: scripted laps, statistics, errors with file and line, sanity warnings."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

from racer.rewards.check import check_reward
from racer.rewards.library import (
    UnknownExampleError,
    example_path,
    example_summary,
    list_examples,
)
from racer.rewards.loader import RewardLoadError
from racer.sim.track import Track
from racer.sim.track_registry import get_track

SITUATIONS = {
    "centre",
    "left_border",
    "right_border",
    "weaving",
    "off_track",
    "wrong_way",
    "reversed_track",
    "objects_avoiding",
    "objects_blocked",
    "crashed",
}


@pytest.fixture(scope="module")
def reinvent() -> Track:
    return get_track("reinvent_base")


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "reward.py"
    path.write_text(textwrap.dedent(body).lstrip("\n"))
    return path


def test_good_reward_has_no_errors_and_sensible_stats(reinvent: Track) -> None:
    report = check_reward(example_path("follow_centerline"), reinvent, speed=1.0)
    assert report.ok and report.errors == []
    assert {s.name for s in report.situations} == SITUATIONS
    centre = report.situation("centre")
    # One lap at 1 m/s and 15 Hz.
    assert centre.count == int(reinvent.length / (1.0 / 15.0))
    assert centre.minimum is not None and centre.maximum is not None and centre.mean is not None
    assert centre.minimum <= centre.mean <= centre.maximum
    off = report.situation("off_track")
    assert off.count > 0 and off.maximum == pytest.approx(1e-3)
    assert report.situation("left_border").mean < centre.mean  # type: ignore[operator]
    assert report.situation("crashed").count > 0
    assert not any("off-track" in w for w in report.warnings)


def test_flags_seen_by_the_reward_match_the_situation(tmp_path: Path, reinvent: Track) -> None:
    # Encode the flags into the reward so the statistics show what the function saw.
    path = write(
        tmp_path,
        """
        def reward_function(params):
            r = 0.0
            if params["all_wheels_on_track"]:
                r += 1.0
            if params["is_offtrack"]:
                r += 10.0
            if params["is_reversed"]:
                r += 100.0
            if params["is_crashed"]:
                r += 1000.0
            return r
        """,
    )
    report = check_reward(path, reinvent)
    stats = {s.name: s for s in report.situations}
    assert stats["centre"].minimum == stats["centre"].maximum == 1.0
    assert stats["left_border"].minimum == stats["right_border"].minimum == 1.0
    assert stats["off_track"].minimum == stats["off_track"].maximum == 10.0
    assert stats["reversed_track"].minimum == stats["reversed_track"].maximum == 101.0
    assert stats["crashed"].minimum == 1001.0


def test_buggy_reward_reports_file_and_line(tmp_path: Path, reinvent: Track) -> None:
    path = write(
        tmp_path,
        """
        def reward_function(params):
            if not params["all_wheels_on_track"]:
                return params["distance_from_centre"]  # typo
            return 1.0
        """,
    )
    report = check_reward(path, reinvent)
    assert not report.ok
    names = [name for name, _ in report.errors]
    assert "off_track" in names and "centre" not in names
    off = report.situation("off_track")
    assert off.error is not None and off.error_line == 3
    assert f"{path}:3: KeyError: 'distance_from_centre'" in off.error
    assert off.count == 0


def test_off_track_favouring_reward_warns(tmp_path: Path, reinvent: Track) -> None:
    path = write(
        tmp_path,
        """
        def reward_function(params):
            return params["distance_from_center"]
        """,
    )
    report = check_reward(path, reinvent)
    assert report.ok
    assert any("off-track" in w and "higher than on the centre line" in w for w in report.warnings)


def test_constant_reward_warns(tmp_path: Path, reinvent: Track) -> None:
    report = check_reward(
        write(tmp_path, "def reward_function(params):\n    return 1.0\n"), reinvent
    )
    assert any("constant" in w for w in report.warnings)


def test_wrong_way_favouring_reward_warns(tmp_path: Path, reinvent: Track) -> None:
    path = write(
        tmp_path,
        """
        def reward_function(params):
            return 1.0 if params["progress"] < 0 else 0.5
        """,
    )
    report = check_reward(path, reinvent)
    assert any("wrong way" in w for w in report.warnings)


def test_load_errors_are_raised(tmp_path: Path, reinvent: Track) -> None:
    with pytest.raises(RewardLoadError, match="not found"):
        check_reward(tmp_path / "missing.py", reinvent)


def test_check_runs_on_a_synthetic_track() -> None:
    a = np.linspace(0, 2 * np.pi, 81)[:-1]
    circle = Track.from_centreline("circle", np.c_[3 * np.cos(a), 3 * np.sin(a)], 1.0)
    report = check_reward(example_path("object_avoidance"), circle, speed=2.0)
    assert report.ok and report.track_name == "circle"
    assert report.situation("crashed").maximum == pytest.approx(1e-3)


@pytest.mark.parametrize("name", list_examples())
def test_every_example_loads_and_passes_the_check(name: str, reinvent: Track) -> None:
    assert example_summary(name)
    report = check_reward(example_path(name), reinvent)
    assert report.ok, report.errors
    assert not any("off-track" in w or "constant" in w for w in report.warnings), report.warnings


def test_examples_library() -> None:
    names = list_examples()
    assert {
        "follow_centerline",
        "stay_inside_borders",
        "prevent_zigzag",
        "object_avoidance",
        "progress_speed",
        "progress_speed_race",
    } <= set(names)
    assert example_path("follow_centerline.py") == example_path("follow_centerline")
    with pytest.raises(UnknownExampleError, match="did you mean follow_centerline"):
        example_path("follow_centreline")


def test_progress_speed_resets_its_state_per_episode(reinvent: Track) -> None:
    report = check_reward(example_path("progress_speed"), reinvent, speed=2.0)
    centre, wrong = report.situation("centre"), report.situation("wrong_way")
    assert centre.mean is not None and wrong.mean is not None
    assert centre.mean > 0.25 > wrong.mean


def _lap_totals(reward: str, track: Track) -> list[float]:
    """What a lap on the centre line earns in all at 1, 2, 3 and 4 m/s."""
    totals = []
    for speed in (1.0, 2.0, 3.0, 4.0):
        centre = check_reward(example_path(reward), track, speed=speed).situation("centre")
        assert centre.mean is not None
        # The mean per step times the steps the lap takes.
        totals.append(centre.mean * track.length / (speed / 15.0))
    return totals


@pytest.mark.parametrize("reward", ["progress_speed", "progress_speed_race"])
def test_progress_speed_pays_a_faster_lap_more_in_all(reinvent: Track, reward: str) -> None:
    totals = _lap_totals(reward, reinvent)
    assert all(b > 1.1 * a for a, b in zip(totals, totals[1:], strict=False)), totals


def test_progress_speed_race_pays_full_speed_more_than_twice_half_speed(reinvent: Track) -> None:
    safe, race = (
        _lap_totals("progress_speed", reinvent),
        _lap_totals("progress_speed_race", reinvent),
    )
    assert race[3] > 2.0 * race[1], race
    assert safe[3] < 2.0 * safe[1], safe  # the default pays speed less: safer first laps
