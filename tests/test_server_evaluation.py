"""Evaluating a submitted ONNX model under a race's rules, its files and the racing licence."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import cv2
import numpy as np
import pytest

from racer.export import synthetic
from racer.server.evaluation import (
    EvaluationError,
    OnnxPolicy,
    eval_config,
    evaluate_submission,
    model_config,
)
from racer.server.licence import licence_number, write_licence
from racer.server.ranking import RaceRules
from racer.server.testing import DEFAULT_ACTIONS, STRAIGHT, constant_policy_onnx
from racer.sim.actions import ContinuousActionSpace, DiscreteActionSpace

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

META = synthetic.discrete_metadata(list(DEFAULT_ACTIONS))
RULES = RaceRules(
    track="reinvent_base", laps=2, off_track_penalty=1.0, time_cap=120.0, qualifying_time=25.0
)
"""The constant straight model laps re:Invent in about 22 s with 1 s off-track penalties."""


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The constant straight-ahead model."""
    return constant_policy_onnx(tmp_path_factory.mktemp("model") / "straight.onnx")


# ---------------------------------------------------------------------------- the model
def test_constant_model_is_a_valid_racer_onnx(model: Path) -> None:
    import onnx

    proto = onnx.load(str(model))
    onnx.checker.check_model(proto)
    (inp,), (out,) = proto.graph.input, proto.graph.output
    dims = [d.dim_value or d.dim_param for d in inp.type.tensor_type.shape.dim]
    assert (inp.name, out.name, dims) == ("observation", "policy", ["N", 120, 160, 1])
    props = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(props["model_metadata"]) == META
    assert proto.graph.node[-1].op_type == "Softmax"


def test_constant_model_always_picks_its_action(tmp_path: Path) -> None:
    path = constant_policy_onnx(tmp_path / "left.onnx", 0)
    policy = OnnxPolicy(path, model_config(META).action_space)
    rng = np.random.default_rng(0)
    for _ in range(5):
        assert policy.predict(rng.integers(0, 256, (1, 120, 160), dtype=np.uint8)) == 0
    with pytest.raises(ValueError, match="action_index"):
        constant_policy_onnx(tmp_path / "bad.onnx", len(DEFAULT_ACTIONS))


def test_onnx_policy_matches_the_reference_forward(tmp_path: Path) -> None:
    graph = synthetic.tiny_graph(5, seed=3)
    path = synthetic.write_onnx(graph, tmp_path / "m.onnx")
    policy = OnnxPolicy(path, model_config(graph.metadata).action_space)
    rng = np.random.default_rng(1)
    for _ in range(4):
        obs = rng.integers(0, 256, (1, 120, 160), dtype=np.uint8)
        want = synthetic.numpy_forward(graph, obs.transpose(1, 2, 0)[None])[0]
        assert policy.predict(obs) == int(np.argmax(want))


def test_onnx_policy_continuous_and_stereo(tmp_path: Path) -> None:
    graph = synthetic.tiny_graph(2, head="tanh", channels=2, seed=1)
    path = synthetic.write_onnx(graph, tmp_path / "sac.onnx")
    config = model_config(graph.metadata)
    assert config.sensors == ("STEREO_CAMERAS",)
    assert isinstance(config.action_space, ContinuousActionSpace)
    policy = OnnxPolicy(path, config.action_space, channels=2)
    obs = np.random.default_rng(2).integers(0, 256, (2, 120, 160), dtype=np.uint8)
    action = policy.predict(obs)
    want = synthetic.numpy_forward(graph, obs.transpose(1, 2, 0)[None])[0]
    assert action.shape == (2,) and action.dtype == np.float32
    assert np.all(np.abs(action) <= 1.0)
    np.testing.assert_allclose(action, want, atol=1e-5)


def test_onnx_policy_refuses_mismatched_models(tmp_path: Path, model: Path) -> None:
    with pytest.raises(EvaluationError, match=r"\[N, 120, 160, 2\]"):
        OnnxPolicy(model, model_config(META).action_space, channels=2)
    with pytest.raises(EvaluationError, match="outputs"):
        OnnxPolicy(model, DiscreteActionSpace.grid([-30, 0, 30], [1.0]))
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    with pytest.raises(EvaluationError, match="cannot load"):
        OnnxPolicy(junk, model_config(META).action_space)


