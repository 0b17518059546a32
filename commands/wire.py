"""What crosses NATS: subject names and the msgspec Structs carried on them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from nats.aio.client import Client as NATS
from nats.errors import Error as NatsError

# How long a process on its way out waits for its subscriptions to finish what they hold (the
# library's default is 30 s, all of a container's usual stop grace).
DRAIN_TIMEOUT_S = 5


class Subjects:
    """Every NATS name Confab uses, derived from one prefix."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.stream = f"{prefix.upper()}_EVENTS"
        self.events_wildcard = f"{prefix}.events.>"
        self.tokens_wildcard = f"{prefix}.tokens.>"
        self.inference_durable = f"{prefix}-inference"

    def event(self, aggregate: str, name: str) -> str:
        return f"{self.prefix}.events.{aggregate}.{name}"

    def tokens(self, conversation_id: str, response_id: str) -> str:
        return f"{self.prefix}.tokens.{conversation_id}.{response_id}"


class EventEnvelope(msgspec.Struct, frozen=True):
    """One stored event as published by the relay; `position` is its notification id."""

    position: int
    aggregate: str
    name: str
    aggregate_id: str
    version: int
    timestamp: datetime
    data: dict[str, Any]


class TokenDelta(msgspec.Struct, frozen=True):
    """A piece of a response being generated. Ephemeral: the finished response is the event."""

    conversation_id: str
    response_id: str
    index: int
    text: str


def topic_names(topic: str) -> tuple[str, str]:
    """('Conversation', 'MessagePosted') from 'domain.conversation:Conversation.MessagePosted'."""
    qualname = topic.rsplit(":", 1)[-1]
    aggregate, _, name = qualname.rpartition(".")
    return aggregate, name


async def close_nats(nc: NATS) -> None:
    """On the way out: drain a connected client (its subscriptions finish what they hold, what it
    published is flushed); close one that is reconnecting, or whose drain fails, instead. A
    stop must not fail because the broker happened to be away."""
    try:
        await nc.drain()
    except NatsError:  # closed, reconnecting, or the last flush timed out
        await nc.close()
