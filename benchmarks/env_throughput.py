"""Env steps/s per core for racer's sensors on re:Invent 2018, against Gymnasium's CarRacing-v3.

Random actions, one process (= one core), resets included, as early training sees them.

    python benchmarks/env_throughput.py [--steps 20000] [--peer-steps 2000]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import gymnasium as gym
import numpy as np

import racer.env  # noqa: F401  (registers the ids)
from racer.sim.randomize import RandomizationConfig

CONFIGS: dict[str, dict[str, Any]] = {
    "camera (160x120 gray)": {"sensors": ("FRONT_FACING_CAMERA",)},
    "camera, --sim2real": {
        "sensors": ("FRONT_FACING_CAMERA",),
        "randomization": RandomizationConfig.sim2real(),
    },
    "stereo camera": {"sensors": ("STEREO_CAMERAS",)},
    "lidar (64 beams)": {"sensors": ("LIDAR",)},
    "state vector": {"sensors": ("STATE",)},
    "camera + lidar, 3 boxes": {
        "sensors": ("FRONT_FACING_CAMERA", "LIDAR"),
        "race_type": "object_avoidance",
    },
}


def measure(env: gym.Env, steps: int, seed: int = 0) -> tuple[float, int]:
    """Steps/s over `steps` random-action steps, and the number of episodes they took."""
    env.action_space.seed(seed)
    env.reset(seed=seed)
    for _ in range(50):  # warm up (numba caches, first allocations)
        _, _, term, trunc, _ = env.step(env.action_space.sample())
        if term or trunc:
            env.reset()
    episodes = 0
    t0 = time.perf_counter()
    for _ in range(steps):
        _, _, term, trunc, _ = env.step(env.action_space.sample())
        if term or trunc:
            env.reset()
            episodes += 1
    return steps / (time.perf_counter() - t0), episodes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--peer-steps", type=int, default=2000)
    parser.add_argument("--track", default="reinvent_base")
    args = parser.parse_args()

    peer = gym.make("CarRacing-v3")
    peer_rate, _ = measure(peer, args.peer_steps)
    peer.close()

    print(f"racer env throughput on {args.track}, 1 process, random actions")
    print(f"{'observation':28s} {'steps/s':>10s} {'episodes':>9s} {'x CarRacing-v3':>15s}")
    for name, kwargs in CONFIGS.items():
        race = kwargs.get("race_type", "time_trial")
        env_id = {
            "time_trial": "racer/TimeTrial-v0",
            "object_avoidance": "racer/ObjectAvoidance-v0",
        }[race]
        extra = {"randomization": kwargs["randomization"]} if "randomization" in kwargs else {}
        env = gym.make(env_id, track=args.track, sensors=kwargs["sensors"], **extra)
        rate, eps = measure(env, args.steps)
        env.close()
        print(f"{name:28s} {rate:10.0f} {eps:9d} {rate / peer_rate:15.1f}")
    print(f"{'Gymnasium CarRacing-v3':28s} {peer_rate:10.0f} {'':9s} {1.0:15.1f}")
    print(f"numpy {np.__version__}, gymnasium {gym.__version__}")


if __name__ == "__main__":
    main()
