"""Evaluate one submitted ONNX model under a race's rules: one run, its standing and its files.

:func:`evaluate_submission` loads the model into an ONNX Runtime CPU session (one thread; the
file is only ever parsed as ONNX), builds the model's environment from its
``model_metadata`` (sensor, action space) and races it once with racer's evaluator, under the
race's track, race type, laps, penalties, time cap and seed. The completed laps (also those of
a run that ended by ``time_up`` before all its laps) are ranked by
:func:`racer.server.ranking.standing`. The same model and rules give the same outcome.

Files written into the output folder (``EvaluationOutcome.files``, relative paths):

* ``simtrace`` — ``evaluation-simtrace/0-iteration.csv``, DeepRacer's step log;
* ``metrics`` — ``metrics.json``, DeepRacer's evaluation metrics and racer's summary;
* ``trajectory`` — ``laps.png`` (1920x1080), the run's path coloured by speed with its lap
  times and score (:func:`plot_run`; it replaces the evaluator's picture, whose "best lap"
  is the time of the whole multi-lap trial);
* ``video`` — ``video.webm`` (VP8, 960x540, 15 fps), which browsers play in a ``<video>``
  tag: the evaluator's MPEG-4 video re-encoded frame by frame (the MPEG-4 file and the camera
  recording are then removed).

Nothing here imports torch, stable-baselines3, FastAPI or SQLAlchemy.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from racer.evaluate.config import EvalConfig, EvalConfigError
from racer.evaluate.report import EvalReport
from racer.evaluate.runner import LAPS_FILE, METRICS_FILE, SIMTRACE_FILE, evaluate
from racer.server.ranking import RaceRules, Standing, standing
from racer.sim.actions import ActionSpace, DiscreteActionSpace
from racer.sim.race import BotConfig, ObstacleConfig, RaceError
from racer.sim.track_registry import get_track
from racer.sim.trackcheck import TrackError
from racer.train.config import ConfigError, TrainConfig
from racer.train.metadata import config_fields

CAMERA_SENSORS = {"FRONT_FACING_CAMERA": 1, "STEREO_CAMERAS": 2}
"""The sensors a submission may use, with the image channels each gives."""
WEBM_FILE = "video.webm"
WEBM_SIZE = (960, 540)
"""Width and height of the browser video (the evaluator's 1280x720, downscaled)."""


class EvaluationError(ValueError):
    """A submission that cannot be raced (its model, metadata or the race's settings)."""


class OnnxPolicy:
    """An ONNX camera model as an evaluation policy (``predict(obs) -> action``).

    The network takes the environment's camera observation as float32 NHWC 0-255
    (``[1, 120, 160, C]``) and gives a softmax over the actions (discrete: the argmax index)
    or (steering, speed) in [-1, 1] (continuous: clipped, the environment's action).

    Args:
        path: The ``.onnx`` file.
        action_space: The model's action space (from its metadata).
        channels: Image channels: 1 for a front camera, 2 for stereo cameras.

    Raises:
        EvaluationError: ONNX Runtime cannot load the file, or its input or output shape does
            not fit the camera and the action space.
    """

    def __init__(self, path: Path, action_space: ActionSpace, channels: int = 1) -> None:
        self._session = onnx_session(Path(path))
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        if len(inputs) != 1 or len(outputs) != 1:
            raise EvaluationError(
                f"expected a network with one input and one output, got {len(inputs)} "
                f"input(s) and {len(outputs)} output(s)"
            )
        self._input, self._output = inputs[0].name, outputs[0].name
        dims = list(inputs[0].shape)
        expected = [120, 160, channels]
        if len(dims) != 4 or dims[1:] != expected or inputs[0].type != "tensor(float)":
            raise EvaluationError(
                f"the network takes {inputs[0].type} {dims}, expected float32 "
                f"[N, 120, 160, {channels}] (camera images, 0-255)"
            )
        self.action_space = action_space
        self.discrete = isinstance(action_space, DiscreteActionSpace)
        self.outputs = len(action_space) if isinstance(action_space, DiscreteActionSpace) else 2
        out_dims = list(outputs[0].shape)
        if len(out_dims) == 2 and isinstance(out_dims[1], int) and out_dims[1] != self.outputs:
            raise EvaluationError(
                f"the network has {out_dims[1]} outputs but the metadata's action space "
                f"needs {self.outputs}"
            )

    def predict(self, obs: Any) -> Any:
        """The action for one ``(C, 120, 160)`` uint8 camera observation.

        Raises:
            EvaluationError: The network fails or gives the wrong number of outputs.
        """
        x = np.ascontiguousarray(np.moveaxis(np.asarray(obs), 0, -1)[None], dtype=np.float32)
        try:
            result = self._session.run([self._output], {self._input: x})[0]
            out = np.asarray(result, dtype=np.float32).reshape(-1)
        except Exception as exc:  # ONNX Runtime raises its own exception types
            raise EvaluationError(f"the network failed: {str(exc).strip()[:200]}") from None
        if out.size != self.outputs:
            raise EvaluationError(f"the network gave {out.size} outputs, expected {self.outputs}")
        if self.discrete:
            return int(np.argmax(np.nan_to_num(out, nan=-np.inf)))
        return np.clip(np.nan_to_num(out, nan=0.0), -1.0, 1.0).astype(np.float32)


def model_config(metadata: dict[str, Any]) -> TrainConfig:
    """The model's configuration from its ``model_metadata``: its sensor and action space.

    Raises:
        EvaluationError: No or an invalid action space, or sensors other than one front
            camera or one pair of stereo cameras.
    """
    if "action_space" not in metadata:
        raise EvaluationError("model_metadata has no action_space")
    try:
        found = config_fields(metadata, "model_metadata")
        keep = {k: v for k, v in found.items() if k in ("action_space", "sensors")}
        config = TrainConfig(**keep)
    except (ConfigError, ValueError) as exc:
        raise EvaluationError(str(exc)) from None
    if len(config.sensors) != 1 or config.sensors[0] not in CAMERA_SENSORS:
        raise EvaluationError(
            f"the model's sensors are {list(config.sensors)}; a race takes models with one "
            f"of {sorted(CAMERA_SENSORS)}"
        )
    return config


def eval_config(rules: RaceRules) -> EvalConfig:
    """The evaluator's settings for a race: one trial of ``laps`` laps under its rules.

    Also checks a race's settings when it is created (cheap: nothing is simulated).

    Raises:
        EvaluationError: Unknown or invalid obstacle or bot settings, or an invalid rule.
    """
    settings = rules.settings
    unknown = sorted(set(settings) - {"obstacles", "bots"})
    if unknown:
        raise EvaluationError(f"unknown race settings {unknown}; expected obstacles, bots")
    try:
        get_track(rules.track)
        obstacles = dict(settings.get("obstacles") or {})
        if "positions" in obstacles:
            obstacles["positions"] = tuple(
                (float(f), str(lane)) for f, lane in obstacles["positions"]
            )
        return EvalConfig(
            track=rules.track,
            reverse=rules.reverse,
            race_type=rules.race_type,
            obstacles=ObstacleConfig(**obstacles),
            bots=BotConfig(**dict(settings.get("bots") or {})),
            trials=1,
            laps=rules.laps,
            off_track_penalty=rules.off_track_penalty,
            collision_penalty=rules.collision_penalty,
            seed=rules.seed,
            max_time=rules.time_cap,
        )
    except (EvalConfigError, RaceError, TrackError, TypeError, ValueError) as exc:
        raise EvaluationError(f"race settings: {exc}") from None


@dataclass(frozen=True)
class EvaluationOutcome:
    """The result of one submission's run.

    Attributes:
        standing: Its lap times and rank under the race's ranking.
        status: How the run ended: ``lap_complete`` (all laps), ``time_up``,
            ``immobilized`` or ``reversed``.
        sim_time: Simulated seconds the run lasted, penalties included.
        progress: Percent of the race's laps driven, 0-100.
        off_tracks: Times the car left the track.
        crashes: Collisions with boxes or bots.
        penalty_time: Seconds of penalties served.
        steps: Control steps (15 per simulated second).
        track: The track's display name.
        track_length: The centre line's length, metres (one lap).
        optimal_lap_time: The track's physically optimal lap, seconds (the yardstick; None
            where it cannot be computed).
        files: Files written, by kind (``simtrace``, ``metrics``, ``trajectory``, ``video``),
            as POSIX paths relative to the output folder.
    """

    standing: Standing
    status: str
    sim_time: float
    progress: float
    off_tracks: int
    crashes: int
    penalty_time: float
    steps: int
    track: str
    track_length: float
    optimal_lap_time: float | None
    files: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (times rounded to the millisecond)."""
        out = dataclasses.asdict(self)
        out["standing"] = self.standing.to_dict()
        for key in ("sim_time", "penalty_time", "track_length"):
            out[key] = round(out[key], 3)
        out["progress"] = round(self.progress, 2)
        if self.optimal_lap_time is not None:
            out["optimal_lap_time"] = round(self.optimal_lap_time, 3)
        return out


def evaluate_submission(
    model_path: Path,
    metadata: dict[str, Any],
    rules: RaceRules,
    out_dir: Path,
    *,
    video: bool = True,
    title: str | None = None,
) -> EvaluationOutcome:
    """Race one ONNX model once under a race's rules and rank its laps.

    Args:
        model_path: The ``.onnx`` file.
        metadata: Its ``model_metadata`` mapping; empty: the one inside the file.
        rules: The race's rules.
        out_dir: Folder for the files (created; earlier files of the same names are replaced).
        video: Also write the browser video ``video.webm``.
        title: Shown in the picture's and the video's headline (e.g. racer and model name).

    Returns:
        The outcome; the same model and rules give the same outcome.

    Raises:
        EvaluationError: The model, its metadata or the race's settings cannot be raced.
    """
    config = eval_config(rules)
    if not metadata:
        metadata = embedded_metadata(Path(model_path))
    train = model_config(metadata)
    policy = OnnxPolicy(Path(model_path), train.action_space, CAMERA_SENSORS[train.sensors[0]])
    out = Path(out_dir)
    report = evaluate(
        policy,
        config,
        out,
        video=video,
        model_config=train,
        model_name=title,
        reward_function=_no_reward,
    )
    trial = report.trials[0]
    result = standing(trial.lap_splits, rules)
    plot_run(report, result, rules, out / LAPS_FILE, title=title)
    files = {"simtrace": SIMTRACE_FILE, "metrics": METRICS_FILE, "trajectory": LAPS_FILE}
    if video:
        _browser_video(report.files, out)
        report.write_metrics(out / METRICS_FILE)  # its file list now names the WebM
        files["video"] = WEBM_FILE
    return EvaluationOutcome(
        standing=result,
        status=trial.status,
        sim_time=trial.time,
        progress=trial.progress,
        off_tracks=trial.off_track_count,
        crashes=trial.crash_count,
        penalty_time=trial.penalty_time,
        steps=trial.steps,
        track=report.track,
        track_length=report.track_length,
        optimal_lap_time=report.optimal_lap_time,
        files=files,
    )


def _no_reward(params: dict[str, Any], step: int) -> float:
    """A race does not know the model's reward function: the simtrace's reward column is 0."""
    return 0.0


def onnx_session(path: Path) -> Any:
    """An ONNX Runtime CPU session of a file: one intra-op and one inter-op thread.

    The file is read as bytes, so its name need not end in ``.onnx``.

    Raises:
        EvaluationError: ONNX Runtime is missing or cannot load the file.
    """
    try:
        import onnxruntime as ort
    except ImportError:
        raise EvaluationError("ONNX Runtime is not installed: pip install onnxruntime") from None
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    try:
        data = Path(path).read_bytes()
        return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # OSError, or ONNX Runtime's own exception types
        lines = str(exc).strip().splitlines() or [type(exc).__name__]
        raise EvaluationError(f"ONNX Runtime cannot load the model: {lines[0][:300]}") from None


def embedded_metadata(path: Path) -> dict[str, Any]:
    """The ``model_metadata`` mapping inside an ONNX file (its ``metadata_props``).

    Raises:
        EvaluationError: The file cannot be loaded, or carries no metadata or not a JSON
            object.
    """
    text = onnx_session(path).get_modelmeta().custom_metadata_map.get("model_metadata")
    if text is None:
        raise EvaluationError("no model_metadata given and none inside the model file")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EvaluationError(f"the model's model_metadata is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise EvaluationError("the model's model_metadata is not a JSON object")
    return data


def _browser_video(files: dict[str, Path], out: Path) -> None:
    """Replace the evaluator's MPEG-4 video (and camera recording) by ``video.webm``."""
    mp4 = files["video"]
    webm = out / WEBM_FILE
    transcode_webm(mp4, webm)
    mp4.unlink(missing_ok=True)
    camera = files.pop("camera", None)
    if camera is not None and camera.is_file():
        camera.unlink()
    elif camera is not None and camera.is_dir():
        import shutil

        shutil.rmtree(camera)
    files["video"] = webm


@contextlib.contextmanager
def _stderr_silenced() -> Iterator[None]:
    """Send the process's stderr (file descriptor 2, where OpenCV writes) to /dev/null."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def transcode_webm(src: Path, dest: Path, size: tuple[int, int] = WEBM_SIZE) -> int:
    """Re-encode a video as VP8 WebM (which browsers play), frame by frame with OpenCV.

    Args:
        src: Any video OpenCV reads.
        dest: The ``.webm`` file (replaced).
        size: (width, height) of the output; frames of another size are resized.

    Returns:
        Frames written.

    Raises:
        EvaluationError: OpenCV cannot read ``src`` or write a VP8 WebM.
    """
    capture = cv2.VideoCapture(str(src))
    if not capture.isOpened():
        raise EvaluationError(f"cannot read the video {src.name}")
    fps = capture.get(cv2.CAP_PROP_FPS) or 15.0
    dest.unlink(missing_ok=True)
    with _stderr_silenced():  # OpenCV warns that VP8's tag is not WebM's, then uses the right one
        writer = cv2.VideoWriter(
            str(dest), cv2.CAP_FFMPEG, cv2.VideoWriter.fourcc(*"VP80"), fps, size
        )
    if not writer.isOpened():
        capture.release()
        raise EvaluationError("OpenCV cannot write a VP8 WebM video on this machine")
    frames = 0
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            if (frame.shape[1], frame.shape[0]) != size:
                frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
            writer.write(frame)
            frames += 1
    finally:
        writer.release()
        capture.release()
    return frames


MAX_LAP_ROWS = 20
"""Lap rows the picture lists at most."""
RANKING_LABELS = {"best_lap": "best lap", "average_lap": "average lap", "total_time": "total time"}


def plot_run(
    report: EvalReport, result: Standing, rules: RaceRules, path: Path, title: str | None = None
) -> Path:
    """Draw a race run: its path coloured by speed, its laps and its score (1920x1080 PNG).

    Args:
        report: The evaluation of the run (its one trial carries its trace).
        result: The run's standing.
        rules: The race's rules.
        path: The PNG (replaced).
        title: Headline; the track's name is appended.

    Returns:
        The path written.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import Polygon

    from racer.viz.trackplot import GRASS, draw_track

    trial = report.trials[0]
    fig = Figure(figsize=(16.0, 9.0), dpi=120, facecolor=GRASS)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0.01, 0.02, 0.66, 0.84))
    draw_track(ax, get_track(rules.track + (":reverse" if rules.reverse else "")))
    trace = trial.trace
    if trace is not None and len(trace.positions) > 1:
        pts = trace.positions
        segs = np.stack([pts[:-1], pts[1:]], axis=1)
        keep = np.hypot(*(segs[:, 1] - segs[:, 0]).T) < 0.5  # not the put-backs
        lines = LineCollection(list(segs[keep]), cmap="cool", linewidths=3.0, zorder=7)
        lines.set_array(np.asarray(trace.speeds[1:][keep], dtype=np.float64))
        lines.set_clim(0.0, max(1.0, float(trace.speeds.max())))
        ax.add_collection(lines)
        for x, y, kind in trace.events:
            colour = "#ffb020" if kind == "crashed" else "#ff3030"
            ax.plot([x], [y], marker="X", markersize=15, color=colour, markeredgecolor="white",
                    markeredgewidth=1.5, zorder=9, linestyle="none")  # fmt: skip
        for ox, oy, yaw, hl, hw, *_ in (
            trace.objects if rules.race_type == "object_avoidance" else ()
        ):
            c, s = np.cos(yaw), np.sin(yaw)
            corners = np.array([[hl, hw], [hl, -hw], [-hl, -hw], [-hl, hw]])
            corners = corners @ np.array([[c, s], [-s, c]]) + np.array([ox, oy])
            ax.add_patch(Polygon(corners, facecolor="#ff9614", edgecolor="black", zorder=6))
        bar = fig.colorbar(
            lines, cax=fig.add_axes((0.71, 0.09, 0.26, 0.025)), orientation="horizontal"
        )
        bar.set_label("speed (m/s)", color="white", fontsize=14)
        bar.ax.tick_params(colors="white", labelsize=12)
    headline = " · ".join([*([title] if title else []), report.track])
    head = fig.text(0.02, 0.94, headline, color="white", fontsize=22, fontweight="bold")
    size = 22.0
    while head.get_window_extent(canvas.get_renderer()).width > 0.96 * 1920 and size > 11:
        size -= 1.0
        head.set_fontsize(size)
    fig.text(0.02, 0.885, _rules_line(rules), color="white", fontsize=15)
    _results_panel(fig, trial.status, trial.progress, trial.off_track_count, trial.crash_count,
                   result, rules)  # fmt: skip
    fig.savefig(path, facecolor=GRASS)
    return path


