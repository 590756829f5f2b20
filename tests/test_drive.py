"""racer drive, the car side: preprocessing, action mapping, servos, sources, runtimes, CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from racer.cli.main import app
from racer.drive import (
    ActionMapper,
    DriveError,
    ModelError,
    ServoError,
    SourceError,
    car_gray,
    drive,
    load_model,
    load_servo,
    open_source,
    preprocess,
    throttle_curve,
)
from racer.evaluate.video import CameraRecording, ffv1_round_trips
from racer.export import synthetic as sy
from racer.export.deepracer import read_archive
from racer.sim.actions import ContinuousActionSpace, DiscreteActionSpace

runner = CliRunner()
ACTIONS = [(-20.0, 0.5), (-10.0, 1.0), (0.0, 2.0), (10.0, 1.0), (20.0, 0.5)]
META = sy.discrete_metadata(ACTIONS)


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One tiny random network written in every format the car side loads."""
    folder = tmp_path_factory.mktemp("models")
    graph = sy.tiny_graph(len(ACTIONS), seed=3, metadata=META)
    return {
        "onnx": sy.write_onnx(graph, folder / "tiny.onnx"),
        "deepracer": sy.write_deepracer(graph, folder / "tiny.tar.gz"),
        "openvino": sy.write_openvino(graph, folder / "tiny-openvino"),
    }


def _frames(n: int, size: tuple[int, int] = (640, 480), seed: int = 0) -> list[np.ndarray]:
    """Camera-like BGR frames: smooth gradients plus noise, so actions vary between frames."""
    rng = np.random.default_rng(seed)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    frames = []
    for _ in range(n):
        a, b, c = rng.uniform(-1, 1, 3)
        base = 128 + 100 * np.sin(a * xx / 40 + b * yy / 30 + c * 6)
        img = base[..., None] + rng.normal(0, 20, (h, w, 3))
        frames.append(np.clip(img, 0, 255).astype(np.uint8))
    return frames


