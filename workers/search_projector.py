"""The search projector: follows the log into the active search view (PostgreSQL or OpenSearch).

It runs beside the read-model projector with a position of its own; the view records that
position with each batch (see projections.search), so a crash leaves no gap and no double.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
from eventsourcing.persistence import Notification

from commands.bus import CommandBus
from projections.search.port import SearchView
from workers import metrics
from workers.follower import LogFollower
from workers.projector import to_projection_event


class SearchProjector(LogFollower):
    name = "search"
    coalesce_s = 0.05  # the search view may trail the log by this much more

    def __init__(self, bus: CommandBus, conninfo: str, view: SearchView) -> None:
        self.name = f"search-{view.engine}"  # one active follower per engine (its lock)
        super().__init__(bus, conninfo)
        self.view = view

    async def load_position(self, conn: psycopg.AsyncConnection) -> int:
        return await self.view.position()

    def counted(self, events: int) -> None:
        metrics.APPLIED.labels(self.name).inc(events)

    async def handle(self, batch: Sequence[Notification], conn: psycopg.AsyncConnection) -> None:
        events = await self.bus.run(lambda: [to_projection_event(self.bus.store, n) for n in batch])
        await self.view.apply(events)
