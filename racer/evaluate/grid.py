"""Race many models on many tracks under many perturbations: one evaluation per cell.

:func:`evaluate_grid` runs :func:`racer.evaluate.evaluate` for every (model, track,
perturbation) cell, with the same trials and seed in every cell, and gathers one table:
completion, best and mean lap, progress, off-tracks and crashes per cell. The perturbations are
the rows of the robustness table (:data:`racer.evaluate.robustness.PERTURBATIONS`); camera ones
are skipped for a model without a camera.

Without ``address`` the cells run here, one after another. With a Ray address each cell is one
Ray task of one CPU and Ray spreads them over the cluster's cores and machines (``"local"``
starts a Ray instance on this machine, ``"auto"`` joins the one ``ray start`` began here,
``HOST:6379`` a remote head). Every worker loads its models itself, so the model folders must be
at the same paths on every machine (a shared filesystem, or copies); each cell's files are
written on the machine that ran it. See ``docs/scaling.md``.

Files, in ``out_dir``: ``grid.json`` and ``grid.csv`` (the table) and each cell's evaluation
files in ``<model>/<track>/<perturbation>/``.
"""

from __future__ import annotations

import csv
import functools
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from racer.evaluate.config import EvalConfigError, eval_config_for_model
from racer.evaluate.robustness import CAMERA_SENSORS, PERTURBATIONS, RobustnessRow
from racer.evaluate.robustness import perturbation_config as _randomization
from racer.evaluate.runner import evaluate

GRID_JSON = "grid.json"
GRID_CSV = "grid.csv"
CSV_COLUMNS = (
    "model", "track", "perturbation", "trials", "completed", "completion_rate", "best_lap_time",
    "mean_lap_time", "mean_progress", "off_track_count", "crash_count", "folder",
)  # fmt: skip


class GridCellError(RuntimeError):
    """A cell's evaluation failed; the message names the cell and the cause."""


@dataclass(frozen=True)
class GridCell:
    """One evaluation of the grid.

    Attributes:
        model: Model reference (a run name under ``models_dir``, a run folder or a ``.zip``).
        track: Track name, as ``racer evaluate --track`` takes it.
        perturbation: A key of :data:`~racer.evaluate.robustness.PERTURBATIONS`.
    """

    model: str
    track: str
    perturbation: str

    @property
    def model_name(self) -> str:
        """Display name of the model: the run folder's name or the zip's stem."""
        path = Path(self.model)
        return path.stem if path.suffix == ".zip" else path.name

    @property
    def folder(self) -> str:
        """Where its files go, relative to the grid folder."""
        return f"{_slug(self.model_name)}/{_slug(self.track)}/{self.perturbation}"

    def __str__(self) -> str:
        return f"{self.model_name} on {self.track} ({self.perturbation})"


@dataclass(frozen=True)
class GridSettings:
    """What every cell shares (sent to each worker with its cell).

    Attributes:
        trials: Trials per cell.
        seed: Seed of every cell (trial *k* resets with ``seed + k``).
        out_dir: The grid folder, absolute.
        models_dir: Where run names are looked up, absolute.
        which: Weights to load: ``best`` or ``latest``.
        strength: Test strength of the perturbations (a multiple of the ``sim2real`` preset).
        race: Other :func:`~racer.evaluate.eval_config_for_model` settings (race type, boxes,
            laps, penalties, time cap...).
    """

    trials: int
    seed: int
    out_dir: Path
    models_dir: Path
    which: str = "best"
    strength: float = 1.0
    race: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GridRow:
    """One cell's results: the model, the track and the robustness row of its evaluation."""

    model: str
    track: str
    result: RobustnessRow

    def to_dict(self) -> dict[str, Any]:
        """A flat JSON-ready mapping (the row's settings included)."""
        row = self.result.to_dict()
        return {"model": self.model, "track": self.track, **row}


