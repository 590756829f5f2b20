"""How well a model stands the sim-to-real gap: one evaluation per perturbation, same seeds.

:func:`evaluate_robustness` races a policy clean (the baseline), then under each perturbation of
:data:`PERTURBATIONS` on its own, then under all of them together. Every run uses the same
evaluation settings and seeds (trial *k* resets with ``seed + k``; randomisation draws from a
generator spawned off that seed, so box places and bot lanes are the same in every row).

The test strength is :meth:`RandomizationConfig.sim2real` scaled by ``strength``, drawn at the
ends of its ranges (``sampling="extreme"``: every trial sees the full offset, with a random
sign) and with blur and JPEG on every frame (see :func:`robustness_randomization`).

Files, in the evaluation folder ``out_dir``: the clean run's usual files (``metrics.json``,
the simtrace, ``laps.png``), each perturbation's in ``robustness/<name>/``, and the table in
``robustness.json``. Image perturbations are skipped for a model without a camera.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from racer.evaluate.config import EvalConfig
from racer.evaluate.policies import Policy
from racer.evaluate.report import EvalReport
from racer.evaluate.runner import evaluate
from racer.sim.randomize import RandomizationConfig
from racer.train.config import TrainConfig

ROBUSTNESS_FILE = "robustness.json"
ROBUSTNESS_DIR = "robustness"
CAMERA_SENSORS = ("FRONT_FACING_CAMERA", "STEREO_CAMERAS")


@dataclass(frozen=True)
class Perturbation:
    """One row of the robustness table.

    Attributes:
        name: Short name (folder name under ``robustness/``).
        fields: The :class:`RandomizationConfig` options it turns on at test strength
            (empty: the clean baseline; None: all of them).
        camera: It changes only camera images (skipped for models without a camera).
        effect: The real-world effect it stands for.
    """

    name: str
    fields: tuple[str, ...] | None
    camera: bool
    effect: str


PERTURBATIONS: dict[str, Perturbation] = {
    p.name: p
    for p in (
        Perturbation("clean", (), False, "the simulator as trained"),
        Perturbation("exposure", ("brightness", "contrast"), True, "auto-exposure, lighting"),
        Perturbation("colors", ("floor_colors", "tape_colors"), True, "another venue's floor"),
        Perturbation(
            "camera_pose", ("camera_pitch_deg", "camera_position_m"), True, "mount tolerance"
        ),
        Perturbation("noise", ("noise",), True, "a cheap camera sensor"),
        Perturbation("blur", ("blur_prob", "blur_sigma"), True, "motion blur, focus"),
        Perturbation(
            "jpeg",
            ("jpeg_prob", "jpeg_min_quality", "jpeg_max_quality"),
            True,
            "the MJPEG camera stream",
        ),
        Perturbation(
            "steering", ("steering_offset_deg", "steering_gain"), False, "servo trim, linkage"
        ),
        Perturbation("speed", ("speed_gain",), False, "battery charge, motor, ESC"),
        Perturbation("latency", ("latency_steps",), False, "inference and actuation delay"),
        Perturbation("all", None, False, "everything at once"),
    )
}
"""The robustness table's rows, in order: clean first, all last."""


def robustness_randomization(strength: float = 1.0) -> RandomizationConfig:
    """Every option at robustness-test strength.

    :meth:`RandomizationConfig.sim2real` scaled by ``strength``, drawn at the ends of the
    ranges (``sampling="extreme"``), with blur and JPEG on every frame at the largest sigma and
    the lowest quality.

    Args:
        strength: Scales the preset (1: the recommended training range).
    """
    preset = RandomizationConfig.sim2real(strength)
    return dataclasses.replace(
        preset,
        blur_prob=1.0 if preset.blur_sigma else 0.0,
        jpeg_prob=1.0 if strength > 0 else 0.0,
        sampling="extreme",
    )


def perturbation_config(perturbation: Perturbation, strength: float = 1.0) -> RandomizationConfig:
    """The randomisation of one row: its options at test strength, everything else off."""
    full = robustness_randomization(strength)
    if perturbation.fields is None:
        return full
    if not perturbation.fields:
        return RandomizationConfig()
    keep = {name: getattr(full, name) for name in perturbation.fields}
    return RandomizationConfig(sampling="extreme", **keep)


