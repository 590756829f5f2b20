"""Prevent zig-zagging: follow the centre line, but pay less for hard steering.

What it teaches: smooth driving. A car trained only to follow the centre line often swings
from side to side with full steering lock; here every step with a steering angle above a
threshold earns less, so the policy prefers small corrections.
When to use it: after ``follow_centerline`` produced a wobbly car, or whenever a model will
run on the physical car, where zig-zagging costs grip and time.

Reward: the ``follow_centerline`` shape, scaled by 0.6 when ``|steering_angle|`` is above
``STEERING_LIMIT`` degrees.
"""

STEERING_LIMIT = 15.0  # degrees; check it against your action space


def reward_function(params):
    if not params["all_wheels_on_track"]:
        return 1e-3

    half_width = 0.5 * params["track_width"]
    closeness = min(params["distance_from_center"] / half_width, 1.0)
    reward = 0.1 + 0.9 * (1.0 - closeness**2)

    if abs(params["steering_angle"]) > STEERING_LIMIT:
        reward *= 0.6
    return float(reward)
