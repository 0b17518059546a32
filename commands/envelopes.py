"""A stored event as it goes out on NATS: the relay's and the chat socket's one shape."""

from __future__ import annotations

from typing import Any

import msgspec
from eventsourcing.persistence import Notification

from commands.app import ConfabStore
from commands.wire import EventEnvelope, topic_names


def own_fields(event: Any) -> dict[str, Any]:
    """A domain event's own fields (without the aggregate bookkeeping)."""
    return {
        k: v
        for k, v in event.__dict__.items()
        if k not in ("originator_id", "originator_version", "originator_topic")
    }


def event_fields(store: ConfabStore, notification: Notification) -> tuple[Any, dict[str, Any]]:
    """The stored domain event and its own fields."""
    event: Any = store.mapper.to_domain_event(notification)
    return event, own_fields(event)


def envelope_of(event: Any, notification: Notification) -> EventEnvelope:
    """`event` as published: the append's own event, or one read back from the log."""
    data = own_fields(event)
    data.pop("timestamp", None)
    aggregate, name = topic_names(notification.topic)
    return EventEnvelope(
        position=notification.id,
        aggregate=aggregate,
        name=name,
        aggregate_id=str(notification.originator_id),
        version=notification.originator_version,
        timestamp=event.timestamp,
        data=msgspec.to_builtins(data),
    )


def envelope_for(store: ConfabStore, notification: Notification) -> EventEnvelope:
    return envelope_of(store.mapper.to_domain_event(notification), notification)
