"""A cache of rendered leaderboards, checked against the database on every request.

A workshop's projector and thirty phones all poll the same leaderboard every few seconds.
Rendering it loads every submission of the race; checking whether anything changed is one
aggregate query. :func:`board_stamp` is that query: the race's last edit, and the count,
latest creation, latest finish and states of its submissions. Any submission, removal,
result or rule change alters it, so a cached board is served only while it is current.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from racer.server.models import Race, Submission


def board_stamp(session: Session, race: Race) -> tuple[Any, ...]:
    """What a leaderboard depends on, in one query; equal stamps give equal boards."""
    done = func.sum(case((Submission.state == "done", 1), else_=0))
    running = func.sum(case((Submission.state == "running", 1), else_=0))
    live = func.sum(case((Submission.state != "removed", 1), else_=0))
    row = session.execute(
        select(
            func.count(Submission.id),
            live,
            done,
            running,
            func.max(Submission.created_at),
            func.max(Submission.finished_at),
        ).where(Submission.race_id == race.id)
    ).one()
    return (race.id, race.updated_at, *tuple(row))


class RenderCache:
    """Rendered pages by (kind, stamp), least recently used first out; thread-safe."""

    def __init__(self, size: int = 128) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | None:
        """The cached bytes for ``key``, if any."""
        with self._lock:
            data = self._items.get(key)
            if data is not None:
                self._items.move_to_end(key)
            return data

    def put(self, key: Hashable, data: bytes) -> None:
        """Keep ``data`` for ``key``."""
        with self._lock:
            self._items[key] = data
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