def _laps(n: int) -> str:
    return f"{n} lap" if n == 1 else f"{n} laps"


def _rules_line(rules: RaceRules) -> str:
    ranking = RANKING_LABELS[rules.ranking]
    if rules.ranking != "best_lap":
        ranking += f" of {_laps(rules.ranking_laps)}"
    return "   ·   ".join([
        _laps(rules.laps), f"ranked by {ranking}",
        f"penalties {rules.off_track_penalty:g} s off-track, {rules.collision_penalty:g} s crash",
        f"time cap {rules.time_cap:g} s",
    ])  # fmt: skip


def _results_panel(
    fig: Any, status: str, progress: float, off: int, crashes: int, result: Standing,
    rules: RaceRules,
) -> None:  # fmt: skip
    """Lap times (the best one marked) and the score in a dark panel on the right."""
    panel = fig.add_axes((0.69, 0.17, 0.30, 0.69))
    panel.set_facecolor("#1c2a1a")
    panel.set_xticks([])
    panel.set_yticks([])
    for spine in panel.spines.values():
        spine.set_visible(False)
    panel.set_xlim(0, 1)
    panel.set_ylim(0, 1)
    panel.text(0.06, 0.93, "Lap        Time", color="#c8d0c8", fontsize=14, family="monospace",
               va="center")  # fmt: skip
    rows_shown = min(rules.laps, MAX_LAP_ROWS)
    step = min(0.075, 0.5 / rows_shown)
    best_index = result.lap_times.index(result.best_lap) if result.best_lap is not None else -1
    for i in range(rows_shown):
        lap = result.lap_times[i] if i < len(result.lap_times) else None
        text = f"{i + 1:>3}   {lap:9.3f} s" if lap is not None else f"{i + 1:>3}         —"
        if i == rows_shown - 1 and rules.laps > rows_shown:
            text = f"… {rules.laps - rows_shown + 1} more laps"
        panel.text(0.06, 0.85 - i * step, text + ("   best" if i == best_index else ""),
                   color="#7dff9b" if lap is not None else "#ff8a7a",
                   fontsize=14 if rows_shown <= 8 else 10, family="monospace",
                   va="center")  # fmt: skip
    score = "not ranked" if result.score is None else f"{result.score:.3f} s"
    finish = status.replace("_", " ")
    if status != "lap_complete":
        finish += f" ({progress:.0f} %)"
    rows = [
        ("finish", finish),
        ("off-track / crash", f"{off} / {crashes}"),
        (RANKING_LABELS[rules.ranking], score),
    ]  # fmt: skip
    for i, (label, value) in enumerate(rows):
        y = 0.19 - i * 0.07
        panel.text(0.06, y, label, color="#c8d0c8", fontsize=15, va="center")
        panel.text(0.94, y, value, color="white", fontsize=17, fontweight="bold", va="center",
                   ha="right")  # fmt: skip
