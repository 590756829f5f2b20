"""The settings a sweep tunes: ``--param NAME=DIST:ARGS`` parsed and checked.

DIST is a :data:`racer.tune.distributions.DISTRIBUTIONS` entry (``loguniform``, ``uniform``,
``int``, ``choice``); NAME is a :class:`~racer.train.config.TrainConfig` field
(:func:`tunable_fields`). Every value a spec can draw is checked against the field's type and
the config's own validation before any training starts. This module imports no optimisation
library.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Callable
from functools import cache
from typing import Any

from racer.rewards.loader import RewardFunctionError
from racer.sim.actions import ActionSpace, ActionSpaceError
from racer.train.config import ConfigError, TrainConfig
from racer.train.options import parse_action_space_option
from racer.tune.distributions import DISTRIBUTIONS, KIND_WORDS, ParamSpec, ParamValue

NOT_TUNED = {
    "name": "each trial's run folder is named by the study",
    "minutes": "--minutes-per-trial sets each trial's budget",
    "max_steps": "it is the trials' shared step budget; set it in the base config",
    "seed": "--seeds sets the seeds every trial trains with",
    "eval_every_minutes": "the sweep sets it from --minutes-per-trial",
    "eval_episodes": "it changes how the objective is measured",
    "checkpoint_every_minutes": "it does not change what is learnt",
    "clone_from": "it is part of the base configuration",
    "track": "the objective is measured on it; set it in the base config",
    "race_type": "the objective is measured in it; set it in the base config",
    "vec_env": "it changes speed, not what is learnt",
    "precision": "it changes speed, not what is learnt",
}
"""TrainConfig fields a sweep refuses to tune, and why."""


class TuneError(ValueError):
    """A sweep is set up wrongly; the message names the option and the problem."""


@cache
def tunable_fields() -> dict[str, str]:
    """TrainConfig fields a sweep may tune, and their kind (int, float, str, bool, action_space)."""
    hints = typing.get_type_hints(TrainConfig)
    kinds: dict[str, str] = {}
    for f in dataclasses.fields(TrainConfig):
        hint = hints[f.name]
        if isinstance(hint, types.UnionType):  # ``int | None``: the value part
            args = [a for a in typing.get_args(hint) if a is not type(None)]
            hint = args[0] if len(args) == 1 else hint
        kind = {int: "int", float: "float", str: "str", bool: "bool"}.get(hint)
        if f.name == "action_space":
            kind = "action_space"
        if kind is not None and f.name not in NOT_TUNED:
            kinds[f.name] = kind
    return kinds


def parse_param(text: str) -> ParamSpec:
    """Read one ``--param NAME=DIST:ARGS``.

    Raises:
        TuneError: Unknown setting or distribution (with a suggestion), bad arguments, or a
            distribution that does not suit the setting's type.
    """
    name, eq, rest = (part.strip() for part in text.partition("="))
    dist, colon, args = rest.partition(":")
    if not eq or not name or not colon:
        raise TuneError(f"--param {text!r}: expected NAME=DIST:ARGS, e.g. lr=loguniform:1e-5:1e-3")
    kind = _field_kind(name, text)
    distribution = DISTRIBUTIONS.get(dist.strip().lower())
    if distribution is None:
        raise TuneError(
            f"--param {text!r}: unknown distribution {dist!r}{_hint(dist, DISTRIBUTIONS)}"
        )
    if kind not in distribution.kinds:
        fits = ", ".join(d.usage for d in DISTRIBUTIONS.values() if kind in d.kinds)
        raise TuneError(f"--param {text!r}: {name} takes {KIND_WORDS[kind]}; use {fits}")
    try:
        fields = distribution.parse(args.strip(), kind)
    except ValueError as exc:
        raise TuneError(f"--param {text!r}: {distribution.usage}: {exc}") from None
    return ParamSpec(name=name, kind=dist.strip().lower(), **fields)


def parse_params(texts: list[str] | tuple[str, ...], base: TrainConfig) -> tuple[ParamSpec, ...]:
    """Read every ``--param`` and check each value it can produce against ``base``.

    Raises:
        TuneError: A malformed or invalid spec, a setting given twice, or no spec at all.
    """
    if not texts:
        raise TuneError("give at least one --param NAME=DIST:ARGS, e.g. lr=loguniform:1e-5:1e-3")
    specs = tuple(parse_param(t) for t in texts)
    names = [s.name for s in specs]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise TuneError(f"--param: {', '.join(twice)} given more than once")
    for spec in specs:
        check_spec(spec, base)
    return specs


def check_spec(spec: ParamSpec, base: TrainConfig) -> None:
    """Check that every value ``spec`` can draw makes a valid configuration from ``base``.

    Raises:
        TuneError: The first invalid value, with the config's own explanation.
    """
    for value in spec.values_to_check():
        try:
            config = base.merged(**{spec.name: to_setting(spec.name, value)})
            _FIELD_CHECKS.get(spec.name, lambda c: None)(config)
        except (ConfigError, ActionSpaceError, RewardFunctionError, ValueError) as exc:
            message = str(exc).removeprefix("option: ")
            raise TuneError(f"--param {spec.describe()}: {spec.name}={value}: {message}") from None


def to_setting(name: str, value: ParamValue) -> Any:
    """A drawn value as the TrainConfig setting (action-space text becomes an action space)."""
    kind = tunable_fields().get(name)
    if kind == "action_space":
        space: ActionSpace = parse_action_space_option(str(value))
        return space
    if kind == "float":
        return float(value)
    if kind == "int":
        return int(value)
    return value


def trial_settings(specs: tuple[ParamSpec, ...], params: dict[str, Any]) -> dict[str, Any]:
    """A trial's drawn ``params`` (as the study stores them) as TrainConfig settings."""
    return {s.name: to_setting(s.name, params[s.name]) for s in specs if s.name in params}


def _field_kind(name: str, text: str) -> str:
    kinds = tunable_fields()
    if name in kinds:
        return kinds[name]
    if name in NOT_TUNED:
        raise TuneError(f"--param {text!r}: {name} is not tuned: {NOT_TUNED[name]}")
    if name in {f.name for f in dataclasses.fields(TrainConfig)}:
        raise TuneError(f"--param {text!r}: {name} is not tuned: it is not a single value")
    raise TuneError(f"--param {text!r}: unknown setting {name!r}{_hint(name, kinds)}")


def _hint(word: str, known: Any) -> str:
    close = difflib.get_close_matches(word.strip(), list(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _check_reward(config: TrainConfig) -> None:
    from racer.rewards.loader import load_reward_function
    from racer.train.rewardfile import resolve_reward

    load_reward_function(resolve_reward(config.reward))


_FIELD_CHECKS: dict[str, Callable[[TrainConfig], None]] = {"reward": _check_reward}
"""Checks beyond TrainConfig's own validation, by field (a reward must load)."""
