"""Does it generalise? Train on generated tracks only, then race the shipped tracks it never saw.

Trains the camera configuration on a pool of seeded generated tracks (each episode draws one),
then evaluates the model on every built-in track (3 trials each, DeepRacer's rules) and prints
the completion rate per track and overall, and the clean-lap rate (no off-track, no crash).

    python benchmarks/generalization.py --minutes 10 --pool generated:1-40
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from racer.evaluate import evaluate
from racer.evaluate.config import EvalConfig
from racer.sim.track_registry import builtin_track_names
from racer.train.config import TrainConfig
from racer.train.policy import load_policy
from racer.train.trainer import train


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--pool", default="generated:1-40")
    p.add_argument("--sensor", default="FRONT_FACING_CAMERA")
    p.add_argument("--network", default="DEEP_CONVOLUTIONAL_NETWORK_SHALLOW")
    p.add_argument("--reward", default="progress_speed")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--trials", type=int, default=3)
    p.add_argument("--models-dir", type=Path, default=None)
    args = p.parse_args()

    config = TrainConfig.from_dict(
        {
            "name": "generalise", "track": "generated:1000", "track_pool": [args.pool],
            "reward": args.reward, "sensors": [args.sensor], "network": args.network,
            "minutes": args.minutes, "seed": args.seed, "random_start": True,
        }
    )  # fmt: skip
    models = args.models_dir or Path(tempfile.mkdtemp(prefix="racer-bench-"))
    print(f"training {args.minutes:g} min on {len(config.track_pool)} generated tracks "
          f"({args.pool}), sensor {config.sensors[0]}, seed {config.seed}")  # fmt: skip
    result = train(config, models, force=True)
    print(f"trained {result.steps} steps at {result.session_steps_per_s:.0f} env-steps/s")
    policy = load_policy(result.run_dir, which="best")

    completed = clean = total = 0
    for name in builtin_track_names():
        report = evaluate(
            policy, EvalConfig(track=name, trials=args.trials, seed=args.seed),
            Path(tempfile.mkdtemp(prefix="racer-eval-")), model_config=config,
        )  # fmt: skip
        ok = sum(t.completed for t in report.trials)
        spotless = sum(t.clean for t in report.trials)
        completed, clean, total = completed + ok, clean + spotless, total + len(report.trials)
        best = f"{report.best_lap_time:.2f} s" if report.best_lap_time else "-"
        print(f"  {name:22s} completed {ok}/{len(report.trials)}, clean {spotless}, best {best}")
    rate, clean_rate = 100 * completed / total, 100 * clean / total
    print(f"\nunseen shipped tracks: {completed}/{total} laps completed ({rate:.0f} %), "
          f"{clean}/{total} clean ({clean_rate:.0f} %)")  # fmt: skip
    if args.models_dir is None:
        shutil.rmtree(models, ignore_errors=True)


if __name__ == "__main__":
    main()
