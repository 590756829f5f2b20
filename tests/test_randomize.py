"""Domain randomisation: each option changes what it should and nothing else, seeded."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from racer.env import RacingEnv
from racer.sim.camera import Camera, CameraConfig
from racer.sim.floor import FloorStyle, bgr_to_gray, build_coverage, build_floor, recolor
from racer.sim.perturb import Actuation, exposure_lut, gaussian_blur, jpeg_roundtrip
from racer.sim.race import ObstacleConfig, RaceConfig
from racer.sim.randomize import EpisodeRandomization, RandomizationConfig
from racer.sim.track_registry import get_track
from racer.sim.world import RaceWorld

CAMERA = ("FRONT_FACING_CAMERA",)
ACTIONS = [3, 7, 2, 5, 5, 9, 0, 4, 6, 1, 8, 3]  # indices into the default discrete action space


def _env(sensors: tuple[str, ...] = CAMERA, **randomization: object) -> RacingEnv:
    rnd = RandomizationConfig(sampling="extreme", **randomization)  # type: ignore[arg-type]
    return RacingEnv(sensors=sensors, randomization=rnd)


def _rollout(env: RacingEnv, seed: int = 0, steps: int = 12) -> tuple[list, list]:
    obs, _ = env.reset(seed=seed)
    frames, cars = [obs], [env.world.record.car]  # type: ignore[union-attr]
    for a in ACTIONS[:steps]:
        obs, _, term, trunc, _ = env.step(a)
        frames.append(obs)
        cars.append(env.world.record.car)  # type: ignore[union-attr]
        if term or trunc:
            break
    return frames, cars


@pytest.fixture(scope="module")
def plain() -> tuple[list, list]:
    """Frames and car states of a plain camera env (randomisation off), seed 0."""
    env = RacingEnv(sensors=CAMERA)
    try:
        return _rollout(env)
    finally:
        env.close()


def _same_cars(a: list, b: list) -> bool:
    return len(a) == len(b) and all(x == y for x, y in zip(a, b, strict=True))


# ---------------------------------------------------------------------------------- config
def test_everything_is_off_by_default() -> None:
    config = RandomizationConfig()
    assert not config.enabled and not config.image_enabled and not config.action_enabled
    assert config.changes() == {}
    assert RandomizationConfig.sim2real(0.0).enabled is False


def test_sim2real_preset_scales_with_strength() -> None:
    full, half = RandomizationConfig.sim2real(), RandomizationConfig.sim2real(0.5)
    assert full.enabled and full.image_enabled and full.action_enabled
    assert half.brightness == pytest.approx(full.brightness / 2)
    assert half.noise == pytest.approx(full.noise / 2)
    assert RandomizationConfig.sim2real(2.0).latency_steps == 2
    assert RandomizationConfig.sim2real(100.0).brightness == 1.0  # capped at its range


def test_from_mapping_refuses_unknown_keys_and_bad_values() -> None:
    with pytest.raises(ValueError, match="did you mean 'brightness'"):
        RandomizationConfig.from_mapping({"brigthness": 0.1})
    with pytest.raises(ValueError, match="noise must be within"):
        RandomizationConfig.from_mapping({"noise": "-1"})
    with pytest.raises(ValueError, match="latency_steps must be a int"):
        RandomizationConfig.from_mapping({"latency_steps": "1.5"})
    with pytest.raises(ValueError, match="did you mean 'extreme'"):
        RandomizationConfig(sampling="extrem")
    with pytest.raises(ValueError, match="preset"):
        RandomizationConfig.from_mapping({"strength": 2})
    got = RandomizationConfig.from_mapping({"preset": "sim2real", "strength": "0.5", "noise": "8"})
    assert got == dataclasses.replace(RandomizationConfig.sim2real(0.5), noise=8.0)
    base = RandomizationConfig(brightness=0.2)
    assert RandomizationConfig.from_mapping({"noise": 3}, base) == RandomizationConfig(
        brightness=0.2, noise=3.0
    )


def test_draws_are_seeded_and_within_range() -> None:
    config = RandomizationConfig.sim2real()
    a = config.draw(np.random.default_rng(5))
    assert a == config.draw(np.random.default_rng(5))
    assert a != config.draw(np.random.default_rng(6))
    draws = [config.draw(np.random.default_rng(k)) for k in range(50)]
    assert all(abs(d.brightness) <= config.brightness for d in draws)
    assert all(abs(d.camera_pitch_deg) <= config.camera_pitch_deg for d in draws)
    assert {d.latency_steps for d in draws} == {0, 1}
    extreme = dataclasses.replace(config, sampling="extreme")
    for d in (extreme.draw(np.random.default_rng(k)) for k in range(10)):
        assert abs(d.steering_offset_deg) == config.steering_offset_deg
        assert d.latency_steps == config.latency_steps and d.noise == config.noise


# ---------------------------------------------------------------------------------- off
def test_off_gives_the_plain_camera_and_trajectory(plain: tuple[list, list]) -> None:
    frames, cars = plain
    track = get_track("reinvent_base")
    assert np.array_equal(frames[0][0], Camera(track).render(cars[0]))
    env = RacingEnv(sensors=CAMERA, randomization=RandomizationConfig())
    again, again_cars = _rollout(env)
    env.close()
    assert env.randomization is None
    assert all(np.array_equal(a, b) for a, b in zip(frames, again, strict=True))
    assert _same_cars(cars, again_cars)


# ---------------------------------------------------------------------------------- images
@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"brightness": 0.1}, lambda img, ep: exposure_lut(ep.brightness, 1.0)[img]),
        ({"contrast": 0.3}, lambda img, ep: exposure_lut(0.0, ep.contrast)[img]),
        ({"blur_prob": 1.0, "blur_sigma": 1.5}, lambda img, ep: gaussian_blur(img, 1.5)),
        ({"jpeg_prob": 1.0, "jpeg_min_quality": 20}, lambda img, ep: jpeg_roundtrip(img, 20)),
    ],
    ids=["brightness", "contrast", "blur", "jpeg"],
)
def test_frame_effects_change_only_the_image(
    plain: tuple[list, list], options: dict, expected: object
) -> None:
    env = _env(**options)
    frames, cars = _rollout(env)
    episode = env.randomization
    env.close()
    assert episode is not None and not episode.actuation
    assert _same_cars(cars, plain[1])  # the car drives exactly as without
    for got, clean in zip(frames, plain[0], strict=True):
        assert np.array_equal(got[0], expected(clean[0], episode))  # type: ignore[operator]


def test_noise_is_zero_mean_with_its_level_and_fresh_each_frame(plain: tuple[list, list]) -> None:
    env = _env(noise=6.0)
    frames, cars = _rollout(env)
    env.close()
    assert _same_cars(cars, plain[1])
    clean = plain[0][0][0].astype(float)
    mid = (clean > 30) & (clean < 225)  # away from clipping
    d0 = frames[0][0].astype(float) - clean
    assert abs(d0[mid].mean()) < 0.3 and 5.0 < d0[mid].std() < 7.0
    d1 = frames[1][0].astype(float) - plain[0][1][0].astype(float)
    assert abs(np.corrcoef(d0[mid], d1[mid])[0, 1]) < 0.1  # not the same noise again


def test_camera_pose_is_the_camera_moved(plain: tuple[list, list]) -> None:
    env = _env(camera_pitch_deg=2.0, camera_position_m=0.01)
    frames, cars = _rollout(env, steps=3)
    episode = env.randomization
    env.close()
    assert episode is not None and _same_cars(cars, plain[1][: len(cars)])
    forward, left, up = episode.camera_offset
    assert abs(episode.camera_pitch_deg) == 2.0 and abs(forward) == abs(left) == abs(up) == 0.01
    c = CameraConfig()
    moved = CameraConfig(
        pitch_deg=c.pitch_deg + episode.camera_pitch_deg,
        forward=c.forward + forward,
        lateral=left,
        mount_height=c.mount_height + up,
    )
    camera = Camera(get_track("reinvent_base"), moved)
    for frame, car in zip(frames, cars, strict=True):
        assert np.array_equal(frame[0], camera.render(car))
    assert not np.array_equal(frames[0], plain[0][0])


def test_recolouring_matches_repainting() -> None:
    track = get_track("reinvent_base")
    floor, coverage = build_floor(track), build_coverage(track)
    diff = np.abs(recolor(coverage, FloorStyle(), False).astype(int) - floor.gray_levels)
    assert diff.max() <= 6 and diff.mean() < 0.05  # rounding only
    other = FloorStyle(carpet=(20, 30, 40), surface=(200, 190, 180), border=(10, 10, 10))
    painted = build_floor(track, other)
    diff = np.abs(recolor(coverage, other, True).astype(int) - painted.color_levels)
    assert diff.max() <= 6 and diff.mean() < 0.05


def test_floor_colors_shift_the_venue_and_tape_colors_the_lines(plain: tuple[list, list]) -> None:
    clean = plain[0][0][0]
    base = FloorStyle()
    for option, changed in (("floor_colors", "sky"), ("tape_colors", "border")):
        env = _env(**{option: 40.0})
        frames, cars = _rollout(env, steps=2)
        episode = env.randomization
        env.close()
        assert episode is not None and _same_cars(cars, plain[1][: len(cars)])
        style = episode.style(base)
        expected = Camera(get_track("reinvent_base"), CameraConfig(style=style)).render(cars[0])
        assert np.abs(frames[0][0].astype(int) - expected).max() <= 6
        shifts = dict(episode.color_shifts)
        assert abs(shifts[changed]) == 40.0
        sky = clean == bgr_to_gray(base.sky)
        sky[5:] = False  # the sky's colour in the top rows (lower down, also line edges)
        assert sky.sum() > 500
        if option == "floor_colors":
            assert (frames[0][0][sky] == bgr_to_gray(style.sky)).all()
            assert shifts["border"] == shifts["centre"] == 0.0
        else:
            assert np.array_equal(frames[0][0][sky], clean[sky])  # the venue is untouched
            assert shifts["carpet"] == shifts["sky"] == 0.0
            assert not np.array_equal(frames[0][0], clean)


def test_stereo_frames_get_the_effects_on_each_eye() -> None:
    env = _env(("STEREO_CAMERAS",), brightness=0.1)
    obs, _ = env.reset(seed=0)
    episode = env.randomization
    clean = Camera(get_track("reinvent_base"), CameraConfig(stereo=True)).render(
        env.world.record.car
    )  # type: ignore[union-attr]
    env.close()
    assert episode is not None and obs.shape == (2, 120, 160)
    assert np.array_equal(obs, exposure_lut(episode.brightness, 1.0)[clean])


# ---------------------------------------------------------------------------------- actions
def _drive(world: RaceWorld, commands: list[tuple[float, float]], actuation=None) -> list:
    world.reset(start_s=1.0, restart=True, actuation=actuation)
    return [world.step(s, v) for s, v in commands]


@pytest.fixture(scope="module")
def world():
    w = RaceWorld(get_track("reinvent_base"))
    yield w
    w.close()


COMMANDS = [(10.0, 1.0), (-5.0, 2.0), (20.0, 1.5), (0.0, 2.5), (-15.0, 1.0), (5.0, 2.0)]


@pytest.mark.parametrize("k", [1, 2])
def test_latency_delays_commands_by_exactly_k_steps(world: RaceWorld, k: int) -> None:
    late = _drive(world, COMMANDS, Actuation(EpisodeRandomization(latency_steps=k)))
    shifted = [(0.0, 0.0)] * k + COMMANDS[:-k]
    plain = _drive(world, shifted)
    assert [r.car for r in late] == [r.car for r in plain]
    assert [(r.steering_deg, r.speed) for r in late] == COMMANDS  # the record keeps the command


def test_steering_and_speed_errors_apply_to_the_car(world: RaceWorld) -> None:
    episode = EpisodeRandomization(steering_offset_deg=3.0, steering_gain=0.9, speed_gain=1.2)
    got = _drive(world, COMMANDS, Actuation(episode))
    plain = _drive(world, [(s * 0.9 + 3.0, v * 1.2) for s, v in COMMANDS])
    assert [r.car for r in got] == [r.car for r in plain]


def test_action_randomisation_leaves_the_images_alone(plain: tuple[list, list]) -> None:
    env = _env(steering_offset_deg=5.0, speed_gain=0.3, latency_steps=1)
    frames, cars = _rollout(env)
    episode = env.randomization
    env.close()
    assert episode is not None and episode.actuation and episode.latency_steps == 1
    assert np.array_equal(frames[0], plain[0][0])
    assert not _same_cars(cars, plain[1])


# ---------------------------------------------------------------------------------- seeding
def test_same_seed_same_episodes_and_episodes_differ() -> None:
    config = RandomizationConfig.sim2real()
    a = RacingEnv(sensors=CAMERA, randomization=config)
    b = RacingEnv(sensors=CAMERA, randomization=config)
    fa, ca = _rollout(a, seed=7)
    fb, cb = _rollout(b, seed=7)
    assert all(np.array_equal(x, y) for x, y in zip(fa, fb, strict=True)) and _same_cars(ca, cb)
    first = a.randomization
    a.reset()
    assert a.randomization != first  # the next episode draws anew
    a.reset(seed=7)
    assert a.randomization == first
    fc, _ = _rollout(b, seed=8)
    assert not np.array_equal(fa[0], fc[0])
    a.close()
    b.close()


def test_the_race_draws_the_same_boxes_with_and_without_randomisation() -> None:
    race = RaceConfig("object_avoidance", obstacles=ObstacleConfig(randomize=True))
    plain = RacingEnv(sensors=("STATE",), race=race)
    rnd = RacingEnv(sensors=("STATE",), race=race, randomization=RandomizationConfig.sim2real())
    for seed in (1, 2):
        plain.reset(seed=seed)
        rnd.reset(seed=seed)
        assert np.array_equal(plain.world.objects_array, rnd.world.objects_array)
    plain.close()
    rnd.close()
