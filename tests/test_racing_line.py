"""The racing line: measured car limits, optimal laps, and a check in the real physics."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from racer.cli.tracks import app
from racer.sim.car_limits import CarLimits, measure_limits
from racer.sim.physics import PhysicsConfig
from racer.sim.racing_line import (
    RacingLine,
    default_margin,
    drive_racing_line,
    lap_ratio,
    optimal_lap,
)
from racer.sim.track import Track
from racer.sim.track_registry import builtin_track_names, get_track
from racer.sim.types import CarSpec

SPEC = CarSpec()
G = PhysicsConfig().gravity


@pytest.fixture(scope="module")
def limits() -> CarLimits:
    return measure_limits()


@pytest.fixture(scope="module")
def lines(limits: CarLimits) -> dict[str, RacingLine]:
    return {name: optimal_lap(get_track(name), limits) for name in builtin_track_names()}


def ring(radius: float = 1.5, width: float = 1.0, points: int = 300) -> Track:
    t = np.linspace(0.0, 2.0 * math.pi, points, endpoint=False)
    centre = radius * np.stack([np.cos(t), np.sin(t)], axis=1)
    return Track.from_centreline("ring", centre, width)


# ---------------------------------------------------------------------- limits
def test_measured_limits_match_the_car_spec(limits: CarLimits) -> None:
    assert limits.top_speed == pytest.approx(SPEC.max_speed, rel=0.02)
    assert limits.max_accel == pytest.approx(SPEC.max_accel, rel=0.05)
    assert limits.max_brake == pytest.approx(SPEC.max_brake, rel=0.05)
    assert limits.max_lateral_accel == pytest.approx(SPEC.grip * G, rel=0.15)
    lock = math.radians(SPEC.max_steering_deg)
    assert limits.min_turn_radius == pytest.approx(SPEC.wheelbase / math.tan(lock), rel=0.05)
    # Full throttle is flat at the drive limit, then tapers to nothing at top speed.
    assert float(limits.accel_at(1.0)) == pytest.approx(SPEC.max_accel, rel=0.05)
    assert float(limits.accel_at(limits.top_speed)) == pytest.approx(0.0, abs=1e-9)
    assert np.all(np.diff(limits.accel_values) <= 1e-9)
    assert "lateral grip" in limits.describe()


def test_limits_are_cached_and_follow_the_grip() -> None:
    assert measure_limits() is measure_limits(CarSpec(), PhysicsConfig())
    slippery = measure_limits(CarSpec(grip=0.7))
    assert slippery.max_lateral_accel == pytest.approx(0.7 * G, rel=0.15)
    assert slippery.max_brake < SPEC.max_brake  # braking is grip-limited now
    assert slippery.max_brake == pytest.approx(0.7 * G, rel=0.1)


# ---------------------------------------------------------------------- optimal lap
def test_ring_optimum_hugs_the_inside_at_the_grip_limit(limits: CarLimits) -> None:
    track = ring()
    line = optimal_lap(track, limits)
    margin = default_margin()
    r_inside = 1.5 - 0.5 + margin
    v = min(limits.top_speed, math.sqrt(limits.max_lateral_accel * r_inside))
    assert line.lap_time == pytest.approx(2.0 * math.pi * r_inside / v, rel=0.02)
    # Counter-clockwise ring: the inside is on the left.
    np.testing.assert_allclose(line.offsets, 0.5 - margin, atol=0.01)
    np.testing.assert_allclose(line.speeds, v, rtol=0.02)
    assert line.centre_lap_time > line.lap_time


@pytest.mark.parametrize("name", builtin_track_names())
def test_racing_line_beats_the_centre_line_inside_the_borders(
    name: str, lines: dict[str, RacingLine], limits: CarLimits
) -> None:
    track, line = get_track(name), lines[name]
    assert line.lap_time < 0.97 * line.centre_lap_time
    proj = track.project(line.points)
    assert np.all(proj.left_width - proj.offset >= line.margin - 0.005)
    assert np.all(proj.right_width + proj.offset >= line.margin - 0.005)
    assert np.all(line.speeds > 0.5) and np.all(line.speeds <= limits.top_speed + 1e-9)
    assert np.all(np.abs(line.curvature) < limits.max_curvature)
    # Lap time is the integral of ds / v.
    seg = np.hypot(*(np.roll(line.points, -1, axis=0) - line.points).T)
    mean_v = 0.5 * (line.speeds + np.roll(line.speeds, -1))
    assert line.lap_time == pytest.approx(float(np.sum(seg / mean_v)), rel=1e-9)
    assert line.length == pytest.approx(float(seg.sum()))


@pytest.mark.parametrize("name", builtin_track_names())
def test_pursuit_of_the_racing_line_in_the_physics_is_near_the_optimum(
    name: str, lines: dict[str, RacingLine]
) -> None:
    track, line = get_track(name), lines[name]
    result = drive_racing_line(track, line)
    assert result.completed and not result.left_track
    assert result.wheels_off_steps <= 0.05 * result.steps
    assert result.ratio is not None and 1.0 <= result.ratio < 1.15


def test_racing_line_helpers(lines: dict[str, RacingLine]) -> None:
    line = lines["reinvent_base"]
    assert lap_ratio(2 * line.lap_time, line) == pytest.approx(2.0)
    assert 0.0 < line.improvement < 0.5
    assert float(line.speed_at(line.length + 0.3)) == pytest.approx(float(line.speed_at(0.3)))
    with pytest.raises(ValueError):
        line.speeds[0] = 1.0
    assert line.as_track().length == pytest.approx(line.length)


def test_open_and_too_narrow_tracks_are_refused(limits: CarLimits) -> None:
    x = np.linspace(0.0, 5.0, 50)
    open_track = Track.from_centreline("strip", np.stack([x, 0 * x], axis=1), 1.0, closed=False)
    with pytest.raises(ValueError, match="closed"):
        optimal_lap(open_track, limits)
    with pytest.raises(ValueError, match="too narrow"):
        optimal_lap(ring(width=0.2), limits)


# ---------------------------------------------------------------------- CLI
def test_cli_optimal_prints_times_and_writes_the_picture(tmp_path: Path) -> None:
    out = tmp_path / "pics" / "opt.png"
    result = CliRunner().invoke(app, ["optimal", "reinvent_base", "--out", str(out), "--drive"])
    assert result.exit_code == 0, result.output
    for text in ("lateral grip", "optimal lap", "centre-line lap", "simulator lap", str(out)):
        assert text in result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_optimal_unknown_track_fails_cleanly() -> None:
    result = CliRunner().invoke(app, ["optimal", "no_such_track"])
    assert result.exit_code == 1
    assert "unknown track" in result.output
