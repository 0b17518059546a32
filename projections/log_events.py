"""What a projection sees of a stored event, and the shape of its handlers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg


@dataclass(frozen=True)
class Event:
    """A stored event as projections read it: names, ids, position in the log, its fields."""

    aggregate: str
    name: str
    aggregate_id: str
    data: dict[str, Any]
    position: int = 0
    at: datetime = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", self.data["timestamp"])


Cursor = psycopg.Cursor[Any]
Handler = Callable[[Cursor, Event], None]


def as_of(e: Event, time_field: str) -> Event:
    """The event as of a time it carries (when it happened elsewhere, for an import), if set."""
    original = e.data.get(time_field)
    if original is None:
        return e
    return Event(e.aggregate, e.name, e.aggregate_id, {**e.data, "timestamp": original}, e.position)