def test_model_config_takes_one_camera_sensor() -> None:
    assert model_config(META).sensors == ("FRONT_FACING_CAMERA",)
    with pytest.raises(EvaluationError, match="sensors"):
        model_config({**META, "sensor": ["FRONT_FACING_CAMERA", "LIDAR"]})
    with pytest.raises(EvaluationError, match="action_space"):
        model_config({"sensor": ["FRONT_FACING_CAMERA"]})
    with pytest.raises(EvaluationError):
        model_config({**META, "action_space": [{"steering_angle": 0, "speed": 1}]})


# ---------------------------------------------------------------------------- race settings
def test_eval_config_follows_the_rules() -> None:
    r = RaceRules(
        track="Oval_track",
        reverse=True,
        race_type="object_avoidance",
        settings={"obstacles": {"count": 2, "positions": [[0.25, "left"], [0.75, "right"]]}},
        laps=3,
        off_track_penalty=2.0,
        collision_penalty=4.0,
        time_cap=90.0,
        seed=5,
    )
    c = eval_config(r)
    assert (c.track, c.reverse, c.race_type, c.trials, c.laps) == (
        "Oval_track", True, "object_avoidance", 1, 3
    )  # fmt: skip
    assert (c.off_track_penalty, c.collision_penalty, c.max_time, c.seed) == (2.0, 4.0, 90.0, 5)
    assert c.obstacles.count == 2 and c.obstacles.positions == ((0.25, "left"), (0.75, "right"))


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"track": "no_such_track"}, "unknown track"),
        ({"settings": {"boxes": 3}}, "unknown race settings"),
        ({"race_type": "head_to_bot", "settings": {"bots": {"count": 9}}}, "race settings"),
        ({"race_type": "head_to_bot", "settings": {"bots": {"colour": "red"}}}, "race settings"),
    ],
)
def test_eval_config_refuses_bad_settings(change: dict[str, object], match: str) -> None:
    with pytest.raises(EvaluationError, match=match):
        eval_config(RaceRules.from_mapping({"track": "reinvent_base", **change}))


# ---------------------------------------------------------------------------- evaluation
def test_evaluation_outcome(model: Path, tmp_path: Path) -> None:
    outcome = evaluate_submission(model, META, RULES, tmp_path, video=False, title="Ada · v1")
    s = outcome.standing
    assert outcome.status == "lap_complete" and outcome.progress == 100.0
    assert s.laps_completed == 2 and len(s.lap_times) == 2
    assert s.score == s.best_lap == min(s.lap_times) and s.qualified
    assert sum(s.lap_times) == pytest.approx(outcome.sim_time, abs=2e-3)
    assert outcome.off_tracks > 0 and outcome.crashes == 0
    assert outcome.penalty_time == pytest.approx(outcome.off_tracks * 1.0)
    assert outcome.track == "re:Invent 2018" and outcome.steps > 0
    assert set(outcome.files) == {"simtrace", "metrics", "trajectory"}
    for name in outcome.files.values():
        assert (tmp_path / name).is_file()
    png = cv2.imread(str(tmp_path / outcome.files["trajectory"]))
    assert png is not None and png.shape == (1080, 1920, 3)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["summary"]["per_trial"][0]["lap_splits"] == list(s.lap_times)
    data = json.loads(json.dumps(outcome.to_dict()))
    assert data["standing"]["lap_times"] == list(s.lap_times) and data["status"] == "lap_complete"


def test_time_up_keeps_the_completed_laps(model: Path, tmp_path: Path) -> None:
    rules = RaceRules.from_mapping(
        {**RULES.to_dict(), "laps": 3, "time_cap": 30.0, "ranking": "total_time",
         "ranking_laps": 2}
    )  # fmt: skip
    outcome = evaluate_submission(model, META, rules, tmp_path, video=False)
    s = outcome.standing
    assert outcome.status == "time_up" and outcome.sim_time == pytest.approx(30.0)
    assert s.laps_completed == 1 and s.best_lap is not None and s.best_lap < 30.0
    assert s.score is None  # total time over 2 laps needs 2 laps
    assert 33.0 < outcome.progress < 66.7


def test_evaluation_is_deterministic(model: Path, tmp_path: Path) -> None:
    a = evaluate_submission(model, META, RULES, tmp_path / "a", video=False)
    b = evaluate_submission(model, META, RULES, tmp_path / "b", video=False)
    assert a == b and a.to_dict() == b.to_dict()

    def rows(folder: Path) -> list[list[str]]:
        with (folder / a.files["simtrace"]).open() as f:
            table = list(csv.reader(f))
        wall = table[0].index("wall_clock")
        return [r[:wall] + r[wall + 1 :] for r in table]

    assert rows(tmp_path / "a") == rows(tmp_path / "b")


