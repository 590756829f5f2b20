"""Control steps per second of :class:`racer.sim.physics.PhysicsWorld` (one core).

Usage: ``python benchmarks/physics_speed.py [--steps N] [--physics-hz HZ]``
"""

from __future__ import annotations

import argparse
import math
import time

from racer.sim.physics import PhysicsConfig, PhysicsWorld
from racer.sim.types import CarState, RaceObject


def boxes(n: int) -> list[RaceObject]:
    """``n`` DeepRacer-sized boxes on a ring 3 m from the origin, clear of the car's circle."""
    return [
        RaceObject("box", 3 * math.cos(a), 3 * math.sin(a), a, 0.24, 0.39, 0.2)
        for a in (2 * math.pi * i / n for i in range(n))
    ]


def rate(n_boxes: int, steps: int, physics_hz: float, repeats: int = 5) -> float:
    """Median control steps/s of a car circling at 2 m/s with ``n_boxes`` boxes nearby."""
    world = PhysicsWorld(config=PhysicsConfig(physics_hz=physics_hz))
    world.set_objects(boxes(n_boxes))
    world.reset_car(CarState(0.0, -0.6, 0.0, vx=2.0))
    steer = math.radians(15)
    results = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(steps):
            world.step(steer, 2.0)
        results.append(steps / (time.perf_counter() - t0))
    assert world.collided() is None
    world.close()
    return sorted(results)[len(results) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--physics-hz", type=float, default=60.0)
    args = parser.parse_args()
    substeps = int(args.physics_hz / 15)
    for n in (0, 6):
        r = rate(n, args.steps, args.physics_hz)
        print(
            f"PhysicsWorld.step, {n} boxes, {args.physics_hz:g} Hz physics ({substeps} substeps): "
            f"{r:,.0f} control steps/s ({1e6 / r:.1f} us/step)"
        )


if __name__ == "__main__":
    main()
