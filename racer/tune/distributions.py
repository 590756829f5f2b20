"""``--param`` distributions: a registry of how each reads its arguments and draws a value.

- ``loguniform:LOW:HIGH``: a float drawn on a log scale (learning rates, entropy bonuses);
- ``uniform:LOW:HIGH``: a float drawn on a linear scale;
- ``int:LOW:HIGH[:STEP]``: a whole number from LOW to HIGH (both included);
- ``choice:A,B,C``: one of the values, each read as the setting's type (an int, a float, text,
  true/false). Values that hold commas themselves (action spaces in ``racer train``'s
  ``grid:`` syntax) are separated with ``|`` instead.

This module imports no optimisation library: a spec draws from anything with
``optuna.Trial``'s ``suggest_*`` methods.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

ParamValue = int | float | str | bool
"""A value as the study stores it (action spaces stay in their ``grid:`` text)."""

MAX_CHECKED_INTS = 1024
"""Integer ranges up to this many values are checked value by value (else the two ends)."""


class _Trial(Protocol):
    """The part of ``optuna.Trial`` a spec draws its value with."""

    def suggest_float(self, name: str, low: float, high: float, *, log: bool = ...) -> float: ...

    def suggest_int(self, name: str, low: int, high: int, *, step: int = ...) -> int: ...

    def suggest_categorical(self, name: str, choices: Any) -> Any: ...


@dataclass(frozen=True)
class ParamSpec:
    """One tuned setting and the distribution its values are drawn from.

    Attributes:
        name: The TrainConfig field.
        kind: The distribution (a :data:`DISTRIBUTIONS` key).
        low: Lower bound (range distributions).
        high: Upper bound (range distributions), included.
        step: Step of an ``int`` range.
        choices: The values of a ``choice``.
    """

    name: str
    kind: str
    low: float = 0.0
    high: float = 0.0
    step: int = 1
    choices: tuple[ParamValue, ...] = ()

    def suggest(self, trial: _Trial) -> ParamValue:
        """Draw this setting's value for a trial (``optuna.Trial``)."""
        return DISTRIBUTIONS[self.kind].suggest(self, trial)

    def describe(self) -> str:
        """The ``NAME=DIST:ARGS`` text that gives this spec back."""
        if self.kind == "choice":
            texts = [str(c) for c in self.choices]
            sep = "|" if any("," in t for t in texts) else ","
            return f"{self.name}=choice:{sep.join(texts)}"
        args = f"{_num(self.low)}:{_num(self.high)}"
        if self.kind == "int" and self.step != 1:
            args += f":{self.step}"
        return f"{self.name}={self.kind}:{args}"

    def values_to_check(self) -> list[ParamValue]:
        """The values validated before a sweep starts."""
        if self.kind == "choice":
            return list(self.choices)
        if self.kind == "int":
            lo, hi = int(self.low), int(self.high)
            if (hi - lo) // self.step < MAX_CHECKED_INTS:
                return list(range(lo, hi + 1, self.step))
            return [lo, hi - (hi - lo) % self.step]
        return [self.low, self.high]


@dataclass(frozen=True)
class Distribution:
    """A ``--param`` distribution: how its arguments read and how a trial draws from it.

    Attributes:
        usage: The argument syntax, for error messages.
        parse: ``(args, field kind) -> ParamSpec fields``; raises ValueError.
        suggest: Draws a value for a trial.
        kinds: Field kinds it suits.
    """

    usage: str
    parse: Callable[[str, str], dict[str, Any]]
    suggest: Callable[[ParamSpec, _Trial], ParamValue]
    kinds: tuple[str, ...]


def _range(args: str, kind: str, *, log: bool = False) -> dict[str, Any]:
    parts = args.split(":")
    if len(parts) != 2:
        raise ValueError("expected LOW:HIGH")
    low, high = float(parts[0]), float(parts[1])
    if not low < high:
        raise ValueError(f"LOW must be below HIGH, got {args}")
    if log and low <= 0:
        raise ValueError(f"a log scale needs LOW > 0, got {parts[0]}")
    return {"low": low, "high": high}


def _int_range(args: str, kind: str) -> dict[str, Any]:
    parts = args.split(":")
    if len(parts) not in (2, 3):
        raise ValueError("expected LOW:HIGH or LOW:HIGH:STEP")
    low, high = int(parts[0]), int(parts[1])
    step = int(parts[2]) if len(parts) == 3 else 1
    if not low < high:
        raise ValueError(f"LOW must be below HIGH, got {args}")
    if step < 1:
        raise ValueError(f"STEP must be at least 1, got {step}")
    return {"low": low, "high": high, "step": step}


def _choice(args: str, kind: str) -> dict[str, Any]:
    texts = [t.strip() for t in args.split("|" if "|" in args else ",")]
    if len(texts) < 2 or not all(texts):
        raise ValueError("expected at least two values, A,B,... (or A|B|... )")
    values = tuple(_field_value(t, kind) for t in texts)
    if len(set(values)) != len(values):
        raise ValueError(f"a value is given twice in {args}")
    return {"choices": values}


DISTRIBUTIONS: dict[str, Distribution] = {
    "loguniform": Distribution(
        "loguniform:LOW:HIGH",
        lambda args, kind: _range(args, kind, log=True),
        lambda s, t: t.suggest_float(s.name, s.low, s.high, log=True),
        ("float",),
    ),
    "uniform": Distribution(
        "uniform:LOW:HIGH",
        _range,
        lambda s, t: t.suggest_float(s.name, s.low, s.high),
        ("float",),
    ),
    "int": Distribution(
        "int:LOW:HIGH[:STEP]",
        _int_range,
        lambda s, t: t.suggest_int(s.name, int(s.low), int(s.high), step=s.step),
        ("int", "float"),
    ),
    "choice": Distribution(
        "choice:A,B,C",
        _choice,
        lambda s, t: t.suggest_categorical(s.name, list(s.choices)),
        ("int", "float", "str", "bool", "action_space"),
    ),
}
"""``--param`` distributions by name."""


KIND_WORDS = {
    "int": "whole numbers",
    "float": "numbers",
    "str": "names",
    "bool": "true or false",
    "action_space": "action spaces",
}
_BOOLS = {"true": True, "yes": True, "on": True, "1": True,
          "false": False, "no": False, "off": False, "0": False}  # fmt: skip


def _field_value(text: str, kind: str) -> ParamValue:
    """A choice's value, read as the field's type (int, then float, then text, for text)."""
    if kind == "bool":
        if text.lower() not in _BOOLS:
            raise ValueError(f"{text!r} is not true or false")
        return _BOOLS[text.lower()]
    if kind in ("str", "action_space"):
        return text
    number = _scalar(text)
    if isinstance(number, str) or (kind == "int" and isinstance(number, float)):
        raise ValueError(f"{text!r} is not one of the {KIND_WORDS[kind]} this setting takes")
    return float(number) if kind == "float" else number


def _scalar(text: str) -> int | float | str:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) >= 1 else f"{x:g}"
