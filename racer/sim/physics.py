"""Car physics: one rigid chassis in pybullet, driven by tyre forces computed in Python.

The car is a single box body (no wheel contacts) in a pybullet ``DIRECT`` client with gravity
off, kept planar. Each physics substep :func:`tyre_step` turns the commanded speed and the
current steering angle into tyre impulses:

* **Longitudinal** (4-wheel drive, as on DeepRacer): a proportional speed controller,
  ``a = (v_cmd - vx) * (1 - exp(-speed_gain * dt)) / dt``, clipped to ``max_accel`` /
  ``max_brake`` and to the grip limit ``grip * g``. Its feed-forward cancels the rolling
  resistance, so the car settles exactly at the commanded speed.
* **Lateral**: the two axle impulses that would cancel both axles' sideways slip this substep
  (a 2x2 linear system), each clamped to what its friction circle leaves after the
  longitudinal force. Below the grip limit the car follows the kinematic bicycle (turning
  radius ``wheelbase / tan(steering)`` for the rear axle); above it an axle slides.

pybullet then integrates the pose and resolves collisions with boxes and bot cars, which are
static (mass 0) boxes repositioned by :meth:`PhysicsWorld.set_objects`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from racer.sim.bullet import connect_direct, pb
from racer.sim.types import CarSpec, CarState, RaceObject

DEFAULT_SPEC = CarSpec()
"""The default car (a frozen, shared instance)."""


@dataclass(frozen=True)
class PhysicsConfig:
    """Numerical and environmental settings of the physics (not the car's own properties).

    Attributes:
        physics_hz: Physics substeps per simulated second; must be a multiple of the control
            rate (60 Hz with 15 Hz control gives 4 substeps per control step).
        gravity: Gravitational acceleration for the tyres' normal load, m/s^2 (the pybullet
            world itself has gravity off).
        steering_rate_deg_s: How fast the front wheels turn toward the commanded angle, deg/s
            (600 deg/s = 0.1 s from lock to lock, a hobby servo's speed).
        rolling_resistance: Rolling-resistance coefficient (deceleration = coefficient * g);
            felt when the tyres slide or the drive saturates.
        solver_iterations: pybullet constraint-solver iterations for collisions.
        contact_distance: A contact point counts as a collision when its separation is at most
            this many metres (0 = touching or penetrating).
    """

    physics_hz: float = 60.0
    gravity: float = 9.81
    steering_rate_deg_s: float = 600.0
    rolling_resistance: float = 0.015
    solver_iterations: int = 10
    contact_distance: float = 0.0


@dataclass
class _Body:
    """Planar motion of the centre of mass in the body frame (mutable scratch state)."""

    vx: float
    vy: float
    r: float


def tyre_step(
    body: _Body, steering: float, speed_cmd: float, spec: CarSpec, cfg: PhysicsConfig, dt: float
) -> None:
    """Apply one substep of tyre impulses to ``body`` (CoM velocities, body frame) in place.

    The centre of mass lies midway between the axles, so each axle carries half the weight.

    Args:
        body: Velocities of the centre of mass; updated in place.
        steering: Front-wheel angle, radians, positive = left.
        speed_cmd: Commanded forward speed, m/s.
        spec: The car.
        cfg: Physics settings.
        dt: Substep length, seconds.
    """
    m = spec.mass
    half = spec.wheelbase / 2.0  # a = b: distance of each axle from the CoM
    iz = m * (spec.body_length**2 + spec.body_width**2) / 12.0
    mu_fz = spec.grip * m * cfg.gravity / 2.0  # friction force budget per axle
    roll = cfg.rolling_resistance * cfg.gravity * max(-1.0, min(1.0, body.vx / 0.05))

    # Longitudinal: speed controller with rolling-resistance feed-forward, split evenly.
    a_cmd = (speed_cmd - body.vx) * (1.0 - math.exp(-spec.speed_gain * dt)) / dt
    a_cmd = max(-spec.max_brake, min(spec.max_accel, a_cmd)) + roll
    limit = spec.grip * cfg.gravity
    fx_axle = m * max(-limit, min(limit, a_cmd)) / 2.0
    c, s = math.cos(steering), math.sin(steering)
    jx = fx_axle * dt  # impulse per axle; the front one along the wheel's heading
    body.vx += (jx * (1.0 + c) - m * roll * dt) / m
    body.vy += jx * s / m
    body.r += half * jx * s / iz

    # Lateral: impulses cancelling each axle's side slip, within the friction circle.
    slip_f = -s * body.vx + c * (body.vy + half * body.r)
    slip_r = body.vy - half * body.r
    k11 = 1.0 / m + half * half * c * c / iz
    k12 = c / m - half * half * c / iz
    k22 = 1.0 / m + half * half / iz
    det = k11 * k22 - k12 * k12
    p_f = (-slip_f * k22 + slip_r * k12) / det
    p_r = (-slip_r * k11 + slip_f * k12) / det
    budget = math.sqrt(max(mu_fz * mu_fz - fx_axle * fx_axle, 0.0)) * dt
    if abs(p_f) > budget:  # front slides: re-solve the rear given the clamped front
        p_f = math.copysign(budget, p_f)
        p_r = -(slip_r + k12 * p_f) / k22
    if abs(p_r) > budget:
        p_r = math.copysign(budget, p_r)
        p_f = max(-budget, min(budget, -(slip_f + k12 * p_r) / k11))
    body.vx += -s * p_f / m
    body.vy += (c * p_f + p_r) / m
    body.r += half * (c * p_f - p_r) / iz


class PhysicsWorld:
    """One car (and static obstacles) in a private pybullet ``DIRECT`` client.

    Args:
        spec: The car's geometry and limits.
        config: Physics settings.
        control_hz: Control steps per simulated second.

    Attributes:
        sim_time: Simulated seconds since construction.
    """

    def __init__(
        self,
        spec: CarSpec = DEFAULT_SPEC,
        config: PhysicsConfig = PhysicsConfig(),
        control_hz: float = 15.0,
    ) -> None:
        substeps = config.physics_hz / control_hz
        if substeps < 1 or abs(substeps - round(substeps)) > 1e-9:
            raise ValueError(
                f"physics_hz ({config.physics_hz}) must be a whole multiple of "
                f"control_hz ({control_hz})"
            )
        self.spec = spec
        self.config = config
        self.control_hz = control_hz
        self.sim_time = 0.0
        self._substeps = int(round(substeps))
        self._dt = 1.0 / config.physics_hz
        self._max_steer = math.radians(spec.max_steering_deg)
        self._steer_step = math.radians(config.steering_rate_deg_s) * self._dt
        self._steering = 0.0
        self._collided: int | None = None
        self._objects: list[tuple[int, tuple[float, float, float]]] = []
        self._body_index: dict[int, int] = {}
        self._cid = connect_direct()
        pb.setGravity(0, 0, 0, physicsClientId=self._cid)
        pb.setPhysicsEngineParameter(
            fixedTimeStep=self._dt,
            numSubSteps=1,
            numSolverIterations=config.solver_iterations,
            physicsClientId=self._cid,
        )
        self._car = self._make_car()
        self.reset_car(CarState(0.0, 0.0, 0.0))

    # ------------------------------------------------------------------ construction
    def _make_car(self) -> int:
        sp = self.spec
        # The body frame is the centre of mass, midway between the axles.
        box_centre_x = (sp.body_length / 2.0 - sp.rear_overhang) - sp.wheelbase / 2.0
        shape = pb.createCollisionShape(
            pb.GEOM_BOX,
            halfExtents=[sp.body_length / 2, sp.body_width / 2, sp.body_height / 2],
            collisionFramePosition=[box_centre_x, 0.0, 0.0],
            physicsClientId=self._cid,
        )
        car = pb.createMultiBody(
            baseMass=sp.mass,
            baseCollisionShapeIndex=shape,
            basePosition=[0.0, 0.0, sp.body_height / 2],
            physicsClientId=self._cid,
        )
        iz = sp.mass * (sp.body_length**2 + sp.body_width**2) / 12.0
        pb.changeDynamics(
            car,
            -1,
            localInertiaDiagonal=[1e6, 1e6, iz],  # planar: collisions cannot roll or pitch it
            linearDamping=0.0,
            angularDamping=0.0,
            lateralFriction=0.3,
            restitution=0.0,
            physicsClientId=self._cid,
        )
        return int(car)

    # ------------------------------------------------------------------ car
    @property
    def car_state(self) -> CarState:
        """The car's state; position and velocities are those of the base (rear axle)."""
        (cx, cy, _), q = pb.getBasePositionAndOrientation(self._car, physicsClientId=self._cid)
        (wvx, wvy, _), (_, _, r) = pb.getBaseVelocity(self._car, physicsClientId=self._cid)
        yaw = _yaw(q)
        c, s = math.cos(yaw), math.sin(yaw)
        half = self.spec.wheelbase / 2.0
        return CarState(
            x=cx - half * c,
            y=cy - half * s,
            yaw=yaw,
            vx=c * wvx + s * wvy,
            vy=-s * wvx + c * wvy - half * r,
            yaw_rate=r,
            steering=self._steering,
        )

    def reset_car(self, state: CarState) -> None:
        """Teleport the car to ``state`` (base pose and velocities) and clear collisions."""
        c, s = math.cos(state.yaw), math.sin(state.yaw)
        half = self.spec.wheelbase / 2.0
        vy_com = state.vy + half * state.yaw_rate
        pb.resetBasePositionAndOrientation(
            self._car,
            [state.x + half * c, state.y + half * s, self.spec.body_height / 2],
            [0.0, 0.0, math.sin(state.yaw / 2), math.cos(state.yaw / 2)],
            physicsClientId=self._cid,
        )
        pb.resetBaseVelocity(
            self._car,
            [c * state.vx - s * vy_com, s * state.vx + c * vy_com, 0.0],
            [0.0, 0.0, state.yaw_rate],
            physicsClientId=self._cid,
        )
        self._steering = max(-self._max_steer, min(self._max_steer, state.steering))
        self._collided = None

    def step(self, steering_rad: float, speed_cmd: float) -> CarState:
        """Advance one control step.

        Args:
            steering_rad: Commanded front-wheel angle, radians (clipped to the car's limit).
            speed_cmd: Commanded forward speed, m/s (clipped to [0, max_speed]).

        Returns:
            The car's state after the step.
        """
        target = max(-self._max_steer, min(self._max_steer, steering_rad))
        v_cmd = max(0.0, min(self.spec.max_speed, speed_cmd))
        cid, car, dt, spec, cfg = self._cid, self._car, self._dt, self.spec, self.config
        self._collided = None
        for _ in range(self._substeps):
            err = target - self._steering
            self._steering += max(-self._steer_step, min(self._steer_step, err))
            _, q = pb.getBasePositionAndOrientation(car, physicsClientId=cid)
            (wvx, wvy, _), (_, _, r) = pb.getBaseVelocity(car, physicsClientId=cid)
            yaw = _yaw(q)
            c, s = math.cos(yaw), math.sin(yaw)
            body = _Body(c * wvx + s * wvy, -s * wvx + c * wvy, r)
            tyre_step(body, self._steering, v_cmd, spec, cfg, dt)
            pb.resetBaseVelocity(
                car,
                [c * body.vx - s * body.vy, s * body.vx + c * body.vy, 0.0],
                [0.0, 0.0, body.r],
                physicsClientId=cid,
            )
            pb.stepSimulation(physicsClientId=cid)
            if self._body_index and self._collided is None:
                self._collided = self._touching()
        self.sim_time += self._substeps * dt
        return self.car_state

    # ------------------------------------------------------------------ objects
    def set_objects(self, objects: Sequence[RaceObject]) -> None:
        """Place boxes and bot cars (static bodies), re-using bodies whose size is unchanged.

        Args:
            objects: The objects, in the order :meth:`collided` reports indices.
        """
        cid = self._cid
        for i, obj in enumerate(objects):
            size = (obj.length, obj.width, obj.height)
            pos = [obj.x, obj.y, obj.height / 2]
            orn = [0.0, 0.0, math.sin(obj.yaw / 2), math.cos(obj.yaw / 2)]
            if i < len(self._objects) and self._objects[i][1] == size:
                pb.resetBasePositionAndOrientation(
                    self._objects[i][0], pos, orn, physicsClientId=cid
                )
                continue
            if i < len(self._objects):
                pb.removeBody(self._objects[i][0], physicsClientId=cid)
            shape = pb.createCollisionShape(
                pb.GEOM_BOX, halfExtents=[s / 2 for s in size], physicsClientId=cid
            )
            body = pb.createMultiBody(
                baseMass=0.0,
                baseCollisionShapeIndex=shape,
                basePosition=pos,
                baseOrientation=orn,
                physicsClientId=cid,
            )
            if i < len(self._objects):
                self._objects[i] = (int(body), size)
            else:
                self._objects.append((int(body), size))
        for body, _ in self._objects[len(objects) :]:
            pb.removeBody(body, physicsClientId=cid)
        del self._objects[len(objects) :]
        self._body_index = {body: i for i, (body, _) in enumerate(self._objects)}

    def _touching(self) -> int | None:
        """Index of an object in contact with the car after the last substep, else None."""
        limit = self.config.contact_distance
        for pt in pb.getContactPoints(bodyA=self._car, physicsClientId=self._cid):
            if pt[8] <= limit and pt[2] in self._body_index:
                return self._body_index[pt[2]]
        return None

    def collided(self) -> int | None:
        """Index of the object the car touched during the last control step, else None."""
        return self._collided

    def close(self) -> None:
        """Disconnect the pybullet client (the world is unusable afterwards)."""
        if self._cid >= 0:
            pb.disconnect(physicsClientId=self._cid)
            self._cid = -1

    def __enter__(self) -> PhysicsWorld:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _yaw(q: Sequence[float]) -> float:
    """Yaw (rotation about +z) of an (x, y, z, w) quaternion."""
    x, y, z, w = q
    return math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))
