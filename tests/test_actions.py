"""Action spaces: the named presets and the grip-matched default against the simulated car."""

from __future__ import annotations

import math

import pytest

from racer.sim.actions import ACTION_SPACE_PRESETS, DiscreteActionSpace, preset_action_space
from racer.sim.physics import DEFAULT_SPEC, PhysicsWorld
from racer.sim.types import CarState
from racer.train.config import TrainConfig


def _driven_radius(world: PhysicsWorld, steering_deg: float, speed: float) -> float:
    """Radius of the circle the car settles on at a steady steering angle and speed command."""
    steer = math.radians(steering_deg)
    world.reset_car(CarState(0.0, 0.0, 0.0, vx=speed, steering=steer))
    rates, speeds = [], []
    for k in range(30):  # two seconds; the first half settles
        state = world.step(steer, speed)
        if k >= 15:
            rates.append(abs(state.yaw_rate))
            speeds.append(state.speed)
    return (sum(speeds) / len(speeds)) / (sum(rates) / len(rates))


def test_grip_matched_is_the_default_and_symmetric() -> None:
    space = DiscreteActionSpace.grip_matched()
    assert TrainConfig().action_space == space
    pairs = {(a.steering_angle, a.speed) for a in space.actions}
    assert pairs == {(-s, v) for s, v in pairs}
    assert space.max_speed == DEFAULT_SPEC.max_speed
    assert (0.0, DEFAULT_SPEC.max_speed) in pairs


def test_every_grip_matched_turn_holds_its_circle() -> None:
    world = PhysicsWorld(DEFAULT_SPEC)
    try:
        for action in DiscreteActionSpace.grip_matched().actions:
            if action.steering_angle <= 0:
                continue
            kinematic = DEFAULT_SPEC.wheelbase / math.tan(math.radians(action.steering_angle))
            radius = _driven_radius(world, action.steering_angle, action.speed)
            # Within 10 % of the kinematic circle: the tyres hold, the car does not run wide.
            assert radius == pytest.approx(kinematic, rel=0.1), action
            # 30 % faster and the same steering slides wide: the speeds sit near the limit.
            if action.speed * 1.3 <= DEFAULT_SPEC.max_speed:
                assert _driven_radius(world, action.steering_angle, action.speed * 1.3) > (
                    1.1 * kinematic
                ), action
    finally:
        world.close()


def test_presets_are_fresh_valid_spaces() -> None:
    for name in ACTION_SPACE_PRESETS:
        space = preset_action_space(name)
        assert isinstance(space, DiscreteActionSpace) and len(space) >= 2
    assert preset_action_space(" Grip-Matched ") == DiscreteActionSpace.grip_matched()