def _write_frames(folder: Path, frames: list[np.ndarray]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, f in enumerate(frames):
        cv2.imwrite(str(folder / f"{i:04d}.png"), f)
    return folder


# ---------------------------------------------------------------- preprocessing
def test_preprocessing_is_the_cars_resize_then_gray() -> None:
    frame = _frames(1)[0]
    x = preprocess(frame)
    expected = cv2.cvtColor(cv2.resize(frame, (160, 120)), cv2.COLOR_BGR2GRAY)
    assert x.shape == (1, 120, 160, 1) and x.dtype == np.float32
    np.testing.assert_array_equal(x[0, :, :, 0], expected.astype(np.float32))
    # bilinear is OpenCV's default; nearest-neighbour would differ
    assert not np.array_equal(
        expected, cv2.cvtColor(cv2.resize(frame, (160, 120), interpolation=0), 6)
    )


def test_a_small_gray_frame_written_as_bgr_passes_unchanged() -> None:
    gray = np.random.default_rng(1).integers(0, 256, (120, 160), dtype=np.uint8)
    bgr = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    np.testing.assert_array_equal(car_gray(bgr), gray)
    np.testing.assert_array_equal(car_gray(gray), gray)
    with pytest.raises(ValueError, match="8-bit"):
        car_gray(gray.astype(np.float32))


# ---------------------------------------------------------------- action mapping
def test_the_throttle_curve() -> None:
    assert throttle_curve(0.0) == 0.0
    assert throttle_curve(0.5) == pytest.approx(0.8)
    assert throttle_curve(1.0) == pytest.approx(1.0)
    assert throttle_curve(1.5) == pytest.approx(1.0)  # clipped


def test_discrete_mapping_keeps_ratios() -> None:
    space = DiscreteActionSpace.grid([-20.0, -10.0, 0.0, 10.0, 20.0], [1.0, 2.0])
    mapper = ActionMapper(space, max_speed=50.0)
    probs = np.zeros(len(space))
    probs[7] = 1.0  # (10 deg, 2.0 m/s)
    cmd = mapper(probs)
    assert cmd.index == 7 and cmd.steering_angle == 10.0 and cmd.speed == 2.0
    assert cmd.steering == pytest.approx(0.5)  # 10 / largest |steering| 20
    assert cmd.throttle == pytest.approx(0.5)  # 50 % x curve(1)
    cmd = mapper(np.eye(len(space))[0])  # (-20 deg, 1.0 m/s): half the top speed
    assert cmd.steering == pytest.approx(-1.0) and cmd.throttle == pytest.approx(0.5 * 0.8)
    assert ActionMapper(space, 100.0)(np.eye(len(space))[0]).throttle == pytest.approx(0.8)
    with pytest.raises(DriveError, match="0-100"):
        ActionMapper(space, 120.0)


def test_continuous_mapping_rescales_and_clips() -> None:
    space = ContinuousActionSpace(-30.0, 20.0, 1.0, 3.0)
    mapper = ActionMapper(space, max_speed=100.0)
    cmd = mapper(np.array([0.0, 0.0]))
    assert cmd.index is None
    assert cmd.steering_angle == pytest.approx(-5.0) and cmd.speed == pytest.approx(2.0)
    assert cmd.steering == pytest.approx(-5.0 / 30.0)
    assert cmd.throttle == pytest.approx(throttle_curve(2.0 / 3.0))
    cmd = mapper(np.array([-3.0, 5.0]))  # clamped to [-1, 1]
    assert cmd.steering_angle == -30.0 and cmd.steering == -1.0 and cmd.throttle == 1.0


# ---------------------------------------------------------------- servo
SERVO = """
steering: {min: 1100, center: 1500, max: 1900}
throttle: {min: 1000, centre: 1500, max: 1700, invert: false}
"""


def test_servo_file_maps_commands_to_pulses(tmp_path: Path) -> None:
    path = tmp_path / "servo.yaml"
    path.write_text(SERVO)
    servo = load_servo(path)
    assert [servo.steering.pulse(v) for v in (-1, -0.5, 0, 0.5, 1)] == [
        1100,
        1300,
        1500,
        1700,
        1900,
    ]
    assert [servo.throttle.pulse(v) for v in (0, 0.5, 1)] == [1500, 1600, 1700]
    space = DiscreteActionSpace.grid([-20.0, 20.0], [2.0])
    cmd = ActionMapper(space, 100.0)(np.array([0.0, 1.0]))  # full left, top speed
    assert servo.pwm(cmd) == (1900, 1700)
    data = {
        "steering": {"min": 1100, "center": 1500, "max": 1900, "invert": True},
        "throttle": {"min": 1000, "center": 1500, "max": 2000},
    }
    (tmp_path / "servo.json").write_text(json.dumps(data))
    inverted = load_servo(tmp_path / "servo.json")
    assert inverted.pwm(cmd) == (1100, 2000)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("steering: [1, 2]\nthrottle: {min: 1, center: 2, max: 3}", "expected a mapping"),
        ("steering: {min: 1, center: 2, max: 3}", "missing throttle"),
        ("steering: {min: 1, centr: 2, max: 3}\nthrottle: {min: 1, center: 2, max: 3}", "center"),
        ("steering: {min: 1, max: 3}\nthrottle: {min: 1, center: 2, max: 3}", "missing center"),
        ("steering: {min: 3, center: 2, max: 1}\nthrottle: {min: 1, center: 2, max: 3}", "order"),
        ("steering: {min: a, center: 2, max: 3}\nthrottle: {min: 1, center: 2, max: 3}", "number"),
        (
            "steering: {min: 1, center: 2, max: 3, invert: 2}\n"
            "throttle: {min: 1, center: 2, max: 3}",
            "true or false",
        ),
        ("steering: {min: 1\n", "not valid YAML"),
        ("wheels: 1\nsteering: 1\nthrottle: 2", "unknown section"),
    ],
)
def test_servo_file_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "servo.yaml"
    path.write_text(text)
    with pytest.raises(ServoError, match=message if message != "order" else "min < center"):
        load_servo(path)


