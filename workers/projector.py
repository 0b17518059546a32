"""The projector: applies the log to the PostgreSQL read models, exactly once.

Each batch and the new position are written in one transaction (projections.read_models), on
one connection kept from batch to batch (a new one per batch started a PostgreSQL backend
process for every few events).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from eventsourcing.persistence import Notification

from commands.app import ConfabStore
from commands.envelopes import event_fields
from commands.wire import topic_names
from projections import tables
from projections.log_events import Event
from workers import metrics
from workers.follower import LogFollower


def to_projection_event(store: ConfabStore, notification: Notification) -> Event:
    _, data = event_fields(store, notification)
    aggregate, name = topic_names(notification.topic)
    return Event(aggregate, name, str(notification.originator_id), data, notification.id)


class Projector(LogFollower):
    name = "projector"
    coalesce_s = 0.05  # read models may trail the log by this much more
    _conn: psycopg.Connection[Any] | None = None

    def counted(self, events: int) -> None:
        metrics.APPLIED.labels(self.name).inc(events)

    async def load_position(self, conn: psycopg.AsyncConnection) -> int:
        return await self.bus.run(self._position)

    def _position(self) -> int:
        return tables.position(self._connection())

    async def handle(self, batch: Sequence[Notification], conn: psycopg.AsyncConnection) -> None:
        await self.bus.run(self._apply, batch)

    def _apply(self, batch: Sequence[Notification]) -> None:
        events = [(n.id, to_projection_event(self.bus.store, n)) for n in batch]
        tables.apply_batch(self._connection(), events)

    def _connection(self) -> psycopg.Connection[Any]:
        """The connection of the last batch, or a new one if PostgreSQL dropped it (batches
        run one at a time, on whichever store thread)."""
        if self._conn is None or self._conn.closed or self._conn.broken:
            if self._conn is not None:
                self._conn.close()
            self._conn = psycopg.connect(self.conninfo, autocommit=True)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
