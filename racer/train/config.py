"""The training run's typed, frozen configuration, read from YAML and saved with every run.

Precedence: command-line options > ``--config`` file > defaults. Unknown keys are refused with
a suggestion. This module imports no learning library.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from racer.env.config import EnvConfig
from racer.sim.actions import (
    ActionSpace,
    ActionSpaceError,
    ContinuousActionSpace,
    DiscreteActionSpace,
    action_space_from_metadata,
    preset_action_space,
)
from racer.sim.race import BotConfig, ObstacleConfig, RaceConfig, normalise_race_type
from racer.sim.randomize import RandomizationConfig
from racer.sim.rules import RulesConfig
from racer.sim.sensors import canonical_sensor
from racer.sim.world import StartConfig, WorldConfig

NETWORKS = {
    "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW": "DeepRacer's 3-conv CNN (default)",
    "DEEP_CONVOLUTIONAL_NETWORK_DEEP": "a deeper 4-conv CNN",
    "MLP": "a 2x64 MLP, for state or lidar observations",
}
NETWORK_ALIASES = {
    "SHALLOW": "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW",
    "DEEP": "DEEP_CONVOLUTIONAL_NETWORK_DEEP",
    "DEEP_CONVOLUTIONAL_NETWORK": "DEEP_CONVOLUTIONAL_NETWORK_DEEP",
}
ALGORITHMS = ("clipped_ppo", "sac")
LOSS_TYPES = ("huber", "mean squared error")
VEC_ENVS = ("dummy", "split", "subproc")
IMAGE_POOLINGS = (1, 2)
"""``image_pooling`` factors: 1 keeps the full image, 2 averages 2x2 blocks."""
ENVS_PER_CORE = 4
"""Default environments per CPU core. The policy picks every env's action in one batch, and
a frame costs far less in a batch of 8 than in a batch of 2: on two cores 8 envs trained at
~660 env-steps/s where 2 envs ran ~480 (Intel AMX), and 149 against 118 on an AVX2-only CPU;
16 envs gained nothing more (``docs/training.md``)."""


class ConfigError(ValueError):
    """A training configuration is invalid; the message names the key and the problem."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run. Field names follow DeepRacer where it has one.

    Attributes:
        name: Run name; the run is written to ``models/NAME/``.
        track: Track name (``racer tracks list``), ``NAME:reverse``, ``generated:SEED`` or a path.
        reward: Reward function file, or the name of a shipped example.
        minutes: Wall-clock training budget.
        max_steps: Optional env-step budget (whichever comes first).
        action_space: Discrete list of (steering, speed) or continuous ranges.
        sensors: DeepRacer sensor names.
        network: Policy network (see :data:`NETWORKS`).
        image_pooling: Average the camera image over N x N blocks before the network's first
            convolution: 1 (the full 160x120 image) or 2 (80x60, about a sixth of the
            network's arithmetic). The model still takes the camera's full image, and exports
            fold the pooling into the first convolution. No effect on vector sensors.
        batch_size: Minibatch size of each gradient step.
        num_epochs: Passes over each batch of experience.
        lr: Learning rate.
        beta_entropy: Entropy bonus coefficient.
        discount_factor: Reward discount (gamma).
        loss_type: Value loss DeepRacer used (``huber`` or ``mean squared error``).
        num_episodes_between_training: Episodes of experience per policy update (approximate).
        algorithm: ``clipped_ppo`` or ``sac`` (continuous action spaces only).
        seed: Seed of every random source.
        n_envs: Environments stepped side by side; None means :data:`ENVS_PER_CORE` per CPU
            core.
        round_robin: Advance each training episode's start along the lap.
        round_robin_advance: Round-robin step, fraction of the lap.
        random_start: Start episodes at random places instead (seeded).
        race_type: ``time_trial``, ``object_avoidance`` or ``head_to_bot``.
        obstacles: Box settings for object avoidance.
        bots: Bot-car settings for head-to-bot.
        max_episode_steps: Step cap of a training episode.
        eval_every_minutes: Wall-clock minutes between evaluation laps (best-model choice).
        eval_episodes: Laps per periodic evaluation, from evenly spaced starts.
        checkpoint_every_minutes: Wall-clock minutes between checkpoints.
        clone_from: Run folder or model this run continues from (DeepRacer's "clone").
        sac_alpha: SAC's entropy coefficient (DeepRacer's ``sac_alpha``; SAC runs only).
        vec_env: How the parallel envs run: ``split`` (one group per usable core, the first
            in the trainer's process, the others in worker processes; the default),
            ``dummy`` (in turn, in the trainer's process) or ``subproc`` (one process each).
            All three give the same trajectories; only the speed differs.
        track_pool: Tracks each training episode draws its track from (seeded), for policies
            that drive tracks they have never seen; ``generated:1-50`` stands for the generated
            tracks 1 to 50. The periodic evaluation laps still run on ``track``.
        precision: CNN arithmetic: ``auto`` (bfloat16 on CPUs with native bf16 units, about
            twice as fast; float32 elsewhere), ``bf16`` or ``fp32``. Weights stay float32.
        randomization: Domain randomisation of the training envs' camera images and
            actuation, for models that will drive a real car (``docs/sim-to-real.md``); off by
            default. YAML: a mapping of its settings, optionally with ``preset: sim2real``
            and ``strength``. The periodic evaluation laps run without it.
    """

    name: str = "my-model"
    track: str = "reinvent_base"
    reward: str = "progress_speed"
    minutes: float = 10.0
    max_steps: int | None = None
    action_space: ActionSpace = field(default_factory=DiscreteActionSpace.grip_matched)
    sensors: tuple[str, ...] = ("FRONT_FACING_CAMERA",)
    network: str = "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW"
    image_pooling: int = 1
    batch_size: int = 512
    num_epochs: int = 3
    lr: float = 3e-4
    beta_entropy: float = 0.01
    discount_factor: float = 0.99
    loss_type: str = "mean squared error"
    num_episodes_between_training: int = 20
    algorithm: str = "clipped_ppo"
    seed: int = 0
    n_envs: int | None = None
    round_robin: bool = True
    round_robin_advance: float = 0.05
    random_start: bool = False
    race_type: str = "time_trial"
    obstacles: ObstacleConfig = field(default_factory=ObstacleConfig)
    bots: BotConfig = field(default_factory=BotConfig)
    max_episode_steps: int = 10_000
    eval_every_minutes: float = 1.0
    eval_episodes: int = 3
    checkpoint_every_minutes: float = 2.0
    clone_from: str | None = None
    sac_alpha: float = 0.2
    vec_env: str = "split"
    precision: str = "auto"
    track_pool: tuple[str, ...] = ()
    randomization: RandomizationConfig = field(default_factory=RandomizationConfig)

    def __post_init__(self) -> None:
        _validate(self)

    # ------------------------------------------------------------------ derived
    @property
    def resolved_n_envs(self) -> int:
        """Environments to run: :data:`ENVS_PER_CORE` per core when unset."""
        return self.n_envs or ENVS_PER_CORE * max(1, os.cpu_count() or 1)

    def env_config(self, *, evaluation: bool = False, **overrides: Any) -> EnvConfig:
        """The environment this run trains in (or evaluates in, with DeepRacer's eval rules)."""
        rules = RulesConfig(
            mode="evaluation" if evaluation else "training", max_steps=self.max_episode_steps
        )
        start = StartConfig(
            round_robin=self.round_robin and not evaluation,
            advance_fraction=self.round_robin_advance,
            random_start=self.random_start and not evaluation,
        )
        race = RaceConfig(self.race_type, obstacles=self.obstacles, bots=self.bots)
        env = EnvConfig(
            track=self.track,
            sensors=self.sensors,
            action_space=self.action_space,
            reward_function=self.reward,
            world=WorldConfig(race=race, rules=rules, start=start),
            track_pool=() if evaluation else self.track_pool,
            randomization=RandomizationConfig() if evaluation else self.randomization,
        )
        return dataclasses.replace(env, **overrides)

    # ------------------------------------------------------------------ (de)serialisation
    def to_dict(self) -> dict[str, Any]:
        """A YAML-ready mapping (action space in DeepRacer's ``model_metadata`` form)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "action_space":
                value = action_space_to_dict(value)
            elif dataclasses.is_dataclass(value) and not isinstance(value, type):
                value = dataclasses.asdict(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        if out["obstacles"].get("positions") is not None:
            out["obstacles"]["positions"] = [list(p) for p in out["obstacles"]["positions"]]
        return out

    def save(self, path: str | Path) -> Path:
        """Write the resolved configuration as YAML."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(yaml.safe_dump(self.to_dict(), sort_keys=False))
        return p

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "<config>") -> TrainConfig:
        """Build from a mapping, refusing unknown keys with a suggestion."""
        if not isinstance(data, dict):
            raise ConfigError(
                f"{source}: expected a mapping of settings, got {type(data).__name__}"
            )
        known = [f.name for f in dataclasses.fields(cls)]
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ConfigError(f"{source}: unknown setting {key!r}{hint}")
            kwargs[key] = _coerce(key, value, source)
        try:
            return cls(**kwargs)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None

    @classmethod
    def load(cls, path: str | Path) -> TrainConfig:
        """Read a YAML configuration file."""
        p = Path(path)
        try:
            data = yaml.safe_load(p.read_text()) or {}
        except FileNotFoundError:
            raise ConfigError(f"{p}: no such configuration file") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{p}: not valid YAML: {exc}") from None
        return cls.from_dict(data, source=str(p))

    def merged(self, **overrides: Any) -> TrainConfig:
        """A copy with the given (non-None) settings replaced, validated.

        A ``randomization`` mapping updates this run's randomisation key by key (a ``preset``
        in it starts from the preset instead).
        """
        clean = {k: _coerce(k, v, "option") for k, v in overrides.items() if v is not None}
        update = overrides.get("randomization")
        if isinstance(update, dict):
            try:
                clean["randomization"] = _randomization(update, self.randomization)
            except ValueError as exc:
                raise ConfigError(f"option: randomization: {exc}") from None
        return dataclasses.replace(self, **clean)


def action_space_to_dict(space: ActionSpace) -> Any:
    """DeepRacer's ``action_space`` form: a list of actions or the continuous ranges."""
    return space.to_metadata()


def parse_action_space(value: Any) -> ActionSpace:
    """Read an action space from a config value.

    Accepts DeepRacer's list of ``{steering_angle, speed}`` and its continuous
    ``{steering_angle: {low, high}, speed: {low, high}}``, and the shorthands
    ``{type: discrete, steering: [...], speed: [...]}`` (a grid) and
    ``{type: continuous, steering: [low, high], speed: [low, high]}``, and the names of
    :data:`racer.sim.actions.ACTION_SPACE_PRESETS` (``grip-matched``, ``deepracer-default``).
    """
    if isinstance(value, DiscreteActionSpace | ContinuousActionSpace):
        return value
    if isinstance(value, str):
        return preset_action_space(value)
    if isinstance(value, dict) and "type" in value:
        kind = str(value["type"]).lower()
        try:
            if kind == "discrete":
                return DiscreteActionSpace.grid(
                    [float(v) for v in value["steering"]], [float(v) for v in value["speed"]]
                )
            if kind == "continuous":
                (s_lo, s_hi), (v_lo, v_hi) = value["steering"], value["speed"]
                return ContinuousActionSpace(float(s_lo), float(s_hi), float(v_lo), float(v_hi))
        except (KeyError, TypeError, ValueError) as exc:
            raise ActionSpaceError(
                f"action_space of type {kind} needs 'steering' and 'speed' lists ({exc})"
            ) from exc
        raise ActionSpaceError(f"action_space type must be discrete or continuous, got {kind!r}")
    return action_space_from_metadata(value)


def _coerce(key: str, value: Any, source: str) -> Any:
    """Turn YAML/CLI values into the field's type."""
    try:
        if key == "action_space":
            return parse_action_space(value)
        if key == "track_pool":
            items = [value] if isinstance(value, str) else list(value)
            return tuple(name for item in items for name in expand_track_names(str(item)))
        if key == "sensors":
            items = [value] if isinstance(value, str) else list(value)
            return tuple(canonical_sensor(str(s)) for s in items)
        if key == "obstacles" and isinstance(value, dict):
            if "positions" in value and value["positions"] is not None:
                value = dict(
                    value, positions=tuple((float(f), str(l_)) for f, l_ in value["positions"])
                )
            return ObstacleConfig(**value)
        if key == "bots" and isinstance(value, dict):
            return BotConfig(**value)
        if key == "randomization":
            return _randomization(value)
    except (ActionSpaceError, ValueError, TypeError) as exc:
        raise ConfigError(f"{source}: {key}: {exc}") from None
    return value


def _randomization(value: Any, base: RandomizationConfig | None = None) -> RandomizationConfig:
    """A ``randomization`` value: a mapping of settings, a preset name, or None (off).

    Raises:
        ValueError: Unknown keys (with a suggestion), bad values or a bad type.
    """
    if isinstance(value, RandomizationConfig):
        return value
    if value is None:
        return RandomizationConfig()
    if isinstance(value, str):
        return RandomizationConfig.from_mapping({"preset": value})
    if isinstance(value, dict):
        return RandomizationConfig.from_mapping(value, base)
    raise ValueError(f"expected a mapping of settings or a preset name, got {type(value).__name__}")


def expand_track_names(spec: str) -> list[str]:
    """``generated:1-20`` → ``generated:1`` … ``generated:20`` (other names pass through)."""
    head, _, tail = spec.rpartition(":")
    first, dash, last = tail.partition("-")
    if head == "generated" and dash and first.isdigit() and last.isdigit():
        return [f"generated:{k}" for k in range(int(first), int(last) + 1)]
    return [spec]


def _validate(c: TrainConfig) -> None:
    """Check ranges and names; raise :class:`ConfigError` naming the setting."""
    checks: list[tuple[bool, str]] = [
        (c.minutes > 0, f"minutes must be positive, got {c.minutes}"),
        (c.max_steps is None or c.max_steps > 0, "max_steps must be positive"),
        (
            c.batch_size in (32, 64, 128, 256, 512, 1024),
            f"batch_size must be 32-1024 (a power of 2), got {c.batch_size}",
        ),
        (1 <= c.num_epochs <= 20, f"num_epochs must be 1-20, got {c.num_epochs}"),
        (1e-8 <= c.lr <= 1e-2, f"lr must be within 1e-8 - 1e-2, got {c.lr}"),
        (0.0 <= c.beta_entropy <= 1.0, f"beta_entropy must be 0-1, got {c.beta_entropy}"),
        (0.0 <= c.discount_factor <= 1.0, f"discount_factor must be 0-1, got {c.discount_factor}"),
        (c.loss_type in LOSS_TYPES, f"loss_type must be one of {LOSS_TYPES}, got {c.loss_type!r}"),
        (
            1 <= c.num_episodes_between_training <= 1000,
            "num_episodes_between_training must be 1-1000",
        ),
        (c.algorithm in ALGORITHMS, f"algorithm must be one of {ALGORITHMS}, got {c.algorithm!r}"),
        (c.n_envs is None or c.n_envs >= 1, "n_envs must be at least 1"),
        (0.0 <= c.round_robin_advance < 1.0, "round_robin_advance must be in [0, 1)"),
        (c.max_episode_steps >= 10, "max_episode_steps must be at least 10"),
        (
            c.precision in ("auto", "bf16", "fp32"),
            f"precision must be auto, bf16 or fp32, got {c.precision!r}",
        ),
        (
            c.image_pooling in IMAGE_POOLINGS,
            f"image_pooling must be one of {IMAGE_POOLINGS}, got {c.image_pooling!r}",
        ),
        (c.eval_episodes >= 1, "eval_episodes must be at least 1"),
        (0.0 < c.sac_alpha <= 10.0, f"sac_alpha must be in (0, 10], got {c.sac_alpha}"),
        (c.vec_env in VEC_ENVS, f"vec_env must be one of {VEC_ENVS}, got {c.vec_env!r}"),
    ]
    for ok, message in checks:
        if not ok:
            raise ConfigError(message)
    if c.algorithm == "sac" and not isinstance(c.action_space, ContinuousActionSpace):
        raise ConfigError("algorithm 'sac' needs a continuous action_space")
    network = NETWORK_ALIASES.get(c.network.upper(), c.network.upper())
    if network not in NETWORKS:
        close = difflib.get_close_matches(network, list(NETWORKS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"unknown network {c.network!r}{hint}")
    object.__setattr__(c, "network", network)
    object.__setattr__(c, "race_type", normalise_race_type(c.race_type))
    object.__setattr__(c, "sensors", tuple(canonical_sensor(s) for s in c.sensors))
