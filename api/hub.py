"""Fan-out of token deltas and finished responses from NATS to this replica's websockets.

Each API replica subscribes to every delta and every final event and forwards those of the
conversations its own sockets watch; so any replica can serve any client, with no sticky state.

Deltas come on core NATS: one lost in a broker blip costs a moment of a stream, and the final
message carries the whole text. Final events come from the stream (api/finals.py) instead: a
core subscriber misses whatever is published while it reconnects, and a reply finished during a
broker restart then never reached its person (the nats-restart fault test).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict

import msgspec
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from api.finals import FinalEvents
from api.schemas import (
    CancelledFrame,
    DeltaFrame,
    ErrorFrame,
    MessageFrame,
    ServerFrame,
    TitleFrame,
)
from commands.wire import EventEnvelope, Subjects, TokenDelta

log = logging.getLogger("confab.hub")

Outbox = asyncio.Queue[ServerFrame]

# The conversation events a watching socket is told of.
FINAL = frozenset(
    {"ResponseCompleted", "ResponseFailed", "ResponseCancelled", "TitleGenerated", "Renamed"}
)


class Hub:
    def __init__(self, nc: NATS, subjects: Subjects) -> None:
        self.nc = nc
        self.subjects = subjects
        self.watchers: dict[str, set[Outbox]] = defaultdict(set)
        self._deltas: Subscription | None = None
        self._finals = FinalEvents(nc, subjects, self._on_event)

    async def start(self) -> None:
        self._deltas = await self.nc.subscribe(self.subjects.tokens_wildcard, cb=self._on_delta)
        await self._finals.start()

    async def stop(self) -> None:
        await self._finals.stop()
        if self._deltas is not None:
            await self._deltas.unsubscribe()

    def watch(self, conversation_id: str, outbox: Outbox) -> None:
        self.watchers[conversation_id].add(outbox)

    def unwatch_all(self, outbox: Outbox) -> None:
        for conversation_id in [c for c, boxes in self.watchers.items() if outbox in boxes]:
            self.watchers[conversation_id].discard(outbox)
            if not self.watchers[conversation_id]:
                del self.watchers[conversation_id]

    def _send(self, conversation_id: str, frame: ServerFrame) -> None:
        for outbox in self.watchers.get(conversation_id, ()):
            outbox.put_nowait(frame)

    async def _on_delta(self, msg: Msg) -> None:
        delta = msgspec.json.decode(msg.data, type=TokenDelta)
        if delta.conversation_id in self.watchers:
            self._send(
                delta.conversation_id,
                DeltaFrame(delta.conversation_id, delta.response_id, delta.text),
            )

    async def _on_event(self, event: EventEnvelope) -> None:
        if event.name not in FINAL or event.aggregate_id not in self.watchers:
            return
        data = event.data
        frame: ServerFrame
        if event.name == "ResponseCompleted":
            frame = MessageFrame(
                conversation_id=event.aggregate_id,
                response_id=data["response_id"],
                role="assistant",
                text=data["text"],
                usage={
                    key: data[key]
                    for key in (
                        "prompt_tokens",
                        "completion_tokens",
                        "model",
                        "ttft_ms",
                        "total_ms",
                        "finish_reason",
                    )
                },
            )
            log.info(
                "response delivered",
                extra={"request_id": data["response_id"], "conversation_id": event.aggregate_id},
            )
        elif event.name == "ResponseCancelled":
            frame = CancelledFrame(event.aggregate_id, data["response_id"])
        elif event.name in ("TitleGenerated", "Renamed"):
            frame = TitleFrame(event.aggregate_id, data["title"])
        else:
            frame = ErrorFrame(
                code="response_failed",
                message=data.get("reason", "The response failed."),
                conversation_id=event.aggregate_id,
                response_id=data["response_id"],
            )
        self._send(event.aggregate_id, frame)
