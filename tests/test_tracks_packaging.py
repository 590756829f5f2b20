"""Shipped data: every racer package is listed for the wheel, and built-ins are found."""

from __future__ import annotations

import tomllib
from pathlib import Path

from racer.sim.track_registry import builtin_tracks_dir

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_is_listed_in_pyproject() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    on_disk = {
        ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "racer").rglob("__init__.py")
    }
    missing = on_disk - listed
    assert not missing, f"add {sorted(missing)} to [tool.setuptools] packages in pyproject.toml"
    assert config["package-dir"]["racer._data.tracks"] == "tracks"
    assert config["package-dir"]["racer._data.reward_functions"] == "reward_functions"


def test_builtin_tracks_dir_in_checkout() -> None:
    folder = builtin_tracks_dir()
    assert (folder / "reinvent_base.json").is_file()
    assert (folder / "NOTICE.md").is_file()