def test_missing_servo_file(tmp_path: Path) -> None:
    with pytest.raises(ServoError, match="no such"):
        load_servo(tmp_path / "nope.yaml")


# ---------------------------------------------------------------- sources
def test_sources_video_and_frames_folder(tmp_path: Path) -> None:
    frames = [f[:120, :160] for f in _frames(4, seed=2)]
    folder = _write_frames(tmp_path / "frames", frames)
    (folder / "notes.txt").write_text("not an image")
    got = list(open_source(folder))
    assert len(got) == 4 and all(np.array_equal(a, b) for a, b in zip(got, frames, strict=True))
    assert len(list(open_source(f"frames:{folder}"))) == 4
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*"MJPG"), 15, (160, 120))
    for f in frames:
        writer.write(np.ascontiguousarray(f))
    writer.release()
    src = open_source(video)
    assert len(list(src)) == 4
    src.close()
    assert len(list(open_source(f"video:{video}"))) == 4


def test_source_errors(models: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file or folder"):
        open_source(tmp_path / "missing.mp4")
    with pytest.raises(SourceError, match="did you mean camera"):
        open_source("camra:0")
    with pytest.raises(SourceError, match="camera:N"):
        open_source("camera:front")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match="no .png"):
        open_source(tmp_path / "empty")
    (tmp_path / "bad.mp4").write_text("not a video")
    with pytest.raises(SourceError, match="bad.mp4"):  # unreadable, or no frames
        drive(models["onnx"], tmp_path / "bad.mp4")


# ---------------------------------------------------------------- models and runtimes
def test_every_format_and_runtime_gives_the_same_actions(models: dict[str, Path]) -> None:
    graph = sy.tiny_graph(len(ACTIONS), seed=3, metadata=META)
    xs = [preprocess(f) for f in _frames(12, seed=4)]
    reference = [sy.numpy_forward(graph, x) for x in xs]
    loaded = [
        load_model(models["onnx"], "onnxruntime"),
        load_model(models["onnx"], "openvino"),
        load_model(models["deepracer"]),
        load_model(models["openvino"]),
    ]
    assert [m.runtime.name for m in loaded] == ["onnxruntime", "openvino", "openvino", "openvino"]
    assert [m.format for m in loaded] == ["onnx", "onnx", "deepracer", "openvino"]
    for m in loaded:
        assert m.info.outputs == len(ACTIONS) and m.channels == 1
        outs = [m(x) for x in xs]
        np.testing.assert_allclose(np.vstack(outs), np.vstack(reference), atol=1e-5)
        assert [int(np.argmax(o)) for o in outs] == [int(np.argmax(r)) for r in reference]
    assert len({int(np.argmax(r)) for r in reference}) > 1  # the frames do move the decision


def test_auto_runtime_and_metadata_sources(models: dict[str, Path], tmp_path: Path) -> None:
    assert load_model(models["onnx"]).runtime.name == "onnxruntime"
    # an .xml inside the IR folder, metadata beside it
    assert load_model(models["openvino"] / "model.xml").info.outputs == len(ACTIONS)
    # an unpacked archive folder
    with tarfile.open(models["deepracer"]) as tar:
        tar.extractall(tmp_path / "unpacked", filter="data")
    assert load_model(tmp_path / "unpacked").format == "deepracer"
    assert load_model(tmp_path / "unpacked" / "agent" / "model.pb").format == "deepracer"


def _archive(path: Path, members: dict[str, bytes]) -> Path:
    import io

    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _with_meta(path: Path, meta: dict[str, object], pb: bytes) -> Path:
    return _archive(path, {"model_metadata.json": json.dumps(meta).encode(), "agent/model.pb": pb})