@dataclass(frozen=True)
class RobustnessRow:
    """One perturbation's results.

    Attributes:
        perturbation: Its name (a key of :data:`PERTURBATIONS`).
        effect: The real-world effect it stands for.
        settings: The randomisation options it set (non-default values).
        trials: Trials raced.
        completed: Trials that finished their laps.
        completion_rate: ``completed / trials``.
        mean_progress: Mean progress of the trials, percent.
        mean_lap_time: Mean time of the completed trials, seconds (None: none completed).
        best_lap_time: Fastest completed trial, seconds.
        off_track_count: Off-tracks over all trials.
        crash_count: Crashes over all trials.
        folder: Where its evaluation files are, relative to the evaluation folder.
    """

    perturbation: str
    effect: str
    settings: dict[str, Any]
    trials: int
    completed: int
    completion_rate: float
    mean_progress: float
    mean_lap_time: float | None
    best_lap_time: float | None
    off_track_count: int
    crash_count: int
    folder: str

    @classmethod
    def from_report(
        cls,
        perturbation: Perturbation,
        settings: RandomizationConfig,
        report: EvalReport,
        folder: str,
    ) -> RobustnessRow:
        """Summarise an evaluation."""
        trials = report.trials
        return cls(
            perturbation=perturbation.name,
            effect=perturbation.effect,
            settings={k: v for k, v in settings.changes().items() if k != "sampling"},
            trials=len(trials),
            completed=report.completed,
            completion_rate=report.completion_rate,
            mean_progress=sum(t.progress for t in trials) / len(trials) if trials else 0.0,
            mean_lap_time=report.mean_lap_time,
            best_lap_time=report.best_lap_time,
            off_track_count=sum(t.off_track_count for t in trials),
            crash_count=sum(t.crash_count for t in trials),
            folder=folder,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (times rounded to the millisecond)."""
        out = dataclasses.asdict(self)
        for key in ("completion_rate", "mean_progress"):
            out[key] = round(out[key], 4)
        for key in ("mean_lap_time", "best_lap_time"):
            out[key] = None if out[key] is None else round(out[key], 3)
        return out


@dataclass(frozen=True)
class RobustnessReport:
    """The robustness table of a model.

    Attributes:
        config: The evaluation settings every row shares (its randomisation is the clean one).
        model: The model's name, when known.
        track: Display name of the track.
        strength: Test strength (multiplies the ``sim2real`` preset).
        rows: One per perturbation, clean first.
        skipped: Perturbations not run (image ones for a model without a camera).
        out_dir: The evaluation folder.
        files: ``robustness`` (the JSON table) and ``baseline`` (the clean run's metrics).
    """

    config: EvalConfig
    model: str | None
    track: str
    strength: float
    rows: tuple[RobustnessRow, ...]
    skipped: tuple[str, ...] = ()
    out_dir: Path = Path(".")
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def baseline(self) -> RobustnessRow:
        """The clean row."""
        return self.rows[0]

    def to_dict(self) -> dict[str, Any]:
        """The whole ``robustness.json`` document."""
        return {
            "model": self.model,
            "track": self.track,
            "race_type": self.config.race_type,
            "trials": self.config.trials,
            "seed": self.config.seed,
            "strength": self.strength,
            "sampling": "extreme",
            "rows": [row.to_dict() for row in self.rows],
            "skipped": list(self.skipped),
            "config": self.config.to_dict(),
        }

    def write(self, path: str | Path) -> Path:
        """Write ``robustness.json``."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return p


RowCallback = Callable[[RobustnessRow], None]


def evaluate_robustness(
    policy: Policy,
    config: EvalConfig,
    out_dir: str | Path,
    *,
    strength: float = 1.0,
    model_config: TrainConfig | None = None,
    model_name: str | None = None,
    video: bool = False,
    on_row: RowCallback | None = None,
) -> RobustnessReport:
    """Race a policy clean, under each perturbation, and under all of them, with the same seeds.

    Args:
        policy: The driver (see :func:`racer.evaluate.evaluate`).
        config: Track, race, trials, penalties and seed shared by every row (its own
            ``randomization`` is ignored: each row sets its own).
        out_dir: The evaluation folder (clean files there, the others in ``robustness/``).
        strength: Test strength, a multiple of the ``sim2real`` preset (see
            :func:`robustness_randomization`).
        model_config: The model's training configuration (sensors, action space...);
            defaults to ``policy.config``.
        model_name: Shown in the reports.
        video: Also write the clean run's ``video.mp4``.
        on_row: Called with each row as soon as it is done.

    Returns:
        The report; ``robustness.json`` is written into ``out_dir``.
    """
    if strength < 0:
        raise ValueError(f"strength must not be negative, got {strength}")
    model = model_config or getattr(policy, "config", None)
    model = model if isinstance(model, TrainConfig) else TrainConfig()
    has_camera = any(s in CAMERA_SENSORS for s in model.sensors)
    out = Path(out_dir)
    rows: list[RobustnessRow] = []
    skipped: list[str] = []
    track = ""
    for p in PERTURBATIONS.values():
        if p.camera and not has_camera:
            skipped.append(p.name)
            continue
        settings = perturbation_config(p, strength)
        folder = out if p.name == "clean" else out / ROBUSTNESS_DIR / p.name
        report = evaluate(
            policy,
            dataclasses.replace(config, randomization=settings),
            folder,
            video=video and p.name == "clean",
            model_config=model,
            model_name=model_name,
        )
        track = report.track
        relative = "." if folder == out else folder.relative_to(out).as_posix()
        rows.append(RobustnessRow.from_report(p, settings, report, relative))
        if on_row is not None:
            on_row(rows[-1])
    result = RobustnessReport(
        config=dataclasses.replace(config, randomization=RandomizationConfig()),
        model=model_name,
        track=track,
        strength=strength,
        rows=tuple(rows),
        skipped=tuple(skipped),
        out_dir=out,
        files={"robustness": out / ROBUSTNESS_FILE, "baseline": out / "metrics.json"},
    )
    result.write(result.files["robustness"])
    return result
