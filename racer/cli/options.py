"""Helpers shared by the commands' option declarations."""

from __future__ import annotations

import typer


def panel_option(*names: str, help: str, panel: str, **kw: object) -> typer.models.OptionInfo:
    """A typer option shown under the help panel ``panel``."""
    return typer.Option(*names, help=help, rich_help_panel=panel, **kw)  # type: ignore[arg-type]
