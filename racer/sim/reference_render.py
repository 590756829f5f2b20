"""pybullet's TinyRenderer as the reference for the fast camera (:mod:`racer.sim.camera`).

The same scene is built in a pybullet ``DIRECT`` client: the floor raster of
:mod:`racer.sim.floor` as a textured quad (the level-0 colour image saved as a PNG in a temporary
folder), the wall as four boxes, and each object as five thin plates (top and four sides), each
plate coloured like the fast renderer's face. Lighting is switched to pure ambient so every surface
shows its own colour. Pixels that hit nothing (segmentation id -1) take the sky colour.

Slow (a few hundred frames per second); used by tests and benchmarks, never in training.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from racer.sim.bullet import connect_direct
from racer.sim.bullet import pb as p
from racer.sim.camera import CameraConfig
from racer.sim.floor import Floor, build_floor
from racer.sim.raycast import face_factors
from racer.sim.track import Track
from racer.sim.types import CarState

UInt8Array = NDArray[np.uint8]
_PLATE = 0.001  # half thickness of an object's face plate, metres


def _rgba(bgr: tuple[float, float, float]) -> list[float]:
    """RGBA (0-1) for pybullet from a BGR colour (0-255)."""
    return [bgr[2] / 255.0, bgr[1] / 255.0, bgr[0] / 255.0, 1.0]


class ReferenceRenderer:
    """Render the camera's view with pybullet's TinyRenderer.

    Args:
        track: The track.
        config: Camera configuration (pose, field of view, output size, stereo, floor style).
            The output is always rendered gray at ``width x height``; ``mode`` is ignored.
    """

    def __init__(self, track: Track, config: CameraConfig | None = None) -> None:
        self.config = config if config is not None else CameraConfig()
        self.floor = build_floor(track, self.config.style)
        self._tmp = tempfile.TemporaryDirectory(prefix="racer-ref-")
        self.client = connect_direct()
        self._object_bodies: list[int] = []
        self._build_static(Path(self._tmp.name))

    def close(self) -> None:
        """Disconnect the pybullet client and remove the temporary folder."""
        if self.client >= 0:
            p.disconnect(physicsClientId=self.client)
            self.client = -1
        self._tmp.cleanup()

    def __enter__(self) -> ReferenceRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ scene
    def _build_static(self, folder: Path) -> None:
        floor = self.floor
        png = folder / "floor.png"
        cv2.imwrite(str(png), floor.color)
        obj = folder / "floor.obj"
        x0, y0, x1, y1 = floor.extent
        obj.write_text(
            f"v {x0} {y0} 0\nv {x1} {y0} 0\nv {x1} {y1} 0\nv {x0} {y1} 0\n"
            "vt 0 0\nvt 1 0\nvt 1 1\nvt 0 1\nvn 0 0 1\n"
            "f 1/1/1 2/2/1 3/3/1\nf 1/1/1 3/3/1 4/4/1\n"
        )
        cid = self.client
        vis = p.createVisualShape(p.GEOM_MESH, fileName=str(obj), physicsClientId=cid)
        body = p.createMultiBody(baseMass=0, baseVisualShapeIndex=vis, physicsClientId=cid)
        tex = p.loadTexture(str(png), physicsClientId=cid)
        p.changeVisualShape(
            body, -1, textureUniqueId=tex, rgbaColor=[1, 1, 1, 1], physicsClientId=cid
        )
        self._build_walls(floor)

    def _build_walls(self, floor: Floor) -> None:
        h = floor.style.wall_height
        if h <= 0:
            return
        x0, y0, x1, y1 = floor.extent
        t = 0.05
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        walls = [
            ((x1 + t, cy), (t, (y1 - y0) / 2 + 2 * t)),
            ((x0 - t, cy), (t, (y1 - y0) / 2 + 2 * t)),
            ((cx, y1 + t), ((x1 - x0) / 2 + 2 * t, t)),
            ((cx, y0 - t), ((x1 - x0) / 2 + 2 * t, t)),
        ]
        for (px, py), (hx, hy) in walls:
            self._add_box((px, py, h / 2), (hx, hy, h / 2), 0.0, floor.style.wall, [])

    def _add_box(
        self,
        centre: tuple[float, float, float],
        half: tuple[float, float, float],
        yaw: float,
        bgr: tuple[float, float, float],
        registry: list[int],
    ) -> None:
        cid = self.client
        vis = p.createVisualShape(
            p.GEOM_BOX, halfExtents=list(half), rgbaColor=_rgba(bgr), physicsClientId=cid
        )
        body = p.createMultiBody(
            baseMass=0,
            baseVisualShapeIndex=vis,
            basePosition=list(centre),
            baseOrientation=p.getQuaternionFromEuler([0, 0, yaw]),
            physicsClientId=cid,
        )
        registry.append(body)

    def _set_objects(self, objects: NDArray[np.float64]) -> None:
        for body in self._object_bodies:
            p.removeBody(body, physicsClientId=self.client)
        self._object_bodies = []
        for ox, oy, oyaw, hl, hw, h, shade in objects:
            factors = face_factors(float(oyaw))
            c, s = math.cos(oyaw), math.sin(oyaw)
            # (centre in the object frame, half extents, face index)
            plates = [
                ((0.0, 0.0, h - _PLATE), (hl, hw, _PLATE), 0),
                ((hl - _PLATE, 0.0, h / 2), (_PLATE, hw, h / 2), 1),
                ((-hl + _PLATE, 0.0, h / 2), (_PLATE, hw, h / 2), 2),
                ((0.0, hw - _PLATE, h / 2), (hl, _PLATE, h / 2), 3),
                ((0.0, -hw + _PLATE, h / 2), (hl, _PLATE, h / 2), 4),
            ]
            for (lx, ly, lz), half, face in plates:
                g = float(np.clip(shade * factors[face], 0, 255))
                centre = (ox + c * lx - s * ly, oy + s * lx + c * ly, lz)
                self._add_box(centre, half, float(oyaw), (g, g, g), self._object_bodies)

    # ------------------------------------------------------------------ rendering
    def render(self, state: CarState, objects: NDArray[np.float64] | None = None) -> UInt8Array:
        """Render the gray camera image(s) of a car.

        Args:
            state: The car.
            objects: (K, 7) objects from :func:`racer.sim.types.objects_array`.

        Returns:
            uint8 ``(H, W)`` (mono) or ``(2, H, W)`` (stereo, left eye first).
        """
        self._set_objects(np.zeros((0, 7)) if objects is None else np.asarray(objects))
        images = [self._render_eye(state, eye) for eye in self.config.eye_offsets]
        return np.stack(images) if self.config.stereo else images[0]

    def _render_eye(self, state: CarState, eye: NDArray[np.float64]) -> UInt8Array:
        cfg = self.config
        c, s = math.cos(state.yaw), math.sin(state.yaw)
        pos = [state.x + c * eye[0] - s * eye[1], state.y + s * eye[0] + c * eye[1], eye[2]]
        pitch = math.radians(cfg.pitch_deg)
        fwd = [math.cos(pitch) * c, math.cos(pitch) * s, -math.sin(pitch)]
        up = [math.sin(pitch) * c, math.sin(pitch) * s, math.cos(pitch)]
        view = p.computeViewMatrix(pos, [pos[i] + fwd[i] for i in range(3)], up)
        proj = p.computeProjectionMatrixFOV(
            fov=math.degrees(cfg.vfov), aspect=cfg.width / cfg.height, nearVal=0.01, farVal=100.0
        )
        _, _, rgba, _, seg = p.getCameraImage(
            cfg.width,
            cfg.height,
            view,
            proj,
            renderer=p.ER_TINY_RENDERER,
            shadow=0,
            lightAmbientCoeff=1.0,
            lightDiffuseCoeff=0.0,
            lightSpecularCoeff=0.0,
            physicsClientId=self.client,
        )
        rgb = np.reshape(np.asarray(rgba, dtype=np.uint8), (cfg.height, cfg.width, 4))[..., :3]
        rgb = np.ascontiguousarray(rgb)
        sky = cfg.style.sky
        background = np.reshape(np.asarray(seg), (cfg.height, cfg.width)) < 0
        rgb[background] = (sky[2], sky[1], sky[0])
        return np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), dtype=np.uint8)
