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
