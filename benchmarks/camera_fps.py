"""Frames per second (one core) of the cameras and scans per second of the lidars.

Run: ``python benchmarks/camera_fps.py [--seconds 2]``. The car drives a lap of re:Invent 2018
(one pose per frame); "6 boxes" places six obstacles along the track, about half in view.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from racer.sim.camera import Camera, CameraConfig
from racer.sim.lidar import Lidar, SectorLidar
from racer.sim.reference_render import ReferenceRenderer
from racer.sim.track_registry import get_track
from racer.sim.types import CarState, RaceObject, objects_array


def rate(fn: Callable[[int], object], seconds: float) -> float:
    """Calls per second of ``fn(i)`` over about ``seconds`` (after one warm-up call)."""
    fn(0)
    n, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(20):
            fn(n)
            n += 1
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    track = get_track("reinvent_base")
    s = np.linspace(0, track.length, 500, endpoint=False)
    xy = track.point_at(s, 0.1 * np.sin(s))
    yaw = track.heading_at(s)
    states = [CarState(float(x), float(y), float(h)) for (x, y), h in zip(xy, yaw, strict=True)]
    box_s = np.linspace(1.0, track.length - 1.0, 6)
    box_xy = track.point_at(box_s, 0.2 * (-1.0) ** np.arange(6, dtype=np.float64))
    boxes = objects_array(
        [
            RaceObject("box", float(x), float(y), float(h), 0.24, 0.39, 0.24)
            for (x, y), h in zip(box_xy, track.heading_at(box_s), strict=True)
        ]
    )
    cases: list[tuple[str, Callable[[int], object]]] = []
    mono, stereo = Camera(track), Camera(track, CameraConfig(stereo=True))
    real = Camera(track, CameraConfig(mode="real_car"))
    ref = ReferenceRenderer(track)
    lidar, sector = Lidar(), SectorLidar()
    cases = [
        ("fast camera, mono", lambda i: mono.render(states[i % 500])),
        ("fast camera, mono, 6 boxes", lambda i: mono.render(states[i % 500], boxes)),
        ("fast camera, stereo", lambda i: stereo.render(states[i % 500])),
        ("fast camera, stereo, 6 boxes", lambda i: stereo.render(states[i % 500], boxes)),
        ("real-car mode (640x480 BGR -> resize -> gray)", lambda i: real.render(states[i % 500])),
        ("pybullet TinyRenderer reference", lambda i: ref.render(states[i % 500])),
        ("pybullet TinyRenderer reference, 6 boxes", lambda i: ref.render(states[i % 500], boxes)),
        ("lidar, 64 beams, 6 boxes", lambda i: lidar.scan(states[i % 500], boxes)),
        ("sector lidar, 6 boxes", lambda i: sector.scan(states[i % 500], boxes)),
    ]
    results = {name: rate(fn, args.seconds) for name, fn in cases}
    ref.close()
    base = results["pybullet TinyRenderer reference"]
    print(f"{'case':50s} {'per s':>10s} {'x reference':>12s}")
    for name, value in results.items():
        print(f"{name:50s} {value:10.0f} {value / base:12.1f}")


if __name__ == "__main__":
    main()