@dataclass(frozen=True)
class GridReport:
    """The whole grid.

    Attributes:
        rows: One per cell run, model-major, then track, then perturbation.
        skipped: Cells not run (camera perturbations of a model without a camera).
        settings: What every cell shared.
        files: ``json`` and ``csv``, the table's files.
    """

    rows: tuple[GridRow, ...]
    skipped: tuple[GridCell, ...]
    settings: GridSettings
    files: dict[str, Path] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The ``grid.json`` document."""
        s = self.settings
        return {
            "trials": s.trials,
            "seed": s.seed,
            "strength": s.strength,
            "which": s.which,
            "race": dict(s.race),
            "rows": [row.to_dict() for row in self.rows],
            "skipped": [vars(cell) for cell in self.skipped],
        }

    def write(self) -> dict[str, Path]:
        """Write ``grid.json`` and ``grid.csv`` into the grid folder."""
        out = self.settings.out_dir
        out.mkdir(parents=True, exist_ok=True)
        files = {"json": out / GRID_JSON, "csv": out / GRID_CSV}
        files["json"].write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        with files["csv"].open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(row.to_dict() for row in self.rows)
        self.files.update(files)
        return files


CellCallback = Callable[[GridCell, GridRow | None], None]


def evaluate_grid(
    models: Sequence[str],
    tracks: Sequence[str],
    perturbations: Sequence[str] = ("clean",),
    *,
    trials: int = 3,
    seed: int = 0,
    out_dir: str | Path = Path("out/grid"),
    models_dir: str | Path = Path("models"),
    address: str | None = None,
    which: str = "best",
    strength: float = 1.0,
    race: Mapping[str, Any] | None = None,
    on_cell: CellCallback | None = None,
) -> GridReport:
    """Evaluate every (model, track, perturbation) cell and write the table.

    Args:
        models: Model references (run names, run folders or ``.zip`` files).
        tracks: Track names (``racer tracks list``, ``generated:SEED``, ``NAME:reverse``).
        perturbations: Names from :data:`~racer.evaluate.robustness.PERTURBATIONS`.
        trials: Trials per cell.
        seed: Seed of every cell.
        out_dir: The grid folder.
        models_dir: Where run names are looked up.
        address: Ray address (``local``, ``auto``, ``HOST:PORT``); None runs the cells here.
        which: Weights to load: ``best`` or ``latest``.
        strength: Test strength of the perturbations.
        race: Other evaluation settings for every cell (see
            :func:`~racer.evaluate.eval_config_for_model`).
        on_cell: Called as each cell ends, with its row (None: skipped).

    Returns:
        The report; ``grid.json`` and ``grid.csv`` are written into ``out_dir``.

    Raises:
        EvalConfigError: An empty list or an unknown perturbation.
        GridCellError: A cell failed (the first failure stops the grid).
    """
    cells = grid_cells(models, tracks, perturbations)
    settings = GridSettings(
        trials=trials,
        seed=seed,
        out_dir=Path(out_dir).expanduser().resolve(),
        models_dir=Path(models_dir).expanduser().resolve(),
        which=which,
        strength=strength,
        race=dict(race or {}),
    )
    results: dict[GridCell, GridRow | None] = {}

    def done(cell: GridCell, row: GridRow | None) -> None:
        results[cell] = row
        if on_cell is not None:
            on_cell(cell, row)

    if address is None:
        for cell in cells:
            done(cell, _run_here(cell, settings))
    else:
        _run_on_ray(cells, settings, address, done)
    report = GridReport(
        rows=tuple(row for cell in cells if (row := results[cell]) is not None),
        skipped=tuple(cell for cell in cells if results[cell] is None),
        settings=settings,
    )
    report.write()
    return report


def grid_cells(
    models: Sequence[str], tracks: Sequence[str], perturbations: Sequence[str]
) -> list[GridCell]:
    """Every cell, model-major; model paths that exist here are made absolute.

    Raises:
        EvalConfigError: An empty list or an unknown perturbation (with a suggestion).
    """
    import difflib

    for what, names in (("models", models), ("tracks", tracks), ("perturbations", perturbations)):
        if not names:
            raise EvalConfigError(f"the grid needs at least one of {what}")
    for name in perturbations:
        if name not in PERTURBATIONS:
            close = difflib.get_close_matches(name, list(PERTURBATIONS), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise EvalConfigError(
                f"unknown perturbation {name!r}{hint} (known: {', '.join(PERTURBATIONS)})"
            )
    refs = [str(Path(m).resolve()) if Path(m).exists() else m for m in models]
    return [GridCell(m, t, p) for m in refs for t in tracks for p in perturbations]


def run_cell(cell: GridCell, settings: GridSettings) -> GridRow | None:
    """Evaluate one cell (in this process) and write its files.

    Returns:
        Its row, or None when the perturbation needs a camera the model does not have.
    """
    policy = _load_policy(cell.model, settings.which, settings.models_dir)
    perturbation = PERTURBATIONS[cell.perturbation]
    if perturbation.camera and not any(s in CAMERA_SENSORS for s in policy.config.sensors):
        return None
    randomization = _randomization(perturbation, settings.strength)
    config = eval_config_for_model(
        policy.config,
        track=cell.track,
        trials=settings.trials,
        seed=settings.seed,
        randomization=randomization,
        **settings.race,
    )
    report = evaluate(
        policy,
        config,
        settings.out_dir / cell.folder,
        model_config=policy.config,
        model_name=cell.model_name,
    )
    row = RobustnessRow.from_report(perturbation, randomization, report, cell.folder)
    return GridRow(cell.model_name, cell.track, row)


def _run_here(cell: GridCell, settings: GridSettings) -> GridRow | None:
    """:func:`run_cell`, its failure wrapped in a :class:`GridCellError` naming the cell."""
    try:
        return run_cell(cell, settings)
    except Exception as exc:
        raise GridCellError(f"{cell}: {type(exc).__name__}: {exc}") from exc


def _ray_cell(cell: GridCell, settings: GridSettings) -> GridRow | None:
    """A Ray task: one PyTorch thread, then :func:`_run_here`."""
    os.environ["RACER_TORCH_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)
    return _run_here(cell, settings)


def _run_on_ray(
    cells: list[GridCell],
    settings: GridSettings,
    address: str,
    done: Callable[[GridCell, GridRow | None], None],
) -> None:
    """Run every cell as a Ray task of one CPU; report each as it ends."""
    import ray

    with ray_connection(address):
        task = ray.remote(num_cpus=1, max_retries=0)(_ray_cell)
        pending = {task.remote(cell, settings): cell for cell in cells}
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                cell = pending.pop(ready[0])
                done(cell, _ray_result(ready[0], cell))
        finally:
            for ref in pending:
                ray.cancel(ref)


def _ray_result(ref: Any, cell: GridCell) -> Any:
    """``ray.get``; a failure raises the task's :class:`GridCellError`, or one naming the cell."""
    import ray

    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        if isinstance(exc.cause, GridCellError):
            raise exc.cause from None
        raise GridCellError(f"{cell}: {exc}") from exc
    except ray.exceptions.RayError as exc:  # the worker died, the node was lost...
        raise GridCellError(f"{cell}: {type(exc).__name__}: {exc}") from exc


