import dataclasses
import math

import cv2
import numpy as np
import pytest

from racer.sim.camera import Camera, CameraConfig
from racer.sim.floor import FloorStyle, bgr_to_gray, build_floor
from racer.sim.track import Track
from racer.sim.track_registry import get_track
from racer.sim.types import CarState, RaceObject, objects_array

H, W = 120, 160


@pytest.fixture(scope="module")
def track() -> Track:
    return get_track("reinvent_base")


@pytest.fixture(scope="module")
def camera(track: Track) -> Camera:
    return Camera(track)


# On re:Invent 2018 the centre line runs straight along +x at y = 0.683 from x = 3.06 to 6.0.
STRAIGHT_Y = 0.6827


def _on_straight(x_cam: float = 3.3, cfg: CameraConfig | None = None) -> CarState:
    """A car heading +x whose camera lies on the straight's centre line."""
    cfg = cfg or CameraConfig()
    return CarState(x=x_cam - cfg.forward, y=STRAIGHT_Y, yaw=0.0)


def _box(x: float, y: float, yaw: float = 0.0, shade: int = 200) -> np.ndarray:
    return objects_array([RaceObject("box", x, y, yaw, 0.24, 0.39, 0.24, shade=shade)])


def test_shape_dtype_deterministic(camera: Camera, track: Track) -> None:
    state = CarState(3.5, 0.7, 0.1)
    img = camera.render(state)
    assert img.shape == (H, W) == camera.observation_shape and img.dtype == np.uint8
    assert np.array_equal(img, camera.render(state))
    assert np.array_equal(img, Camera(track).render(state))
    assert img.std() > 10  # not a blank frame


def test_floor_texture_and_cache(track: Track) -> None:
    floor = build_floor(track)
    assert build_floor(track) is floor
    style = floor.style
    assert np.array_equal(floor.gray, cv2.cvtColor(floor.color, cv2.COLOR_BGR2GRAY))
    # Texel colours at known places: the centre of the straight is surface or dash, the
    # border is white, 0.5 m outside it is carpet.
    col_row = floor.world_to_texel(np.array([[4.0, STRAIGHT_Y + 0.381], [4.0, STRAIGHT_Y - 0.9]]))
    (c0, r0), (c1, r1) = col_row.astype(int)
    assert tuple(floor.color[r0, c0]) == style.border
    assert tuple(floor.color[r1, c1]) == style.carpet


def test_horizon_row_closed_form(track: Track) -> None:
    """Without a wall the sky ends at the horizon: rows whose centre is above it are sky."""
    cfg = CameraConfig(style=dataclasses.replace(FloorStyle(), wall_height=0.0))
    expected = H / 2 * (1 - math.tan(math.radians(15)) / math.tan(cfg.vfov / 2))
    assert cfg.horizon_row == pytest.approx(expected)
    assert cfg.vfov == pytest.approx(2 * math.atan(math.tan(1.13 / 2) * 0.75))
    assert 25 < expected < 27
    img = Camera(track, cfg).render(_on_straight())
    sky = bgr_to_gray(cfg.style.sky)
    first_ground_row = math.ceil(expected - 0.5)
    assert np.all(img[:first_ground_row] == sky)
    assert np.all(img[first_ground_row] != sky)


