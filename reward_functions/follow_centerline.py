"""Follow the centre line: the closer to the middle of the track, the higher the reward.

What it teaches: to stay near the centre line, which keeps all wheels safely on the track.
When to use it: a first model, a new track, or checking that training works at all. It
knows nothing about speed, so laps are safe but slow; move on to ``progress_speed`` next.

Reward: 1.0 on the centre line, falling smoothly to 0.1 at the border, 0.001 off the track.
"""


def reward_function(params):
    if not params["all_wheels_on_track"]:
        return 1e-3

    half_width = 0.5 * params["track_width"]
    # 0 on the centre line, 1 at the border.
    closeness = min(params["distance_from_center"] / half_width, 1.0)
    return float(0.1 + 0.9 * (1.0 - closeness**2))
