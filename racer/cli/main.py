"""The ``racer`` command: a thin typer front end; each command delegates to a library function."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    help="racer: train, evaluate and race 1/18-scale cars in a fast simulator.",
    no_args_is_help=True,
    add_completion=False,
)

# Sub-command groups live in their own modules; each exposes a typer app named `app`.
_GROUPS = {
    "tracks": ("racer.cli.tracks", "List, show, import and generate tracks."),
    "reward": ("racer.cli.reward", "Check reward functions."),
}

for _name, (_module, _help) in _GROUPS.items():
    try:
        _sub = importlib.import_module(_module).app
    except ModuleNotFoundError as exc:  # a group not written yet
        if exc.name != _module:
            raise
        continue
    app.add_typer(_sub, name=_name, help=_help)

# Single commands: name -> (module, function). A module not written yet is skipped.
_COMMANDS = {
    "demo": ("racer.cli.demo", "demo"),
    "train": ("racer.cli.train", "train"),
    "evaluate": ("racer.cli.evaluate", "evaluate"),
    "analyze": ("racer.cli.analyze", "analyze"),
    "export": ("racer.cli.export", "export"),
    "drive": ("racer.cli.drive", "drive"),
    "tune": ("racer.cli.tune", "tune"),
    "server": ("racer.cli.server", "server"),
    "worker": ("racer.cli.server", "worker"),
    "submit": ("racer.cli.submit", "submit"),
    "join": ("racer.cli.submit", "join"),
}

for _name, (_module, _function) in _COMMANDS.items():
    try:
        _command = getattr(importlib.import_module(_module), _function)
    except ModuleNotFoundError as exc:  # a command not written yet
        if exc.name != _module:
            raise
        continue
    app.command(_name)(_command)


if __name__ == "__main__":
    app()
