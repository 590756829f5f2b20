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

from racer.cli.analyze import analyze  # noqa: E402
from racer.cli.demo import demo  # noqa: E402

app.command("demo")(demo)
app.command("analyze")(analyze)

from racer.cli.evaluate import evaluate  # noqa: E402

app.command("evaluate")(evaluate)

from racer.cli.train import train  # noqa: E402

app.command("train")(train)


if __name__ == "__main__":
    app()
