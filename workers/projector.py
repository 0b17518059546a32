"""The projector: applies the log to the PostgreSQL read models, exactly once.

Each batch and the new position are written in one transaction (projections.read_models).
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
from eventsourcing.persistence import Notification

from commands.app import ConfabStore
from commands.wire import topic_names
from projections import tables
from projections.log_events import Event
from workers import metrics
from workers.follower import LogFollower
from workers.relay import event_fields


def to_projection_event(store: ConfabStore, notification: Notification) -> Event:
    _, data = event_fields(store, notification)
    aggregate, name = topic_names(notification.topic)
    return Event(aggregate, name, str(notification.originator_id), data, notification.id)


class Projector(LogFollower):
    name = "projector"

    def counted(self, events: int) -> None:
        metrics.APPLIED.labels(self.name).inc(events)

    async def load_position(self, conn: psycopg.AsyncConnection) -> int:
        return await self.bus.run(self._position)

    def _position(self) -> int:
        with psycopg.connect(self.conninfo) as conn:
            return tables.position(conn)

    async def handle(self, batch: Sequence[Notification], conn: psycopg.AsyncConnection) -> None:
        await self.bus.run(self._apply, batch)

    def _apply(self, batch: Sequence[Notification]) -> None:
        events = [(n.id, to_projection_event(self.bus.store, n)) for n in batch]
        with psycopg.connect(self.conninfo) as conn:
            tables.apply_batch(conn, events)
