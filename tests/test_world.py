"""RaceWorld: DeepRacer's statuses, round-robin starts, race types and evaluation penalties."""

from __future__ import annotations

import math

import numpy as np
import pytest

from racer.sim.pursuit import PurePursuitDriver
from racer.sim.race import ObstacleConfig, RaceConfig, RaceError, make_race
from racer.sim.rules import EpisodeTracker, RulesConfig, Status
from racer.sim.track_registry import get_track
from racer.sim.world import RaceWorld, StartConfig, WorldConfig


@pytest.fixture(scope="module")
def track():
    return get_track("reinvent_base")


def drive(world: RaceWorld, driver, max_steps: int = 3000):
    rec = world.record
    while not rec.done and rec.steps < max_steps:
        rec = world.step(*driver.act(rec.car))
    return rec


def test_pure_pursuit_lap_completes_with_lap_time(track):
    world = RaceWorld(track)
    world.reset(start_s=0.0)
    rec = drive(world, PurePursuitDriver(track, world.spec))
    assert rec.status is Status.LAP_COMPLETE
    assert rec.progress == pytest.approx(100.0)
    assert rec.lap_time == pytest.approx(rec.steps / 15.0)
    assert 4.0 < rec.lap_time < 30.0
    world.close()


def test_off_track_ends_training_episode(track):
    world = RaceWorld(track)
    world.reset(start_s=0.0)
    rec = world.record
    while not rec.done:
        rec = world.step(30.0, 2.0)  # full left lock leaves re:Invent 2018's straight
    assert rec.status is Status.OFF_TRACK
    assert rec.is_offtrack and not rec.all_wheels_on_track
    with pytest.raises(RuntimeError):
        world.step(0.0, 1.0)
    world.close()


def test_evaluation_mode_penalises_and_puts_car_back(track):
    rules = RulesConfig(mode="evaluation", off_track_penalty=5.0)
    world = RaceWorld(track, WorldConfig(rules=rules))
    world.reset(start_s=0.0)
    paused = None
    for _ in range(200):
        rec = world.step(30.0, 2.0)
        if rec.pause_duration:
            paused = rec
            break
    assert paused is not None
    assert paused.status is Status.IN_PROGRESS
    assert paused.pause_duration == 5.0
    assert paused.off_track_count == 1
    assert paused.sim_time == pytest.approx(paused.steps / 15.0 + 5.0)
    # Put back on the centre line, at rest, facing along the track.
    proj = track.project(np.array(paused.car.point_ahead(0.14)))
    assert abs(proj.offset[0]) < 1e-6
    assert paused.car.vx == 0.0
    # The lap still finishes, with the penalty in its time.
    rec = drive(world, PurePursuitDriver(track, world.spec))
    assert rec.status is Status.LAP_COMPLETE
    assert rec.lap_time > 5.0 + rec.steps / 15.0 - 1e-6
    world.close()


def test_step_cap_gives_time_up(track):
    world = RaceWorld(track, WorldConfig(rules=RulesConfig(max_steps=10)))
    world.reset(start_s=0.0)
    rec = drive(world, PurePursuitDriver(track, world.spec, speed=0.5))
    assert rec.status is Status.TIME_UP and rec.steps == 10
    world.close()


def test_round_robin_starts_advance_five_percent(track):
    world = RaceWorld(track)
    starts = []
    for _ in range(3):
        world.reset()
        starts.append(track.project(np.array(world.record.car.point_ahead(0.14))).s[0])
    assert starts[0] == pytest.approx(0.0, abs=1e-6)
    assert starts[1] == pytest.approx(0.05 * track.length, abs=1e-6)
    assert starts[2] == pytest.approx(0.10 * track.length, abs=1e-6)
    fixed = RaceWorld(track, WorldConfig(start=StartConfig(round_robin=False, start_fraction=0.5)))
    fixed.reset()
    fixed.reset()
    s = track.project(np.array(fixed.record.car.point_ahead(0.14))).s[0]
    assert s == pytest.approx(0.5 * track.length, abs=1e-6)
    world.close()
    fixed.close()


def test_reversed_status_when_driving_backwards(track):
    world = RaceWorld(track)
    world.reset(start_s=2.0)
    car = world.record.car
    turned = type(car)(car.x, car.y, car.yaw + math.pi)
    world.physics.reset_car(turned)
    rec = world.record
    while not rec.done:
        rec = world.step(0.0, 0.5)
    assert rec.status is Status.REVERSED
    world.close()


