"""The example reward functions shipped with racer (the top-level ``reward_functions/`` folder).

In a source checkout they are read from ``<repo>/reward_functions``; in an installed package from
the package data ``racer._data.reward_functions``.
"""

from __future__ import annotations

import ast
import difflib
from pathlib import Path

import racer


class UnknownExampleError(ValueError):
    """No example reward function has that name; the message suggests close names."""


def examples_dir() -> Path:
    """The folder holding the example reward functions (package data, else the checkout).

    Raises:
        FileNotFoundError: Neither the installed package data nor a source checkout has them.
    """
    package = Path(racer.__file__).resolve().parent
    for candidate in (package / "_data" / "reward_functions", package.parent / "reward_functions"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"{package}: example reward functions not found (a broken installation?)"
    )


def list_examples() -> list[str]:
    """Names of the example reward functions (file names without ``.py``), sorted."""
    return sorted(
        p.stem for p in examples_dir().glob("*.py") if not p.name.startswith("_") and p.is_file()
    )


def example_path(name: str) -> Path:
    """The file of an example reward function.

    Args:
        name: Example name, with or without ``.py`` (e.g. ``"follow_centerline"``).

    Returns:
        Path to the ``.py`` file.

    Raises:
        UnknownExampleError: No such example; the message lists close names or all of them.
    """
    stem = name[:-3] if name.endswith(".py") else name
    names = list_examples()
    if stem not in names:
        close = difflib.get_close_matches(stem, names, n=3)
        hint = f"did you mean {', '.join(close)}?" if close else f"examples: {', '.join(names)}"
        raise UnknownExampleError(f"unknown example reward function {name!r}; {hint}")
    return examples_dir() / f"{stem}.py"


def example_summary(name: str) -> str:
    """First line of an example's module docstring (empty when it has none)."""
    doc = ast.get_docstring(ast.parse(example_path(name).read_text(encoding="utf-8")))
    return doc.strip().splitlines()[0] if doc else ""
