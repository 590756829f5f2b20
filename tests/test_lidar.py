import math

import numpy as np
import pytest

from racer.sim.lidar import Lidar, LidarConfig, SectorLidar
from racer.sim.types import CarState, RaceObject, objects_array

CFG = LidarConfig()
CAR = CarState(x=1.0, y=2.0, yaw=0.4)


def _box_at(distance: float, bearing: float = 0.0, hl: float = 0.12, hw: float = 0.195):
    """A box whose centre is ``distance`` from the sensor at ``bearing``, facing the sensor."""
    ox = CAR.x + CFG.forward * math.cos(CAR.yaw)
    oy = CAR.y + CFG.forward * math.sin(CAR.yaw)
    a = CAR.yaw + bearing
    box = RaceObject(
        "box", ox + distance * math.cos(a), oy + distance * math.sin(a), a, 2 * hl, 2 * hw, 0.24
    )
    return objects_array([box])


def test_shape_dtype_and_no_objects_reads_max():
    scan = Lidar().scan(CAR)
    assert scan.shape == (64,) and scan.dtype == np.float32
    assert np.all(scan == CFG.max_range)
    assert Lidar().observation_shape == (64,)
    assert np.allclose(CFG.angles[[0, -1]], np.radians([-150, 150]))


def test_box_straight_ahead_closed_form():
    d, hl, hw = 0.7, 0.12, 0.195
    scan = Lidar().scan(CAR, _box_at(d, hl=hl, hw=hw))
    angles = CFG.angles
    for b in (31, 32):  # the two beams either side of straight ahead (+-2.38 degrees)
        expected = (d - hl) / math.cos(angles[b])
        assert scan[b] == pytest.approx(expected, abs=1e-5)
    # Beams that cannot reach the face read max range; those that do are closed-form too.
    hits = np.abs(np.tan(angles) * (d - hl)) <= hw
    hits &= np.abs(angles) < math.pi / 2
    assert np.all(scan[~hits] == CFG.max_range)
    assert np.allclose(scan[hits], (d - hl) / np.cos(angles[hits]), atol=1e-5)


def test_clipping_to_min_and_max():
    assert np.all(Lidar().scan(CAR, _box_at(3.0)) == CFG.max_range)
    near = Lidar().scan(CAR, _box_at(0.2, hl=0.12))
    assert near[31] == pytest.approx(CFG.min_range)


def test_box_to_the_left_hits_left_beams_only():
    scan = Lidar().scan(CAR, _box_at(0.6, bearing=math.pi / 2))
    hit = np.flatnonzero(scan < CFG.max_range)
    assert hit.size > 0 and np.all(CFG.angles[hit] > 0.9)


def test_sector_flags():
    sl = SectorLidar()
    assert sl.observation_shape == (8,) and sl.sectors == 8
    ahead = sl.scan(CAR, _box_at(0.3, hw=0.05))
    assert ahead.tolist() == [0, 0, 0, 1, 1, 0, 0, 0]
    assert sl.scan(CAR, _box_at(0.8)).tolist() == [0] * 8  # nearer face at 0.68 m > 0.5 m
    left = sl.scan(CAR, _box_at(0.35, bearing=math.radians(100), hl=0.05, hw=0.05))
    assert left.tolist() == [0, 0, 0, 0, 0, 0, 1, 0]


def test_rotated_box_and_deterministic():
    objs = _box_at(0.6)
    objs[0, 2] += 0.7
    a = Lidar().scan(CAR, objs)
    assert np.array_equal(a, Lidar().scan(CAR, objs))
    assert a.min() < CFG.max_range


def test_config_validation():
    with pytest.raises(ValueError):
        LidarConfig(beams=60, sectors=8)
