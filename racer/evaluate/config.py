"""The evaluation's typed, frozen settings, and the environment built from them and a model's.

An evaluation follows DeepRacer's rules: ``trials`` fresh episodes from the start line, in
evaluation mode (an off-track or a crash freezes the car for a penalty and puts it back where it
left), each capped at ``max_time`` simulated seconds, penalties included.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from racer.env.config import EnvConfig
from racer.sim.race import BotConfig, ObstacleConfig, RaceConfig, make_race, normalise_race_type
from racer.sim.randomize import RandomizationConfig
from racer.sim.rules import RulesConfig
from racer.sim.world import StartConfig
from racer.train.config import TrainConfig


class EvalConfigError(ValueError):
    """An invalid evaluation setting; the message names it."""


@dataclass(frozen=True)
class EvalConfig:
    """What to race and under which rules.

    Attributes:
        track: Track name (``racer tracks list``), ``NAME:reverse``, ``generated:SEED`` or a
            track file path. The model need not have been trained on it.
        reverse: Drive the track against its waypoint order.
        race_type: ``time_trial``, ``object_avoidance`` or ``head_to_bot`` (``-`` or ``_``).
        obstacles: Boxes for object avoidance.
        bots: Bot cars for head-to-bot.
        trials: Number of trials; each is a fresh episode from the start line.
        laps: Laps a trial must drive to complete.
        off_track_penalty: Seconds the car stays frozen after leaving the track.
        collision_penalty: Seconds the car stays frozen after hitting a box or a bot.
        seed: Seed of the evaluation; trial *k* resets the environment with ``seed + k``.
        max_time: Time cap of a trial in simulated seconds, penalties included (status
            ``time_up``); the step cap follows as ``ceil(max_time * control rate)``.
        randomization: Domain randomisation of the camera and the actuation during the
            trials, drawn per trial from its seed (off by default: evaluations are clean;
            see :mod:`racer.evaluate.robustness` and ``docs/sim-to-real.md``).
    """

    track: str = "reinvent_base"
    reverse: bool = False
    race_type: str = "time_trial"
    obstacles: ObstacleConfig = field(default_factory=ObstacleConfig)
    bots: BotConfig = field(default_factory=BotConfig)
    trials: int = 3
    laps: int = 1
    off_track_penalty: float = 5.0
    collision_penalty: float = 5.0
    seed: int = 0
    max_time: float = 180.0
    randomization: RandomizationConfig = field(default_factory=RandomizationConfig)

    def __post_init__(self) -> None:
        checks = [
            (self.trials >= 1, f"trials must be at least 1, got {self.trials}"),
            (self.laps >= 1, f"laps must be at least 1, got {self.laps}"),
            (self.off_track_penalty >= 0, "off_track_penalty must not be negative"),
            (self.collision_penalty >= 0, "collision_penalty must not be negative"),
            (self.max_time > 0, f"max_time must be positive, got {self.max_time}"),
        ]
        for ok, message in checks:
            if not ok:
                raise EvalConfigError(message)
        object.__setattr__(self, "race_type", normalise_race_type(self.race_type))
        make_race(self.race)  # validates the name and the box / bot settings (RaceError)

    @property
    def race(self) -> RaceConfig:
        """The race type and its settings."""
        return RaceConfig(self.race_type, obstacles=self.obstacles, bots=self.bots)

    def rules(self, control_hz: float = 15.0) -> RulesConfig:
        """DeepRacer's evaluation rules with these penalties, laps and caps."""
        return RulesConfig(
            mode="evaluation",
            max_steps=max(1, math.ceil(self.max_time * control_hz - 1e-9)),
            laps=self.laps,
            off_track_penalty=self.off_track_penalty,
            collision_penalty=self.collision_penalty,
        )

    @property
    def run_id(self) -> str:
        """Deterministic folder name: ``<track>[-reverse]-<race_type>-seed<k>[-randomized]``.

        The track part is the name with anything outside ``[A-Za-z0-9_.=-]`` turned into ``-``
        (a file path gives its stem), so ``generated:42`` gives ``generated-42``. An
        evaluation with randomisation on ends in ``-randomized``.
        """
        name = self.track
        if "/" in name or "\\" in name or name.endswith((".json", ".npy")):
            name = Path(name).stem
        slug = re.sub(r"[^A-Za-z0-9_.=-]+", "-", name).strip("-") or "track"
        reverse = "-reverse" if self.reverse else ""
        randomized = "-randomized" if self.randomization.enabled else ""
        return f"{slug}{reverse}-{self.race_type}-seed{self.seed}{randomized}"

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready mapping of the settings."""
        return dataclasses.asdict(self)


def eval_config_for_model(
    model: TrainConfig,
    *,
    track: str | None = None,
    race_type: str | None = None,
    boxes: int | None = None,
    random_boxes: bool | None = None,
    bots: int | None = None,
    bot_speed: float | None = None,
    **settings: object,
) -> EvalConfig:
    """An evaluation of a model: unset race settings default to the model's training race.

    Args:
        model: The model's training configuration.
        track: Track; defaults to the model's.
        race_type: Race type; defaults to the model's.
        boxes: Number of boxes; defaults to the model's obstacle settings.
        random_boxes: Random box places each trial; defaults to the model's setting.
        bots: Number of bot cars; defaults to the model's.
        bot_speed: Bot speed, m/s; defaults to the model's.
        **settings: Other :class:`EvalConfig` fields (trials, laps, penalties, seed...).

    Returns:
        The evaluation settings.
    """
    obstacles = model.obstacles
    if boxes is not None:
        obstacles = dataclasses.replace(obstacles, count=boxes)
    if random_boxes is not None:
        obstacles = dataclasses.replace(obstacles, randomize=random_boxes)
    bot_cfg = model.bots
    if bots is not None:
        bot_cfg = dataclasses.replace(bot_cfg, count=bots)
    if bot_speed is not None:
        bot_cfg = dataclasses.replace(bot_cfg, speed=bot_speed)
    return EvalConfig(
        track=track or model.track,
        race_type=race_type or model.race_type,
        obstacles=obstacles,
        bots=bot_cfg,
        **settings,  # type: ignore[arg-type]
    )


def eval_env_config(model: TrainConfig, config: EvalConfig) -> EnvConfig:
    """The environment of an evaluation: the model's sensors and actions, the evaluation's race.

    The car, sensors, action space and reward come from the model; the track, race type, rules
    (penalties, laps, caps) and randomisation from the evaluation (never the model's training
    randomisation). Starts are fixed at the start line (no round robin, no random starts).

    Args:
        model: The model's training configuration.
        config: The evaluation settings.

    Returns:
        The environment configuration.
    """
    env = model.env_config(evaluation=True, track=config.track, reverse=config.reverse)
    world = dataclasses.replace(
        env.world,
        race=config.race,
        rules=config.rules(env.world.control_hz),
        start=StartConfig(round_robin=False, random_start=False, start_fraction=0.0),
    )
    return dataclasses.replace(env, world=world, randomization=config.randomization)


def randomization_from_settings(settings: dict[str, object] | None) -> RandomizationConfig:
    """An evaluation's randomisation from ``--randomize`` settings (None: off).

    Raises:
        EvalConfigError: An unknown key (with a suggestion) or an invalid value.
    """
    try:
        return RandomizationConfig.from_mapping(settings or {})
    except ValueError as exc:
        raise EvalConfigError(f"--randomize: {exc}") from None
