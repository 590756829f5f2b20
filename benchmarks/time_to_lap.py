"""Does it learn? Wall-clock minutes from scratch until an evaluation drives 3 of 3 clean laps.

Trains in chunks of ``--chunk`` minutes (``racer train`` then ``--resume``); after each chunk the
run's best model (the one ``racer evaluate NAME`` races: chosen by the trainer's own periodic
evaluation laps, every ``--eval-every`` minutes) races 3 trials under DeepRacer's evaluation
rules on the same track; ``--which latest`` races the latest weights instead. Prints the
minutes until the first 3/3 with no off-track and no crash (training, evaluations and restarts
all counted), training env-steps/s, and the best lap time as a ratio to the optimal lap.

    python benchmarks/time_to_lap.py                        # camera, 10-minute budget
    python benchmarks/time_to_lap.py --sensor STATE --network MLP
    python benchmarks/time_to_lap.py --minutes 30 --keep-going --speeds 1.5,2.5,4
    python benchmarks/time_to_lap.py --minutes 30 --keep-going --then-reward progress_speed_race

``--chunk-steps N`` trains N env steps per chunk instead of ``--chunk`` minutes (no chunk
starts after ``--minutes`` of wall clock): chunks end at the same steps however fast the
machine runs that day, so with ``--which latest`` a seed gives the same models on a slower or
faster machine (two runs of ``--sensor STATE --chunk-steps 25000`` raced the same laps).

``--then-reward`` measures DeepRacer's clone route: once the first 3/3 comes, the rest of the
budget trains a clone of that run's best model with another reward (a new run, fresh
optimiser), raced the same way after each chunk.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from racer.evaluate import evaluate
from racer.evaluate.config import EvalConfig
from racer.sim.actions import ActionSpace, DiscreteActionSpace
from racer.sim.racing_line import optimal_lap
from racer.sim.track_registry import get_track
from racer.train.config import TrainConfig
from racer.train.networks import cpu_description
from racer.train.options import parse_action_space_option
from racer.train.policy import load_policy
from racer.train.trainer import train


def action_space(args: argparse.Namespace) -> ActionSpace:
    """The action space the options ask for (``racer train``'s default without any)."""
    if args.action_space:
        return parse_action_space_option(args.action_space)
    if args.speeds or args.steering:
        return DiscreteActionSpace.grid(
            [float(s) for s in (args.steering or "-30,-15,0,15,30").split(",")],
            [float(v) for v in (args.speeds or "1,2").split(",")],
        )
    return TrainConfig().action_space


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--track", default="reinvent_base")
    p.add_argument(
        "--sensor",
        default="FRONT_FACING_CAMERA",
        help="sensor name, or several joined by commas (FRONT_FACING_CAMERA,LIDAR)",
    )
    p.add_argument("--network", default="DEEP_CONVOLUTIONAL_NETWORK_SHALLOW")
    p.add_argument(
        "--image-pooling", type=int, default=None, help="1 or 2 (default: racer train's)"
    )
    p.add_argument("--reward", default="progress_speed")
    p.add_argument(
        "--speeds", default=None, help="comma-separated speeds of an action grid (default: none)"
    )
    p.add_argument("--steering", default=None, help="steering angles of that grid")
    p.add_argument(
        "--action-space",
        default=None,
        help="any racer train --action-space value (replaces --speeds / --steering); "
        "without either, racer train's default action space",
    )
    p.add_argument("--minutes", type=float, default=10.0, help="training budget")
    p.add_argument("--chunk", type=float, default=1.0, help="minutes between evaluations")
    p.add_argument(
        "--chunk-steps", type=int, default=None, help="env steps per chunk (instead of --chunk)"
    )
    p.add_argument("--keep-going", action="store_true", help="train the whole budget")
    p.add_argument(
        "--then-reward",
        default=None,
        help="after the first 3/3, clone the best model and train on with this reward",
    )
    p.add_argument(
        "--which", choices=("best", "latest"), default="best", help="model raced after a chunk"
    )
    p.add_argument(
        "--eval-every", type=float, default=1.0, help="minutes between the trainer's evaluations"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--n-envs", type=int, default=None, help="environments (default: the run's)")
    p.add_argument("--models-dir", type=Path, default=None)
    args = p.parse_args()

    track = get_track(args.track)
    optimal = optimal_lap(track).lap_time
    actions = action_space(args)
    base = TrainConfig(
        name="time-to-lap", track=args.track, reward=args.reward,
        sensors=tuple(args.sensor.split(",")),
        network=args.network, action_space=actions, seed=args.seed, minutes=args.chunk,
        eval_every_minutes=args.eval_every, checkpoint_every_minutes=args.chunk * 10,
    ).merged(num_epochs=args.epochs, batch_size=args.batch_size, n_envs=args.n_envs,
             image_pooling=args.image_pooling)  # fmt: skip
    models = args.models_dir or Path(tempfile.mkdtemp(prefix="racer-bench-"))
    count = len(getattr(actions, "actions", ())) or "continuous"
    print(f"cpu: {cpu_description()}")
    print(f"track {track.display_name}: optimal lap {optimal:.2f} s; config: sensor "
          f"{'+'.join(base.sensors)}, network {base.network}, image pooling "
          f"{base.image_pooling}, {count} actions up to "
          f"{actions.max_speed} m/s, batch {base.batch_size}, epochs {base.num_epochs}, "
          f"envs {base.resolved_n_envs}, seed {base.seed}; {args.which} model raced")  # fmt: skip

    start = time.perf_counter()
    first_clean: float | None = None
    best_lap: float | None = None
    steps = 0
    train_seconds = 0.0
    by_steps = args.chunk_steps is not None
    chunk = float(args.chunk_steps) if by_steps else args.chunk
    trained = 0.0  # in the chunks' unit: env steps or minutes
    run_start = 0.0  # amount trained when the current run began (the clone's start)
    done_steps, done_seconds = 0, 0.0  # totals of runs already finished (before a clone)

    def more() -> bool:
        if by_steps:
            return time.perf_counter() - start < args.minutes * 60
        return trained < args.minutes - 1e-9

    while more():
        trained = trained + chunk if by_steps else min(args.minutes, trained + chunk)
        amount = trained - run_start
        config = (
            base.merged(max_steps=round(amount), minutes=1e6)
            if by_steps
            else base.merged(minutes=amount)
        )
        resume = amount > chunk + 1e-9
        result = train(config, models, resume=resume, force=True)
        steps = done_steps + result.steps  # result's figures count all sessions of its run
        train_seconds = done_seconds + result.elapsed_s
        if result.stopped_by == "signal":
            print("interrupted")
            break
        policy = load_policy(result.run_dir, which=args.which)
        report = evaluate(
            policy, EvalConfig(track=args.track, trials=3, seed=args.seed),
            Path(tempfile.mkdtemp(prefix="racer-eval-")), model_config=config,
        )  # fmt: skip
        clean = sum(t.clean for t in report.trials)
        laps = [t.lap_time for t in report.trials if t.lap_time is not None]
        if laps and clean == len(report.trials):
            best_lap = min(laps) if best_lap is None else min(best_lap, min(laps))
        wall = (time.perf_counter() - start) / 60
        lap_text = f"{min(laps):.2f} s" if laps else "-"
        amount_text = f"{trained:.0f} steps" if by_steps else f"{trained:5.1f} min"
        print(f"{wall:6.2f} min wall, {amount_text} trained, {steps:8d} steps: "
              f"{clean}/3 clean laps, best lap {lap_text}", flush=True)  # fmt: skip
        if clean == len(report.trials) and first_clean is None:
            first_clean = wall
            if not args.keep_going:
                break
            if args.then_reward:
                print(f"cloning {config.name} with reward {args.then_reward}", flush=True)
                base = base.merged(
                    name=f"{base.name}-clone", reward=args.then_reward, clone_from=config.name
                )
                run_start, done_steps, done_seconds = trained, steps, train_seconds

    print("\nresult")
    print(f"  minutes to 3/3 clean laps: {first_clean:.2f}" if first_clean else
          f"  no 3/3 clean laps within {args.minutes} minutes")  # fmt: skip
    print(f"  training env-steps/s:      {steps / max(train_seconds, 1e-9):.0f}")
    if best_lap is not None:
        print(f"  best clean lap:            {best_lap:.2f} s = {best_lap / optimal:.2f} x optimal "
              f"({optimal:.2f} s)")  # fmt: skip
    if args.models_dir is None:
        shutil.rmtree(models, ignore_errors=True)


if __name__ == "__main__":
    main()
