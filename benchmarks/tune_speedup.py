"""Does a sweep go faster on more Ray workers? Trials per hour with 1 and with 2 workers.

Runs the same small sweep (STATE sensor, MLP, learning rate and epochs tuned, pruning off, so
every trial trains its whole budget) twice on one local Ray instance: with one trial at a
time, then two. Prints each sweep's wall-clock time, trials per hour and the ratio, and Ray's
start-up time on its own.

    python benchmarks/tune_speedup.py                                  # 6 trials x 1 minute
    python benchmarks/tune_speedup.py --trials 4 --minutes 0.25 --max-steps 2000
    python benchmarks/tune_speedup.py --workers 1,2,4 --cpus 4
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

import optuna
import ray

from racer.train.config import TrainConfig
from racer.tune.config import TuneConfig
from racer.tune.executors import tune_study
from racer.tune.params import parse_params


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=6)
    p.add_argument("--minutes", type=float, default=1.0, help="training minutes per trial")
    p.add_argument("--max-steps", type=int, default=None, help="env-step cap per trial")
    p.add_argument("--workers", default="1,2", help="worker counts to compare")
    p.add_argument("--cpus", type=int, default=os.cpu_count() or 2, help="CPUs Ray may use")
    p.add_argument("--track", default="reinvent_base")
    p.add_argument("--out", type=Path, default=None, help="keep the sweeps here")
    args = p.parse_args()

    counts = [int(w) for w in args.workers.split(",")]
    base = TrainConfig(
        name="speedup", track=args.track, sensors=("STATE",), network="MLP", batch_size=64,
        num_episodes_between_training=4, max_episode_steps=1000, eval_episodes=1, n_envs=1,
        max_steps=args.max_steps,
    )  # fmt: skip
    params = parse_params(["lr=loguniform:1e-4:1e-3", "num_epochs=choice:1,2,3"], base)
    out = args.out or Path(tempfile.mkdtemp(prefix="racer-tune-speedup-"))
    logging.getLogger("racer.tune").setLevel(logging.WARNING)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    print(f"sweep: {args.trials} trials x {args.minutes:g} min (STATE, MLP), max_steps "
          f"{args.max_steps}, Ray CPUs {args.cpus}, machine CPUs {os.cpu_count()}")  # fmt: skip

    start = time.perf_counter()
    ray.init(address="local", num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
    print(f"ray start-up: {time.perf_counter() - start:.1f} s")
    rates: dict[int, float] = {}
    try:
        for workers in counts:
            sweep = TuneConfig(
                name=f"speedup-w{workers}", base=base, params=params, trials=args.trials,
                minutes_per_trial=args.minutes, out_dir=out / f"w{workers}", pruning=False,
            )  # fmt: skip
            start = time.perf_counter()
            result = tune_study(sweep, "ray", workers=workers, cpus_per_trial=1)
            elapsed = time.perf_counter() - start
            rates[workers] = result.new_trials / elapsed * 3600
            steps = sum(r.steps or 0 for r in result.outputs.rows)
            print(f"{workers} worker(s): {result.new_trials} trials in {elapsed:.1f} s = "
                  f"{rates[workers]:.1f} trials/h ({steps:,} env steps in all)")  # fmt: skip
    finally:
        ray.shutdown()
        if args.out is None:
            shutil.rmtree(out, ignore_errors=True)
    first = counts[0]
    for workers in counts[1:]:
        print(f"speed-up {workers} vs {first} worker(s): {rates[workers] / rates[first]:.2f}x")


if __name__ == "__main__":
    main()
