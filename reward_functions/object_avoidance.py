"""Object avoidance: stay on the track and keep out of the lane of the next box or bot car.

What it teaches: to read ``closest_objects`` and change lanes early. Far from any object the
car is paid for staying on the track near the centre; when the next object ahead gets closer
than ``LOOKAHEAD`` metres, the car is paid for being in the other lane and penalised for
staying in the object's lane, the more so the closer it gets.
When to use it: object-avoidance and head-to-bot races (boxes or bot cars on the track). On a
time trial it behaves like ``follow_centerline``.

Reward: up to 1.0; 0.001 off the track or after a crash.
"""

LOOKAHEAD = 1.5  # metres along the track at which the next object starts to matter


def _distance_ahead(params, index):
    """Distance along the track from the car to object ``index``, wrapping around the lap."""
    gap = params["objects_distance"][index] - params["projection_distance"]
    return gap % params["track_length"]


def reward_function(params):
    if not params["all_wheels_on_track"] or params["is_crashed"]:
        return 1e-3

    half_width = 0.5 * params["track_width"]
    closeness = min(params["distance_from_center"] / half_width, 1.0)
    lane_reward = 0.2 + 0.8 * (1.0 - closeness)

    if not params["objects_location"]:
        return float(lane_reward)

    ahead = params["closest_objects"][1]
    gap = _distance_ahead(params, ahead)
    if gap > LOOKAHEAD:
        return float(lane_reward)

    same_side = params["objects_left_of_center"][ahead] == params["is_left_of_center"]
    urgency = 1.0 - gap / LOOKAHEAD  # 0 at LOOKAHEAD, 1 next to the object
    if same_side:
        return float(max(1e-3, lane_reward * (1.0 - 0.9 * urgency)))
    # In the other lane: being away from the centre (deeper in the free lane) is good here.
    return float(0.5 + 0.5 * closeness)
