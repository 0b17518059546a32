"""A catch-up after the stream was made again may repeat events: each is passed on once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from api import finals
from api.finals import FinalEvents
from commands.wire import EventEnvelope, Subjects


class Delivered:
    def __init__(self, data: bytes) -> None:
        self.data = data


def envelope(position: int) -> bytes:
    return msgspec.json.encode(
        EventEnvelope(position, "Conversation", "ResponseCompleted", "c1", 3, datetime.now(UTC), {})
    )


async def test_an_event_seen_again_is_passed_on_once_and_memory_is_bounded(
    monkeypatch: Any,
) -> None:
    passed: list[int] = []

    async def handle(event: EventEnvelope) -> None:
        passed.append(event.position)

    monkeypatch.setattr(finals, "REMEMBERED", 3)
    events = FinalEvents(None, Subjects("test"), handle)  # type: ignore[arg-type]
    for position in (1, 2, 2, 3, 1, 4, 5, 1):
        await events._on_msg(Delivered(envelope(position)))  # type: ignore[arg-type]

    assert passed == [1, 2, 3, 4, 5, 1]  # 1 was forgotten once three newer ones came
