"""racer's main job for now: a scripted driver laps a track, and racer draws the lap."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from racer.sim.camera import Camera
from racer.sim.pursuit import PurePursuitDriver
from racer.sim.rules import RulesConfig
from racer.sim.track_registry import get_track
from racer.sim.world import RaceWorld, WorldConfig


@dataclass(frozen=True)
class LapResult:
    """A scripted lap.

    Attributes:
        track: Track name.
        status: Final status (``lap_complete`` when the lap finished).
        lap_time: Seconds, or None.
        steps: Control steps taken.
        off_track_count: Times the car left the track (each costs the evaluation penalty).
        positions: (M, 2) DeepRacer (x, y) points, one per step.
        speeds: (M,) ground speeds, m/s.
        frames: Camera frames at the start, a third and two thirds of the lap.
    """

    track: str
    status: str
    lap_time: float | None
    steps: int
    off_track_count: int
    positions: NDArray[np.float64]
    speeds: NDArray[np.float64]
    frames: tuple[NDArray[np.uint8], ...]


def scripted_lap(track_name: str = "reinvent_base", max_steps: int = 3000) -> LapResult:
    """Drive one lap with the pure-pursuit driver under evaluation rules.

    Args:
        track_name: Any name :func:`racer.sim.track_registry.get_track` knows.
        max_steps: Step cap.

    Returns:
        The lap's record.
    """
    track = get_track(track_name)
    world = RaceWorld(track, WorldConfig(rules=RulesConfig(mode="evaluation", max_steps=max_steps)))
    camera = Camera(track, spec=world.spec)
    driver = PurePursuitDriver(track, world.spec)
    rec = world.reset(start_s=0.0)
    positions, speeds, frames = [], [], [camera.render(rec.car)]
    marks = [track.length / 3, 2 * track.length / 3]
    while not rec.done:
        rec = world.step(*driver.act(rec.car))
        positions.append(rec.car.point_ahead(world.spec.params_point_ahead))
        speeds.append(rec.car.speed)
        if marks and rec.progress >= 100 * marks[0] / track.length:
            frames.append(camera.render(rec.car, world.objects_array))
            marks.pop(0)
    world.close()
    return LapResult(
        track=track.name,
        status=str(rec.status),
        lap_time=rec.lap_time,
        steps=rec.steps,
        off_track_count=rec.off_track_count,
        positions=np.asarray(positions),
        speeds=np.asarray(speeds),
        frames=tuple(frames),
    )


def draw_scripted_lap(track_name: str, out_dir: str | Path) -> tuple[LapResult, Path]:
    """Drive the scripted lap and write its picture.

    Returns:
        The lap and the PNG's path.
    """
    from racer.viz.lap import plot_lap

    lap = scripted_lap(track_name)
    track = get_track(track_name)
    path = Path(out_dir) / f"{track.name.replace(':', '-')}-lap.png"
    plot_lap(track, lap.positions, lap.speeds, path, frames=lap.frames, lap_time=lap.lap_time)
    return lap, path
