"""Small inline SVG outlines of race tracks for the race cards, cached per track."""

from __future__ import annotations

import functools
import logging

import numpy as np
from markupsafe import Markup, escape

log = logging.getLogger(__name__)

SIZE = 100.0
"""The longer side of the drawing, in SVG units."""
PAD = 6.0
MAX_POINTS = 240


def _fmt(values: np.ndarray) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in values)


@functools.lru_cache(maxsize=128)
def track_outline(name: str, reverse: bool = False) -> Markup | None:
    """An SVG drawing of a track's centre line at its width, a start line and its direction.

    Args:
        name: A track name as races store it (``reinvent_base``, ``generated:7``).
        reverse: Whether the race drives the track the other way (flips the arrow).

    Returns:
        The ``<svg>`` markup, or None when the track cannot be loaded.
    """
    from racer.sim.track_registry import get_track

    try:
        track = get_track(name)
    except Exception as exc:  # an unknown or broken track: the card just shows no picture
        log.warning("no outline for track %r: %s", name, exc)
        return None
    centre = np.asarray(track.centre, dtype=float)
    if reverse:
        centre = centre[::-1]
    step = max(1, len(centre) // MAX_POINTS)
    points = centre[::step]
    lo = np.minimum(track.left.min(axis=0), track.right.min(axis=0))
    hi = np.maximum(track.left.max(axis=0), track.right.max(axis=0))
    span = float(max(hi - lo))
    scale = (SIZE - 2 * PAD) / span if span > 0 else 1.0
    size = (hi - lo) * scale + 2 * PAD
    xy = (points - lo) * scale + PAD
    xy[:, 1] = size[1] - xy[:, 1]  # SVG's y axis points down
    width = float(np.mean(track.widths)) * scale
    start, after = xy[0], xy[min(len(xy) - 1, 2)]
    heading = after - start
    heading = heading / (np.hypot(*heading) or 1.0)
    normal = np.array([-heading[1], heading[0]])
    half = width * 0.75
    line = np.array([start - normal * half, start + normal * half])
    tip = start + heading * width * 1.6
    arrow = np.array([tip, start + heading * width * 0.6 + normal * width * 0.5])
    arrow = np.vstack([arrow, start + heading * width * 0.6 - normal * width * 0.5])
    loop = "Z" if track.closed else ""
    path = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in xy) + loop
    svg = (
        f'<svg class="track-svg" viewBox="0 0 {size[0]:.1f} {size[1]:.1f}" role="img" '
        f'aria-label="outline of the track {escape(track.display_name)}">'
        f'<path class="track-road" d="{path}" stroke-width="{width:.2f}"/>'
        f'<path class="track-line" d="{path}"/>'
        f'<polyline class="track-start" points="{_fmt(line)}" stroke-width="{width * 0.3:.2f}"/>'
        f'<polygon class="track-arrow" points="{_fmt(arrow)}"/>'
        "</svg>"
    )
    return Markup(svg)


@functools.lru_cache(maxsize=128)
def track_facts(name: str) -> tuple[str, str | None]:
    """A track's human name and direction (``counterclockwise``, ``clockwise``).

    A track that cannot be loaded gives its own name and None.
    """
    from racer.sim.track_registry import get_track

    try:
        track = get_track(name)
    except Exception:  # an unknown track still gets a label
        return name, None
    return str(track.display_name), str(track.direction)
