"""Loading and calling users' DeepRacer reward functions.

A reward file is executed as a module of its own, so anything DeepRacer ran works here too:
module-level state, classes and dataclasses, ``math``/``numpy`` imports, imports of sibling files
in the same folder, files written beside it, and several definitions of ``reward_function`` (the
last one wins, as Python says).

Return values: DeepRacer passes the result through ``float()``. We accept the same numbers it
does — ``int``, ``float``, ``bool`` (``True`` is 1.0, ``False`` is 0.0), numpy numbers and
one-element numpy arrays — and reject anything else (``None``, strings, lists) with an error,
because such a return is always a bug. The result must be finite and within ``[-1e5, 1e5]``.
"""

from __future__ import annotations

import copy
import inspect
import itertools
import math
import numbers
import re
import sys
import traceback
import types
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

MAX_ABS_REWARD = 1e5
"""Largest accepted reward magnitude."""

_COUNTER = itertools.count()


class RewardFunctionError(Exception):
    """A reward function failed; the message names the file, the line, the step and the params.

    Attributes:
        path: The reward file.
        line: Line in the reward file where it happened, if known.
        step: The ``step`` argument of the failing call, if any.
    """

    def __init__(
        self, message: str, path: Path, line: int | None = None, step: int | None = None
    ) -> None:
        super().__init__(message)
        self.path = path
        self.line = line
        self.step = step


class RewardLoadError(RewardFunctionError):
    """A reward file could not be loaded (missing, syntax error, no usable ``reward_function``)."""


class RewardFunction:
    """A loaded reward function: ``reward = rf(params, step)``.

    Attributes:
        path: The reward file.
        module: The module the file was executed in.
    """

    def __init__(self, path: Path, module: types.ModuleType, fn: Callable[..., Any]) -> None:
        self.path = path
        self.module = module
        self._fn = fn

    @property
    def name(self) -> str:
        """The file's name without its folder."""
        return self.path.name

    @property
    def line(self) -> int:
        """Line of the ``def reward_function`` in use."""
        code = getattr(self._fn, "__code__", None)
        return int(code.co_firstlineno) if code is not None else 0

    def __repr__(self) -> str:
        return f"RewardFunction({str(self.path)!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Picklable for worker processes: the file is loaded again there (fresh module state).
        return (load_reward_function, (self.path,))

    def __call__(self, params: Mapping[str, Any], step: int) -> float:
        """Call the reward function with a fresh deep copy of ``params``.

        Args:
            params: DeepRacer's params (see :func:`racer.sim.params.build_params`).
            step: Step number used in error messages.

        Returns:
            The reward as a float.

        Raises:
            RewardFunctionError: On an exception, a non-number, NaN/inf or ``|reward| > 1e5``.
        """
        try:
            result = self._fn(_fresh_copy(params))
        except Exception as exc:
            raise self._exception_error(exc, params, step) from exc
        value = _as_float(result)
        problem = None
        if value is None:
            problem = (
                f"returned {_short_repr(result)} of type {type(result).__name__}, not a number"
            )
        elif not math.isfinite(value):
            problem = f"returned {value}"
        elif abs(value) > MAX_ABS_REWARD:
            problem = f"returned {value:g}, outside [-{MAX_ABS_REWARD:g}, {MAX_ABS_REWARD:g}]"
        if problem is not None:
            msg = (
                f"{self.path}:{self.line}: reward_function {problem} at step {step}\n"
                f"params at step {step}:\n{format_params(params)}"
            )
            raise RewardFunctionError(msg, self.path, self.line, step)
        return value  # type: ignore[return-value]

    def _exception_error(
        self, exc: BaseException, params: Mapping[str, Any], step: int
    ) -> RewardFunctionError:
        line = _line_in_file(exc, self.path)
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        source = _source_line(self.path, line)
        text = f"{where}: {type(exc).__name__}: {exc} (at step {step})"
        if source:
            text += f"\n    {source}"
        text += f"\nparams at step {step}:\n{format_params(params)}"
        return RewardFunctionError(text, self.path, line, step)