def test_tracker_immobilized_and_reversed_counters():
    rules = RulesConfig()
    t = EpisodeTracker.start(10.0, 9.9)
    t.update(0.1, 0.2, rules, closed=True)  # crosses the start line forward
    assert t.travelled == pytest.approx(0.2)
    for _ in range(15):
        t.update(0.1, 0.0001, rules, closed=True)
    assert t.status(rules, 20, offtrack=False, crashed=False) is Status.IMMOBILIZED
    t2 = EpisodeTracker.start(10.0, 5.0)
    for i in range(15):
        t2.update(5.0 - 0.01 * (i + 1), 0.01, rules, closed=True)
    assert t2.status(rules, 20, offtrack=False, crashed=False) is Status.REVERSED


def test_object_avoidance_fixed_and_random_boxes(track):
    fixed = make_race(RaceConfig("object_avoidance", ObstacleConfig(count=4)))
    fixed.reset(track, 0.0, np.random.default_rng(1))
    first = fixed.objects
    fixed.reset(track, 3.0, np.random.default_rng(2))
    assert fixed.objects == first and len(first) == 4
    lanes = [track.project(np.array([o.x, o.y])).offset[0] > 0 for o in first]
    assert lanes == [True, False, True, False]

    rand = make_race(RaceConfig("object-avoidance", ObstacleConfig(count=3, randomize=True)))
    rand.reset(track, 0.0, np.random.default_rng(7))
    a = rand.objects
    rand.reset(track, 0.0, np.random.default_rng(7))
    assert rand.objects == a
    rand.reset(track, 0.0, np.random.default_rng(8))
    assert rand.objects != a
    for o in a:
        assert track.project(np.array([o.x, o.y])).inside[0]


def test_race_config_errors_name_the_problem():
    with pytest.raises(RaceError, match="did you mean"):
        make_race(RaceConfig("time_trail"))
    with pytest.raises(RaceError, match="1-6 boxes"):
        make_race(RaceConfig("object_avoidance", ObstacleConfig(count=7)))


def test_crash_into_box_in_training_and_evaluation(track):
    boxes = RaceConfig("object_avoidance", ObstacleConfig(count=1, positions=((0.05, "left"),)))
    for mode in ("training", "evaluation"):
        world = RaceWorld(track, WorldConfig(race=boxes, rules=RulesConfig(mode=mode)))
        world.reset(start_s=0.0)
        box = world.objects[0]
        box_s = track.project(np.array([box.x, box.y])).s[0]
        # Drive along the left lane straight into the box.
        driver = PurePursuitDriver(track, world.spec, speed=1.0)
        rec = world.record
        hit = None
        for _ in range(200):
            steer, speed = driver.act(rec.car)
            rec = world.step(steer + 4.0, speed)
            if rec.is_crashed:
                hit = rec
                break
        assert hit is not None, mode
        if mode == "training":
            assert hit.status is Status.CRASHED and hit.crash_count == 1
        else:
            assert hit.status is Status.IN_PROGRESS and hit.pause_duration == 5.0
            # Put back in the other lane, clear of the box.
            off = track.project(np.array(hit.car.point_ahead(0.14))).offset[0]
            assert off < 0
            nxt = world.step(0.0, 0.5)
            assert not nxt.is_crashed
        assert box_s > 0
        world.close()


def test_head_to_bot_bots_move_at_set_speed(track):
    from racer.sim.race import BotConfig

    world = RaceWorld(
        track, WorldConfig(race=RaceConfig("head_to_bot", bots=BotConfig(count=2, speed=0.6)))
    )
    world.reset(start_s=0.0)
    s0 = track.project(np.array([[o.x, o.y] for o in world.objects])).s
    for _ in range(15):
        world.step(0.0, 0.1)
    s1 = track.project(np.array([[o.x, o.y] for o in world.objects])).s
    assert np.allclose(np.mod(s1 - s0, track.length), 0.6, atol=0.02)
    world.close()


def test_head_to_bot_lane_changes(track):
    from racer.sim.race import BotConfig

    bots = BotConfig(count=1, speed=0.5, lane_change=True, lane_change_interval=1.0)
    race = make_race(RaceConfig("head_to_bot", bots=bots))
    race.reset(track, 0.0, np.random.default_rng(0))
    sides = set()
    for _ in range(6 * 15):
        race.advance(1 / 15)
        o = race.objects[0]
        sides.add(bool(track.project(np.array([o.x, o.y])).offset[0] > 0.05))
    assert sides == {True, False}
