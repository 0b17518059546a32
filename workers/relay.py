"""The relay: publishes every event of the notification log to JetStream.

The position is recorded only after JetStream acknowledged the publish, and each message
carries `Nats-Msg-Id` = notification id, so a crash between the two repeats a publish that
JetStream then drops as a duplicate. One relay is active at a time; a second one waits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

import msgspec
import psycopg
from eventsourcing.persistence import Notification
from nats.js import JetStreamContext
from nats.js.errors import NoStreamResponseError

from commands.bus import CommandBus
from commands.envelopes import envelope_for
from commands.wire import EventEnvelope, Subjects
from workers import metrics
from workers.follower import LogFollower

CREATE_POSITION_TABLE = """
CREATE TABLE IF NOT EXISTS relay_position (
    stream text PRIMARY KEY,
    position bigint NOT NULL
)"""


class Relay(LogFollower):
    name = "relay"
    # Chat requests reach the workers from the API at once (api/early.py); what waits here is
    # the rest of the log, e.g. a reply's final event on its way to the client.
    coalesce_s = 0.005

    def __init__(
        self,
        bus: CommandBus,
        js: JetStreamContext,
        subjects: Subjects,
        conninfo: str,
        ensure_stream: Callable[[JetStreamContext, Subjects], Awaitable[None]],
    ) -> None:
        super().__init__(bus, conninfo)
        self.js = js
        self.subjects = subjects
        self.ensure_stream = ensure_stream

    @property
    def published(self) -> int:
        return self.handled

    def counted(self, events: int) -> None:
        metrics.PUBLISHED.inc(events)

    async def load_position(self, conn: psycopg.AsyncConnection) -> int:
        cur = await conn.execute(
            "SELECT position FROM relay_position WHERE stream = %s", (self.subjects.stream,)
        )
        row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def handle(self, batch: Sequence[Notification], conn: psycopg.AsyncConnection) -> None:
        envelopes = await self.bus.run(lambda: [envelope_for(self.bus.store, n) for n in batch])
        try:
            await self._publish(envelopes)
        except NoStreamResponseError:
            # The stream is gone (deleted, or the broker lost its data): make it again and
            # let the follower retry this batch. Lost requests are re-driven by the sweeper.
            self.log.error("the stream %s is missing; creating it again", self.subjects.stream)
            await self.ensure_stream(self.js, self.subjects)
            raise
        await conn.execute(
            "INSERT INTO relay_position (stream, position) VALUES (%s, %s) "
            "ON CONFLICT (stream) DO UPDATE SET position = EXCLUDED.position",
            (self.subjects.stream, batch[-1].id),
        )

    async def _publish(self, envelopes: list[EventEnvelope]) -> None:
        # Pipelined: every publish is in flight before the first ack is awaited.
        await asyncio.gather(
            *(
                self.js.publish(
                    self.subjects.event(e.aggregate, e.name),
                    msgspec.json.encode(e),
                    stream=self.subjects.stream,
                    headers={"Nats-Msg-Id": str(e.position)},
                )
                for e in envelopes
            )
        )
