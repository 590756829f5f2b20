"""How many env-steps/s can training reach at most on this CPU? The policy update's ceiling.

PPO pushes every env step through the network once while driving (a forward pass) and
``num_epochs`` times while learning (forward, backward and an Adam step). This script counts
those floating-point operations for a configuration's real policy network (PyTorch's FLOP
counter), measures this CPU's float32 matrix-multiply speed (a large square matmul: about the
best any network layer can do here) and the network's own update speed, and prints the
env-steps/s that each allows, before any physics or rendering is paid for. On a CPU with
bf16 units the network runs as ``racer train`` runs it there (``--precision auto``); the
matmul figure stays float32.

    python benchmarks/update_ceiling.py                      # racer train's default camera run
    python benchmarks/update_ceiling.py --epochs 2
    python benchmarks/update_ceiling.py --network DEEP_CONVOLUTIONAL_NETWORK_DEEP
    python benchmarks/update_ceiling.py --image-pooling 2
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3.common.policies import ActorCriticPolicy
from torch.utils.flop_counter import FlopCounterMode

from racer.sim.camera import CameraConfig
from racer.train.config import TrainConfig
from racer.train.memory import keep_freed_memory
from racer.train.networks import cpu_description, policy_kwargs


def best_seconds(fn: Callable[[], object], repeats: int) -> float:
    """The fastest of ``repeats`` timed calls of ``fn`` (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def matmul_gflops(size: int = 2048, repeats: int = 5) -> float:
    """This CPU's float32 speed on one large square matrix multiply, in GFLOP/s."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    return 2 * size**3 / best_seconds(lambda: a @ b, repeats) / 1e9


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--network", default=TrainConfig().network)
    p.add_argument("--image-pooling", type=int, default=TrainConfig().image_pooling)
    p.add_argument("--epochs", type=int, default=TrainConfig().num_epochs)
    p.add_argument("--batch-size", type=int, default=TrainConfig().batch_size)
    p.add_argument("--precision", default="auto", help="auto (bf16 where the CPU has it) or fp32")
    p.add_argument("--actions", type=int, default=11, help="number of discrete actions")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--target", type=float, default=500.0, help="env-steps/s to price")
    args = p.parse_args()

    keep_freed_memory()  # as racer train does: activations' memory is reused, not re-faulted
    camera = CameraConfig()
    space = gym.spaces.Box(0, 255, (1, camera.height, camera.width), np.uint8)
    policy = ActorCriticPolicy(
        space,
        gym.spaces.Discrete(args.actions),
        lambda _: 3e-4,
        **policy_kwargs(args.network, space, args.precision, args.image_pooling),
    )
    optimizer = policy.optimizer
    batch = args.batch_size
    obs = torch.randint(0, 256, (batch, *space.shape), dtype=torch.uint8).float()
    actions = torch.randint(0, args.actions, (batch,))

    def update() -> None:
        values, log_prob, entropy = policy.evaluate_actions(obs, actions)
        assert entropy is not None  # a discrete action space always has one
        loss = -log_prob.mean() + values.pow(2).mean() - 0.01 * entropy.mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    def drive() -> None:
        with torch.no_grad():
            policy.evaluate_actions(obs, actions)

    with FlopCounterMode(display=False) as counter:
        drive()
    drive_flops = counter.get_total_flops() / batch
    with FlopCounterMode(display=False) as counter:
        update()
    update_flops = counter.get_total_flops() / batch
    per_step = drive_flops + args.epochs * update_flops

    peak = matmul_gflops()
    update_rate = batch / best_seconds(update, args.repeats)
    drive_rate = batch / best_seconds(drive, args.repeats)
    measured_ceiling = 1 / (1 / drive_rate + args.epochs / update_rate)

    print(f"cpu: {cpu_description()}, {torch.get_num_threads()} torch threads")
    print(f"network {args.network}, image {camera.width}x{camera.height}, image pooling "
          f"{args.image_pooling}, batch {batch}, {args.epochs} epochs")  # fmt: skip
    print(f"  forward pass (driving):          {drive_flops / 1e6:8.1f} MFLOP per sample")
    print(f"  forward + backward (learning):   {update_flops / 1e6:8.1f} MFLOP per sample")
    print(f"  per env step, {args.epochs} epochs:           {per_step / 1e6:8.1f} MFLOP")
    print(f"  large float32 matmul here:       {peak:8.1f} GFLOP/s")
    print(f"  network update here:             {update_rate:8.0f} samples/s "
          f"({update_rate * update_flops / 1e9:.1f} GFLOP/s)")  # fmt: skip
    print(f"  network forward here:            {drive_rate:8.0f} samples/s")
    print(f"  {args.target:.0f} env-steps/s would need:     "
          f"{args.target * per_step / 1e9:8.1f} GFLOP/s")  # fmt: skip
    print(f"ceiling if every layer ran at matmul speed: {peak * 1e9 / per_step:6.0f} env-steps/s")
    print(
        f"ceiling at this network's measured speed:   {measured_ceiling:6.0f} env-steps/s "
        "(before physics and rendering)"
    )


if __name__ == "__main__":
    main()