def test_straight_borders_symmetric(camera: Camera) -> None:
    img = camera.render(_on_straight())
    checked = 0
    cols = np.arange(W)
    for row in range(45, H):  # rows nearer than ~1.5 m: the straight, not the turn after it
        weight = np.clip(img[row].astype(float) - 200.0, 0.0, None)  # white lines only
        left, right = weight[: W // 2], weight[W // 2 :]
        if left.sum() < 40 or right.sum() < 40:
            continue
        # Mirror images about the optical axis (intensity-weighted centroids within a pixel).
        left_c = (left * cols[: W // 2]).sum() / left.sum()
        right_c = (right * cols[W // 2 :]).sum() / right.sum()
        assert abs(left_c - (W - 1 - right_c)) <= 1.0, row
        checked += 1
    assert checked >= 8
    # The nearest centre-line dash is on the axis, flanked by dark surface.
    row = img[H - 1]
    dash = np.flatnonzero(row > 150)
    assert abs(dash.mean() - (W - 1) / 2) <= 1.0
    assert row[:30].max() < 100 and row[-30:].max() < 100


def _box_geometry(cfg: CameraConfig, dist: float, z: float = 0.0) -> tuple[float, float]:
    """Closed-form row of the box's front edge at height z and its half width in pixels there."""
    f = (W / 2) / math.tan(cfg.hfov / 2)
    p = math.radians(cfg.pitch_deg)
    h = cfg.mount_height
    depth = dist * math.cos(p) - (z - h) * math.sin(p)
    v = H / 2 - f * (dist * math.sin(p) + (z - h) * math.cos(p)) / depth
    return v, f * 0.195 / depth


def test_box_straight_ahead_is_centred(camera: Camera) -> None:
    state = _on_straight()
    dist = 0.8  # camera to the box's front face
    objs = _box(3.3 + dist + 0.12, STRAIGHT_Y)
    diff = camera.render(state, objs) != camera.render(state)
    rows, cols = np.nonzero(diff)
    assert abs(cols.mean() - (W - 1) / 2) <= 0.5
    v_bottom, half_w = _box_geometry(camera.config, dist)
    assert abs(rows.max() + 0.5 - v_bottom) <= 1.0
    bottom = np.flatnonzero(diff[rows.max() - 1])
    assert abs((bottom.max() - bottom.min() + 1) / 2 - half_w) <= 1.0
    v_top, _ = _box_geometry(camera.config, dist, z=0.24)
    assert abs(rows.min() - v_top) <= 1.0
    # Lit faces: the front face is one flat shade (the box's shade times its light factor).
    assert len(np.unique(camera.render(state, objs)[rows.min() + 2 : rows.max() - 2, 75:85])) == 1


def test_stereo_disparity(track: Track) -> None:
    cfg = CameraConfig(stereo=True, baseline=0.06)
    cam = Camera(track, cfg)
    assert cam.observation_shape == (2, H, W)
    state = _on_straight(cfg=cfg)
    dist = 0.6
    objs = _box(3.3 + dist + 0.12, STRAIGHT_Y)
    img = cam.render(state, objs)
    assert img.shape == (2, H, W) and img.dtype == np.uint8
    assert not np.array_equal(img[0], img[1])
    # The box's front face at camera height (row ~ centre of the face): disparity f b / depth.
    f = (W / 2) / math.tan(cfg.hfov / 2)
    expected = f * cfg.baseline / (dist * math.cos(math.radians(cfg.pitch_deg)))
    bg = cam.render(state)
    row = int(_box_geometry(cfg, dist)[0]) - 8
    centres = []
    for e in (0, 1):
        cols = np.flatnonzero(img[e, row] != bg[e, row])
        centres.append((cols.min() + cols.max()) / 2)
    # The left eye sees the box further right; +-1.5 px: edge quantisation and the row's depth.
    assert centres[0] - centres[1] == pytest.approx(expected, abs=1.5)


def test_real_car_mode(track: Track, camera: Camera) -> None:
    cfg = CameraConfig(mode="real_car")
    cam = Camera(track, cfg)
    state = CarState(5.0, 0.75, 0.15)
    objs = _box(6.0, 0.6)
    real = cam.render(state, objs)
    fast = camera.render(state, objs)
    assert real.shape == (H, W) and real.dtype == np.uint8
    diff = np.abs(real.astype(int) - fast.astype(int))
    assert diff.mean() < 6 and np.mean(diff > 40) < 0.03
    stereo = Camera(track, dataclasses.replace(cfg, stereo=True)).render(state, objs)
    assert stereo.shape == (2, H, W)


def test_unknown_mode_suggests() -> None:
    with pytest.raises(ValueError, match="real_car"):
        CameraConfig(mode="real-car")


def _reference_poses(track: Track) -> list[tuple[CarState, np.ndarray | None]]:
    """Ten poses: on the centre line, near both borders, skewed, and facing boxes."""
    poses: list[tuple[CarState, np.ndarray | None]] = []
    for s, offset, skew in [
        (0.5, 0.0, 0.0),
        (3.3, 0.0, 0.0),
        (6.5, 0.1, 0.2),
        (9.3, -0.1, -0.1),
        (12.3, 0.0, 0.3),
        (14.0, 0.28, 0.0),
        (15.0, -0.28, 0.4),
        (16.5, 0.25, -0.5),
    ]:
        x, y = track.point_at(s, offset)
        poses.append((CarState(float(x), float(y), float(track.heading_at(s)[0]) + skew), None))
    for s, box_s, off in [(1.0, 1.9, 0.15), (10.8, 11.5, -0.15)]:
        x, y = track.point_at(s)
        bx, by = track.point_at(box_s, off)
        yaw = float(track.heading_at(s)[0])
        objs = _box(float(bx), float(by), float(track.heading_at(box_s)[0]))
        poses.append((CarState(float(x), float(y), yaw), objs))
    return poses


def test_agrees_with_pybullet_reference(track: Track, camera: Camera) -> None:
    """The fast camera matches pybullet's TinyRenderer from ten poses.

    Metrics and why these thresholds:

    * Mean absolute difference <= 8 gray levels per frame. The two renderers differ only in
      sampling: TinyRenderer takes the nearest texel of the 1 cm texture (jagged near-field
      edges, far-field aliasing), the fast path filters (bilinear, mip levels). That leaves 1-2 px
      bands along every edge; a wrong pose, FOV, pitch or texture orientation gives 30+.
    * Fewer than 8 % of pixels off by more than 40 levels: the edge bands again; a 1 px shift of
      the horizon alone is 160 pixels (0.8 %), a misplaced border line several percent.
    * Structure: the wall's top edge (first non-sky row per column) matches within 1 px in the
      median and 2 px everywhere but a few columns, and, over all poses, >= 90 % of the white
      border pixels (> 220) of one image lie within 2 px of a white border pixel of the other
      (chamfer distance; thin far-away lines cross the threshold in one renderer only).
    """
    from racer.sim.reference_render import ReferenceRenderer

    sky = bgr_to_gray(camera.config.style.sky)
    near_line: list[np.ndarray] = []
    with ReferenceRenderer(track, camera.config) as ref:
        for i, (state, objs) in enumerate(_reference_poses(track)):
            fast = camera.render(state, objs)
            slow = ref.render(state, objs)
            assert slow.shape == fast.shape
            diff = np.abs(fast.astype(int) - slow.astype(int))
            assert diff.mean() <= 8.0, (i, diff.mean())
            assert np.mean(diff > 40) < 0.08, (i, np.mean(diff > 40))
            top_fast = np.argmax(fast != sky, axis=0)
            top_slow = np.argmax(slow != sky, axis=0)
            gap = np.abs(top_fast - top_slow)
            assert np.median(gap) <= 1 and np.mean(gap > 2) < 0.05, (i, gap)
            for a, b in ((fast, slow), (slow, fast)):
                dist_to_b = cv2.distanceTransform((b <= 220).astype(np.uint8), cv2.DIST_L2, 3)
                near_line.append(dist_to_b[a > 220] <= 2.0)
    assert np.mean(np.concatenate(near_line)) >= 0.9


def test_objects_none_equals_empty(camera: Camera) -> None:
    state = _on_straight()
    assert np.array_equal(camera.render(state), camera.render(state, np.zeros((0, 7))))
