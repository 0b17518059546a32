"""The sweeper: NATS is never the only copy of a request.

JetStream can lose acknowledged messages, and a stream can be deleted. Every ResponseRequested
that has no outcome `after_s` seconds later is published again, from the log (the
rm_responses read model), with a Nats-Msg-Id per attempt so that repeated sweeps of the same
attempt are dropped as duplicates. After `max_redrives` attempts the response is recorded as
failed, so every accepted message ends with exactly one terminal event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from uuid import UUID

import msgspec
import psycopg
from nats.js import JetStreamContext
from nats.js.errors import NoStreamResponseError

from commands.bus import CommandBus
from commands.messages import FailResponse
from commands.wire import EventEnvelope, Subjects
from domain.errors import DomainError

log = logging.getLogger("confab.sweeper")

OVERDUE_SQL = """
SELECT response_id, conversation_id, position,
       extract(epoch FROM now() - requested_at) AS age_s
FROM rm_responses
WHERE outcome IS NULL AND requested_at < now() - make_interval(secs => %s)
ORDER BY requested_at LIMIT 500
"""


class Sweeper:
    def __init__(
        self,
        bus: CommandBus,
        js: JetStreamContext,
        subjects: Subjects,
        conninfo: str,
        *,
        after_s: float,
        max_redrives: int,
        every_s: float,
        ensure_stream: Callable[[JetStreamContext, Subjects], Awaitable[None]] | None = None,
    ) -> None:
        self.bus, self.js, self.subjects, self.conninfo = bus, js, subjects, conninfo
        self.ensure_stream = ensure_stream
        self.after_s, self.max_redrives, self.every_s = after_s, max_redrives, every_s
        self.redriven = 0
        self.failed = 0

    async def run(self, stopping: asyncio.Event, active: Callable[[], bool]) -> None:
        while not stopping.is_set():
            if active():
                try:
                    await self.sweep()
                except NoStreamResponseError:
                    # The broker lost the stream and nothing was published since: make it again;
                    # the next sweep re-drives into it.
                    await self._remake_stream()
                except Exception:
                    log.exception("sweep failed; trying again in %.0f s", self.every_s)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self.every_s)

    async def _remake_stream(self) -> None:
        log.error("the stream %s is missing; creating it again", self.subjects.stream)
        if self.ensure_stream is None:
            return
        try:
            await self.ensure_stream(self.js, self.subjects)
        except Exception:
            log.exception("creating the stream failed; trying again at the next sweep")

    def overdue(self) -> list[tuple[UUID, UUID, int, float]]:
        with psycopg.connect(self.conninfo) as conn:
            rows = conn.execute(OVERDUE_SQL, (self.after_s,)).fetchall()
        return [(row[0], row[1], int(row[2]), float(row[3])) for row in rows]

    async def sweep(self) -> None:
        for response_id, conversation_id, position, age_s in await self.bus.run(self.overdue):
            attempt = int(age_s // self.after_s)
            if attempt > self.max_redrives:
                await self._give_up(conversation_id, response_id, age_s)
            else:
                await self._redrive(conversation_id, response_id, position, attempt)

    async def _redrive(
        self, conversation_id: UUID, response_id: UUID, position: int, attempt: int
    ) -> None:
        envelope = EventEnvelope(
            position=position,
            aggregate="Conversation",
            name="ResponseRequested",
            aggregate_id=str(conversation_id),
            version=0,
            timestamp=datetime.now(UTC),
            data={"response_id": str(response_id), "redrive": attempt},
        )
        ack = await self.js.publish(
            self.subjects.event("Conversation", "ResponseRequested"),
            msgspec.json.encode(envelope),
            stream=self.subjects.stream,
            headers={"Nats-Msg-Id": f"redrive:{response_id}:{attempt}"},
        )
        if not ack.duplicate:
            self.redriven += 1
            log.warning("re-drove response %s (attempt %d) from the log", response_id, attempt)

    async def _give_up(self, conversation_id: UUID, response_id: UUID, age_s: float) -> None:
        reason = f"no worker answered within {age_s:.0f} s"
        with contextlib.suppress(DomainError):
            await self.bus.fail_response(FailResponse(conversation_id, response_id, reason))
            self.failed += 1
            log.error("response %s failed: %s", response_id, reason)