def test_model_errors(models: dict[str, Path], tmp_path: Path) -> None:
    _, pb = read_archive(models["deepracer"])
    with pytest.raises(ModelError, match="no such model"):
        load_model(tmp_path / "missing.tar.gz")
    with pytest.raises(ModelError, match="not a readable tar"):
        (tmp_path / "junk.tar.gz").write_text("junk")
        load_model(tmp_path / "junk.tar.gz")
    with pytest.raises(ModelError, match="root"):
        load_model(_archive(tmp_path / "nometa.tar.gz", {"agent/model.pb": pb}))
    two = {"model_metadata.json": json.dumps(META).encode(), "a.pb": pb, "agent/model.pb": pb}
    with pytest.raises(ModelError, match="exactly one .pb"):
        load_model(_archive(tmp_path / "two.tar.gz", two))
    with pytest.raises(ModelError, match="OpenVINO cannot read"):
        bad = {"model_metadata.json": json.dumps(META).encode(), "agent/model.pb": b"junk"}
        load_model(_archive(tmp_path / "bad.tar.gz", bad))
    stereo = {**META, "sensor": ["STEREO_CAMERAS"]}
    with pytest.raises(ModelError, match="STEREO_CAMERAS"):
        load_model(_with_meta(tmp_path / "stereo.tar.gz", stereo, pb))
    lidar = {**META, "sensor": ["FRONT_FACING_CAMERA", "LIDAR"]}
    with pytest.raises(ModelError, match="LIDAR"):
        load_model(_with_meta(tmp_path / "lidar.tar.gz", lidar, pb))
    three = sy.discrete_metadata(ACTIONS[:3])
    with pytest.raises(ModelError, match="action space mismatch: the network has 5 outputs"):
        load_model(_with_meta(tmp_path / "three.tar.gz", three, pb))
    with pytest.raises(ModelError, match="no model_metadata"):
        sy.write_onnx(sy.tiny_graph(5), tmp_path / "bare" / "bare.onnx", with_metadata=False)
        load_model(tmp_path / "bare" / "bare.onnx")
    with pytest.raises(ModelError, match="ONNX Runtime reads .onnx files only"):
        load_model(models["deepracer"], "onnxruntime")
    with pytest.raises(DriveError, match="did you mean onnxruntime"):
        load_model(models["onnx"], "onnxruntim")
    stereo_net = sy.tiny_graph(5, channels=2, metadata=META)
    with pytest.raises(ModelError, match="two camera images"):
        load_model(sy.write_onnx(stereo_net, tmp_path / "stereo.onnx"))
    run = tmp_path / "my-run"
    run.mkdir()
    (run / "config.yaml").write_text("name: my-run\n")
    with pytest.raises(ModelError, match="racer export my-run --format deepracer"):
        load_model(run)


# ---------------------------------------------------------------- the loop and the CLI
def test_drive_logs_every_frame(models: dict[str, Path], tmp_path: Path) -> None:
    frames = _write_frames(tmp_path / "frames", _frames(6, seed=5))
    servo = tmp_path / "servo.yaml"
    servo.write_text(SERVO)
    log = tmp_path / "out" / "drive.csv"
    summary = drive(models["deepracer"], frames, max_speed=80, servo=servo, log=log, max_frames=5)
    assert summary.frames == 5 and summary.latency.p50 > 0 and summary.fps > 0
    rows = log.read_text().splitlines()
    assert rows[0].startswith("frame,action,steering_angle,speed,steering,throttle,steering_pwm")
    assert len(rows) == 6
    first = summary.results[0]
    assert first.pwm is not None and rows[1].split(",")[:2] == ["0", str(first.command.index)]
    with pytest.raises(DriveError, match="at least 1"):
        drive(models["onnx"], frames, max_frames=0)


def test_drive_a_continuous_model(tmp_path: Path) -> None:
    meta = {
        "action_space": {
            "steering_angle": {"low": -20, "high": 20},
            "speed": {"low": 1, "high": 3},
        },
        "action_space_type": "continuous",
        "sensor": ["FRONT_FACING_CAMERA"],
    }
    graph = sy.tiny_graph(2, head="tanh", seed=1, metadata=meta)
    path = sy.write_onnx(graph, tmp_path / "cont.onnx")
    frames = _frames(3, seed=9)
    summary = drive(path, _write_frames(tmp_path / "frames", frames), max_speed=100)
    for result, frame in zip(summary.results, frames, strict=True):
        steer, speed = sy.numpy_forward(graph, preprocess(frame))[0]
        c = result.command
        assert c.index is None
        assert c.steering_angle == pytest.approx(20 * steer, abs=1e-4)
        assert c.speed == pytest.approx(2 + speed, abs=1e-4)
        assert c.steering == pytest.approx(steer, abs=1e-5)
        assert c.throttle == pytest.approx(throttle_curve((2 + speed) / 3), abs=1e-4)