@contextmanager
def ray_connection(address: str | None) -> Iterator[None]:
    """Connected to Ray for the block; disconnected after unless it was connected before.

    Args:
        address: ``local`` (start a Ray instance here for the block), ``auto`` (the instance
            ``ray start`` began on this machine, or ``RAY_ADDRESS``), ``HOST:PORT`` of a head
            node, or None (``auto`` if there is one, else ``local``).

    Raises:
        ConnectionError: No Ray cluster at that address (the message says how to start one).
    """
    import ray

    if ray.is_initialized():
        yield
        return
    options: dict[str, Any] = {"include_dashboard": False} if address in ("local", None) else {}
    try:
        ray.init(address=address, **options)
    except ConnectionError as exc:
        raise ConnectionError(
            f"no Ray cluster at {address!r} ({exc}); start one with `ray start --head` "
            "or use the address 'local' to start Ray on this machine (docs/scaling.md)"
        ) from exc
    try:
        yield
    finally:
        ray.shutdown()


@functools.lru_cache(maxsize=4)
def _load_policy(model: str, which: str, models_dir: Path) -> Any:
    """A loaded policy, kept for the next cells of the same model in this process."""
    from racer.train.policy import load_policy

    return load_policy(model, which=which, models_dir=models_dir)


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "-", name).strip("-") or "x"
