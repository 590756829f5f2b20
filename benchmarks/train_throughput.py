"""Training env-steps/s of the camera configuration under several settings, in one run.

Each setting trains a fresh model from scratch for ``--seconds`` of wall-clock time (no
periodic evaluation laps or checkpoints, so only rollouts and policy updates are counted) and
prints the env steps per second of that session. The first row is racer's default; the others
change one setting each, so the table shows what each one costs or buys on this machine.

    python benchmarks/train_throughput.py                 # 60 s per setting
    python benchmarks/train_throughput.py --seconds 30 --only default,n_envs=2
    python benchmarks/train_throughput.py --seconds 30 --repeat 3 --only default,split

This machine's speed moves by tens of percent from one minute to the next; ``--repeat N``
runs the whole list N times in turn, so every setting sees the same moments, and ends with
each setting's median.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
from pathlib import Path
from typing import Any
from unittest import mock

from racer.train.config import TrainConfig
from racer.train.networks import cpu_description
from racer.train.trainer import train

ENVIRON = "environ"
"""A setting's key for environment variables set while it trains (not a config field)."""

SETTINGS: dict[str, dict[str, Any]] = {
    "default": {},
    "vec_env=dummy": {"vec_env": "dummy"},
    "n_envs=2": {"n_envs": 2},
    "n_envs=16": {"n_envs": 16},
    "precision=fp32": {"precision": "fp32"},
    "num_epochs=2": {"num_epochs": 2},
    "num_epochs=10": {"num_epochs": 10},
    "batch_size=64": {"batch_size": 64},
    "image_pooling=2": {"image_pooling": 2},
    "image_pooling=2 epochs=2": {"image_pooling": 2, "num_epochs": 2},
    "image_pooling=2 epochs=2 dummy": {"image_pooling": 2, "num_epochs": 2, "vec_env": "dummy"},
    "image_pooling=2 subproc": {"image_pooling": 2, "vec_env": "subproc"},
    "image_pooling=2 epochs=2 rollout_threads=2": {
        "image_pooling": 2,
        "num_epochs": 2,
        ENVIRON: {"RACER_ROLLOUT_THREADS": "2"},
    },
    "rollout_threads=2": {ENVIRON: {"RACER_ROLLOUT_THREADS": "2"}},
    "sensor=STATE+MLP": {"sensors": ("STATE",), "network": "MLP"},
}
"""Label -> overrides of the default camera configuration."""


def measure(label: str, overrides: dict[str, Any], seconds: float, models: Path) -> float:
    """Train one setting for ``seconds``, print its row and return its env-steps/s."""
    fields = {k: v for k, v in overrides.items() if k != ENVIRON}
    config = TrainConfig(
        name="throughput",
        minutes=seconds / 60.0,
        eval_every_minutes=1e6,
        checkpoint_every_minutes=1e6,
        **fields,
    )
    with mock.patch.dict(os.environ, overrides.get(ENVIRON, {})):
        result = train(config, models, force=True)
    print(
        f"{label:44s} {config.resolved_n_envs:6d} {config.batch_size:6d} {config.num_epochs:6d} "
        f"{result.steps:9d} {result.session_steps_per_s:9.0f}",
        flush=True,
    )
    return result.session_steps_per_s


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=60.0, help="training time per setting")
    p.add_argument("--only", default="", help="comma-separated labels to run (default: all)")
    p.add_argument("--repeat", type=int, default=1, help="run the list this many times")
    args = p.parse_args()
    labels = [x.strip() for x in args.only.split(",") if x.strip()] or list(SETTINGS)
    unknown = [x for x in labels if x not in SETTINGS]
    if unknown:
        p.error(f"unknown setting(s) {unknown}; known: {', '.join(SETTINGS)}")
    models = Path(tempfile.mkdtemp(prefix="racer-throughput-"))
    print(f"cpu: {cpu_description()}")
    print(
        f"{'setting':44s} {'envs':>6s} {'batch':>6s} {'epochs':>6s} {'steps':>9s} {'steps/s':>9s}"
    )
    rates: dict[str, list[float]] = {label: [] for label in labels}
    try:
        for _ in range(max(1, args.repeat)):
            for label in labels:
                rates[label].append(measure(label, SETTINGS[label], args.seconds, models))
    finally:
        shutil.rmtree(models, ignore_errors=True)
    if args.repeat > 1:
        print(f"\nmedian of {args.repeat} runs (env-steps/s)")
        for label, values in rates.items():
            low, high = min(values), max(values)
            print(f"{label:44s} {statistics.median(values):9.0f}   range {low:.0f}-{high:.0f}")


if __name__ == "__main__":
    main()
