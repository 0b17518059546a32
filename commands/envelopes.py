"""A stored event as it goes out on NATS: the relay's and the chat socket's one shape."""

from __future__ import annotations

from typing import Any

import msgspec
from eventsourcing.persistence import Notification

from commands.app import ConfabStore
from commands.wire import EventEnvelope, topic_names


def event_fields(store: ConfabStore, notification: Notification) -> tuple[Any, dict[str, Any]]:
    """The domain event and its own fields (without the aggregate bookkeeping)."""
    event: Any = store.mapper.to_domain_event(notification)
    data = {
        k: v
        for k, v in event.__dict__.items()
        if k not in ("originator_id", "originator_version", "originator_topic")
    }
    return event, data


def envelope_for(store: ConfabStore, notification: Notification) -> EventEnvelope:
    event, data = event_fields(store, notification)
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
