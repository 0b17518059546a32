"""The final conversation events for one API replica, from JetStream, through broker trouble.

An ordered consumer (deliver new, no acks) notices a gap after a broker restart and starts again
after the last event it saw. It cannot outlive its stream: when the stream is deleted (the
broker lost its data; the relay makes it again), it is gone for good. So a watchdog asks for the
consumer every few seconds and, once it is missing, follows the stream again from a little
before the last moment it was known to be fine. Events that arrive twice that way (same
position) are passed on once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import msgspec
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from commands.wire import EventEnvelope, Subjects

log = logging.getLogger("confab.hub")

CHECK_EVERY_S = 2.0
OVERLAP = timedelta(seconds=2)  # followed again from this long before the last good check
REMEMBERED = 4096  # positions passed on lately: what a catch-up may repeat

Handler = Callable[[EventEnvelope], Awaitable[None]]


class FinalEvents:
    def __init__(self, nc: NATS, subjects: Subjects, handle: Handler) -> None:
        self.nc, self.subjects, self.handle = nc, subjects, handle
        self._sub: JetStreamContext.PushSubscription | None = None
        self._seen: OrderedDict[int, None] = OrderedDict()
        self._watchdog: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._sub = await self._follow(None)
        self._watchdog = asyncio.create_task(self._keep_following())

    async def stop(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
        if self._sub is not None:
            with contextlib.suppress(NatsError):
                await self._sub.unsubscribe()

    async def _follow(self, since: datetime | None) -> JetStreamContext.PushSubscription:
        config = (
            ConsumerConfig(deliver_policy=DeliverPolicy.NEW)
            if since is None
            else ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_TIME, opt_start_time=since)
        )
        # One filter: Debian's nats-server (2.9) takes a single subject per consumer.
        return await self.nc.jetstream().subscribe(
            self.subjects.event("Conversation", "*"),
            stream=self.subjects.stream,
            cb=self._on_msg,
            ordered_consumer=True,
            config=config,
        )

    async def _keep_following(self) -> None:
        fine_at = datetime.now(UTC)
        while True:
            await asyncio.sleep(CHECK_EVERY_S)
            assert self._sub is not None
            try:
                await self._sub.consumer_info()
                fine_at = datetime.now(UTC)
                continue
            except NotFoundError:
                pass  # the consumer or its stream is gone: follow again
            except (NatsError, TimeoutError):
                continue  # the broker is away: its own reconnect comes first
            log.warning("the final-event consumer is gone; following the stream again")
            with contextlib.suppress(NatsError):
                await self._sub.unsubscribe()
            try:
                self._sub = await self._follow(fine_at - OVERLAP)
            except (NatsError, TimeoutError) as exc:  # no stream yet: the relay makes it
                log.debug("following again failed (%s); retrying", exc)

    async def _on_msg(self, msg: Msg) -> None:
        event = msgspec.json.decode(msg.data, type=EventEnvelope)
        if event.position in self._seen:
            return
        self._seen[event.position] = None
        if len(self._seen) > REMEMBERED:
            self._seen.popitem(last=False)
        await self.handle(event)
