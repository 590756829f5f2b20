"""The gymnasium environments: checkers, spaces, determinism, vectorisation, layering."""

from __future__ import annotations

import subprocess
import sys
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env

import racer.env
from racer.env import ENV_IDS, RacingEnv
from racer.sim.actions import ContinuousActionSpace

SENSOR_SETS = [
    ("FRONT_FACING_CAMERA",),
    ("STEREO_CAMERAS",),
    ("LIDAR",),
    ("SECTOR_LIDAR",),
    ("STATE",),
    ("FRONT_FACING_CAMERA", "LIDAR"),
]


@pytest.mark.parametrize("env_id", list(ENV_IDS))
def test_gymnasium_checker_passes_without_warnings(env_id):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env = gym.make(env_id, sensors=("FRONT_FACING_CAMERA",)).unwrapped
        gym_check_env(env, skip_render_check=False)
        env.close()


@pytest.mark.parametrize("sensors", SENSOR_SETS, ids=lambda s: "+".join(s))
def test_sb3_checker_passes_without_warnings(sensors):
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env = gym.make("racer/ObjectAvoidance-v0", sensors=sensors).unwrapped
        sb3_check_env(env, warn=True)
        gym_check_env(env)
        env.close()


def test_continuous_action_space_passes_checkers():
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env = gym.make(
            "racer/TimeTrial-v0",
            sensors=("STATE",),
            action_space=ContinuousActionSpace(-30, 30, 0.5, 3.0),
        ).unwrapped
        assert env.action_space.shape == (2,)
        sb3_check_env(env, warn=True)
        gym_check_env(env)
        env.close()


def test_observation_shapes():
    env = RacingEnv(sensors=("FRONT_FACING_CAMERA",))
    obs, _ = env.reset(seed=0)
    assert obs.shape == (1, 120, 160) and obs.dtype == np.uint8
    env.close()
    env = RacingEnv(sensors=("STEREO_CAMERAS", "LIDAR", "SECTOR_LIDAR"))
    obs, _ = env.reset(seed=0)
    assert obs["STEREO_CAMERAS"].shape == (2, 120, 160)
    assert obs["LIDAR"].shape == (64,)
    assert obs["SECTOR_LIDAR"].shape == (8,)
    env.close()


def rollout(env_id: str, seed: int, steps: int = 150, **kwargs):
    env = gym.make(env_id, **kwargs)
    obs, _ = env.reset(seed=seed)
    env.action_space.seed(seed)
    trace = [obs.copy() if isinstance(obs, np.ndarray) else obs]
    for _ in range(steps):
        obs, reward, term, trunc, info = env.step(env.action_space.sample())
        trace.append((obs.copy(), reward, term, trunc, info["x"], info["y"], info["status"]))
        if term or trunc:
            obs, _ = env.reset()
            trace.append(obs.copy())
    env.close()
    return trace


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return bool(np.array_equal(a, b))
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@pytest.mark.parametrize(
    "env_id,kwargs",
    [
        ("racer/TimeTrial-v0", {}),
        ("racer/ObjectAvoidance-v0", {"race": {"race_type": "object_avoidance"}}),
        ("racer/HeadToBot-v0", {}),
    ],
)
def test_same_seed_same_trajectory(env_id, kwargs):
    if "race" in kwargs:
        from racer.sim.race import ObstacleConfig, RaceConfig

        kwargs = {"race": RaceConfig("object_avoidance", ObstacleConfig(count=3, randomize=True))}
    a = rollout(env_id, 3, **kwargs)
    b = rollout(env_id, 3, **kwargs)
    assert len(a) == len(b)
    assert all(_same(x, y) for x, y in zip(a, b, strict=True))
    c = rollout(env_id, 4, **kwargs)
    assert not all(_same(x, y) for x, y in zip(a, c, strict=False))


def test_reward_params_reach_the_reward_function():
    seen = []

    def reward(params, step):
        seen.append(params)
        return 1.0

    env = RacingEnv(sensors=("STATE",), reward_function=reward)
    env.reset(seed=0)
    _, r, *_ = env.step(env.action_space.sample())
    assert r == 1.0 and len(seen) == 1 and len(seen[0]) == 27
    assert seen[0]["steps"] == 2.0
    env.close()


def test_reverse_track_and_generated_track():
    env = RacingEnv(
        track="reinvent_base", reverse=True, sensors=("STATE",), info_reward_params=True
    )
    env.reset(seed=0)
    _, _, _, _, info = env.step(env.action_space.sample())
    assert info["reward_params"]["is_reversed"] is True
    env.close()
    env = RacingEnv(track="generated:5", sensors=("FRONT_FACING_CAMERA",))
    obs, _ = env.reset(seed=0)
    assert obs.shape == (1, 120, 160)
    env.close()


def test_render_rgb_array():
    env = gym.make("racer/HeadToBot-v0", render_mode="rgb_array", sensors=("STATE",))
    env.reset(seed=0)
    frame = env.render()
    assert frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8
    env.close()


def test_unknown_option_and_sensor_are_refused():
    with pytest.raises(TypeError, match="unknown environment option"):
        RacingEnv(trakc="reinvent_base")
    with pytest.raises(ValueError, match="did you mean"):
        RacingEnv(sensors=("LIDARR",))


def test_runs_under_subproc_vec_env():
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import SubprocVecEnv

    vec = make_vec_env(
        "racer.env:racer/TimeTrial-v0", n_envs=2, seed=0, vec_env_cls=SubprocVecEnv,
        env_kwargs={"sensors": ("FRONT_FACING_CAMERA",)},
    )  # fmt: skip
    obs = vec.reset()
    assert obs.shape == (2, 1, 120, 160)
    for _ in range(20):
        obs, rewards, dones, infos = vec.step(
            np.array([vec.action_space.sample() for _ in range(2)])
        )
    assert obs.shape == (2, 1, 120, 160) and rewards.shape == (2,)
    vec.close()


def test_importing_the_simulator_loads_no_learning_libraries():
    code = (
        "import sys, racer.sim.world, racer.sim.sensors, racer.sim.track_registry; "
        "bad = [m for m in ('gymnasium', 'stable_baselines3', 'torch', 'matplotlib') "
        "if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_env_module_registers_ids():
    assert set(ENV_IDS) <= set(gym.registry)
    racer.env.register_envs()  # idempotent


def test_track_pool_draws_tracks_per_episode_from_the_seed():
    def names(seed):
        env = RacingEnv(sensors=("STATE",), track_pool=("generated:1", "generated:2", "Oval_track"))
        env.reset(seed=seed)
        seen = [env.track.name]
        for _ in range(9):
            env.reset()
            seen.append(env.track.name)
        env.close()
        return seen

    a = names(0)
    assert set(a) == {"generated:1", "generated:2", "Oval_track"}
    assert a == names(0) and a != names(1)


def test_train_config_expands_generated_track_ranges():
    from racer.train.config import TrainConfig

    c = TrainConfig.from_dict({"track_pool": ["generated:3-5", "Oval_track"]})
    assert c.track_pool == ("generated:3", "generated:4", "generated:5", "Oval_track")
    assert c.env_config().track_pool == c.track_pool
    assert c.env_config(evaluation=True).track_pool == ()