def test_cli_drive(models: dict[str, Path], tmp_path: Path) -> None:
    frames = _write_frames(tmp_path / "frames", _frames(3, seed=6))
    servo = tmp_path / "servo.yaml"
    servo.write_text(SERVO)
    log = tmp_path / "drive.csv"
    result = runner.invoke(
        app,
        ["drive", str(models["onnx"]), "--source", str(frames), "--max-speed", "60",
         "--servo", str(servo), "--log", str(log)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "frame     2  action" in result.output and "pwm 1" in result.output
    assert "p50" in result.output and "3 frames" in result.output
    assert len(log.read_text().splitlines()) == 4
    quiet = runner.invoke(
        app, ["drive", str(models["openvino"]), "--source", str(frames), "--quiet"]
    )
    assert quiet.exit_code == 0 and "frame     0" not in quiet.output
    missing = runner.invoke(app, ["drive", str(tmp_path / "x.tar.gz"), "--source", str(frames)])
    assert (
        missing.exit_code == 1 and "error:" in missing.output and "no such model" in missing.output
    )
    bad_source = runner.invoke(app, ["drive", str(models["onnx"]), "--source", "camra:0"])
    assert bad_source.exit_code == 1 and "did you mean camera" in bad_source.output


def test_the_car_side_imports_no_torch(models: dict[str, Path], tmp_path: Path) -> None:
    frames = _write_frames(tmp_path / "frames", _frames(2, seed=7))
    code = f"""
import sys
import racer.drive
from racer.drive import drive
drive({str(models["deepracer"])!r}, {str(frames)!r})
drive({str(models["onnx"])!r}, {str(frames)!r})
from typer.testing import CliRunner
from racer.cli.main import app
result = CliRunner().invoke(app, ["drive", {str(models["onnx"])!r}, "--source", {str(frames)!r}])
assert result.exit_code == 0, result.output
bad = [m for m in sys.modules if m.split(".")[0] in ("torch", "stable_baselines3")]
train = [m for m in sys.modules if m.startswith("racer.train")]
print("BAD", bad, "TRAIN", train)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "BAD [] TRAIN" in out.stdout, out.stdout
    # racer.drive itself never needs racer.train; the CLI's shared error module may
    code_lib = (
        code.split("from typer")[0]
        + "\nprint(sorted(m for m in sys.modules if m.startswith('racer.train')))"
    )
    lib = subprocess.run(
        [sys.executable, "-c", code_lib], capture_output=True, text=True, timeout=120
    )
    assert lib.returncode == 0 and lib.stdout.strip().endswith("[]"), lib.stdout + lib.stderr


# ---------------------------------------------------------------- the camera recording
@pytest.mark.parametrize("ffv1", [True, False])
def test_camera_recording_round_trips_exactly(tmp_path: Path, ffv1: bool) -> None:
    if ffv1:
        assert ffv1_round_trips(), "this OpenCV cannot write FFV1 losslessly (PNG fallback used)"
    grays = [cv2.cvtColor(f[:120, :160], cv2.COLOR_BGR2GRAY) for f in _frames(5, seed=8)]
    rec = CameraRecording(tmp_path, use_ffv1=ffv1)
    for g in grays:
        rec.add(g)
    rec.close()
    assert rec.path.name == ("camera.avi" if ffv1 else "camera")
    back = [car_gray(f) for f in open_source(rec.path)]
    assert len(back) == len(grays)
    assert all(np.array_equal(a, b) for a, b in zip(back, grays, strict=True))