def load_reward_function(path: str | Path) -> RewardFunction:
    """Load a reward file and return its last ``reward_function`` definition.

    Args:
        path: A ``.py`` file defining ``reward_function(params)``.

    Returns:
        The callable wrapper.

    Raises:
        RewardLoadError: The file is missing or unreadable, has a syntax error, fails while
            executing, or defines no ``reward_function`` taking one argument.
    """
    p = Path(path).expanduser().resolve()
    if not p.is_file():
        raise RewardLoadError(f"{p}: reward function file not found", p)
    try:
        source = p.read_bytes()
    except OSError as exc:
        raise RewardLoadError(f"{p}: cannot read reward function file: {exc}", p) from exc
    try:
        code = compile(source, str(p), "exec", dont_inherit=True)
    except SyntaxError as exc:
        text = (exc.text or "").rstrip("\n").strip()
        msg = f"{p}:{exc.lineno}: syntax error: {exc.msg}"
        raise RewardLoadError(msg + (f"\n    {text}" if text else ""), p, exc.lineno) from exc
    module = _new_module(p)
    try:
        exec(code, module.__dict__)
    except Exception as exc:
        line = _line_in_file(exc, p)
        where = f"{p}:{line}" if line is not None else str(p)
        msg = f"{where}: {type(exc).__name__} while loading the reward file: {exc}"
        raise RewardLoadError(msg, p, line) from exc
    fn = module.__dict__.get("reward_function")
    if fn is None:
        raise RewardLoadError(f"{p}: defines no function named reward_function(params)", p)
    if not callable(fn):
        raise RewardLoadError(f"{p}: reward_function is a {type(fn).__name__}, not a function", p)
    _check_signature(fn, p)
    return RewardFunction(p, module, fn)


def _new_module(path: Path) -> types.ModuleType:
    """A fresh module registered in ``sys.modules``, with the file's folder importable."""
    stem = re.sub(r"\W", "_", path.stem)
    name = f"racer_reward_{stem}_{next(_COUNTER)}"
    module = types.ModuleType(name, f"Reward function loaded from {path}")
    module.__file__ = str(path)
    sys.modules[name] = module
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return module


def _check_signature(fn: Callable[..., Any], path: Path) -> None:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):  # builtins and odd callables: trust them
        return
    try:
        sig.bind({})
    except TypeError:
        code = getattr(fn, "__code__", None)
        line = int(code.co_firstlineno) if code is not None else None
        where = f"{path}:{line}" if line is not None else str(path)
        raise RewardLoadError(
            f"{where}: reward_function{sig} must take exactly one argument (params)", path, line
        ) from None


def _line_in_file(exc: BaseException, path: Path) -> int | None:
    """The line of the innermost traceback frame that runs in ``path``."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == str(path):
            line = frame.lineno
    if line is None and isinstance(exc, SyntaxError) and exc.filename == str(path):
        line = exc.lineno
    return line


def _source_line(path: Path, line: int | None) -> str:
    if line is None:
        return ""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""


def _as_float(value: Any) -> float | None:
    """``float(value)`` for the numbers DeepRacer accepts; None for anything else."""
    if isinstance(value, numbers.Real):  # int, float, bool, numpy numbers
        return float(value)
    if isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "biuf":
        return float(value.reshape(()))
    return None


_SCALARS = frozenset({float, int, bool})


def _fresh_copy(params: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of ``params``, fast for the plain types :func:`build_params` produces."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        kind = type(value)
        if kind in _SCALARS or value is None or kind is str:
            out[key] = value
        elif kind is list and _flat_types(value) <= _SCALARS:
            out[key] = list(value)
        elif kind is list and _flat_types(value) == {tuple}:
            inner = set(map(type, itertools.chain.from_iterable(value)))
            out[key] = list(value) if inner <= _SCALARS else copy.deepcopy(value)
        elif kind is list and _flat_types(value) == {list}:
            inner = set(map(type, itertools.chain.from_iterable(value)))
            out[key] = [list(v) for v in value] if inner <= _SCALARS else copy.deepcopy(value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _flat_types(values: list[Any]) -> set[type]:
    return set(map(type, values))


def _short_repr(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _format_value(key: str, value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list | tuple) and key == "waypoints" and len(value) > 3:
        first = ", ".join(_format_value("", v) for v in value[:2])
        return f"[{first}, ..., {_format_value('', value[-1])}] ({len(value)} points)"
    if isinstance(value, list | tuple):
        items = [_format_value("", v) for v in value[:8]]
        more = f", ... ({len(value)} items)" if len(value) > 8 else ""
        body = ", ".join(items) + more
        return f"({body})" if isinstance(value, tuple) else f"[{body}]"
    return _short_repr(value, 200)


def format_params(params: Mapping[str, Any], indent: str = "  ") -> str:
    """Pretty, compact params for error messages: one key a line, waypoints abbreviated."""
    if not params:
        return f"{indent}(empty)"
    width = max(len(str(k)) for k in params)
    return "\n".join(
        f"{indent}{str(k).ljust(width)} = {_format_value(str(k), v)}" for k, v in params.items()
    )