def test_metadata_from_the_file_and_any_file_name(model: Path, tmp_path: Path) -> None:
    stored = tmp_path / "0123abcd"  # the server stores uploads under their hash
    shutil.copy(model, stored)
    outcome = evaluate_submission(stored, {}, RULES, tmp_path / "out", video=False)
    assert outcome.standing.laps_completed == 2


def test_video_is_a_webm_that_reads_back(model: Path, tmp_path: Path) -> None:
    rules = RaceRules.from_mapping({**RULES.to_dict(), "laps": 1, "time_cap": 4.0})
    outcome = evaluate_submission(model, META, rules, tmp_path, title="Ada · v1")
    assert outcome.files["video"] == "video.webm"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "evaluation-simtrace", "laps.png", "metrics.json", "video.webm"
    ]  # fmt: skip
    capture = cv2.VideoCapture(str(tmp_path / "video.webm"))
    frames = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        frames.append(image.shape)
    capture.release()
    assert len(frames) == outcome.steps + 1 + 15  # start, steps, the held result
    assert set(frames) == {(540, 960, 3)}
    summary = json.loads((tmp_path / "metrics.json").read_text())["summary"]
    assert summary["files"]["video"] == "video.webm" and "camera" not in summary["files"]


def test_bad_submissions_raise_evaluation_errors(model: Path, tmp_path: Path) -> None:
    with pytest.raises(EvaluationError, match="sensors"):
        evaluate_submission(model, {**META, "sensor": ["LIDAR"]}, RULES, tmp_path, video=False)
    bare = synthetic.write_onnx(
        synthetic.tiny_graph(3), tmp_path / "bare.onnx", with_metadata=False
    )
    with pytest.raises(EvaluationError, match="model_metadata"):
        evaluate_submission(bare, {}, RULES, tmp_path, video=False)


def test_no_heavy_imports() -> None:
    code = (
        "import sys, racer.server.evaluation, racer.server.ranking, racer.server.licence, "
        "racer.server.testing; "
        "print(sorted(m for m in ('torch', 'stable_baselines3', 'fastapi', 'sqlalchemy') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------------------- licence
def test_licence_png(tmp_path: Path) -> None:
    path = write_licence(
        tmp_path / "lic" / "licence.png", racer="Ada Lovelace", race="Winter Cup",
        track="reinvent_base", lap_time=21.5, qualifying_time=25.0, issued=date(2025, 11, 25),
    )  # fmt: skip
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = cv2.imread(str(path))
    assert image is not None and image.shape == (1000, 1600, 3)


def test_licence_long_names_and_unknown_track(tmp_path: Path) -> None:
    long = "Maximilian-Alexander von Hohenzollern-Sigmaringen " * 4
    points = np.c_[np.cos(np.linspace(0, 6.2, 50)), np.sin(np.linspace(0, 6.2, 50))]
    for i, pts in enumerate([None, points]):
        path = write_licence(
            tmp_path / f"l{i}.png", racer=long, race=long, track="somewhere:unknown",
            lap_time=30.0, qualifying_time=20.0, issued=date(2025, 1, 1), track_points=pts,
        )  # fmt: skip
        image = cv2.imread(str(path))
        assert image is not None and image.shape == (1000, 1600, 3)


def test_licence_number_is_stable() -> None:
    assert licence_number("Cup", "Ada") == licence_number("Cup", "Ada")
    assert licence_number("Cup", "Ada") != licence_number("Cup", "Bob")
    assert licence_number("Cup", "Ada").startswith("RL-")


# ---------------------------------------------------------------------------- browser
CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Chromium at /usr/bin/chromium")
def test_chromium_plays_the_webm(model: Path, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    rules = RaceRules.from_mapping({**RULES.to_dict(), "laps": 1, "time_cap": 3.0})
    evaluate_submission(model, META, rules, tmp_path)
    page_file = tmp_path / "play.html"
    page_file.write_text('<video id="v" src="video.webm" muted preload="auto"></video>')
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=args)
        try:
            page = browser.new_page()
            page.goto(page_file.as_uri())
            page.wait_for_function(
                "() => { const v = document.getElementById('v'); return v.readyState >= 1 "
                "|| v.error }",
                timeout=20_000,
            )
            state = page.evaluate(
                "() => { const v = document.getElementById('v'); return {d: v.duration, "
                "e: v.error && v.error.code, w: v.videoWidth} }"
            )
        finally:
            browser.close()
    assert state["e"] is None and state["d"] > 0 and state["w"] == 960


def test_constant_model_is_straight_by_default() -> None:
    assert DEFAULT_ACTIONS[STRAIGHT] == (0.0, 2.0)
